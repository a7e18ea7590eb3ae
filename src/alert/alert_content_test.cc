// The pure rules of alerts: which workflow ends produce an outbox row, what it says, and which
// plugin instances take it.
#include "alert/alert_content.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dsched::alert {
namespace {

using nlohmann::json;

WorkflowInstance Ended(WorkflowState s, WarningType w) {
  WorkflowInstance wi;
  wi.id = 42;
  wi.name = "etl-20260101";
  wi.definition_code = 7;
  wi.project_code = 3;
  wi.state = s;
  wi.warning_type = w;
  wi.warning_group_id = 5;
  wi.host = "127.0.0.1:5678";
  wi.start_time = 1767225600000;
  wi.end_time = 1767225660000;
  return wi;
}

TEST(WorkflowEndAlertTest, WarningTypeDecidesWhichEndsAlert) {
  struct Case {
    WarningType w;
    WorkflowState s;
    bool alert;
  } cases[] = {
      {WarningType::kNone, WorkflowState::kFailure, false},
      {WarningType::kNone, WorkflowState::kSuccess, false},
      {WarningType::kSuccess, WorkflowState::kSuccess, true},
      {WarningType::kSuccess, WorkflowState::kFailure, false},
      {WarningType::kFailure, WorkflowState::kFailure, true},
      {WarningType::kFailure, WorkflowState::kSuccess, false},
      {WarningType::kFailure, WorkflowState::kStop, false},
      {WarningType::kAll, WorkflowState::kSuccess, true},
      {WarningType::kAll, WorkflowState::kFailure, true},
      {WarningType::kAll, WorkflowState::kStop, true},
      {WarningType::kAll, WorkflowState::kRunningExecution, false},
  };
  for (const auto& c : cases) {
    auto a = WorkflowEndAlert(Ended(c.s, c.w), "p", {});
    EXPECT_EQ(a.has_value(), c.alert) << Name(c.w) << " " << Name(c.s);
  }
  WorkflowInstance sub = Ended(WorkflowState::kFailure, WarningType::kAll);
  sub.is_sub_process = 1;
  EXPECT_FALSE(WorkflowEndAlert(sub, "p", {}).has_value());
}

TEST(WorkflowEndAlertTest, FailureNamesTheWorkflowAndItsFailedTasks) {
  TaskInstance ok, bad, old;
  ok.name = "extract";
  ok.state = TaskState::kSuccess;
  bad.name = "load";
  bad.task_code = 11;
  bad.task_type = "SHELL";
  bad.state = TaskState::kFailure;
  bad.host = "127.0.0.1:1234";
  bad.log_path = "/logs/load.log";
  old = bad;
  old.name = "superseded";
  old.flag = Flag::kNo;
  auto a = WorkflowEndAlert(Ended(WorkflowState::kFailure, WarningType::kFailure), "proj",
                            {&ok, &bad, &old});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->title, "start process failed");
  EXPECT_EQ(a->warning_type, 2);
  EXPECT_EQ(a->alert_type, static_cast<int>(AlertType::kWorkflowFailure));
  EXPECT_EQ(a->alertgroup_id, 5);
  EXPECT_EQ(a->process_instance_id, 42);
  EXPECT_EQ(a->process_definition_code, 7);
  EXPECT_EQ(a->project_code, 3);
  json c = json::parse(a->content);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["processName"], "etl-20260101");
  EXPECT_EQ(c[0]["projectName"], "proj");
  EXPECT_EQ(c[0]["processState"], "FAILURE");
  EXPECT_EQ(c[0]["taskName"], "load");
  EXPECT_EQ(c[0]["taskState"], "FAILURE");
  EXPECT_EQ(c[0]["logPath"], "/logs/load.log");

  auto s = WorkflowEndAlert(Ended(WorkflowState::kSuccess, WarningType::kAll), "proj", {&ok});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->title, "start process success");
  EXPECT_EQ(s->warning_type, 1);
  json sc = json::parse(s->content);
  ASSERT_EQ(sc.size(), 1u);
  EXPECT_EQ(sc[0]["processName"], "etl-20260101");
  EXPECT_FALSE(sc[0].contains("taskName"));
}

TEST(TimeoutAlertTest, TimeoutsGoToTheWarningGroupUnlessNone) {
  TaskInstance t;
  t.name = "slow";
  auto a = TaskTimeoutAlert(Ended(WorkflowState::kRunningExecution, WarningType::kSuccess), "p", t);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->title, "Task Timeout Warn");
  EXPECT_EQ(a->alert_type, static_cast<int>(AlertType::kTaskTimeout));
  EXPECT_EQ(json::parse(a->content)[0]["taskName"], "slow");
  EXPECT_FALSE(
      TaskTimeoutAlert(Ended(WorkflowState::kRunningExecution, WarningType::kNone), "p", t));
  auto w = WorkflowTimeoutAlert(Ended(WorkflowState::kRunningExecution, WarningType::kAll), "p");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->alert_type, static_cast<int>(AlertType::kWorkflowTimeout));
  Alert f = FaultToleranceAlert("MASTER", "10.0.0.1:5678", 1767225600000, {});
  EXPECT_EQ(f.alertgroup_id, kDefaultAlertGroupId);
  EXPECT_EQ(json::parse(f.content)[0]["host"], "10.0.0.1:5678");
}

TEST(AlertContentTest, FaultToleranceNamesTheServerAndEachAffectedInstance) {
  FailedOverInstance one{Ended(WorkflowState::kRunningExecution, WarningType::kNone), "p", {}};
  one.instance.id = 41;
  one.instance.name = "etl-1";
  FailedOverInstance two = one;
  two.instance.id = 42;
  two.instance.name = "etl-2";
  two.tasks = {"load", "report"};
  Alert f = FaultToleranceAlert("WORKER", "10.0.0.2:1234", 1767225600000, {one, two});
  EXPECT_EQ(f.alert_type, static_cast<int>(AlertType::kFaultTolerance));
  EXPECT_EQ(f.title, "Fault tolerance warning");
  // Whatever the instances' warning types: a lost server is the default group's concern.
  EXPECT_EQ(f.alertgroup_id, kDefaultAlertGroupId);
  json c = json::parse(f.content);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0]["type"], "WORKER");
  EXPECT_EQ(c[0]["host"], "10.0.0.2:1234");
  EXPECT_EQ(c[0]["event"], "SERVER_DOWN");
  EXPECT_EQ(c[0]["processId"], 41);
  EXPECT_EQ(c[0]["processName"], "etl-1");
  EXPECT_FALSE(c[0].contains("taskNames"));
  EXPECT_EQ(c[1]["processName"], "etl-2");
  EXPECT_EQ(c[1]["taskNames"], json::array({"load", "report"}));
}

AlertPluginInstance Inst(int64_t id, int warning, int type = 0) {
  AlertPluginInstance i;
  i.id = id;
  i.warning_type = warning;
  i.instance_type = type;
  return i;
}

TEST(ReceiversTest, GroupThenGlobalEachOnceByWarningType) {
  EXPECT_TRUE(InstanceTakes(3, 1));
  EXPECT_TRUE(InstanceTakes(3, 2));
  EXPECT_TRUE(InstanceTakes(2, 2));
  EXPECT_FALSE(InstanceTakes(2, 1));
  EXPECT_TRUE(InstanceTakes(1, 1));
  EXPECT_FALSE(InstanceTakes(1, 2));
  EXPECT_FALSE(InstanceTakes(0, 2));
  Alert a;
  a.warning_type = 2;
  std::vector<AlertPluginInstance> group = {Inst(1, 3), Inst(2, 1), Inst(4, 2, 1)};
  std::vector<AlertPluginInstance> all = {Inst(1, 3),    Inst(2, 1),    Inst(3, 2),
                                          Inst(4, 2, 1), Inst(5, 3, 1), Inst(6, 1, 1)};
  std::vector<AlertPluginInstance> skipped;
  auto r = Receivers(a, group, all, &skipped);
  std::vector<int64_t> ids;
  for (const auto& i : r) ids.push_back(i.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 4, 5}));  // 3 is NORMAL and not in the group
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].id, 2);
  EXPECT_EQ(skipped[1].id, 6);
}

TEST(ReceiversTest, IdsAndFinalStatus) {
  EXPECT_EQ(ParseInstanceIds("1, 2,,x,3 "), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(ParseInstanceIds("").empty());
  EXPECT_EQ(FinalStatus(2, 0), kSent);
  EXPECT_EQ(FinalStatus(1, 1), kPartlySent);
  EXPECT_EQ(FinalStatus(0, 2), kFailed);
  EXPECT_EQ(FinalStatus(0, 0), kFailed);
}

}  // namespace
}  // namespace dsched::alert
