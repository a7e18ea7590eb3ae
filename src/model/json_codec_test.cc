#include "model/json_codec.h"

#include <gtest/gtest.h>

namespace dsched {
namespace {

using nlohmann::json;

TEST(JsonCodecTest, AcceptsTheEditorsShapeWithNumbersAsStrings) {
  json j = json::parse(R"({"code":13412700000001,"name":"say_hello","taskType":"SHELL",
    "taskParams":{"localParams":[],"rawScript":"echo hello","resourceList":[]},
    "flag":"YES","taskPriority":"MEDIUM","workerGroup":"default","environmentCode":-1,
    "failRetryTimes":"2","failRetryInterval":"1","delayTime":"0","timeout":0,
    "timeoutFlag":"CLOSE","timeoutNotifyStrategy":""})");
  auto t = TaskDefinitionFromJson(j, "taskDefinitionJson[0]");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->code, 13412700000001);
  EXPECT_EQ(t->fail_retry_times, 2);
  EXPECT_FALSE(t->timeout_enabled);
  json back = TaskDefinitionToJson(*t);
  EXPECT_EQ(back["taskParams"]["rawScript"], "echo hello");
  EXPECT_EQ(back["failRetryTimes"], 2);
}

TEST(JsonCodecTest, ErrorsNameTheField) {
  json j = json::parse(R"({"code":1,"name":"a","taskType":"SHELL","failRetryTimes":"abc"})");
  auto t = TaskDefinitionFromJson(j, "taskDefinitionJson[1]");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "taskDefinitionJson[1].failRetryTimes: expected an integer, got 'abc'");
  j = json::parse(R"({"code":1,"name":"a","taskType":"SHELL","taskPriority":"URGENT"})");
  t = TaskDefinitionFromJson(j, "t");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("t.taskPriority: unknown value 'URGENT'"), std::string::npos);
  auto p = PropertiesFromText(R"([{"prop":"x","direct":"SIDEWAYS"}])", "globalParams");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("globalParams[0].direct"), std::string::npos);
}

TEST(JsonCodecTest, InstanceTextAgreesWithTheJsonValue) {
  WorkflowInstance wi;
  wi.id = 42;
  wi.name = "wf \"q\" \\ tab\t nl\n ctl\x01 caf\xc3\xa9";
  wi.definition_code = 9752686452032;
  wi.definition_version = 3;
  wi.project_code = 123;
  wi.state = WorkflowState::kFailure;
  wi.recovery = 1;
  wi.start_time = 1700000000000;
  wi.end_time = 1700000061000;
  wi.host = "127.0.0.1:5678";
  wi.command_param = R"({"StartNodeList":[1]})";
  wi.schedule_time = 1700000000000;
  wi.global_params = R"([{"prop":"a","value":"1"}])";
  wi.executor_name = "admin";
  wi.is_sub_process = 1;
  wi.history_cmd = "START_PROCESS,REPEAT_RUNNING";
  wi.priority = Priority::kHigh;
  wi.timeout = 5;
  wi.dry_run = 1;
  std::string text;
  AppendWorkflowInstanceJson(&text, wi);
  EXPECT_EQ(json::parse(text), WorkflowInstanceToJson(wi)) << text;
  WorkflowInstance empty;
  text.clear();
  AppendWorkflowInstanceJson(&text, empty);
  EXPECT_EQ(json::parse(text), WorkflowInstanceToJson(empty)) << text;
}

}  // namespace
}  // namespace dsched
