-- Version 1 -> 2 (SQLite): the alert group table, and indexes for the list pages and for
-- failover. Applied once by `dsched db upgrade`, in one transaction with the version row.

-- Alert groups (DolphinScheduler's t_ds_alertgroup); base data holds the default one.
CREATE TABLE IF NOT EXISTS t_ds_alertgroup (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
