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
-- Alert plugin kinds (version 3): Email over SMTP, Http for webhooks.
INSERT INTO t_ds_plugin_define(plugin_name, plugin_type, plugin_params, create_time, update_time)
  VALUES('Email', 'ALERT', '[{"field":"receivers","name":"receivers","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"receiverCcs","name":"receiverCcs","type":"input","validate":[{"required":false,"type":"string"}]},{"field":"serverHost","name":"mail.smtp.host","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"serverPort","name":"mail.smtp.port","type":"input","value":"25","validate":[{"required":true,"type":"string"}]},{"field":"sender","name":"mail.sender","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"enableSmtpAuth","name":"mail.smtp.auth","type":"radio","value":"true","options":[{"label":"YES","value":"true"},{"label":"NO","value":"false"}]},{"field":"User","name":"mail.user","type":"input","validate":[{"required":false,"type":"string"}]},{"field":"Password","name":"mail.passwd","type":"input","props":{"type":"password"},"validate":[{"required":false,"type":"string"}]},{"field":"starttlsEnable","name":"mail.smtp.starttls.enable","type":"radio","value":"false","options":[{"label":"YES","value":"true"},{"label":"NO","value":"false"}]},{"field":"sslEnable","name":"mail.smtp.ssl.enable","type":"radio","value":"false","options":[{"label":"YES","value":"true"},{"label":"NO","value":"false"}]},{"field":"showType","name":"showType","type":"radio","value":"table","options":[{"label":"table","value":"table"},{"label":"text","value":"text"},{"label":"attachment","value":"attachment"},{"label":"table attachment","value":"tableattachment"}]}]', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT), CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
  ON CONFLICT (plugin_name, plugin_type) DO NOTHING;
INSERT INTO t_ds_plugin_define(plugin_name, plugin_type, plugin_params, create_time, update_time)
  VALUES('Http', 'ALERT', '[{"field":"WebHook","name":"webhook","type":"input","validate":[{"required":true,"type":"string"}]},{"field":"requestType","name":"requestType","type":"select","value":"POST","options":[{"label":"POST","value":"POST"},{"label":"GET","value":"GET"},{"label":"PUT","value":"PUT"}]},{"field":"headerParams","name":"headerParams","type":"input","validate":[{"required":false,"type":"string"}]},{"field":"bodyParams","name":"bodyParams","type":"input","validate":[{"required":false,"type":"string"}]}]', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT), CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
  ON CONFLICT (plugin_name, plugin_type) DO NOTHING;
