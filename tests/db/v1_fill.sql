-- Rows for a schema of version 1 (tests/db/schema_v1/*.sql), one or more in every table, for the
-- upgrade test: they must all survive `dsched db upgrade` and read back through the stores.
-- Portable SQL (SQLite, PostgreSQL, MySQL): ids come from the database, references by
-- sub-select. Codes, epochs and times are beyond 32 bits on purpose.
INSERT INTO t_ds_version(id, version) VALUES(1, 1);
INSERT INTO t_ds_user(user_name, user_password, user_type, email, phone, tenant_id, state, queue,
                      time_zone, create_time, update_time)
  VALUES('admin', 'not-a-real-hash', 0, 'admin@example.com', '', -1, 1, '', 'UTC',
         1700000000001, 1700000000002);
INSERT INTO t_ds_user(user_name, user_password, user_type, tenant_id, state, create_time,
                      update_time)
  VALUES('alice', 'not-a-real-hash', 1, 7, 1, 1700000000003, 1700000000004);
INSERT INTO t_ds_session(id, user_id, ip, last_login_time)
  VALUES('sess-1', (SELECT id FROM t_ds_user WHERE user_name = 'admin'), '10.0.0.1',
         1700000000005);
INSERT INTO t_ds_access_token(user_id, token, expire_time, create_time, update_time)
  VALUES((SELECT id FROM t_ds_user WHERE user_name = 'alice'), 'tok-1', 4102444800000,
         1700000000006, 1700000000007);
INSERT INTO t_ds_queue(queue_name, queue, create_time, update_time)
  VALUES('q1', 'root.q1', 1700000000008, 1700000000009);
INSERT INTO t_ds_tenant(tenant_code, description, queue_id, create_time, update_time)
  VALUES('tenant1', 'a tenant', 1, 1700000000010, 1700000000011);
INSERT INTO t_ds_project(code, name, description, user_id, create_time, update_time)
  VALUES(15000000000001, 'Upgrade Proj', 'survives the upgrade',
         (SELECT id FROM t_ds_user WHERE user_name = 'admin'), 1700000000012, 1700000000013);
INSERT INTO t_ds_process_definition(code, name, version, description, project_code,
                                    release_state, global_params, locations, timeout,
                                    execution_type, warning_group_id, user_id, create_time,
                                    update_time)
  VALUES(15000000000101, 'wf', 2, 'second version', 15000000000001, 1,
         '[{"prop":"dt","direct":"IN","type":"VARCHAR","value":"2024-01-01"}]', '[]', 0, 0, 0,
         (SELECT id FROM t_ds_user WHERE user_name = 'admin'), 1700000000014, 1700000000015);
INSERT INTO t_ds_process_definition_log(code, name, version, description, project_code,
                                        release_state, global_params, locations, timeout,
                                        execution_type, warning_group_id, user_id, create_time,
                                        update_time)
  VALUES(15000000000101, 'wf', 1, 'first version', 15000000000001, 0, '[]', '[]', 0, 0, 0,
         (SELECT id FROM t_ds_user WHERE user_name = 'admin'), 1700000000014, 1700000000014);
INSERT INTO t_ds_process_definition_log(code, name, version, description, project_code,
                                        release_state, global_params, locations, timeout,
                                        execution_type, warning_group_id, user_id, create_time,
                                        update_time)
  VALUES(15000000000101, 'wf', 2, 'second version', 15000000000001, 1,
         '[{"prop":"dt","direct":"IN","type":"VARCHAR","value":"2024-01-01"}]', '[]', 0, 0, 0,
         (SELECT id FROM t_ds_user WHERE user_name = 'admin'), 1700000000014, 1700000000015);
INSERT INTO t_ds_task_definition_log(code, version, name, project_code, task_type, body,
                                     create_time, update_time)
  VALUES(15000000000201, 1, 'extract', 15000000000001, 'SHELL',
         '{"code":15000000000201,"version":1,"name":"extract","taskType":"SHELL","taskParams":{"rawScript":"echo v1","localParams":[]},"projectCode":15000000000001}',
         1700000000016, 1700000000016);
INSERT INTO t_ds_task_definition_log(code, version, name, project_code, task_type, body,
                                     create_time, update_time)
  VALUES(15000000000201, 2, 'extract', 15000000000001, 'SHELL',
         '{"code":15000000000201,"version":2,"name":"extract","taskType":"SHELL","taskParams":{"rawScript":"echo v2","localParams":[]},"projectCode":15000000000001}',
         1700000000016, 1700000000017);
INSERT INTO t_ds_task_definition_log(code, version, name, project_code, task_type, body,
                                     create_time, update_time)
  VALUES(15000000000202, 1, 'load', 15000000000001, 'SHELL',
         '{"code":15000000000202,"version":1,"name":"load","taskType":"SHELL","taskParams":{"rawScript":"echo load","localParams":[]},"projectCode":15000000000001}',
         1700000000016, 1700000000016);
INSERT INTO t_ds_process_task_relation_log(process_definition_code, process_definition_version,
                                           project_code, name, pre_task_code, pre_task_version,
                                           post_task_code, post_task_version, condition_type,
                                           condition_params, create_time)
  VALUES(15000000000101, 1, 15000000000001, '', 0, 0, 15000000000201, 1, 'NONE', '{}',
         1700000000018);
INSERT INTO t_ds_process_task_relation_log(process_definition_code, process_definition_version,
                                           project_code, name, pre_task_code, pre_task_version,
                                           post_task_code, post_task_version, condition_type,
                                           condition_params, create_time)
  VALUES(15000000000101, 2, 15000000000001, '', 0, 0, 15000000000201, 2, 'NONE', '{}',
         1700000000018);
INSERT INTO t_ds_process_task_relation_log(process_definition_code, process_definition_version,
                                           project_code, name, pre_task_code, pre_task_version,
                                           post_task_code, post_task_version, condition_type,
                                           condition_params, create_time)
  VALUES(15000000000101, 2, 15000000000001, '', 15000000000201, 2, 15000000000202, 1, 'NONE',
         '{}', 1700000000018);
INSERT INTO t_ds_command(command_type, process_definition_code, process_definition_version,
                         project_code, process_instance_id, command_param, task_depend_type,
                         failure_strategy, warning_type, warning_group_id, schedule_time,
                         start_time, executor_id, process_instance_priority, worker_group,
                         tenant_code, environment_code, dry_run, trigger_code)
  VALUES(0, 15000000000101, 2, 15000000000001, 0, '{"StartParams":{"dt":"x"}}', 2, 1, 0, 0,
         1700000000019, 1700000000020, 1, 2, 'default', 'default', -1, 0, 16000000000001);
INSERT INTO t_ds_error_command(id, command_type, process_definition_code, command_param,
                               start_time, message)
  VALUES(99, 0, 15000000000101, '{}', 1700000000021, 'definition is offline');
INSERT INTO t_ds_process_instance(name, process_definition_code, process_definition_version,
                                  project_code, state, state_history, recovery, start_time,
                                  end_time, run_times, host, owner_epoch, command_type,
                                  command_param, task_depend_type, failure_strategy,
                                  warning_type, warning_group_id, schedule_time,
                                  command_start_time, global_params, executor_id, executor_name,
                                  is_sub_process, history_cmd, process_instance_priority,
                                  worker_group, timeout, var_pool, dry_run, restart_time,
                                  trigger_code)
  VALUES('wf-20240101', 15000000000101, 2, 15000000000001, 7, '[]', 0, 1700000000022,
         1700000000023, 1, '10.0.0.2:5678', 5000000000, 0, '{}', 2, 1, 0, 0, 0, 1700000000022,
         '[]', 1, 'admin', 0, 'START_PROCESS', 2, 'default', 0, '[]', 0, 0, 16000000000002);
INSERT INTO t_ds_task_instance(name, task_type, process_instance_id, process_instance_name,
                               project_code, task_code, task_definition_version, state,
                               first_submit_time, submit_time, start_time, end_time, host,
                               execute_path, log_path, retry_times, max_retry_times,
                               retry_interval, pid, app_link, flag, task_instance_priority,
                               worker_group, executor_id, var_pool, delay_time, task_params,
                               dry_run)
  VALUES('extract', 'SHELL', (SELECT id FROM t_ds_process_instance WHERE name = 'wf-20240101'),
         'wf-20240101', 15000000000001, 15000000000201, 2, 7, 1700000000024, 1700000000024,
         1700000000025, 1700000000026, '10.0.0.3:1234', '/tmp/exec/1', '/tmp/logs/1.log', 0, 0,
         1, 4242, '', 1, 2, 'default', 1, '[{"prop":"rows","direct":"OUT","type":"VARCHAR","value":"42"}]', 0,
         '{"rawScript":"echo v2"}', 0);
INSERT INTO t_ds_task_instance(name, task_type, process_instance_id, process_instance_name,
                               project_code, task_code, task_definition_version, state,
                               first_submit_time, submit_time, start_time, end_time, host,
                               execute_path, log_path, retry_times, max_retry_times,
                               retry_interval, pid, app_link, flag, task_instance_priority,
                               worker_group, executor_id, var_pool, delay_time, task_params,
                               dry_run)
  VALUES('load', 'SHELL', (SELECT id FROM t_ds_process_instance WHERE name = 'wf-20240101'),
         'wf-20240101', 15000000000001, 15000000000202, 1, 7, 1700000000027, 1700000000027,
         1700000000028, 1700000000029, '10.0.0.3:1234', '/tmp/exec/2', '/tmp/logs/2.log', 0, 0,
         1, 4243, '', 1, 2, 'default', 1, '[]', 0, '{"rawScript":"echo load"}', 0);
