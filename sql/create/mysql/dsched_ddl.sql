-- dsched schema, newest version (MySQL 5.7+/8 and MariaDB 10.3+), for `dsched db create` and
-- every service on MySQL. The same schema as sql/create/sqlite and sql/create/postgresql, and as
-- version 1 (tests/db/schema_v1/mysql.sql) plus every sql/upgrade/<version>/mysql script: the
-- schema test checks both. A change here is a new sql/upgrade/<version>/ directory too.
--
-- Table names follow DolphinScheduler's t_ds_* so that its users recognise them; columns are
-- dsched's own (owner_epoch fences, trigger codes). Integer columns are BIGINT: codes and
-- millisecond times need 64 bits. Strings that are keys or indexed are VARCHAR (InnoDB cannot
-- index TEXT whole); JSON documents are LONGTEXT without defaults (MySQL 8 refuses literal
-- defaults on TEXT), which dsched always writes. Tables are utf8mb4_bin so that `=` compares as
-- on SQLite and PostgreSQL (case-sensitive); name searches use LOWER() on every database.
-- Indexes sit in their table (so CREATE TABLE IF NOT EXISTS makes the script re-runnable);
-- each names the query it serves.

CREATE TABLE IF NOT EXISTS t_ds_version (id BIGINT NOT NULL PRIMARY KEY, version BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_user (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_name VARCHAR(64) NOT NULL UNIQUE,
  user_password VARCHAR(255) NOT NULL,
  user_type BIGINT NOT NULL DEFAULT 1,
  email VARCHAR(255), phone VARCHAR(64),
  tenant_id BIGINT NOT NULL DEFAULT -1,
  state BIGINT NOT NULL DEFAULT 1,
  queue VARCHAR(64), time_zone VARCHAR(64),
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_session (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  ip VARCHAR(64),
  last_login_time BIGINT NOT NULL,
  -- signOut: sessions of a user
  KEY idx_session_user (user_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_access_token (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  token VARCHAR(64) NOT NULL UNIQUE,
  expire_time BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_queue (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  queue_name VARCHAR(64) NOT NULL UNIQUE, queue VARCHAR(64) NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_tenant (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant_code VARCHAR(64) NOT NULL UNIQUE, description TEXT, queue_id BIGINT,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_project (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code BIGINT NOT NULL UNIQUE,
  name VARCHAR(255) NOT NULL UNIQUE,
  description TEXT,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The current version of each workflow definition; every version is also in the _log table.
CREATE TABLE IF NOT EXISTS t_ds_process_definition (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code BIGINT NOT NULL UNIQUE,
  name VARCHAR(255) NOT NULL,
  version BIGINT NOT NULL,
  description TEXT,
  project_code BIGINT NOT NULL,
  release_state BIGINT NOT NULL DEFAULT 0,
  global_params LONGTEXT NOT NULL,
  locations LONGTEXT NOT NULL,
  timeout BIGINT NOT NULL DEFAULT 0,
  execution_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL,
  UNIQUE (project_code, name),
  -- workflow list page: a project's definitions, most recently updated first
  KEY idx_pd_project_update (project_code, update_time)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_process_definition_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code BIGINT NOT NULL,
  name VARCHAR(255) NOT NULL,
  version BIGINT NOT NULL,
  description TEXT,
  project_code BIGINT NOT NULL,
  release_state BIGINT NOT NULL DEFAULT 0,
  global_params LONGTEXT NOT NULL,
  locations LONGTEXT NOT NULL,
  timeout BIGINT NOT NULL DEFAULT 0,
  execution_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL,
  UNIQUE (code, version)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A task definition version is stored whole as JSON (the shape the REST API speaks) beside
-- the columns that queries use.
CREATE TABLE IF NOT EXISTS t_ds_task_definition_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code BIGINT NOT NULL,
  version BIGINT NOT NULL,
  name VARCHAR(255) NOT NULL,
  project_code BIGINT NOT NULL,
  task_type VARCHAR(64) NOT NULL,
  body LONGTEXT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL,
  UNIQUE (code, version)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The relations of one workflow definition version (one row per edge, pre 0 for roots).
CREATE TABLE IF NOT EXISTS t_ds_process_task_relation_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  process_definition_code BIGINT NOT NULL,
  process_definition_version BIGINT NOT NULL,
  project_code BIGINT NOT NULL,
  name VARCHAR(255) NOT NULL DEFAULT '',
  pre_task_code BIGINT NOT NULL,
  pre_task_version BIGINT NOT NULL,
  post_task_code BIGINT NOT NULL,
  post_task_version BIGINT NOT NULL,
  condition_type VARCHAR(64) NOT NULL DEFAULT 'NONE',
  condition_params LONGTEXT NOT NULL,
  create_time BIGINT NOT NULL,
  -- loading the DAG of (definition, version)
  KEY idx_relation_log_def (process_definition_code, process_definition_version)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_command (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  command_type BIGINT NOT NULL,
  process_definition_code BIGINT NOT NULL,
  process_definition_version BIGINT NOT NULL,
  project_code BIGINT NOT NULL,
  process_instance_id BIGINT NOT NULL DEFAULT 0,
  command_param LONGTEXT NOT NULL,
  task_depend_type BIGINT NOT NULL DEFAULT 2,
  failure_strategy BIGINT NOT NULL DEFAULT 1,
  warning_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  schedule_time BIGINT NOT NULL DEFAULT 0,
  start_time BIGINT NOT NULL,
  executor_id BIGINT NOT NULL DEFAULT 0,
  process_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group VARCHAR(255) NOT NULL DEFAULT 'default',
  tenant_code VARCHAR(64) NOT NULL DEFAULT 'default',
  environment_code BIGINT NOT NULL DEFAULT -1,
  dry_run BIGINT NOT NULL DEFAULT 0,
  trigger_code BIGINT NOT NULL DEFAULT 0,
  -- command intake: highest priority first, then oldest
  KEY idx_command_prio (process_instance_priority, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_error_command (
  id BIGINT NOT NULL PRIMARY KEY,
  command_type BIGINT NOT NULL,
  process_definition_code BIGINT NOT NULL,
  command_param LONGTEXT,
  start_time BIGINT NOT NULL,
  message TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_process_instance (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  process_definition_code BIGINT NOT NULL,
  process_definition_version BIGINT NOT NULL,
  project_code BIGINT NOT NULL,
  state BIGINT NOT NULL,
  state_history LONGTEXT NOT NULL,
  recovery BIGINT NOT NULL DEFAULT 0,
  start_time BIGINT NOT NULL DEFAULT 0,
  end_time BIGINT NOT NULL DEFAULT 0,
  run_times BIGINT NOT NULL DEFAULT 1,
  host VARCHAR(255) NOT NULL DEFAULT '',
  owner_epoch BIGINT NOT NULL DEFAULT 0,
  command_type BIGINT NOT NULL,
  command_param LONGTEXT NOT NULL,
  task_depend_type BIGINT NOT NULL DEFAULT 2,
  failure_strategy BIGINT NOT NULL DEFAULT 1,
  warning_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  schedule_time BIGINT NOT NULL DEFAULT 0,
  command_start_time BIGINT NOT NULL DEFAULT 0,
  global_params LONGTEXT NOT NULL,
  executor_id BIGINT NOT NULL DEFAULT 0,
  executor_name VARCHAR(255) NOT NULL DEFAULT '',
  is_sub_process BIGINT NOT NULL DEFAULT 0,
  history_cmd LONGTEXT NOT NULL,
  process_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group VARCHAR(255) NOT NULL DEFAULT 'default',
  timeout BIGINT NOT NULL DEFAULT 0,
  var_pool LONGTEXT NOT NULL,
  dry_run BIGINT NOT NULL DEFAULT 0,
  restart_time BIGINT NOT NULL DEFAULT 0,
  trigger_code BIGINT NOT NULL DEFAULT 0,
  -- instance list page of a project, newest first
  KEY idx_pi_project (project_code, id),
  -- recovery at start-up and failover: unfinished instances by state
  KEY idx_pi_state (state),
  -- instances of one definition (list filter)
  KEY idx_pi_def (process_definition_code, id),
  -- process-instances/trigger?triggerCode=
  KEY idx_pi_trigger (trigger_code),
  -- instance list page filtered by state
  KEY idx_pi_project_state (project_code, state, id),
  -- instance list page filtered by start time
  KEY idx_pi_project_start (project_code, start_time),
  -- master failover: the instances a dead master owned; instance list filtered by host
  KEY idx_pi_host (host)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_task_instance (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  task_type VARCHAR(64) NOT NULL,
  process_instance_id BIGINT NOT NULL,
  process_instance_name VARCHAR(255) NOT NULL DEFAULT '',
  project_code BIGINT NOT NULL,
  task_code BIGINT NOT NULL,
  task_definition_version BIGINT NOT NULL,
  state BIGINT NOT NULL,
  first_submit_time BIGINT NOT NULL DEFAULT 0,
  submit_time BIGINT NOT NULL DEFAULT 0,
  start_time BIGINT NOT NULL DEFAULT 0,
  end_time BIGINT NOT NULL DEFAULT 0,
  host VARCHAR(255) NOT NULL DEFAULT '',
  execute_path LONGTEXT NOT NULL,
  log_path LONGTEXT NOT NULL,
  retry_times BIGINT NOT NULL DEFAULT 0,
  max_retry_times BIGINT NOT NULL DEFAULT 0,
  retry_interval BIGINT NOT NULL DEFAULT 1,
  pid BIGINT NOT NULL DEFAULT 0,
  app_link LONGTEXT NOT NULL,
  flag BIGINT NOT NULL DEFAULT 1,
  task_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group VARCHAR(255) NOT NULL DEFAULT 'default',
  executor_id BIGINT NOT NULL DEFAULT 0,
  var_pool LONGTEXT NOT NULL,
  delay_time BIGINT NOT NULL DEFAULT 0,
  task_params LONGTEXT NOT NULL,
  dry_run BIGINT NOT NULL DEFAULT 0,
  -- the engine's key of each attempt it inserts (version 3): a group commit retried after a
  -- commit of unknown outcome finds its rows instead of inserting them twice
  insert_key VARCHAR(96),
  UNIQUE KEY uk_ti_insert_key (insert_key),
  -- the task list of one workflow instance (runner rebuild, /process-instances/{id}/tasks)
  KEY idx_ti_instance (process_instance_id, id),
  -- task instance list page of a project
  KEY idx_ti_project (project_code, id),
  -- task instance list page filtered by state
  KEY idx_ti_project_state (project_code, state, id),
  -- worker failover: the tasks a dead worker ran; task instance list filtered by host
  KEY idx_ti_host (host)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Alert groups (DolphinScheduler's t_ds_alertgroup); base data holds the default one.
CREATE TABLE IF NOT EXISTS t_ds_alertgroup (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  group_name VARCHAR(255) NOT NULL UNIQUE,
  alert_instance_ids TEXT,
  create_user_id BIGINT NOT NULL DEFAULT 0,
  description TEXT,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- ---------------------------------------------------------------- added in version 3

-- Schedules (DolphinScheduler's t_ds_schedules): at most one per workflow definition. Times in ms;
-- crontab is Quartz syntax, evaluated in timezone_id. misfire_policy: 0 do nothing, 1 fire once
-- now, 2 fire every missed slot.
CREATE TABLE IF NOT EXISTS t_ds_schedules (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  process_definition_code BIGINT NOT NULL UNIQUE,
  project_code BIGINT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT NOT NULL,
  timezone_id VARCHAR(64) NOT NULL DEFAULT 'UTC',
  crontab VARCHAR(255) NOT NULL,
  failure_strategy BIGINT NOT NULL DEFAULT 1,
  warning_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  release_state BIGINT NOT NULL DEFAULT 0,
  process_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group VARCHAR(255) NOT NULL DEFAULT 'default',
  tenant_code VARCHAR(64) NOT NULL DEFAULT 'default',
  environment_code BIGINT NOT NULL DEFAULT -1,
  misfire_policy BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  -- schedule list page of a project; the firing loop's scan of online schedules
  KEY idx_schedule_project (project_code, id),
  -- the firing loop: online schedules
  KEY idx_schedule_release (release_state, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The fire ledger: one row per (schedule, slot) that started a workflow, written in the same
-- transaction as its SCHEDULER command, so that a slot can never start twice (two masters, a
-- restart between the insert and the commit). The primary key also serves "the last slot fired".
-- Rows older than an hour before a schedule's newest are pruned as it fires.
CREATE TABLE IF NOT EXISTS t_ds_schedule_fire (
  schedule_id BIGINT NOT NULL,
  fire_time BIGINT NOT NULL,
  command_id BIGINT NOT NULL DEFAULT 0,
  create_time BIGINT NOT NULL,
  PRIMARY KEY (schedule_id, fire_time)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Task groups: named pools of slots shared by tasks of any workflow (group_size slots,
-- use_size taken). status 1 open, 0 closed.
CREATE TABLE IF NOT EXISTS t_ds_task_group (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  description LONGTEXT,
  group_size BIGINT NOT NULL,
  use_size BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL DEFAULT 0,
  project_code BIGINT NOT NULL DEFAULT 0,
  status BIGINT NOT NULL DEFAULT 1,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  -- task group list of a project
  KEY idx_task_group_project (project_code, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The queue of a task group: one row per task instance that asked for a slot. status -1 waiting,
-- 1 holds a slot, 2 released. Waiters are served by priority (higher first), then id.
CREATE TABLE IF NOT EXISTS t_ds_task_group_queue (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  task_id BIGINT NOT NULL UNIQUE,
  task_name VARCHAR(255) NOT NULL DEFAULT '',
  group_id BIGINT NOT NULL,
  process_id BIGINT NOT NULL,
  priority BIGINT NOT NULL DEFAULT 0,
  status BIGINT NOT NULL DEFAULT -1,
  force_start BIGINT NOT NULL DEFAULT 0,
  in_queue BIGINT NOT NULL DEFAULT 1,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  -- the next waiter of a group; the queue page of a group
  KEY idx_tgq_group (group_id, status, priority, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Project grants: perm 7 read and write, 4 read only (owners need no row).
CREATE TABLE IF NOT EXISTS t_ds_relation_project_user (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL,
  perm BIGINT NOT NULL DEFAULT 7,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  UNIQUE (user_id, project_id),
  -- the users granted a project (the project's user list)
  KEY idx_rpu_project (project_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Worker groups defined over the API (the groups workers announce themselves need no row).
CREATE TABLE IF NOT EXISTS t_ds_worker_group (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  addr_list LONGTEXT,
  description LONGTEXT,
  other_params_json LONGTEXT,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Alert plugin kinds (base data: Email, Webhook, ...) and their configured instances.
CREATE TABLE IF NOT EXISTS t_ds_plugin_define (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  plugin_name VARCHAR(128) NOT NULL,
  plugin_type VARCHAR(64) NOT NULL,
  plugin_params LONGTEXT,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  UNIQUE (plugin_name, plugin_type)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS t_ds_alert_plugin_instance (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  plugin_define_id BIGINT NOT NULL,
  plugin_instance_params LONGTEXT,
  instance_name VARCHAR(255) NOT NULL UNIQUE,
  -- DolphinScheduler 3.2: 0 NORMAL, 1 GLOBAL (sent for every workflow); warning types sent
  -- (0 NONE, 1 SUCCESS, 2 FAILURE, 3 ALL)
  instance_type BIGINT NOT NULL DEFAULT 0,
  warning_type BIGINT NOT NULL DEFAULT 3,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Environments: a shell snippet sourced before a task, chosen per task by environment_code.
CREATE TABLE IF NOT EXISTS t_ds_environment (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code BIGINT NOT NULL UNIQUE,
  name VARCHAR(255) NOT NULL UNIQUE,
  config LONGTEXT,
  description LONGTEXT,
  operator BIGINT NOT NULL DEFAULT 0,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The alert outbox: rows written with the state change that causes them, sent by the alert
-- server. alert_status 0 waiting, 1 sent, 2 failed, 3 partly sent.
CREATE TABLE IF NOT EXISTS t_ds_alert (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(255) NOT NULL DEFAULT '',
  sign VARCHAR(64) NOT NULL DEFAULT '',
  content LONGTEXT,
  alert_status BIGINT NOT NULL DEFAULT 0,
  warning_type BIGINT NOT NULL DEFAULT 0,
  log LONGTEXT,
  alertgroup_id BIGINT NOT NULL DEFAULT 0,
  project_code BIGINT NOT NULL DEFAULT 0,
  process_definition_code BIGINT NOT NULL DEFAULT 0,
  process_instance_id BIGINT NOT NULL DEFAULT 0,
  alert_type BIGINT NOT NULL DEFAULT 0,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  -- the alert server's scan of waiting alerts
  KEY idx_alert_status (alert_status, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
