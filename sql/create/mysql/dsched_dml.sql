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
-- Alert plugin kinds (version 3): Email over SMTP, Http for webhooks.
INSERT INTO t_ds_plugin_define(plugin_name, plugin_type, plugin_params, create_time, update_time)
  SELECT 'Email', 'ALERT', '[{"field":"receivers","name":"receivers","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"receiverCcs","name":"receiverCcs","type":"input","validate":[{"required":false,"type":"string"}]},{"field":"serverHost","name":"mail.smtp.host","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"serverPort","name":"mail.smtp.port","type":"input","value":"25","validate":[{"required":true,"type":"string"}]},{"field":"sender","name":"mail.sender","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"enableSmtpAuth","name":"mail.smtp.auth","type":"radio","value":"true","options":[{"label":"YES","value":"true"},{"label":"NO","value":"false"}]},{"field":"User","name":"mail.user","type":"input","validate":[{"required":false,"type":"string"}]},{"field":"Password","name":"mail.passwd","type":"input","props":{"type":"password"},"validate":[{"required":false,"type":"string"}]},{"field":"starttlsEnable","name":"mail.smtp.starttls.enable","type":"radio","value":"false","options":[{"label":"YES","value":"true"},{"label":"NO","value":"false"}]},{"field":"sslEnable","name":"mail.smtp.ssl.enable","type":"radio","value":"false","options":[{"label":"YES","value":"true"},{"label":"NO","value":"false"}]},{"field":"showType","name":"showType","type":"radio","value":"table","options":[{"label":"table","value":"table"},{"label":"text","value":"text"},{"label":"attachment","value":"attachment"},{"label":"table attachment","value":"tableattachment"}]}]', CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED), CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) FROM DUAL
  WHERE NOT EXISTS (SELECT 1 FROM t_ds_plugin_define WHERE plugin_name = 'Email' AND plugin_type = 'ALERT');
INSERT INTO t_ds_plugin_define(plugin_name, plugin_type, plugin_params, create_time, update_time)
  SELECT 'Http', 'ALERT', '[{"field":"WebHook","name":"webhook","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"requestType","name":"requestType","type":"select","value":"POST","options":[{"label":"POST","value":"POST"},{"label":"GET","value":"GET"},{"label":"PUT","value":"PUT"}]},{"field":"headerParams","name":"headerParams","type":"input","validate":[{"required":false,"type":"string"}]},{"field":"bodyParams","name":"bodyParams","type":"input","validate":[{"required":false,"type":"string"}]}]', CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED), CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) FROM DUAL
  WHERE NOT EXISTS (SELECT 1 FROM t_ds_plugin_define WHERE plugin_name = 'Http' AND plugin_type = 'ALERT');
