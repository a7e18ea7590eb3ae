-- Base data (PostgreSQL): DolphinScheduler's default queue and default alert group. Idempotent.
-- The admin user is created by `dsched db create` itself, which hashes its password.
INSERT INTO t_ds_queue(queue_name, queue, create_time, update_time)
  VALUES('default', 'default', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT),
         CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
  ON CONFLICT (queue_name) DO NOTHING;
INSERT INTO t_ds_alertgroup(group_name, alert_instance_ids, create_user_id, description,
                            create_time, update_time)
  VALUES('default admin warning group', NULL, 1, 'default admin warning group',
         CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT),
         CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
  ON CONFLICT (group_name) DO NOTHING;
