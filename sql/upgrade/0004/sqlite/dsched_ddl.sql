-- Version 3 -> 4 (SQLite): the database registry.

-- The database registry (registry.type = jdbc, src/registry/db_registry.h), for clusters without
-- ZooKeeper. A client (one service process) is a heartbeat row its process renews; when
-- last_heartbeat_time + session_timeout (ms, the database's clock) has passed, any other client
-- deletes it, and with it the client's EPHEMERAL data rows and its locks.
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_client_heartbeat (
  id INTEGER PRIMARY KEY,
  client_name TEXT NOT NULL,
  last_heartbeat_time INTEGER NOT NULL,
  session_timeout INTEGER NOT NULL,
  connection_config TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL);
-- Registrations (nodes/master/<host:port> ...; EPHEMERAL, owned by client_id) and the epoch
-- counter (PERSISTENT).
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_data (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  data_key TEXT NOT NULL UNIQUE,
  data_value TEXT NOT NULL,
  data_type TEXT NOT NULL,
  client_id INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL);
-- One row per held lock: inserting it is taking the lock.
CREATE TABLE IF NOT EXISTS t_ds_jdbc_registry_lock (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lock_key TEXT NOT NULL UNIQUE,
  lock_owner TEXT NOT NULL,
  client_id INTEGER NOT NULL,
  create_time INTEGER NOT NULL);
