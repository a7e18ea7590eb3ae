-- Version 3 -> 4 (PostgreSQL): the database registry.

-- The database registry (registry.type = jdbc, src/registry/db_registry.h), for clusters without
-- ZooKeeper. A client (one service process) is a heartbeat row its process renews; when
-- last_heartbeat_time + session_timeout (ms, the database's clock) has passed, any other client
-- deletes it, and with it the client's EPHEMERAL data rows and its locks.
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_client_heartbeat (
  id BIGINT PRIMARY KEY,
  client_name VARCHAR(255) NOT NULL,
  last_heartbeat_time BIGINT NOT NULL,
  session_timeout BIGINT NOT NULL,
  connection_config TEXT NOT NULL DEFAULT '',
  create_time BIGINT NOT NULL);
-- Registrations (nodes/master/<host:port> ...; EPHEMERAL, owned by client_id) and the epoch
-- counter (PERSISTENT).
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_data (
  id BIGSERIAL PRIMARY KEY,
  data_key VARCHAR(256) NOT NULL UNIQUE,
  data_value TEXT NOT NULL,
  data_type VARCHAR(64) NOT NULL,
  client_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL);
-- One row per held lock: inserting it is taking the lock.
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_lock (
  id BIGSERIAL PRIMARY KEY,
  lock_key VARCHAR(256) NOT NULL UNIQUE,
  lock_owner VARCHAR(256) NOT NULL,
  client_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL);
