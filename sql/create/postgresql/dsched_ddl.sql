-- dsched schema, newest version (PostgreSQL 10+), for `dsched db create` and every service on
-- PostgreSQL. The same schema as sql/create/sqlite and sql/create/mysql, and as version 1
-- (tests/db/schema_v1/postgresql.sql) plus every sql/upgrade/<version>/postgresql script: the
-- schema test checks both. A change here is a new sql/upgrade/<version>/ directory too.
--
-- Table names follow DolphinScheduler's t_ds_* so that its users recognise them; columns are
-- dsched's own (owner_epoch fences, trigger codes). Integer columns are BIGINT (ids BIGSERIAL):
-- codes and millisecond times need 64 bits.
-- Each index names the query it serves.

CREATE TABLE IF NOT EXISTS t_ds_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS t_ds_user (
  id BIGSERIAL PRIMARY KEY,
  user_name TEXT NOT NULL UNIQUE,
  user_password TEXT NOT NULL,
  user_type BIGINT NOT NULL DEFAULT 1,
  email TEXT, phone TEXT,
  tenant_id BIGINT NOT NULL DEFAULT -1,
  state BIGINT NOT NULL DEFAULT 1,
  queue TEXT, time_zone TEXT,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS t_ds_session (
  id TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  ip TEXT,
  last_login_time BIGINT NOT NULL);
-- signOut: sessions of a user
CREATE INDEX IF NOT EXISTS idx_session_user ON t_ds_session(user_id);

CREATE TABLE IF NOT EXISTS t_ds_access_token (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  expire_time BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS t_ds_queue (
  id BIGSERIAL PRIMARY KEY,
  queue_name TEXT NOT NULL UNIQUE, queue TEXT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS t_ds_tenant (
  id BIGSERIAL PRIMARY KEY,
  tenant_code TEXT NOT NULL UNIQUE, description TEXT, queue_id BIGINT,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS t_ds_project (
  id BIGSERIAL PRIMARY KEY,
  code BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL);

-- The current version of each workflow definition; every version is also in the _log table.
CREATE TABLE IF NOT EXISTS t_ds_process_definition (
  id BIGSERIAL PRIMARY KEY,
  code BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  description TEXT,
  project_code BIGINT NOT NULL,
  release_state BIGINT NOT NULL DEFAULT 0,
  global_params TEXT NOT NULL DEFAULT '[]',
  locations TEXT NOT NULL DEFAULT '[]',
  timeout BIGINT NOT NULL DEFAULT 0,
  execution_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL,
  UNIQUE (project_code, name));

CREATE TABLE IF NOT EXISTS t_ds_process_definition_log (
  id BIGSERIAL PRIMARY KEY,
  code BIGINT NOT NULL,
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  description TEXT,
  project_code BIGINT NOT NULL,
  release_state BIGINT NOT NULL DEFAULT 0,
  global_params TEXT NOT NULL DEFAULT '[]',
  locations TEXT NOT NULL DEFAULT '[]',
  timeout BIGINT NOT NULL DEFAULT 0,
  execution_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL,
  UNIQUE (code, version));

-- A task definition version is stored whole as JSON (the shape the REST API speaks) beside
-- the columns that queries use.
CREATE TABLE IF NOT EXISTS t_ds_task_definition_log (
  id BIGSERIAL PRIMARY KEY,
  code BIGINT NOT NULL,
  version BIGINT NOT NULL,
  name TEXT NOT NULL,
  project_code BIGINT NOT NULL,
  task_type TEXT NOT NULL,
  body TEXT NOT NULL,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL,
  UNIQUE (code, version));

-- The relations of one workflow definition version (one row per edge, pre 0 for roots).
CREATE TABLE IF NOT EXISTS t_ds_process_task_relation_log (
  id BIGSERIAL PRIMARY KEY,
  process_definition_code BIGINT NOT NULL,
  process_definition_version BIGINT NOT NULL,
  project_code BIGINT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  pre_task_code BIGINT NOT NULL,
  pre_task_version BIGINT NOT NULL,
  post_task_code BIGINT NOT NULL,
  post_task_version BIGINT NOT NULL,
  condition_type TEXT NOT NULL DEFAULT 'NONE',
  condition_params TEXT NOT NULL DEFAULT '{}',
  create_time BIGINT NOT NULL);
-- loading the DAG of (definition, version)
CREATE INDEX IF NOT EXISTS idx_relation_log_def ON t_ds_process_task_relation_log(process_definition_code, process_definition_version);

CREATE TABLE IF NOT EXISTS t_ds_command (
  id BIGSERIAL PRIMARY KEY,
  command_type BIGINT NOT NULL,
  process_definition_code BIGINT NOT NULL,
  process_definition_version BIGINT NOT NULL,
  project_code BIGINT NOT NULL,
  process_instance_id BIGINT NOT NULL DEFAULT 0,
  command_param TEXT NOT NULL DEFAULT '{}',
  task_depend_type BIGINT NOT NULL DEFAULT 2,
  failure_strategy BIGINT NOT NULL DEFAULT 1,
  warning_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  schedule_time BIGINT NOT NULL DEFAULT 0,
  start_time BIGINT NOT NULL,
  executor_id BIGINT NOT NULL DEFAULT 0,
  process_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group TEXT NOT NULL DEFAULT 'default',
  tenant_code TEXT NOT NULL DEFAULT 'default',
  environment_code BIGINT NOT NULL DEFAULT -1,
  dry_run BIGINT NOT NULL DEFAULT 0,
  trigger_code BIGINT NOT NULL DEFAULT 0);
-- command intake: highest priority first, then oldest
CREATE INDEX IF NOT EXISTS idx_command_prio ON t_ds_command(process_instance_priority, id);

CREATE TABLE IF NOT EXISTS t_ds_error_command (
  id BIGINT PRIMARY KEY,
  command_type BIGINT NOT NULL,
  process_definition_code BIGINT NOT NULL,
  command_param TEXT,
  start_time BIGINT NOT NULL,
  message TEXT);

CREATE TABLE IF NOT EXISTS t_ds_process_instance (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  process_definition_code BIGINT NOT NULL,
  process_definition_version BIGINT NOT NULL,
  project_code BIGINT NOT NULL,
  state BIGINT NOT NULL,
  state_history TEXT NOT NULL DEFAULT '[]',
  recovery BIGINT NOT NULL DEFAULT 0,
  start_time BIGINT NOT NULL DEFAULT 0,
  end_time BIGINT NOT NULL DEFAULT 0,
  run_times BIGINT NOT NULL DEFAULT 1,
  host TEXT NOT NULL DEFAULT '',
  owner_epoch BIGINT NOT NULL DEFAULT 0,
  command_type BIGINT NOT NULL,
  command_param TEXT NOT NULL DEFAULT '{}',
  task_depend_type BIGINT NOT NULL DEFAULT 2,
  failure_strategy BIGINT NOT NULL DEFAULT 1,
  warning_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  schedule_time BIGINT NOT NULL DEFAULT 0,
  command_start_time BIGINT NOT NULL DEFAULT 0,
  global_params TEXT NOT NULL DEFAULT '[]',
  executor_id BIGINT NOT NULL DEFAULT 0,
  executor_name TEXT NOT NULL DEFAULT '',
  is_sub_process BIGINT NOT NULL DEFAULT 0,
  history_cmd TEXT NOT NULL DEFAULT '',
  process_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group TEXT NOT NULL DEFAULT 'default',
  timeout BIGINT NOT NULL DEFAULT 0,
  var_pool TEXT NOT NULL DEFAULT '[]',
  dry_run BIGINT NOT NULL DEFAULT 0,
  restart_time BIGINT NOT NULL DEFAULT 0,
  trigger_code BIGINT NOT NULL DEFAULT 0);
-- instance list page of a project, newest first
CREATE INDEX IF NOT EXISTS idx_pi_project ON t_ds_process_instance(project_code, id);
-- recovery at start-up and failover: unfinished instances by state
CREATE INDEX IF NOT EXISTS idx_pi_state ON t_ds_process_instance(state);
-- instances of one definition (list filter)
CREATE INDEX IF NOT EXISTS idx_pi_def ON t_ds_process_instance(process_definition_code, id);
-- process-instances/trigger?triggerCode=
CREATE INDEX IF NOT EXISTS idx_pi_trigger ON t_ds_process_instance(trigger_code);

CREATE TABLE IF NOT EXISTS t_ds_task_instance (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  task_type TEXT NOT NULL,
  process_instance_id BIGINT NOT NULL,
  process_instance_name TEXT NOT NULL DEFAULT '',
  project_code BIGINT NOT NULL,
  task_code BIGINT NOT NULL,
  task_definition_version BIGINT NOT NULL,
  state BIGINT NOT NULL,
  first_submit_time BIGINT NOT NULL DEFAULT 0,
  submit_time BIGINT NOT NULL DEFAULT 0,
  start_time BIGINT NOT NULL DEFAULT 0,
  end_time BIGINT NOT NULL DEFAULT 0,
  host TEXT NOT NULL DEFAULT '',
  execute_path TEXT NOT NULL DEFAULT '',
  log_path TEXT NOT NULL DEFAULT '',
  retry_times BIGINT NOT NULL DEFAULT 0,
  max_retry_times BIGINT NOT NULL DEFAULT 0,
  retry_interval BIGINT NOT NULL DEFAULT 1,
  pid BIGINT NOT NULL DEFAULT 0,
  app_link TEXT NOT NULL DEFAULT '',
  flag BIGINT NOT NULL DEFAULT 1,
  task_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group TEXT NOT NULL DEFAULT 'default',
  executor_id BIGINT NOT NULL DEFAULT 0,
  var_pool TEXT NOT NULL DEFAULT '[]',
  delay_time BIGINT NOT NULL DEFAULT 0,
  task_params TEXT NOT NULL DEFAULT '{}',
  dry_run BIGINT NOT NULL DEFAULT 0,
  -- the engine's key of each attempt it inserts (version 3): a group commit retried after a
  -- commit of unknown outcome finds its rows instead of inserting them twice
  insert_key TEXT);
-- the task list of one workflow instance (runner rebuild, /process-instances/{id}/tasks)
CREATE INDEX IF NOT EXISTS idx_ti_instance ON t_ds_task_instance(process_instance_id, id);
-- task instance list page of a project
CREATE INDEX IF NOT EXISTS idx_ti_project ON t_ds_task_instance(project_code, id);
-- attempt keys (see insert_key)
CREATE UNIQUE INDEX IF NOT EXISTS uk_ti_insert_key ON t_ds_task_instance(insert_key);
-- ---------------------------------------------------------------- added in version 2

-- Alert groups (DolphinScheduler's t_ds_alertgroup); base data holds the default one.
CREATE TABLE IF NOT EXISTS t_ds_alertgroup (
  id BIGSERIAL PRIMARY KEY,
  group_name TEXT NOT NULL UNIQUE,
  alert_instance_ids TEXT,
  create_user_id BIGINT NOT NULL DEFAULT 0,
  description TEXT,
  create_time BIGINT NOT NULL, update_time BIGINT NOT NULL);

-- workflow list page: a project's definitions, most recently updated first
CREATE INDEX IF NOT EXISTS idx_pd_project_update ON t_ds_process_definition(project_code, update_time);
-- instance list page filtered by state
CREATE INDEX IF NOT EXISTS idx_pi_project_state ON t_ds_process_instance(project_code, state, id);
-- instance list page filtered by start time
CREATE INDEX IF NOT EXISTS idx_pi_project_start ON t_ds_process_instance(project_code, start_time);
-- master failover: the instances a dead master owned; instance list filtered by host
CREATE INDEX IF NOT EXISTS idx_pi_host ON t_ds_process_instance(host);
-- task instance list page filtered by state
CREATE INDEX IF NOT EXISTS idx_ti_project_state ON t_ds_task_instance(project_code, state, id);
-- worker failover: the tasks a dead worker ran; task instance list filtered by host
CREATE INDEX IF NOT EXISTS idx_ti_host ON t_ds_task_instance(host);

-- ---------------------------------------------------------------- added in version 3

-- Schedules (DolphinScheduler's t_ds_schedules): at most one per workflow definition. Times in ms;
-- crontab is Quartz syntax, evaluated in timezone_id. misfire_policy: 0 do nothing, 1 fire once
-- now, 2 fire every missed slot.
CREATE TABLE IF NOT EXISTS t_ds_schedules (
  id BIGSERIAL PRIMARY KEY,
  process_definition_code BIGINT NOT NULL UNIQUE,
  project_code BIGINT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT NOT NULL,
  timezone_id TEXT NOT NULL DEFAULT 'UTC',
  crontab TEXT NOT NULL,
  failure_strategy BIGINT NOT NULL DEFAULT 1,
  warning_type BIGINT NOT NULL DEFAULT 0,
  warning_group_id BIGINT NOT NULL DEFAULT 0,
  release_state BIGINT NOT NULL DEFAULT 0,
  process_instance_priority BIGINT NOT NULL DEFAULT 2,
  worker_group TEXT NOT NULL DEFAULT 'default',
  tenant_code TEXT NOT NULL DEFAULT 'default',
  environment_code BIGINT NOT NULL DEFAULT -1,
  misfire_policy BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);
-- schedule list page of a project; the firing loop's scan of online schedules
CREATE INDEX IF NOT EXISTS idx_schedule_project ON t_ds_schedules(project_code, id);
-- the firing loop: online schedules
CREATE INDEX IF NOT EXISTS idx_schedule_release ON t_ds_schedules(release_state, id);

-- The fire ledger: one row per (schedule, slot) that started a workflow, written in the same
-- transaction as its SCHEDULER command, so that a slot can never start twice (two masters, a
-- restart between the insert and the commit). The primary key also serves "the last slot fired".
-- Rows older than an hour before a schedule's newest are pruned as it fires.
CREATE TABLE IF NOT EXISTS t_ds_schedule_fire (
  schedule_id BIGINT NOT NULL,
  fire_time BIGINT NOT NULL,
  command_id BIGINT NOT NULL DEFAULT 0,
  create_time BIGINT NOT NULL,
  PRIMARY KEY (schedule_id, fire_time));

-- Task groups: named pools of slots shared by tasks of any workflow (group_size slots,
-- use_size taken). status 1 open, 0 closed.
CREATE TABLE IF NOT EXISTS t_ds_task_group (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  group_size BIGINT NOT NULL,
  use_size BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL DEFAULT 0,
  project_code BIGINT NOT NULL DEFAULT 0,
  status BIGINT NOT NULL DEFAULT 1,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);
-- task group list of a project
CREATE INDEX IF NOT EXISTS idx_task_group_project ON t_ds_task_group(project_code, id);

-- The queue of a task group: one row per task instance that asked for a slot. status -1 waiting,
-- 1 holds a slot, 2 released. Waiters are served by priority (higher first), then id.
CREATE TABLE IF NOT EXISTS t_ds_task_group_queue (
  id BIGSERIAL PRIMARY KEY,
  task_id BIGINT NOT NULL UNIQUE,
  task_name TEXT NOT NULL DEFAULT '',
  group_id BIGINT NOT NULL,
  process_id BIGINT NOT NULL,
  priority BIGINT NOT NULL DEFAULT 0,
  status BIGINT NOT NULL DEFAULT -1,
  force_start BIGINT NOT NULL DEFAULT 0,
  in_queue BIGINT NOT NULL DEFAULT 1,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);
-- the next waiter of a group; the queue page of a group
CREATE INDEX IF NOT EXISTS idx_tgq_group ON t_ds_task_group_queue(group_id, status, priority, id);

-- Project grants: perm 7 read and write, 4 read only (owners need no row).
CREATE TABLE IF NOT EXISTS t_ds_relation_project_user (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL,
  perm BIGINT NOT NULL DEFAULT 7,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  UNIQUE (user_id, project_id));
-- the users granted a project (the project's user list)
CREATE INDEX IF NOT EXISTS idx_rpu_project ON t_ds_relation_project_user(project_id);

-- Worker groups defined over the API (the groups workers announce themselves need no row).
CREATE TABLE IF NOT EXISTS t_ds_worker_group (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  addr_list TEXT,
  description TEXT,
  other_params_json TEXT,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);

-- Alert plugin kinds (base data: Email, Webhook, ...) and their configured instances.
CREATE TABLE IF NOT EXISTS t_ds_plugin_define (
  id BIGSERIAL PRIMARY KEY,
  plugin_name TEXT NOT NULL,
  plugin_type TEXT NOT NULL,
  plugin_params TEXT,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  UNIQUE (plugin_name, plugin_type));

CREATE TABLE IF NOT EXISTS t_ds_alert_plugin_instance (
  id BIGSERIAL PRIMARY KEY,
  plugin_define_id BIGINT NOT NULL,
  plugin_instance_params TEXT,
  instance_name TEXT NOT NULL UNIQUE,
  -- DolphinScheduler 3.2: 0 NORMAL, 1 GLOBAL (sent for every workflow); warning types sent
  -- (0 NONE, 1 SUCCESS, 2 FAILURE, 3 ALL)
  instance_type BIGINT NOT NULL DEFAULT 0,
  warning_type BIGINT NOT NULL DEFAULT 3,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);

-- Environments: a shell snippet sourced before a task, chosen per task by environment_code.
CREATE TABLE IF NOT EXISTS t_ds_environment (
  id BIGSERIAL PRIMARY KEY,
  code BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  config TEXT,
  description TEXT,
  operator BIGINT NOT NULL DEFAULT 0,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);

-- The alert outbox: rows written with the state change that causes them, sent by the alert
-- server. alert_status 0 waiting, 1 sent, 2 failed, 3 partly sent.
CREATE TABLE IF NOT EXISTS t_ds_alert (
  id BIGSERIAL PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  sign TEXT NOT NULL DEFAULT '',
  content TEXT,
  alert_status BIGINT NOT NULL DEFAULT 0,
  warning_type BIGINT NOT NULL DEFAULT 0,
  log TEXT,
  alertgroup_id BIGINT NOT NULL DEFAULT 0,
  project_code BIGINT NOT NULL DEFAULT 0,
  process_definition_code BIGINT NOT NULL DEFAULT 0,
  process_instance_id BIGINT NOT NULL DEFAULT 0,
  alert_type BIGINT NOT NULL DEFAULT 0,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);
-- the alert server's scan of waiting alerts
CREATE INDEX IF NOT EXISTS idx_alert_status ON t_ds_alert(alert_status, id);

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
