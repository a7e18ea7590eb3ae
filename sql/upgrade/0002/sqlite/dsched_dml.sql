-- Version 2 base data (SQLite): DolphinScheduler's default queue and default alert group. Idempotent.
-- The admin user is created by `dsched db create` itself, which hashes its password.
INSERT OR IGNORE INTO t_ds_queue(queue_name, queue, create_time, update_time)
  VALUES('default', 'default', CAST(strftime('%s', 'now') AS BIGINT) * 1000,
         CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT OR IGNORE INTO t_ds_alertgroup(group_name, alert_instance_ids, create_user_id, description,
                                      create_time, update_time)
  VALUES('default admin warning group', NULL, 1, 'default admin warning group',
         CAST(strftime('%s', 'now') AS BIGINT) * 1000, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
