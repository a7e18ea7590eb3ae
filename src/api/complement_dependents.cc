#include "api/complement_dependents.h"

#include <algorithm>
#include <map>
#include <set>

namespace dsched::api {

std::vector<int64_t> DependedOnWorkflows(const WorkflowDefinition& def) {
  std::vector<int64_t> out;
  for (const TaskDefinition& t : def.tasks) {
    if (t.task_type != "DEPENDENT" || !t.task_params.is_object()) continue;
    auto dep = t.task_params.find("dependence");
    if (dep == t.task_params.end() || !dep->is_object()) continue;
    auto groups = dep->find("dependTaskList");
    if (groups == dep->end() || !groups->is_array()) continue;
    for (const auto& g : *groups) {
      if (!g.is_object()) continue;
      auto items = g.find("dependItemList");
      if (items == g.end() || !items->is_array()) continue;
      for (const auto& item : *items) {
        if (!item.is_object()) continue;
        auto code = item.find("definitionCode");
        if (code == item.end() || !code->is_number_integer()) continue;
        int64_t c = code->get<int64_t>();
        if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
      }
    }
  }
  return out;
}

std::vector<int64_t> DependentWorkflows(int64_t root, const std::vector<WorkflowDefinition>& defs,
                                        bool all_levels) {
  // Upstream code -> the definitions waiting on it, in the order of defs.
  std::map<int64_t, std::vector<int64_t>> waiting_on;
  for (const WorkflowDefinition& d : defs)
    for (int64_t up : DependedOnWorkflows(d)) waiting_on[up].push_back(d.code);
  std::vector<int64_t> out;
  std::set<int64_t> seen{root};
  std::vector<int64_t> level{root};
  while (!level.empty()) {
    std::vector<int64_t> next;
    for (int64_t up : level) {
      auto it = waiting_on.find(up);
      if (it == waiting_on.end()) continue;
      for (int64_t down : it->second)
        if (seen.insert(down).second) next.push_back(down);
    }
    out.insert(out.end(), next.begin(), next.end());
    if (!all_levels) break;
    level = std::move(next);
  }
  return out;
}

}  // namespace dsched::api
