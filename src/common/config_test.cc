#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
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

TEST(ConfigTest, LogDirDefaultsUnderDataDirAndIsAbsolute) {
  Config c;
  ASSERT_TRUE(c.Set("data.dir", "/srv/ds/./data").ok());
  EXPECT_EQ(LogDirFromConfig(c), "/srv/ds/data/logs");
  ASSERT_TRUE(c.Set("log.dir", "/var/log/ds/").ok());
  EXPECT_EQ(LogDirFromConfig(c), "/var/log/ds/");
  ASSERT_TRUE(c.Set("log.dir", "rel/logs").ok());
  EXPECT_EQ(LogDirFromConfig(c), (std::filesystem::current_path() / "rel/logs").string());
}

TEST(ConfigTest, PortsAreCheckedNamingTheKey) {
  Config c;
  EXPECT_EQ(*PortFromConfig(c, "logger.listen-port", false), 50051);
  ASSERT_TRUE(c.Set("logger.listen-port", "0").ok());
  EXPECT_EQ(*PortFromConfig(c, "logger.listen-port", true), 0);
  for (const char* bad : {"0", "-1", "65536"}) {
    ASSERT_TRUE(c.Set("logger.listen-port", bad).ok());
    auto p = PortFromConfig(c, "logger.listen-port", false);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("logger.listen-port"), std::string::npos);
  }
}

TEST(ConfigTest, DolphinSchedulerDatabaseVariables) {
  std::string a = "DATABASE=postgresql", b = "SPRING_DATASOURCE_URL=jdbc:postgresql://h:5433/ds",
              c = "SPRING_DATASOURCE_USERNAME=u", d = "SPRING_DATASOURCE_PASSWORD=p w",
              e = "DSCHED_DB_USER=wins", f = "DATABASE_URL=ignored";
  char* envp[] = {a.data(), b.data(), c.data(), d.data(), e.data(), f.data(), nullptr};
  auto cfg = Config::Load("", envp);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->GetString("db.type"), "postgresql");
  EXPECT_EQ(cfg->GetString("db.url"), "jdbc:postgresql://h:5433/ds");
  EXPECT_EQ(cfg->GetString("db.user"), "wins") << "DSCHED_* is more specific than DATABASE & co.";
  EXPECT_EQ(cfg->GetString("db.password"), "p w");
}

}  // namespace
}  // namespace dsched
