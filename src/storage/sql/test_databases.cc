#include "storage/sql/test_databases.h"

#include <soci/soci.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "storage/sql/migrations.h"

namespace dsched {

std::string SourceDir() {
  const char* s = std::getenv("DSCHED_SOURCE_DIR");
  return s ? s : ".";
}

std::vector<TestDb> TestDatabases() {
  std::vector<TestDb> out;
  out.push_back({"sqlite", DbOptions{}});
  const char* user = std::getenv("DSCHED_TEST_DB_USER");
  const char* password = std::getenv("DSCHED_TEST_DB_PASSWORD");
  bool require = std::getenv("DSCHED_TEST_REQUIRE_SERVERS") &&
                 std::string(std::getenv("DSCHED_TEST_REQUIRE_SERVERS")) == "1";
  for (const auto& [var, name] : {std::pair{"DSCHED_TEST_PG_URL", "postgresql"},
                                  std::pair{"DSCHED_TEST_MYSQL_URL", "mysql"}}) {
    const char* url = std::getenv(var);
    if (!url || !*url) {
      if (require) {
        std::fprintf(stderr, "DSCHED_TEST_REQUIRE_SERVERS=1 but %s is not set\n", var);
        std::abort();
      }
      continue;
    }
    auto u = ParseJdbcUrl(url);
    if (!u.ok()) {
      std::fprintf(stderr, "%s: %s\n", var, u.status().message().c_str());
      std::abort();
    }
    DbOptions o;
    o.type = u->type;
    o.host = u->host;
    o.port = u->port;
    o.name = u->name;
    o.user = user ? user : "ds";
    o.password = password ? password : "ds";
    o.pool_size = 2;
    o.connect_timeout_s = 5;
    out.push_back({name, o});
  }
  return out;
}

Status ResetDatabase(const DbOptions& o) {
  if (o.type == DbType::kSqlite) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((o.sqlite_path + suffix).c_str());
    return Status::Ok();
  }
  DSCHED_ASSIGN_OR_RETURN(auto sql, Connect(o, /*read_only=*/false));
  DSCHED_ASSIGN_OR_RETURN(auto tables, ListTables(*sql, o.type));
  try {
    for (const auto& t : tables)
      *sql << ("DROP TABLE IF EXISTS " + t + (o.type == DbType::kPostgres ? " CASCADE" : ""));
  } catch (const std::exception& e) {
    return Internal(std::string("reset: ") + e.what());
  }
  return Status::Ok();
}

Status RunSqlFile(const DbOptions& o, const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  DSCHED_ASSIGN_OR_RETURN(auto sql, Connect(o, /*read_only=*/false));
  try {
    for (const std::string& stmt : SplitSqlScript(ss.str())) *sql << stmt;
  } catch (const std::exception& e) {
    return Internal(path + ": " + OneLine(e.what()));
  }
  return Status::Ok();
}

}  // namespace dsched
