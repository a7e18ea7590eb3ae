// The DAG of one workflow definition version and the pure questions asked of it: is it valid,
// which nodes does a run with these start nodes cover, what order. No I/O; thread-compatible
// (a built Dag is immutable, so it can be shared read-only).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/entities.h"

namespace dsched {

// Task types dsched can run now, and the DolphinScheduler ones it knows but does not run yet.
bool IsRunnableTaskType(const std::string& type);
bool IsKnownButUnsupportedTaskType(const std::string& type);
// CONDITIONS and SWITCH: run inside the master, choose which downstream branch runs.
bool IsLogicTaskType(const std::string& type);
// Task types the master runs itself: the logic types and SUB_PROCESS.
bool IsMasterTaskType(const std::string& type);
// The downstream task codes a CONDITIONS or SWITCH task may choose between.
std::vector<int64_t> BranchTargets(const TaskDefinition& t);

class Dag {
 public:
  // Validates and builds. Errors (InvalidArgument, one line naming the place):
  // empty or duplicate task name, duplicate code, unknown task type, a SHELL/PYTHON task without
  // rawScript, a bad local param, a relation naming an unknown task, a cycle (listing its tasks).
  static StatusOr<Dag> Build(const std::vector<TaskDefinition>& tasks,
                             const std::vector<TaskRelation>& relations);

  const std::vector<int64_t>& TopoOrder() const { return topo_; }
  const std::vector<int64_t>& Preds(int64_t code) const { return preds_.at(code); }
  const std::vector<int64_t>& Succs(int64_t code) const { return succs_.at(code); }
  const TaskDefinition& Task(int64_t code) const { return tasks_.at(code); }
  bool Has(int64_t code) const { return tasks_.count(code) > 0; }
  // nullptr when no task has that name.
  const TaskDefinition* FindByName(const std::string& name) const;
  size_t size() const { return tasks_.size(); }

 private:
  std::map<int64_t, TaskDefinition> tasks_;
  std::map<int64_t, std::vector<int64_t>> preds_, succs_;
  std::vector<int64_t> topo_;
};

// The nodes a run covers: every node when start_nodes is empty; otherwise the start nodes
// alone (TASK_ONLY), with their ancestors (TASK_PRE) or with their descendants (TASK_POST).
// Unknown start codes are an InvalidArgument naming them.
StatusOr<std::set<int64_t>> SelectRunSet(const Dag& dag, const std::vector<int64_t>& start_nodes,
                                         TaskDependType mode);

// Full validation of a definition about to be stored: its DAG, global params, timeout.
Status ValidateWorkflow(const WorkflowDefinition& def);

}  // namespace dsched
