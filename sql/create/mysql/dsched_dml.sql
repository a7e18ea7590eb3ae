-- Base data (MySQL/MariaDB): DolphinScheduler's default queue and default alert group.
-- Idempotent (NOT EXISTS rather than INSERT IGNORE, which would hide other errors too).
-- The admin user is created by `dsched db create` itself, which hashes its password.
INSERT INTO t_ds_queue(queue_name, queue, create_time, update_time)
  SELECT 'default', 'default', CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED),
         CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) FROM DUAL
  WHERE NOT EXISTS (SELECT 1 FROM t_ds_queue WHERE queue_name = 'default');
INSERT INTO t_ds_alertgroup(group_name, alert_instance_ids, create_user_id, description,
                            create_time, update_time)
  SELECT 'default admin warning group', NULL, 1, 'default admin warning group',
         CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED), CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)
  FROM DUAL
  WHERE NOT EXISTS (SELECT 1 FROM t_ds_alertgroup WHERE group_name = 'default admin warning group');
