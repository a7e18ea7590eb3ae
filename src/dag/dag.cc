#include "dag/dag.h"

#include <algorithm>
#include <functional>

#include "cron/dependent_dates.h"
#include "params/params.h"

namespace dsched {

bool IsRunnableTaskType(const std::string& type) {
  return type == "SHELL" || type == "PYTHON" || IsMasterTaskType(type);
}

bool IsMasterTaskType(const std::string& type) {
  return IsLogicTaskType(type) || type == "SUB_PROCESS" || type == "DEPENDENT";
}

bool IsLogicTaskType(const std::string& type) { return type == "CONDITIONS" || type == "SWITCH"; }

std::vector<int64_t> BranchTargets(const TaskDefinition& t) {
  std::vector<int64_t> out;
  const auto& tp = t.task_params;
  auto add = [&](const nlohmann::json& v) {
    if (v.is_number_integer()) out.push_back(v.get<int64_t>());
    if (v.is_string() && !v.get<std::string>().empty()) out.push_back(std::stoll(v.get<std::string>()));
    if (v.is_array())
      for (const auto& e : v)
        if (e.is_number_integer()) out.push_back(e.get<int64_t>());
  };
  if (t.task_type == "CONDITIONS" && tp.contains("conditionResult")) {
    const auto& cr = tp["conditionResult"];
    if (cr.contains("successNode")) add(cr["successNode"]);
    if (cr.contains("failedNode")) add(cr["failedNode"]);
  }
  if (t.task_type == "SWITCH" && tp.contains("switchResult")) {
    const auto& sr = tp["switchResult"];
    if (sr.contains("dependTaskList") && sr["dependTaskList"].is_array())
      for (const auto& b : sr["dependTaskList"])
        if (b.contains("nextNode")) add(b["nextNode"]);
    if (sr.contains("nextNode")) add(sr["nextNode"]);
  }
  return out;
}

bool IsKnownButUnsupportedTaskType(const std::string& type) {
  static const std::set<std::string> kTypes = {
      "SQL",     "PROCEDURE",  "HTTP",
      "SPARK",      "FLINK",      "MR",          "HIVECLI",   "DATAX",
      "SQOOP",   "SEATUNNEL",  "EMR",        "K8S",         "DATA_QUALITY", "JUPYTER",
      "PIGEON",  "MLFLOW",     "OPENMLDB",   "DVC",         "SAGEMAKER", "CHUNJUN",
      "DYNAMIC", "REMOTESHELL", "JAVA",      "ZEPPELIN",    "PYTORCH",   "KUBEFLOW"};
  return kTypes.count(type) > 0;
}

const TaskDefinition* Dag::FindByName(const std::string& name) const {
  for (const auto& [code, t] : tasks_)
    if (t.name == name) return &t;
  return nullptr;
}

StatusOr<Dag> Dag::Build(const std::vector<TaskDefinition>& tasks,
                         const std::vector<TaskRelation>& relations) {
  Dag d;
  std::map<std::string, int64_t> by_name;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const TaskDefinition& t = tasks[i];
    std::string where = "task '" + t.name + "'";
    if (t.name.empty()) return InvalidArgument("task #" + std::to_string(i + 1) + ": name is empty");
    if (by_name.count(t.name)) return InvalidArgument("duplicate task name '" + t.name + "'");
    if (t.code <= 0) return InvalidArgument(where + ": code must be a positive number");
    if (d.tasks_.count(t.code))
      return InvalidArgument(where + ": code " + std::to_string(t.code) + " is used twice");
    if (!IsRunnableTaskType(t.task_type)) {
      if (IsKnownButUnsupportedTaskType(t.task_type))
        return InvalidArgument(where + ": task type " + t.task_type + " is not supported yet");
      return InvalidArgument(where + ": unknown task type '" + t.task_type + "'");
    }
    const auto& tp = t.task_params;
    if (!IsMasterTaskType(t.task_type) &&
        (!tp.contains("rawScript") || !tp["rawScript"].is_string() ||
         tp["rawScript"].get<std::string>().empty()))
      return InvalidArgument(where + ": taskParams.rawScript must not be empty");
    if (t.task_type == "SWITCH" && !tp.contains("switchResult"))
      return InvalidArgument(where + ": taskParams.switchResult is required");
    if (t.task_type == "SUB_PROCESS" &&
        (!tp.contains("processDefinitionCode") || !tp["processDefinitionCode"].is_number_integer()))
      return InvalidArgument(where + ": taskParams.processDefinitionCode must be a workflow code");
    if (t.task_type == "DEPENDENT") {
      const auto& dep = tp.contains("dependence") ? tp["dependence"] : nlohmann::json();
      if (!dep.is_object() || !dep.contains("dependTaskList") || !dep["dependTaskList"].is_array())
        return InvalidArgument(where + ": taskParams.dependence.dependTaskList is required");
      for (size_t g = 0; g < dep["dependTaskList"].size(); ++g) {
        const auto& group = dep["dependTaskList"][g];
        const auto& items = group.contains("dependItemList") ? group["dependItemList"] : nlohmann::json();
        for (size_t i = 0; items.is_array() && i < items.size(); ++i) {
          std::string w = where + ": dependTaskList[" + std::to_string(g) + "].dependItemList[" +
                          std::to_string(i) + "]";
          if (!items[i].contains("definitionCode") || !items[i]["definitionCode"].is_number_integer())
            return InvalidArgument(w + ".definitionCode must be a workflow code");
          auto dates = cron::DependentIntervals(items[i].value("dateValue", ""), 0);
          if (!dates.ok()) return InvalidArgument(w + "." + dates.status().message());
        }
      }
    }
    if (t.task_type == "CONDITIONS" && !tp.contains("conditionResult"))
      return InvalidArgument(where + ": taskParams.conditionResult is required");
    for (const Property& p : t.LocalParams()) {
      Status s = params::ValidateProperty(p);
      if (!s.ok()) return InvalidArgument(where + ": " + s.message());
    }
    by_name[t.name] = t.code;
    d.tasks_[t.code] = t;
    d.preds_[t.code];
    d.succs_[t.code];
  }
  auto name_of = [&](int64_t code) { return d.tasks_.at(code).name; };
  for (size_t i = 0; i < relations.size(); ++i) {
    const TaskRelation& r = relations[i];
    std::string where = "relation #" + std::to_string(i + 1);
    if (!d.tasks_.count(r.post_task_code))
      return InvalidArgument(where + ": postTaskCode " + std::to_string(r.post_task_code) +
                             " is not a task of this workflow");
    if (r.pre_task_code == 0) continue;
    if (!d.tasks_.count(r.pre_task_code))
      return InvalidArgument("task '" + name_of(r.post_task_code) +
                             "' depends on unknown task code " + std::to_string(r.pre_task_code));
    if (r.pre_task_code == r.post_task_code)
      return InvalidArgument("cycle: task '" + name_of(r.pre_task_code) + "' depends on itself");
    auto& p = d.preds_[r.post_task_code];
    if (std::find(p.begin(), p.end(), r.pre_task_code) != p.end()) continue;
    p.push_back(r.pre_task_code);
    d.succs_[r.pre_task_code].push_back(r.post_task_code);
  }
  // Kahn's algorithm; tie-break by code so the order is deterministic.
  std::map<int64_t, size_t> indeg;
  std::set<int64_t> ready;
  for (const auto& [c, p] : d.preds_) {
    indeg[c] = p.size();
    if (p.empty()) ready.insert(c);
  }
  while (!ready.empty()) {
    int64_t c = *ready.begin();
    ready.erase(ready.begin());
    d.topo_.push_back(c);
    for (int64_t s : d.succs_[c])
      if (--indeg[s] == 0) ready.insert(s);
  }
  if (d.topo_.size() == d.tasks_.size()) {
    for (const auto& [code, t] : d.tasks_) {
      for (int64_t target : BranchTargets(t)) {
        const auto& succ = d.succs_[code];
        if (std::find(succ.begin(), succ.end(), target) == succ.end())
          return InvalidArgument("task '" + t.name + "': branch " + std::to_string(target) +
                                 " is not a downstream task of it");
      }
    }
  }
  if (d.topo_.size() != d.tasks_.size()) {
    // Name one cycle: walk predecessors among the unsorted nodes until a node repeats.
    std::set<int64_t> left;
    for (const auto& [c, n] : indeg)
      if (n > 0) left.insert(c);
    int64_t cur = *left.begin();
    std::vector<int64_t> path;
    std::map<int64_t, size_t> seen;
    while (!seen.count(cur)) {
      seen[cur] = path.size();
      path.push_back(cur);
      for (int64_t p : d.preds_[cur])
        if (left.count(p)) {
          cur = p;
          break;
        }
    }
    std::vector<int64_t> cycle(path.begin() + seen[cur], path.end());
    std::reverse(cycle.begin(), cycle.end());
    std::string names;
    for (int64_t c : cycle) names += "'" + name_of(c) + "' -> ";
    names += "'" + name_of(cycle.front()) + "'";
    return InvalidArgument("cycle between tasks: " + names);
  }
  return d;
}

StatusOr<std::set<int64_t>> SelectRunSet(const Dag& dag, const std::vector<int64_t>& start_nodes,
                                         TaskDependType mode) {
  std::set<int64_t> out;
  if (start_nodes.empty()) {
    out.insert(dag.TopoOrder().begin(), dag.TopoOrder().end());
    return out;
  }
  for (int64_t c : start_nodes)
    if (!dag.Has(c)) return InvalidArgument("startNodeList: unknown task code " + std::to_string(c));
  std::function<void(int64_t)> walk = [&](int64_t c) {
    if (!out.insert(c).second) return;
    if (mode == TaskDependType::kTaskPre)
      for (int64_t p : dag.Preds(c)) walk(p);
    if (mode == TaskDependType::kTaskPost)
      for (int64_t s : dag.Succs(c)) walk(s);
  };
  for (int64_t c : start_nodes) walk(c);
  return out;
}

Status ValidateWorkflow(const WorkflowDefinition& def) {
  if (def.name.empty()) return InvalidArgument("name: must not be empty");
  if (def.timeout < 0) return InvalidArgument("timeout: must not be negative");
  if (def.tasks.empty()) return InvalidArgument("taskDefinitionJson: the workflow has no task");
  for (const Property& p : def.global_params) {
    Status s = params::ValidateProperty(p);
    if (!s.ok()) return InvalidArgument("globalParams: " + s.message());
  }
  auto dag = Dag::Build(def.tasks, def.relations);
  return dag.ok() ? Status::Ok() : dag.status();
}

}  // namespace dsched
