#include "dag/dag.h"

#include <gtest/gtest.h>

namespace dsched {
namespace {

TaskDefinition Shell(int64_t code, const std::string& name) {
  TaskDefinition t;
  t.code = code;
  t.name = name;
  t.task_type = "SHELL";
  t.task_params = {{"rawScript", "echo " + name}};
  return t;
}

TaskRelation Edge(int64_t pre, int64_t post) {
  TaskRelation r;
  r.pre_task_code = pre;
  r.post_task_code = post;
  return r;
}

TEST(DagTest, CycleIsNamed) {
  auto d = Dag::Build({Shell(1, "a"), Shell(2, "b"), Shell(3, "c")},
                      {Edge(0, 1), Edge(1, 2), Edge(2, 3), Edge(3, 2)});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "cycle between tasks: 'c' -> 'b' -> 'c'");
}

TEST(DagTest, BadInputsNameThePlace) {
  auto d = Dag::Build({Shell(1, "a"), Shell(2, "a")}, {});
  EXPECT_EQ(d.status().message(), "duplicate task name 'a'");
  d = Dag::Build({Shell(1, "a")}, {Edge(9, 1)});
  EXPECT_EQ(d.status().message(), "task 'a' depends on unknown task code 9");
  TaskDefinition odd = Shell(1, "x");
  odd.task_type = "NOPE";
  d = Dag::Build({odd}, {});
  EXPECT_EQ(d.status().message(), "task 'x': unknown task type 'NOPE'");
}

TEST(DagTest, StartNodeModes) {
  // a -> b -> c, and d alone
  auto d = Dag::Build({Shell(1, "a"), Shell(2, "b"), Shell(3, "c"), Shell(4, "d")},
                      {Edge(0, 1), Edge(1, 2), Edge(2, 3), Edge(0, 4)});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*SelectRunSet(*d, {}, TaskDependType::kTaskPost), (std::set<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(*SelectRunSet(*d, {2}, TaskDependType::kTaskOnly), (std::set<int64_t>{2}));
  EXPECT_EQ(*SelectRunSet(*d, {2}, TaskDependType::kTaskPre), (std::set<int64_t>{1, 2}));
  EXPECT_EQ(*SelectRunSet(*d, {2}, TaskDependType::kTaskPost), (std::set<int64_t>{2, 3}));
  EXPECT_FALSE(SelectRunSet(*d, {77}, TaskDependType::kTaskPost).ok());
  EXPECT_EQ(d->TopoOrder().front(), 1);
}

}  // namespace
}  // namespace dsched
