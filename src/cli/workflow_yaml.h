// Reading PyDolphinScheduler workflow YAML files (shared/reference/workflow-yaml.md) into a
// checked WorkflowSpec, and turning a spec into the form fields of DolphinScheduler's
// create/update process-definition call. Pure apart from the callbacks in YamlContext (files,
// environment, applying other workflows); no HTTP here, that is client_commands.cc.
//
// Every error is one line that names the file and the place, e.g.
//   etl.yaml: tasks[1].fail_retry_times: expected an integer, got 'abc'
//   etl.yaml: tasks[2] (name 'load'): deps names unknown task 'extrct'
// List indexes are 0-based, as in the YAML path of the value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dsched::cli {

struct LocalParam {
  std::string prop;
  std::string direct = "IN";     // IN | OUT
  std::string type = "VARCHAR";  // VARCHAR | INTEGER | ... | FILE
  std::string value;
};

// Dependent: one depended-on workflow (or one of its tasks) in the intervals of date_value.
struct DependItemSpec {
  std::string place;         // where it is written, for messages: tasks[3].groups[0].groups[1]
  std::string project_name;  // "" = the project the workflow is applied to
  std::string workflow_name;
  std::string task_name;     // "" = the whole workflow (ALL)
  std::string date_value;    // DolphinScheduler's dateValue, e.g. last1Days
  std::string cycle;         // hour | day | week | month (from date_value)
  // Filled by ResolveReferences.
  int64_t project_code = 0, workflow_code = 0, task_code = 0;
};
struct DependGroupSpec {
  std::string op = "AND";
  std::vector<DependItemSpec> items;
};
// Condition: an upstream task that must have ended in success (true) or failure (false).
struct ConditionItemSpec {
  std::string task;
  bool success = true;
};
struct ConditionGroupSpec {
  std::string op = "AND";
  std::vector<ConditionItemSpec> items;
};
// Switch: the first branch whose condition holds runs; a branch without one is the default.
struct SwitchBranchSpec {
  std::string condition;
  std::string task;
};

struct TaskSpec {
  std::string name;
  // DolphinScheduler's name: SHELL, PYTHON, SUB_PROCESS, DEPENDENT, CONDITIONS, SWITCH
  std::string task_type;
  std::string description;
  std::string raw_script;  // Shell `command`, Python `definition`
  std::vector<std::string> deps;
  std::string flag = "YES";
  std::string task_priority = "MEDIUM";
  int64_t delay_time = 0;
  int64_t fail_retry_times = 0;
  int64_t fail_retry_interval = 1;
  int64_t timeout = 0;  // minutes
  bool timeout_flag = false;
  std::string timeout_notify_strategy;  // "" unless timeout_flag
  std::string worker_group;             // "" = the workflow's
  std::vector<LocalParam> local_params;
  std::vector<std::string> resource_list;
  int64_t task_group_id = 0;  // 0 = none
  int64_t task_group_priority = 0;

  // SubWorkflow (SUB_PROCESS): a workflow of the same project, by name.
  std::string sub_workflow_name;
  int64_t sub_workflow_code = 0;  // filled by ResolveReferences
  // Dependent (DEPENDENT): groups combined with depend_op.
  std::string depend_op = "AND";
  std::vector<DependGroupSpec> depend_groups;
  // Condition (CONDITIONS): groups combined with condition_op choose the success or the
  // failed branch. The condition follows every task its groups name, and the branches follow
  // it (added to deps by the parser).
  std::string condition_op = "AND";
  std::vector<ConditionGroupSpec> condition_groups;
  std::vector<std::string> success_tasks, failed_tasks;
  // Switch (SWITCH); the branches follow it (added to deps by the parser).
  std::vector<SwitchBranchSpec> switch_branches;
  std::string switch_default;  // "" = none
};

struct WorkflowSpec {
  std::string source;  // how messages name the file (YamlContext::display_name)
  std::string name;
  std::string description;
  std::string project;  // "" when the file does not say
  std::string worker_group = "default";
  std::string execution_type = "PARALLEL";
  int64_t timeout = 0;  // minutes
  bool online = true;   // release_state; online by default so that `run` works right away
  bool run = false;
  std::string schedule;  // Quartz cron as written; not applied by the CLI yet
  std::vector<std::pair<std::string, std::string>> params;  // in file order
  std::vector<TaskSpec> tasks;
};

// What the substitutions may consult. Callbacks return errors as plain text reasons; the parser
// adds the place.
struct YamlContext {
  std::string display_name;  // how messages name the file, e.g. "etl.yaml"
  std::string base_dir;      // $FILE / $WORKFLOW paths are relative to it
  // Reads a file ($FILE). Default (unset): the real file system.
  std::function<StatusOr<std::string>(const std::string& path)> read_file;
  // An environment variable ($ENV); nullopt when unset. Default (unset): getenv.
  std::function<std::optional<std::string>(const std::string& name)> get_env;
  // ${CONFIG.KEY} values; a key not in the map is an error naming it.
  std::map<std::string, std::string> config;
  // $WORKFLOW{"path"}: applies that file and returns its workflow's name. Unset: an error.
  std::function<StatusOr<std::string>(const std::string& path)> apply_workflow;
};

// Parses and checks a whole file's text. InvalidArgument with a one-line message on any problem.
StatusOr<WorkflowSpec> ParseWorkflowYaml(const std::string& text, const YamlContext& ctx);

// Reads `path` through ctx.read_file, then ParseWorkflowYaml; base_dir and display_name default
// to the file's folder and the path as given.
StatusOr<WorkflowSpec> LoadWorkflowFile(const std::string& path, YamlContext ctx);

// Joins dir and a relative path ("" or absolute path: the path itself).
std::string JoinPath(const std::string& dir, const std::string& path);

// Looks up, on the server, the names that SubWorkflow and Dependent tasks refer to. Each returns
// NotFound (or another error) with a plain reason; ResolveReferences adds the place.
struct ReferenceResolver {
  // A project's code by name; "" = the project the workflow is applied to.
  std::function<StatusOr<int64_t>(const std::string& project)> project_code;
  // A workflow definition's code by name within a project.
  std::function<StatusOr<int64_t>(int64_t project_code, const std::string& workflow)>
      workflow_code;
  // A task's code by name within a workflow definition of a project.
  std::function<StatusOr<int64_t>(int64_t project_code, int64_t workflow_code,
                                  const std::string& task)>
      task_code;
};

// Fills sub_workflow_code and every Dependent item's codes. Call before BuildDefinitionForm
// for a spec with SubWorkflow or Dependent tasks (HasReferences). InvalidArgument naming the
// place, e.g. "etl.yaml: tasks[2] (name 'wait').groups[0].groups[1].workflow_name: no workflow
// 'load' in project 'p'".
Status ResolveReferences(WorkflowSpec* spec, const ReferenceResolver& resolver);
bool HasReferences(const WorkflowSpec& spec);

// Form fields of POST/PUT /projects/{pc}/process-definition, in this order: name, description,
// globalParams, locations, taskDefinitionJson, taskRelationJson, executionType, timeout.
// codes: the task code of every task name in spec (DSCHED_CHECKed).
std::vector<std::pair<std::string, std::string>> BuildDefinitionForm(
    const WorkflowSpec& spec, const std::map<std::string, int64_t>& codes);

}  // namespace dsched::cli
