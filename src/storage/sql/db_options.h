// Which metadata database to use and how to reach it: the db.* keys of the config table
// (common/config.cc), a JDBC-style URL as DolphinScheduler's SPRING_DATASOURCE_URL has it, and
// opening one SOCI connection with errors that fit on one line. Nothing here knows the schema
// (migrations.h) or the stores (sql_store.h).
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace soci {
class session;
}

namespace dsched {

enum class DbType { kSqlite, kPostgres, kMySql };

// "sqlite", "postgresql", "mysql": the names of db.type, of the sql/ directories and of SOCI.
const char* DbTypeName(DbType t);
// Accepts those names, and "mariadb" for mysql. InvalidArgument naming the accepted ones.
StatusOr<DbType> ParseDbType(const std::string& name);

struct DbOptions {
  // The first three fields keep the order SQLite callers (tests) write as
  // {path, synchronous, pool size}; type defaults to SQLite.
  // SQLite: the database file (":memory:" is not supported: the readers need the file).
  std::string sqlite_path;
  std::string synchronous = "NORMAL";  // SQLite: NORMAL survives kill -9, FULL power loss too
  // Reader connections; one more connection does every write.
  int pool_size = 4;
  DbType type = DbType::kSqlite;
  // PostgreSQL / MySQL.
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the type's default port
  std::string name = "dolphinscheduler";
  std::string user;
  std::string password;
  int connect_timeout_s = 10;
};

// The parts of jdbc:<type>://host[:port][/name][?params] (the "jdbc:" prefix is optional;
// params are ignored: they configure Java drivers). port is 0 when the URL has none.
struct JdbcUrl {
  DbType type;
  std::string host;
  int port = 0;
  std::string name;
};
StatusOr<JdbcUrl> ParseJdbcUrl(const std::string& url);

// Reads db.* (db.url, when set, gives type/host/port/name and must not contradict a db.type
// other than the default sqlite). The SQLite file is <data.dir>/dsched.db. InvalidArgument
// naming the key on a bad value.
StatusOr<DbOptions> DbOptionsFromConfig(const Config& cfg);

int EffectivePort(const DbOptions& o);

// "postgresql database 'ds' on 127.0.0.1:5432 as user 'ds'" / "sqlite database /x/dsched.db":
// what error messages name.
std::string Describe(const DbOptions& o);

// Opens one connection and applies the session settings dsched relies on (UTF-8, strict mode
// and READ COMMITTED on MySQL, quiet notices on PostgreSQL; WAL on SQLite). `read_only` marks
// a reader of the pool. Unavailable with one line: what was tried (Describe) and why it failed.
StatusOr<std::unique_ptr<soci::session>> Connect(const DbOptions& o, bool read_only);

// Re-applies the settings of Connect after soci::session::reconnect().
void ApplySessionSettings(soci::session& sql, const DbOptions& o, bool read_only);

// The driver's text of an error, on one line, without the driver's boilerplate.
std::string OneLine(const std::string& driver_message);

}  // namespace dsched
