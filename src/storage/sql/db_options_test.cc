#include "storage/sql/db_options.h"

#include <gtest/gtest.h>
#include <soci/soci.h>

namespace dsched {
namespace {

TEST(JdbcUrlTest, ParsesWhatDolphinSchedulerUsers) {
  auto pg = ParseJdbcUrl("jdbc:postgresql://127.0.0.1:5432/dolphinscheduler");
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->type, DbType::kPostgres);
  EXPECT_EQ(pg->host, "127.0.0.1");
  EXPECT_EQ(pg->port, 5432);
  EXPECT_EQ(pg->name, "dolphinscheduler");
  auto my = ParseJdbcUrl(
      "jdbc:mysql://db.example.com/ds?useUnicode=true&characterEncoding=UTF-8&useSSL=false");
  ASSERT_TRUE(my.ok());
  EXPECT_EQ(my->type, DbType::kMySql);
  EXPECT_EQ(my->host, "db.example.com");
  EXPECT_EQ(my->port, 0);
  EXPECT_EQ(my->name, "ds");
  auto maria = ParseJdbcUrl("mariadb://[::1]:3307/x");
  ASSERT_TRUE(maria.ok());
  EXPECT_EQ(maria->type, DbType::kMySql);
  EXPECT_EQ(maria->host, "::1");
  EXPECT_EQ(maria->port, 3307);
}

TEST(JdbcUrlTest, RefusesWithTheReason) {
  for (const char* bad : {"jdbc:oracle:thin:@h:1521:x", "jdbc:postgresql://h:99999/x",
                          "jdbc:postgresql://u:p@h/x", "jdbc:postgresql:///x", "postgresql:h/x",
                          "jdbc:sqlite://h/x"}) {
    auto u = ParseJdbcUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    EXPECT_NE(u.status().message().find("db.url"), std::string::npos) << u.status().message();
  }
}

TEST(DbOptionsTest, FromConfigAndEnvironment) {
  std::string a = "DATABASE=postgresql", b = "SPRING_DATASOURCE_URL=jdbc:postgresql://h:6543/d",
              c = "SPRING_DATASOURCE_USERNAME=u", d = "SPRING_DATASOURCE_PASSWORD=p";
  char* envp[] = {a.data(), b.data(), c.data(), d.data(), nullptr};
  auto cfg = Config::Load("", envp);
  ASSERT_TRUE(cfg.ok());
  auto o = DbOptionsFromConfig(*cfg);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->type, DbType::kPostgres);
  EXPECT_EQ(o->host, "h");
  EXPECT_EQ(EffectivePort(*o), 6543);
  EXPECT_EQ(o->name, "d");
  EXPECT_EQ(o->user, "u");
  EXPECT_EQ(o->password, "p");
  EXPECT_EQ(Describe(*o), "postgresql database 'd' on h:6543 as user 'u'");

  Config dflt;
  auto s = DbOptionsFromConfig(dflt);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, DbType::kSqlite) << "SQLite stays the default";
  EXPECT_EQ(s->sqlite_path, "./data/dsched.db");

  Config my;
  ASSERT_TRUE(my.Set("db.type", "mysql").ok());
  EXPECT_EQ(EffectivePort(*DbOptionsFromConfig(my)), 3306);
}

TEST(DbOptionsTest, BadValuesNameTheKey) {
  Config c;
  ASSERT_TRUE(c.Set("db.type", "oracle").ok());
  auto o = DbOptionsFromConfig(c);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "db.type: unknown database type 'oracle' (expected sqlite, postgresql or mysql)");
  Config mismatch;
  ASSERT_TRUE(mismatch.Set("db.type", "mysql").ok());
  ASSERT_TRUE(mismatch.Set("db.url", "jdbc:postgresql://h/x").ok());
  EXPECT_FALSE(DbOptionsFromConfig(mismatch).ok());
  Config pool;
  ASSERT_TRUE(pool.Set("db.pool_size", "0").ok());
  EXPECT_NE(DbOptionsFromConfig(pool).status().message().find("db.pool_size"), std::string::npos);
}

TEST(DbOptionsTest, UnreachableServerIsOneLineNamingHostAndUser) {
  DbOptions o;
  o.type = DbType::kPostgres;
  o.host = "127.0.0.1";
  o.port = 1;  // nothing listens on port 1
  o.name = "ds";
  o.user = "someone";
  o.connect_timeout_s = 2;
  auto s = Connect(o, false);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.status().message();
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_NE(m.find("127.0.0.1:1"), std::string::npos) << m;
  EXPECT_NE(m.find("'someone'"), std::string::npos) << m;
  EXPECT_NE(m.find("refused"), std::string::npos) << m;
  o.type = DbType::kMySql;
  auto my = Connect(o, false);
  ASSERT_FALSE(my.ok());
  EXPECT_EQ(my.status().message().find('\n'), std::string::npos) << my.status().message();
  EXPECT_NE(my.status().message().find("mysql database 'ds' on 127.0.0.1:1 as user 'someone'"),
            std::string::npos)
      << my.status().message();
}

TEST(OneLineTest, DropsDriverBoilerplate) {
  EXPECT_EQ(OneLine("Cannot establish connection to the database.\nconnection to server at "
                    "\"127.0.0.1\", port 55432 failed: FATAL:  password authentication failed "
                    "for user \"ds\"\n"),
            "password authentication failed for user \"ds\"");
}

}  // namespace
}  // namespace dsched
