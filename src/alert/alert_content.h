// What the alert outbox holds and who receives it: pure functions over values, no I/O. The
// master builds its outbox rows with these (written in the transaction of the state change that
// causes them); the alert sender picks the receiving plugin instances and the final status of a
// row with them. Sending itself is in alert_channel.h and alert_sender.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/entities.h"

namespace dsched::alert {

// DolphinScheduler's AlertType codes (t_ds_alert.alert_type).
enum class AlertType : int {
  kWorkflowSuccess = 0,
  kWorkflowFailure = 1,
  kWorkflowBlocked = 2,
  kWorkflowTimeout = 3,
  kFaultTolerance = 4,
  kTaskFailure = 5,
  kTaskSuccess = 6,
  kTaskTimeout = 7,
};

// t_ds_alert.alert_status.
enum AlertStatus : int { kWaiting = 0, kSent = 1, kFailed = 2, kPartlySent = 3 };

// The alert group DolphinScheduler's base data creates ("default admin warning group"): where
// alerts that belong to no workflow (a server lost) go.
constexpr int64_t kDefaultAlertGroupId = 1;

// The outbox row for a workflow instance that just reached its final state `wi.state`, when its
// warning type asks for one: SUCCESS on success, FAILURE on failure, ALL on any end (success,
// failure, stop, pause). Never for a sub-workflow (its parent's end speaks for it) nor for NONE.
// `tasks` are the instance's task instances (all attempts); the failed ones of the current
// attempt go into the content. The row's warning_type is SUCCESS(1) for a success, else
// FAILURE(2); alertgroup_id is the instance's warning group (0: only GLOBAL instances get it).
std::optional<Alert> WorkflowEndAlert(const WorkflowInstance& wi, const std::string& project_name,
                                      const std::vector<const TaskInstance*>& tasks);

// A task that passed its timeout with strategy WARN or WARNFAILED; nullopt when the instance's
// warning type is NONE (DolphinScheduler sends timeouts to the instance's warning group).
std::optional<Alert> TaskTimeoutAlert(const WorkflowInstance& wi, const std::string& project_name,
                                      const TaskInstance& ti);

// A workflow instance that passed its own timeout (minutes on the definition).
std::optional<Alert> WorkflowTimeoutAlert(const WorkflowInstance& wi,
                                          const std::string& project_name);

// A workflow instance whose work moved because a server was lost: the instance as the new
// owner holds it, and for a lost worker the names of its task attempts that run again.
struct FailedOverInstance {
  WorkflowInstance instance;
  std::string project_name;
  std::vector<std::string> tasks;
};

// A server lost from the cluster ("MASTER"/"WORKER" at host), with the workflow instances this
// master took over or ran tasks of again because of it: one content row per instance (the
// server's fields, then the workflow's), or the server row alone when `affected` is empty.
// To the default alert group, not the instances' warning groups: DolphinScheduler sends its
// server-down "Fault tolerance warning" to alert group 1 (reference/dolphinscheduler.md §1.6).
Alert FaultToleranceAlert(const std::string& server_type, const std::string& host, int64_t now_ms,
                          const std::vector<FailedOverInstance>& affected);

// Whether a plugin instance whose warning_type is `instance_warning_type` (0 NONE, 1 SUCCESS,
// 2 FAILURE, 3 ALL) takes an alert of `alert_warning_type` (1 SUCCESS, 2 FAILURE).
bool InstanceTakes(int instance_warning_type, int alert_warning_type);

// The plugin instances an alert goes to: those of its group (in the group's order), then the
// GLOBAL ones not already among them; each once. `group_instances` may be empty (no group).
// Instances whose warning type does not take the alert are put in *skipped (may be null).
std::vector<AlertPluginInstance> Receivers(const Alert& a,
                                           const std::vector<AlertPluginInstance>& group_instances,
                                           const std::vector<AlertPluginInstance>& all_instances,
                                           std::vector<AlertPluginInstance>* skipped);

// The comma-separated id list of t_ds_alertgroup.alert_instance_ids; bad items are ignored.
std::vector<int64_t> ParseInstanceIds(const std::string& text);

// The final alert_status of a row from its per-instance outcomes: all sent -> kSent, none ->
// kFailed, some -> kPartlySent; no receiver at all -> kFailed (it reached nobody).
AlertStatus FinalStatus(int sent, int failed);

// DolphinScheduler's English name of a command type in alert titles ("start process", ...).
std::string CommandTitle(CommandType t);

}  // namespace dsched::alert
