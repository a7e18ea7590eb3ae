// Test support: the databases the storage and scenario tests run against, and making one empty.
// SQLite always; PostgreSQL and MySQL when tests/db/run_db_tests.sh (which starts throwaway
// servers on loopback) sets DSCHED_TEST_PG_URL / DSCHED_TEST_MYSQL_URL (JDBC-style URLs; user
// and password from DSCHED_TEST_DB_USER / DSCHED_TEST_DB_PASSWORD, default ds / ds). Not for
// production code.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/sql/db_options.h"

namespace dsched {

struct TestDb {
  std::string name;  // "sqlite", "postgresql", "mysql": test name suffixes
  DbOptions opts;    // for sqlite, sqlite_path is empty: the test picks a temp file
};
// gtest prints a parameter with this (instead of its bytes).
inline void PrintTo(const TestDb& db, std::ostream* os) { *os << db.name; }

// SQLite first, then the servers the environment names. When DSCHED_TEST_REQUIRE_SERVERS=1 and
// one is missing, that is a configuration error of the wrapper: this aborts rather than run
// fewer tests silently.
std::vector<TestDb> TestDatabases();

// Empties the database: drops every table (servers) or deletes the file with its WAL (SQLite).
Status ResetDatabase(const DbOptions& o);

// Runs every statement of a script file (SplitSqlScript) on one connection, e.g. a schema
// fixture of tests/db/.
Status RunSqlFile(const DbOptions& o, const std::string& path);

// The source tree (DSCHED_SOURCE_DIR, set by ctest and the wrapper), for fixtures.
std::string SourceDir();

}  // namespace dsched
