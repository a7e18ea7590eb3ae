// The value types of dsched's metadata: projects, workflow and task definitions with their
// relations, workflow and task instances, commands, users. Plain structs mirroring the
// t_ds_* rows (DESIGN.md §1: same concepts, our own columns where we need them, e.g. the
// owner_epoch fence). No behaviour here beyond defaults; validation lives in validation.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/enums.h"
#include "model/property.h"

namespace dsched {

struct Project {
  int64_t id = 0;
  int64_t code = 0;
  std::string name;
  std::string description;
  int64_t user_id = 0;
  std::string user_name;  // joined
  int64_t create_time = 0;
  int64_t update_time = 0;
  // What the listing user may do with it: 7 read+write (owner, admin, write grant), 4 read.
  int perm = 7;
};

struct TaskDefinition {
  int64_t id = 0;
  int64_t code = 0;
  int version = 1;
  std::string name;
  std::string description;
  int64_t project_code = 0;
  int64_t user_id = 0;
  std::string task_type;        // SHELL, PYTHON, ...
  nlohmann::json task_params = nlohmann::json::object();
  Flag flag = Flag::kYes;       // kNo = forbidden: skipped, counts as satisfied downstream
  Priority priority = Priority::kMedium;
  std::string worker_group = "default";
  int64_t environment_code = -1;
  int fail_retry_times = 0;
  int fail_retry_interval = 1;  // minutes
  bool timeout_enabled = false; // timeoutFlag OPEN
  std::optional<TimeoutStrategy> timeout_strategy;
  int timeout = 0;              // minutes
  int delay_time = 0;           // minutes
  int64_t task_group_id = 0;    // > 0: the task needs a slot of that task group to run
  int task_group_priority = 0;  // among the group's waiters, higher is served first
  int64_t create_time = 0;
  int64_t update_time = 0;

  std::vector<Property> LocalParams() const;
};

struct TaskRelation {
  std::string name;
  int64_t pre_task_code = 0;  // 0 marks a root
  int pre_task_version = 0;
  int64_t post_task_code = 0;
  int post_task_version = 0;
  std::string condition_type = "NONE";
  nlohmann::json condition_params = nlohmann::json::object();
};

struct WorkflowDefinition {
  int64_t id = 0;
  int64_t code = 0;
  int version = 1;
  std::string name;
  std::string description;
  int64_t project_code = 0;
  ReleaseState release_state = ReleaseState::kOffline;
  std::vector<Property> global_params;
  std::string locations = "[]";
  int timeout = 0;  // minutes; 0 = none
  ExecutionType execution_type = ExecutionType::kParallel;
  int64_t user_id = 0;
  int64_t warning_group_id = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
  // The DAG of this version.
  std::vector<TaskDefinition> tasks;
  std::vector<TaskRelation> relations;
};

struct WorkflowInstance {
  int64_t id = 0;
  std::string name;
  int64_t definition_code = 0;
  int definition_version = 0;
  int64_t project_code = 0;
  WorkflowState state = WorkflowState::kSubmittedSuccess;
  std::string state_history;  // JSON list of {time, state, desc}
  int recovery = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
  int run_times = 1;
  std::string host;          // owning master
  int64_t owner_epoch = 0;   // fence: every write carries WHERE owner_epoch = mine
  CommandType command_type = CommandType::kStartProcess;
  std::string command_param = "{}";  // JSON: StartNodeList, StartParams, ...
  TaskDependType task_depend_type = TaskDependType::kTaskPost;
  FailureStrategy failure_strategy = FailureStrategy::kContinue;
  WarningType warning_type = WarningType::kNone;
  int64_t warning_group_id = 0;
  int64_t schedule_time = 0;
  int64_t command_start_time = 0;
  std::string global_params = "[]";  // cured global params (JSON list of Property)
  int64_t executor_id = 0;
  std::string executor_name;
  int is_sub_process = 0;
  std::string history_cmd;
  Priority priority = Priority::kMedium;
  std::string worker_group = "default";
  int timeout = 0;
  std::string var_pool = "[]";
  int dry_run = 0;
  int64_t restart_time = 0;
  int64_t trigger_code = 0;
};

struct TaskInstance {
  int64_t id = 0;
  std::string name;
  std::string task_type;
  int64_t workflow_instance_id = 0;
  std::string workflow_instance_name;
  int64_t project_code = 0;
  int64_t task_code = 0;
  int task_definition_version = 0;
  TaskState state = TaskState::kSubmittedSuccess;
  int64_t first_submit_time = 0;
  int64_t submit_time = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
  std::string host;
  std::string execute_path;
  std::string log_path;
  int retry_times = 0;  // the attempt number: 0 for the first run, +1 per retry
  int max_retry_times = 0;
  int retry_interval = 1;
  int pid = 0;
  std::string app_link;
  Flag flag = Flag::kYes;  // kNo once superseded by a later attempt
  Priority priority = Priority::kMedium;
  std::string worker_group = "default";
  int64_t executor_id = 0;
  std::string var_pool = "[]";
  int delay_time = 0;
  std::string task_params = "{}";
  int dry_run = 0;
};

struct Command {
  int64_t id = 0;
  CommandType command_type = CommandType::kStartProcess;
  int64_t definition_code = 0;
  int definition_version = 0;
  int64_t project_code = 0;
  int64_t executor_id = 0;
  std::string command_param = "{}";
  TaskDependType task_depend_type = TaskDependType::kTaskPost;
  FailureStrategy failure_strategy = FailureStrategy::kContinue;
  WarningType warning_type = WarningType::kNone;
  int64_t warning_group_id = 0;
  int64_t schedule_time = 0;
  int64_t start_time = 0;
  Priority priority = Priority::kMedium;
  std::string worker_group = "default";
  std::string tenant_code = "default";
  int64_t environment_code = -1;
  int dry_run = 0;
  int64_t workflow_instance_id = 0;  // for commands acting on an existing instance
  int64_t trigger_code = 0;
};

// A named pool of `group_size` slots shared by the tasks of every workflow that name it
// (t_ds_task_group). status 1 open, 0 closed (a closed group hands out no slots).
struct TaskGroup {
  int64_t id = 0;
  std::string name;
  std::string description;
  int64_t group_size = 0;
  int64_t use_size = 0;
  int64_t user_id = 0;
  int64_t project_code = 0;  // 0 = usable from every project
  int status = 1;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

// DolphinScheduler's TaskGroupQueueStatus codes.
enum class TaskGroupQueueStatus : int { kWaitQueue = -1, kAcquireSuccess = 1, kRelease = 2 };

// One task instance's place in a task group (t_ds_task_group_queue): waiting, holding a slot,
// or done with it.
struct TaskGroupQueue {
  int64_t id = 0;
  int64_t task_id = 0;  // task instance id (one row per attempt)
  std::string task_name;
  int64_t group_id = 0;
  int64_t process_id = 0;  // workflow instance id
  int priority = 0;
  TaskGroupQueueStatus status = TaskGroupQueueStatus::kWaitQueue;
  int force_start = 0;  // 1: runs without a slot (an operator's "force start")
  int in_queue = 1;
  int64_t create_time = 0;
  int64_t update_time = 0;
  // joined for the queue page
  std::string process_instance_name;
  std::string project_name;
  int64_t project_code = 0;
};

// What a schedule does with slots that passed while no master was firing it
// (t_ds_schedules.misfire_policy). kDoNothing is DolphinScheduler's behaviour.
enum class MisfirePolicy : int { kDoNothing = 0, kFireOnce = 1, kFireAll = 2 };
DSCHED_ENUM_NAMES(MisfirePolicy, {MisfirePolicy::kDoNothing, "DO_NOTHING"},
                  {MisfirePolicy::kFireOnce, "FIRE_ONCE"}, {MisfirePolicy::kFireAll, "FIRE_ALL"})

// A cron schedule of one workflow definition (t_ds_schedules; at most one per definition).
// Times in ms; crontab is Quartz syntax read in timezone_id. The fields from failure_strategy
// to environment_code are copied into every SCHEDULER command it fires.
struct Schedule {
  int64_t id = 0;
  int64_t definition_code = 0;
  int64_t project_code = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
  std::string timezone_id = "UTC";
  std::string crontab;
  FailureStrategy failure_strategy = FailureStrategy::kContinue;
  WarningType warning_type = WarningType::kNone;
  int64_t warning_group_id = 0;
  ReleaseState release_state = ReleaseState::kOffline;
  Priority priority = Priority::kMedium;
  std::string worker_group = "default";
  std::string tenant_code = "default";
  int64_t environment_code = -1;
  MisfirePolicy misfire_policy = MisfirePolicy::kDoNothing;
  int64_t user_id = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
  // joined
  std::string definition_name;
  std::string definition_description;
  std::string project_name;
  std::string user_name;
};

enum class UserType : int { kAdmin = 0, kGeneral = 1 };

struct User {
  int64_t id = 0;
  std::string user_name;
  std::string password_hash;
  std::string email;
  std::string phone;
  UserType user_type = UserType::kGeneral;
  int64_t tenant_id = -1;
  int state = 1;  // 0 disabled
  std::string queue;
  std::string time_zone;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct Session {
  std::string id;
  int64_t user_id = 0;
  int64_t last_login_time = 0;
  std::string ip;
};

// Administration (DolphinScheduler's security pages): tenants, queues, worker groups, alert
// groups and plugin instances, access tokens, project grants, environments.

struct Queue {
  int64_t id = 0;
  std::string queue_name;
  std::string queue;  // the YARN queue
  int64_t create_time = 0;
  int64_t update_time = 0;
};

// An OS user tasks run as (t_ds_tenant). Id -1 is the built-in "default" tenant.
struct Tenant {
  int64_t id = 0;
  std::string tenant_code;
  std::string description;
  int64_t queue_id = 0;
  std::string queue_name;  // joined
  std::string queue;       // joined
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct WorkerGroup {
  int64_t id = 0;
  std::string name;
  std::string addr_list;  // comma-separated host:port
  std::string description;
  std::string other_params_json;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct AlertGroup {
  int64_t id = 0;
  std::string group_name;
  std::string alert_instance_ids;  // comma-separated alert plugin instance ids
  std::string description;
  int64_t create_user_id = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

// An alert plugin kind (t_ds_plugin_define): plugin_params is the JSON form the UI renders.
struct PluginDefine {
  int64_t id = 0;
  std::string plugin_name;
  std::string plugin_type;  // "ALERT"
  std::string plugin_params;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct AlertPluginInstance {
  int64_t id = 0;
  int64_t plugin_define_id = 0;
  std::string instance_name;
  std::string plugin_instance_params;  // JSON object: field -> value
  int instance_type = 0;               // 0 NORMAL, 1 GLOBAL
  int warning_type = 3;                // 0 NONE, 1 SUCCESS, 2 FAILURE, 3 ALL
  std::string plugin_name;             // joined
  int64_t create_time = 0;
  int64_t update_time = 0;
};

// A row of the alert outbox (t_ds_alert): written in the transaction of the state change that
// causes it, sent by the alert server to the plugin instances of its group (and the GLOBAL ones).
struct Alert {
  int64_t id = 0;
  std::string title;
  std::string content;     // JSON, as DolphinScheduler's alert content
  int alert_status = 0;    // 0 waiting, 1 sent, 2 failed, 3 partly sent
  int warning_type = 0;    // what happened: 1 SUCCESS, 2 FAILURE (matched against instances')
  std::string log;         // JSON list, one entry per plugin instance tried
  int64_t alertgroup_id = 0;
  int64_t project_code = 0;
  int64_t process_definition_code = 0;
  int64_t process_instance_id = 0;
  // DolphinScheduler's AlertType: 0 WORKFLOW_INSTANCE_SUCCESS, 1 WORKFLOW_INSTANCE_FAILURE,
  // 3 WORKFLOW_INSTANCE_TIMEOUT, 4 FAULT_TOLERANCE_WARNING, 7 TASK_TIMEOUT, ...
  int alert_type = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct AccessToken {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string token;
  int64_t expire_time = 0;
  std::string user_name;  // joined
  int64_t create_time = 0;
  int64_t update_time = 0;
};

// A user's grant on a project (t_ds_relation_project_user): perm 7 read+write, 4 read only.
struct ProjectGrant {
  int64_t id = 0;
  int64_t user_id = 0;
  int64_t project_id = 0;
  int perm = 7;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct Environment {
  int64_t id = 0;
  int64_t code = 0;
  std::string name;
  std::string config;
  std::string description;
  int64_t operator_id = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

}  // namespace dsched
