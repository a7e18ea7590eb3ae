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
