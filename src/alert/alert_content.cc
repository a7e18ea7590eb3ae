#include "alert/alert_content.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/time_format.h"
#include "model/states.h"

namespace dsched::alert {

using nlohmann::json;

namespace {

constexpr int kWarnSuccess = static_cast<int>(WarningType::kSuccess);
constexpr int kWarnFailure = static_cast<int>(WarningType::kFailure);

std::string Time(int64_t ms) { return ms > 0 ? FormatDateTime(ms) : ""; }

// The workflow part of every workflow alert's content, with DolphinScheduler's field names.
json WorkflowFields(const WorkflowInstance& wi, const std::string& project_name) {
  return json{{"projectCode", wi.project_code},
              {"projectName", project_name},
              {"owner", wi.executor_name},
              {"processId", wi.id},
              {"processDefinitionCode", wi.definition_code},
              {"processName", wi.name},
              {"processType", Name(wi.command_type)},
              {"processState", Name(wi.state)},
              {"recovery", wi.recovery ? "YES" : "NO"},
              {"runTimes", wi.run_times},
              {"processStartTime", Time(wi.start_time)},
              {"processEndTime", Time(wi.end_time)},
              {"processHost", wi.host}};
}

Alert Base(const WorkflowInstance& wi, AlertType type, int warning_type) {
  Alert a;
  a.warning_type = warning_type;
  a.alertgroup_id = wi.warning_group_id;
  a.project_code = wi.project_code;
  a.process_definition_code = wi.definition_code;
  a.process_instance_id = wi.id;
  a.alert_type = static_cast<int>(type);
  return a;
}

}  // namespace

std::string CommandTitle(CommandType t) {
  switch (t) {
    case CommandType::kStartProcess:
      return "start process";
    case CommandType::kStartCurrentTaskProcess:
      return "start current task process";
    case CommandType::kRecoverToleranceFaultProcess:
      return "recover tolerance fault process";
    case CommandType::kRecoverSuspendedProcess:
      return "recover suspended process";
    case CommandType::kStartFailureTaskProcess:
      return "start failure task process";
    case CommandType::kComplementData:
      return "complement data";
    case CommandType::kScheduler:
      return "scheduler";
    case CommandType::kRepeatRunning:
      return "repeat running";
    case CommandType::kPause:
      return "pause";
    case CommandType::kStop:
      return "stop";
    case CommandType::kRecoverSerialWait:
      return "recover serial wait";
    case CommandType::kExecuteTask:
      return "execute task";
  }
  return "process";
}

std::optional<Alert> WorkflowEndAlert(const WorkflowInstance& wi, const std::string& project_name,
                                      const std::vector<const TaskInstance*>& tasks) {
  if (wi.is_sub_process || !IsFinal(wi.state)) return std::nullopt;
  bool success = wi.state == WorkflowState::kSuccess;
  bool failure = wi.state == WorkflowState::kFailure;
  switch (wi.warning_type) {
    case WarningType::kNone:
      return std::nullopt;
    case WarningType::kSuccess:
      if (!success) return std::nullopt;
      break;
    case WarningType::kFailure:
      if (!failure) return std::nullopt;
      break;
    case WarningType::kAll:
      break;
  }
  Alert a = Base(wi, success ? AlertType::kWorkflowSuccess : AlertType::kWorkflowFailure,
                 success ? kWarnSuccess : kWarnFailure);
  a.title = CommandTitle(wi.command_type) + (success ? " success" : " failed");
  json content = json::array();
  json head = WorkflowFields(wi, project_name);
  // As DolphinScheduler: a success is one row; an end that is not is one row per task that
  // did not succeed (current attempts only), or the workflow row alone when none did.
  if (!success) {
    for (const TaskInstance* t : tasks) {
      if (!t || t->flag != Flag::kYes || !IsFinal(t->state) || IsSuccess(t->state)) continue;
      json row = head;
      row["taskCode"] = t->task_code;
      row["taskName"] = t->name;
      row["taskType"] = t->task_type;
      row["taskState"] = Name(t->state);
      row["taskStartTime"] = Time(t->start_time);
      row["taskEndTime"] = Time(t->end_time);
      row["taskHost"] = t->host;
      row["logPath"] = t->log_path;
      content.push_back(std::move(row));
    }
  }
  if (content.empty()) content.push_back(std::move(head));
  a.content = content.dump();
  return a;
}

std::optional<Alert> TaskTimeoutAlert(const WorkflowInstance& wi, const std::string& project_name,
                                      const TaskInstance& ti) {
  if (wi.warning_type == WarningType::kNone) return std::nullopt;
  Alert a = Base(wi, AlertType::kTaskTimeout, kWarnFailure);
  a.title = "Task Timeout Warn";
  json row = WorkflowFields(wi, project_name);
  row["event"] = "TIME_OUT";
  row["taskCode"] = ti.task_code;
  row["taskName"] = ti.name;
  row["taskType"] = ti.task_type;
  row["taskState"] = Name(ti.state);
  row["taskStartTime"] = Time(ti.start_time);
  row["taskHost"] = ti.host;
  row["logPath"] = ti.log_path;
  a.content = json::array({row}).dump();
  return a;
}

std::optional<Alert> WorkflowTimeoutAlert(const WorkflowInstance& wi,
                                          const std::string& project_name) {
  if (wi.warning_type == WarningType::kNone) return std::nullopt;
  Alert a = Base(wi, AlertType::kWorkflowTimeout, kWarnFailure);
  a.title = "Process Timeout Warn";
  json row = WorkflowFields(wi, project_name);
  row["event"] = "TIME_OUT";
  row["timeout"] = wi.timeout;
  a.content = json::array({row}).dump();
  return a;
}

Alert FaultToleranceAlert(const std::string& server_type, const std::string& host, int64_t now_ms,
                          const std::vector<FailedOverInstance>& affected) {
  Alert a;
  a.title = "Fault tolerance warning";
  a.warning_type = kWarnFailure;
  a.alertgroup_id = kDefaultAlertGroupId;
  a.alert_type = static_cast<int>(AlertType::kFaultTolerance);
  const json server{{"type", server_type},
                    {"host", host},
                    {"event", "SERVER_DOWN"},
                    {"warningLevel", "SERIOUS"},
                    {"time", Time(now_ms)}};
  json content = json::array();
  for (const FailedOverInstance& f : affected) {
    json row = server;
    row.update(WorkflowFields(f.instance, f.project_name));
    if (!f.tasks.empty()) row["taskNames"] = f.tasks;
    content.push_back(std::move(row));
  }
  if (content.empty()) content.push_back(server);
  a.content = content.dump();
  return a;
}

bool InstanceTakes(int instance_warning_type, int alert_warning_type) {
  switch (instance_warning_type) {
    case 3:
      return alert_warning_type == kWarnSuccess || alert_warning_type == kWarnFailure;
    case 1:
      return alert_warning_type == kWarnSuccess;
    case 2:
      return alert_warning_type == kWarnFailure;
    default:
      return false;  // NONE or unknown: takes nothing
  }
}

std::vector<AlertPluginInstance> Receivers(const Alert& a,
                                           const std::vector<AlertPluginInstance>& group_instances,
                                           const std::vector<AlertPluginInstance>& all_instances,
                                           std::vector<AlertPluginInstance>* skipped) {
  std::vector<AlertPluginInstance> out;
  std::set<int64_t> seen;
  auto consider = [&](const AlertPluginInstance& i) {
    if (!seen.insert(i.id).second) return;
    if (InstanceTakes(i.warning_type, a.warning_type))
      out.push_back(i);
    else if (skipped)
      skipped->push_back(i);
  };
  for (const auto& i : group_instances) consider(i);
  for (const auto& i : all_instances)
    if (i.instance_type == 1) consider(i);
  return out;
}

std::vector<int64_t> ParseInstanceIds(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    if (b == std::string::npos) continue;
    item = item.substr(b, e - b + 1);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos ||
        item.size() > 18)
      continue;
    out.push_back(std::stoll(item));
  }
  return out;
}

AlertStatus FinalStatus(int sent, int failed) {
  if (sent > 0 && failed == 0) return kSent;
  if (sent > 0) return kPartlySent;
  return kFailed;
}

}  // namespace dsched::alert
