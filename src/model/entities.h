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

}  // namespace dsched
