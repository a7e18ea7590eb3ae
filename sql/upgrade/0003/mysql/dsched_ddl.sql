-- Version 2 -> 3 (MySQL/MariaDB): schedules and their fire ledger, task groups, project grants,
-- worker groups, alert plugins, environments, the alert outbox, and the task attempt key.
-- MySQL commits each DDL statement by itself; a re-run skips what already exists.

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

-- The engine's key of each task attempt it inserts: a group commit retried after a commit
-- whose outcome was unknown (connection lost during COMMIT) finds its rows by key instead of
-- inserting them twice. NULL for rows written before version 3.
ALTER TABLE t_ds_task_instance ADD COLUMN insert_key VARCHAR(96);
CREATE UNIQUE INDEX uk_ti_insert_key ON t_ds_task_instance(insert_key);
