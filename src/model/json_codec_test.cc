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

}  // namespace
}  // namespace dsched
