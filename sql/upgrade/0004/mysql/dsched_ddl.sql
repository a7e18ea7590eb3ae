-- Version 3 -> 4 (MySQL/MariaDB): the database registry.

-- The database registry (registry.type = jdbc, src/registry/db_registry.h), for clusters without
-- ZooKeeper. A client (one service process) is a heartbeat row its process renews; when
-- last_heartbeat_time + session_timeout (ms, the database's clock) has passed, any other client
-- deletes it, and with it the client's EPHEMERAL data rows and its locks.
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_client_heartbeat (
  id BIGINT NOT NULL PRIMARY KEY,
  client_name VARCHAR(255) NOT NULL,
  last_heartbeat_time BIGINT NOT NULL,
  session_timeout BIGINT NOT NULL,
  connection_config TEXT,
  create_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Registrations (nodes/master/<host:port> ...; EPHEMERAL, owned by client_id) and the epoch
-- counter (PERSISTENT).
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_data (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  data_key VARCHAR(256) NOT NULL,
  data_value LONGTEXT NOT NULL,
  data_type VARCHAR(64) NOT NULL,
  client_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL,
  UNIQUE KEY uk_registry_data_key (data_key)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- One row per held lock: inserting it is taking the lock.
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_lock (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lock_key VARCHAR(256) NOT NULL,
  lock_owner VARCHAR(256) NOT NULL,
  client_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  UNIQUE KEY uk_registry_lock_key (lock_key)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
