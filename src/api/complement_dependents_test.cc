// The dependents closure of an ALL_DEPENDENT backfill over hand-built definitions.
#include "api/complement_dependents.h"

#include <gtest/gtest.h>

namespace dsched::api {
namespace {

using nlohmann::json;

TaskDefinition Dependent(std::vector<std::vector<int64_t>> groups) {
  TaskDefinition t;
  t.task_type = "DEPENDENT";
  json list = json::array();
  for (const auto& g : groups) {
    json items = json::array();
    for (int64_t code : g) items.push_back({{"definitionCode", code}, {"depTaskCode", 0}});
    list.push_back({{"relation", "AND"}, {"dependItemList", items}});
  }
  t.task_params = {{"dependence", {{"relation", "AND"}, {"dependTaskList", list}}}};
  return t;
}

WorkflowDefinition Def(int64_t code, std::vector<TaskDefinition> tasks = {}) {
  WorkflowDefinition d;
  d.code = code;
  d.tasks = std::move(tasks);
  return d;
}

TEST(ComplementDependentsTest, DependedOnReadsEveryItemOfEveryDependentTaskOnce) {
  TaskDefinition shell;
  shell.task_type = "SHELL";
  shell.task_params = {{"dependence", {{"dependTaskList", json::array()}}}, {"rawScript", "x"}};
  // A SHELL task's params never count, even when they look like a dependence.
  shell.task_params["dependence"]["dependTaskList"].push_back(
      {{"dependItemList", json::array({{{"definitionCode", 99}}})}});
  WorkflowDefinition d = Def(1, {Dependent({{10, 11}, {12, 10}}), shell, Dependent({{13}})});
  EXPECT_EQ(DependedOnWorkflows(d), (std::vector<int64_t>{10, 11, 12, 13}));
}

TEST(ComplementDependentsTest, MalformedDependencesNameNothing) {
  TaskDefinition a;
  a.task_type = "DEPENDENT";
  a.task_params = {{"dependence", "not an object"}};
  TaskDefinition b;
  b.task_type = "DEPENDENT";
  b.task_params = {{"dependence",
                    {{"dependTaskList",
                      json::array({json(5), {{"dependItemList", json::array(
                                                 {json("x"), {{"definitionCode", "7"}},
                                                  {{"definitionCode", 8}}})}}})}}}};
  TaskDefinition c;
  c.task_type = "DEPENDENT";
  c.task_params = json::array();
  EXPECT_EQ(DependedOnWorkflows(Def(1, {a, b, c})), (std::vector<int64_t>{8}));
}

TEST(ComplementDependentsTest, OneLevelOrAllLevelsNeverTheRootNorUnrelated) {
  // 2 and 3 wait on 1; 4 waits on 2; 5 on 4; 6 on an unrelated 9.
  std::vector<WorkflowDefinition> defs = {Def(1),
                                          Def(4, {Dependent({{2}})}),
                                          Def(2, {Dependent({{1}})}),
                                          Def(5, {Dependent({{4}})}),
                                          Def(3, {Dependent({{7, 1}})}),
                                          Def(6, {Dependent({{9}})}),
                                          Def(9)};
  EXPECT_EQ(DependentWorkflows(1, defs, false), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(DependentWorkflows(1, defs, true), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(DependentWorkflows(5, defs, true), (std::vector<int64_t>{}));
  EXPECT_EQ(DependentWorkflows(42, defs, true), (std::vector<int64_t>{}));
}

TEST(ComplementDependentsTest, CyclesEndAndEachWorkflowComesOnce) {
  // 2 waits on 1 and on 3; 3 waits on 2; 1 waits on 3 (back to the root); 4 waits on 2 and 3.
  std::vector<WorkflowDefinition> defs = {Def(1, {Dependent({{3}})}),
                                          Def(2, {Dependent({{1, 3}})}),
                                          Def(3, {Dependent({{2}})}),
                                          Def(4, {Dependent({{2}, {3}})})};
  EXPECT_EQ(DependentWorkflows(1, defs, true), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(DependentWorkflows(1, defs, false), (std::vector<int64_t>{2}));
  // A workflow waiting on itself is not its own dependent.
  EXPECT_EQ(DependentWorkflows(7, {Def(7, {Dependent({{7}})})}, true), (std::vector<int64_t>{}));
}

}  // namespace
}  // namespace dsched::api
