#include "cli/watch_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace dsched::cli {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1767225600000;  // 2026-01-01 00:00:00 UTC

class WatchViewTest : public ::testing::Test {
 protected:
  // Dates on the wire are local time; pin the zone so the expected strings hold anywhere.
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

json Instance(const std::string& state, const std::string& end_time = "") {
  json dag = {{"processDefinition", {{"name", "etl"}}},
              {"taskDefinitionList", json::array({{{"name", "extract"}, {"flag", "YES"}},
                                                  {{"name", "transform"}, {"flag", "YES"}},
                                                  {{"name", "disabled"}, {"flag", "NO"}},
                                                  {{"name", "load"}, {"flag", "YES"}}})}};
  json i = {{"id", 7},
            {"name", "etl-1-20260101000000"},
            {"state", state},
            {"startTime", "2026-01-01 00:00:00"},
            {"dagData", dag}};
  i["endTime"] = end_time.empty() ? json() : json(end_time);
  return i;
}

json Task(int id, const std::string& name, const std::string& state, int retry,
          const std::string& start, const std::string& end) {
  json t = {{"id", id}, {"name", name}, {"state", state}, {"retryTimes", retry}};
  t["startTime"] = start.empty() ? json() : json(start);
  t["endTime"] = end.empty() ? json() : json(end);
  return t;
}

TEST_F(WatchViewTest, FormatTablePadsToTheWidestCellIgnoringColours) {
  auto lines = FormatTable({"NAME", "STATE"}, {{"a", "\x1b[32mSUCCESS\x1b[0m"}, {"longer", "x"}});
  EXPECT_THAT(lines, ElementsAre("NAME    STATE", "a       \x1b[32mSUCCESS\x1b[0m", "longer  x"));
  // Colour codes do not count towards the width of a column.
  auto coloured = FormatTable({"S", "N"}, {{"\x1b[31mFAIL\x1b[0m", "1"}, {"OK", "2"}});
  EXPECT_THAT(coloured, ElementsAre("S     N", "\x1b[31mFAIL\x1b[0m  1", "OK    2"));
  EXPECT_THAT(FormatTable({"A", "B"}, {}), ElementsAre("A  B"));
  EXPECT_THAT(FormatTable({"", ""}, {{"state", "SUCCESS"}, {"host", ""}}),
              ElementsAre("state  SUCCESS", "host"));
}

TEST_F(WatchViewTest, FinalStates) {
  for (const char* s : {"SUCCESS", "FAILURE", "STOP", "PAUSE"})
    EXPECT_TRUE(IsFinalWorkflowState(s));
  for (const char* s : {"RUNNING_EXECUTION", "READY_STOP", "SUBMITTED_SUCCESS", "", "KILL"}) {
    EXPECT_FALSE(IsFinalWorkflowState(s)) << s;
  }
  for (const char* s : {"SUCCESS", "FAILURE", "KILL", "FORCED_SUCCESS", "PAUSE"}) {
    EXPECT_TRUE(IsFinalTaskState(s));
  }
  for (const char* s : {"RUNNING_EXECUTION", "DISPATCH", "DELAY_EXECUTION", ""}) {
    EXPECT_FALSE(IsFinalTaskState(s)) << s;
  }
}

TEST_F(WatchViewTest, FormatElapsed) {
  EXPECT_EQ(FormatElapsed(0, 0, kT0), "");
  EXPECT_EQ(FormatElapsed(kT0, 0, kT0 + 1234), "1.2s");              // running: up to now
  EXPECT_EQ(FormatElapsed(kT0, kT0 + 61000, kT0 + 99999), "61.0s");  // ended
  EXPECT_EQ(FormatElapsed(kT0, 0, kT0 - 500), "0.0s");               // clocks a little apart
}

TEST_F(WatchViewTest, BuildsTheModelInDefinitionOrderWithTheLatestAttempt) {
  json tasks = {
      {"processInstanceState", "RUNNING_EXECUTION"},
      {"taskList",
       json::array({
           Task(12, "load", "RUNNING_EXECUTION", 1, "2026-01-01 00:00:05", ""),
           Task(10, "extract", "SUCCESS", 0, "2026-01-01 00:00:00", "2026-01-01 00:00:02"),
           Task(11, "load", "FAILURE", 0, "2026-01-01 00:00:02", "2026-01-01 00:00:03"),
       })}};
  WatchModel m = BuildWatchModel(Instance("RUNNING_EXECUTION"), tasks, kT0 + 6500);
  EXPECT_EQ(m.instance_id, 7);
  EXPECT_EQ(m.workflow_name, "etl");
  EXPECT_EQ(m.state, "RUNNING_EXECUTION");
  EXPECT_EQ(m.start_ms, kT0);
  EXPECT_EQ(m.end_ms, 0);
  EXPECT_EQ(m.total_tasks, 3);  // the forbidden task never runs
  ASSERT_EQ(m.tasks.size(), 3u);
  EXPECT_EQ(m.tasks[0].name, "extract");
  EXPECT_EQ(m.tasks[0].state, "SUCCESS");
  EXPECT_EQ(m.tasks[0].attempt, 1);
  EXPECT_EQ(m.tasks[0].end_ms, kT0 + 2000);
  EXPECT_EQ(m.tasks[1].name, "transform");  // not started yet
  EXPECT_EQ(m.tasks[1].state, "");
  EXPECT_EQ(m.tasks[1].attempt, 0);
  EXPECT_EQ(m.tasks[2].name, "load");  // the retry, not the failed first attempt
  EXPECT_EQ(m.tasks[2].state, "RUNNING_EXECUTION");
  EXPECT_EQ(m.tasks[2].attempt, 2);
}

TEST_F(WatchViewTest, BuildsTheModelWithoutDagData) {
  json instance = {{"id", 3}, {"name", "adhoc-1"}};
  json tasks = {{"processInstanceState", "SUCCESS"},
                {"taskList", json::array({Task(2, "b", "SUCCESS", 0, "", ""),
                                          Task(1, "a", "SUCCESS", 0, "", "")})}};
  WatchModel m = BuildWatchModel(instance, tasks, kT0);
  EXPECT_EQ(m.workflow_name, "adhoc-1");
  EXPECT_EQ(m.state, "SUCCESS");  // from the tasks answer
  EXPECT_EQ(m.total_tasks, 2);    // the rows
  ASSERT_EQ(m.tasks.size(), 2u);
  EXPECT_EQ(m.tasks[0].name, "a");  // by task instance id
  EXPECT_EQ(m.tasks[1].name, "b");
  EXPECT_EQ(BuildWatchModel(json(), json(), kT0).tasks.size(), 0u);  // garbage in: empty model
}

WatchModel RunningModel() {
  WatchModel m;
  m.instance_id = 7;
  m.workflow_name = "etl";
  m.state = "RUNNING_EXECUTION";
  m.start_ms = kT0;
  m.total_tasks = 3;
  m.now_ms = kT0 + 6500;
  m.tasks = {TaskRow{"extract", "SUCCESS", 1, kT0, kT0 + 2000}, TaskRow{"transform", "", 0, 0, 0},
             TaskRow{"load", "RUNNING_EXECUTION", 2, kT0 + 5000, 0}};
  return m;
}

TEST_F(WatchViewTest, RendersThePlainFrame) {
  EXPECT_THAT(RenderWatchFrame(RunningModel(), /*color=*/false),
              ElementsAre("workflow etl  instance 7  RUNNING_EXECUTION  6.5s",
                          "[##########....................]  1/3 tasks done",  //
                          "",                                                  //
                          "TASK       STATE              ATTEMPT  ELAPSED",    //
                          "extract    SUCCESS            1        2.0s",       //
                          "transform  -",                                      //
                          "load       RUNNING_EXECUTION  2        1.5s"));
}

TEST_F(WatchViewTest, RendersTheColouredFrame) {
  WatchModel m = RunningModel();
  m.state = "FAILURE";
  m.end_ms = kT0 + 8000;
  m.tasks[2].state = "FAILURE";
  m.tasks[2].end_ms = kT0 + 8000;
  auto lines = RenderWatchFrame(m, /*color=*/true);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "workflow etl  instance 7  \x1b[31mFAILURE\x1b[0m  8.0s");
  EXPECT_EQ(lines[1], "[####################..........]  2/3 tasks done");
  EXPECT_EQ(lines[4], "extract    \x1b[32mSUCCESS\x1b[0m  1        2.0s");
  EXPECT_EQ(lines[6], "load       \x1b[31mFAILURE\x1b[0m  2        3.0s");
}

TEST_F(WatchViewTest, RedrawsInPlace) {
  EXPECT_EQ(RedrawInPlace(0, {"a", "b"}), "\x1b[2Ka\n\x1b[2Kb\n\x1b[J");
  EXPECT_EQ(RedrawInPlace(3, {"a"}), "\x1b[3A\r\x1b[2Ka\n\x1b[J");
}

TEST_F(WatchViewTest, PlainEventsOnlyOnChange) {
  WatchModel first = RunningModel();
  EXPECT_THAT(WatchEvents(nullptr, first),
              ElementsAre("2026-01-01 00:00:06 task extract SUCCESS",
                          "2026-01-01 00:00:06 task load RUNNING_EXECUTION (attempt 2)",
                          "2026-01-01 00:00:06 workflow RUNNING_EXECUTION"));

  WatchModel same = first;
  same.now_ms += 200;
  EXPECT_THAT(WatchEvents(&first, same), ElementsAre());

  WatchModel later = same;
  later.now_ms = kT0 + 9000;
  later.tasks[1] = TaskRow{"transform", "RUNNING_EXECUTION", 1, kT0 + 8000, 0};
  later.tasks[2].state = "SUCCESS";
  later.tasks[2].end_ms = kT0 + 9000;
  later.state = "SUCCESS";
  EXPECT_THAT(WatchEvents(&same, later),
              ElementsAre("2026-01-01 00:00:09 task transform RUNNING_EXECUTION",
                          "2026-01-01 00:00:09 task load SUCCESS (attempt 2)",
                          "2026-01-01 00:00:09 workflow SUCCESS"));

  WatchModel retried = later;  // same state, new attempt: still news
  retried.tasks[0].attempt = 2;
  EXPECT_THAT(WatchEvents(&later, retried),
              ElementsAre(HasSubstr("task extract SUCCESS (attempt 2)")));
}

}  // namespace
}  // namespace dsched::cli
