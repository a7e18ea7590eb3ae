#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace dsched {
namespace {

TEST(ConfigTest, FileThenEnvironmentOverride) {
  std::string path = testing::TempDir() + "/cfg.properties";
  std::ofstream(path) << "# comment\napi.port = 23456\nworker.exec_threads=4\n";
  std::string env = "DSCHED_API_PORT=34567";
  char* envp[] = {env.data(), nullptr};
  auto c = Config::Load(path, envp);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetInt("api.port"), 34567);
  EXPECT_EQ(c->GetInt("worker.exec_threads"), 4);
  EXPECT_EQ(c->GetString("api.host"), "127.0.0.1");
}

TEST(ConfigTest, UnknownKeyAndBadValueNameTheKey) {
  std::string path = testing::TempDir() + "/bad.properties";
  std::ofstream(path) << "api.prot = 1\n";
  auto c = Config::Load(path, nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("api.prot"), std::string::npos);
  Config d;
  Status s = d.Set("api.port", "abc");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("api.port"), std::string::npos);
}

}  // namespace
}  // namespace dsched
