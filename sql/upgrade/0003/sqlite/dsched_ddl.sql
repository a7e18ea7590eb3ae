-- Version 2 -> 3 (SQLite): schedules and their fire ledger, task groups, project grants,
-- worker groups, alert plugins, environments, the alert outbox, and the task attempt key.

-- Schedules (DolphinScheduler's t_ds_schedules): at most one per workflow definition. Times in ms;
-- crontab is Quartz syntax, evaluated in timezone_id. misfire_policy: 0 do nothing, 1 fire once
-- now, 2 fire every missed slot.
CREATE TABLE IF NOT EXISTS t_ds_schedules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  addr_list TEXT,
  description TEXT,
  other_params_json TEXT,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL);

-- Alert plugin kinds (base data: Email, Webhook, ...) and their configured instances.
CREATE TABLE IF NOT EXISTS t_ds_plugin_define (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  plugin_name TEXT NOT NULL,
  plugin_type TEXT NOT NULL,
  plugin_params TEXT,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  UNIQUE (plugin_name, plugin_type));

CREATE TABLE IF NOT EXISTS t_ds_alert_plugin_instance (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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

-- The engine's key of each task attempt it inserts: a group commit retried after a commit
-- whose outcome was unknown (connection lost during COMMIT) finds its rows by key instead of
-- inserting them twice. NULL for rows written before version 3.
ALTER TABLE t_ds_task_instance ADD COLUMN insert_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS uk_ti_insert_key ON t_ds_task_instance(insert_key);
