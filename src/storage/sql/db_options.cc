#include "storage/sql/db_options.h"

#include <soci/mysql/soci-mysql.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace dsched {

const char* DbTypeName(DbType t) {
  switch (t) {
    case DbType::kSqlite:
      return "sqlite";
    case DbType::kPostgres:
      return "postgresql";
    case DbType::kMySql:
      return "mysql";
  }
  return "?";
}

StatusOr<DbType> ParseDbType(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "sqlite" || n == "sqlite3") return DbType::kSqlite;
  if (n == "postgresql" || n == "postgres") return DbType::kPostgres;
  if (n == "mysql" || n == "mariadb") return DbType::kMySql;
  return InvalidArgument("db.type: unknown database type '" + name +
                         "' (expected sqlite, postgresql or mysql)");
}

StatusOr<JdbcUrl> ParseJdbcUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("db.url: '" + url + "' is not jdbc:<postgresql|mysql>://host[:port]/name: " +
                           why);
  };
  std::string rest = url;
  if (rest.rfind("jdbc:", 0) == 0) rest = rest.substr(5);
  size_t sep = rest.find("://");
  if (sep == std::string::npos) return bad("no '://'");
  auto type = ParseDbType(rest.substr(0, sep));
  if (!type.ok() || *type == DbType::kSqlite) return bad("unknown database '" + rest.substr(0, sep) + "'");
  JdbcUrl out{*type, "", 0, ""};
  rest = rest.substr(sep + 3);
  size_t q = rest.find('?');
  if (q != std::string::npos) rest = rest.substr(0, q);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) out.name = rest.substr(slash + 1);
  if (hostport.find('@') != std::string::npos)
    return bad("put the user and password in db.user / db.password, not in the URL");
  if (hostport.find(',') != std::string::npos) return bad("several hosts are not supported");
  std::string port;
  if (!hostport.empty() && hostport[0] == '[') {  // [ipv6]:port
    size_t close = hostport.find(']');
    if (close == std::string::npos) return bad("unclosed '['");
    out.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return bad("junk after ']'");
      port = hostport.substr(close + 2);
    }
  } else {
    size_t colon = hostport.rfind(':');
    out.host = hostport.substr(0, colon);
    if (colon != std::string::npos) port = hostport.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  if (!port.empty()) {
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      return bad("bad port '" + port + "'");
    out.port = std::stoi(port);
  }
  if (out.name.find('/') != std::string::npos) return bad("bad database name '" + out.name + "'");
  return out;
}

StatusOr<DbOptions> DbOptionsFromConfig(const Config& cfg) {
  DbOptions o;
  DSCHED_ASSIGN_OR_RETURN(o.type, ParseDbType(cfg.GetString("db.type")));
  o.host = cfg.GetString("db.host");
  o.port = static_cast<int>(cfg.GetInt("db.port"));
  o.name = cfg.GetString("db.name");
  std::string url = cfg.GetString("db.url");
  if (!url.empty()) {
    DSCHED_ASSIGN_OR_RETURN(JdbcUrl u, ParseJdbcUrl(url));
    if (o.type != DbType::kSqlite && o.type != u.type)
      return InvalidArgument(std::string("db.type is ") + DbTypeName(o.type) + " but db.url '" + url +
                             "' is " + DbTypeName(u.type));
    o.type = u.type;
    o.host = u.host;
    o.port = u.port;
    if (!u.name.empty()) o.name = u.name;
  }
  o.user = cfg.GetString("db.user");
  o.password = cfg.GetString("db.password");
  o.connect_timeout_s = static_cast<int>(cfg.GetInt("db.connect_timeout_s"));
  o.pool_size = static_cast<int>(cfg.GetInt("db.pool_size"));
  o.synchronous = cfg.GetString("db.synchronous");
  o.sqlite_path = cfg.GetString("data.dir") + "/dsched.db";
  if (o.port < 0 || o.port > 65535)
    return InvalidArgument("db.port: " + std::to_string(o.port) + " is not a port");
  if (o.pool_size < 1 || o.pool_size > 256)
    return InvalidArgument("db.pool_size: expected 1..256, got " + std::to_string(o.pool_size));
  if (o.connect_timeout_s < 1)
    return InvalidArgument("db.connect_timeout_s: expected at least 1");
  if (o.type != DbType::kSqlite && o.host.empty()) return InvalidArgument("db.host is empty");
  if (o.type != DbType::kSqlite && o.name.empty()) return InvalidArgument("db.name is empty");
  return o;
}

int EffectivePort(const DbOptions& o) {
  if (o.port) return o.port;
  return o.type == DbType::kPostgres ? 5432 : o.type == DbType::kMySql ? 3306 : 0;
}

std::string Describe(const DbOptions& o) {
  if (o.type == DbType::kSqlite) return "sqlite database " + o.sqlite_path;
  return std::string(DbTypeName(o.type)) + " database '" + o.name + "' on " + o.host + ":" +
         std::to_string(EffectivePort(o)) + " as user '" + o.user + "'";
}

namespace {

// libpq conninfo value: quoted, with \ and ' escaped.
std::string PgQuote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// SOCI's MySQL connect string: a value with blanks or quotes goes in single quotes, with \ and '
// escaped by a backslash (SOCI's parser, checked by a test with such a password).
std::string MyQuote(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \t'\"\\") == std::string::npos) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string OneLine(const std::string& m) {
  std::string s = m;
  // SOCI and libpq wrap the server's words in boilerplate that says nothing to a user.
  for (const char* noise : {"Cannot establish connection to the database.", "FATAL:  ",
                            "Is the server running on that host and accepting TCP/IP connections?",
                            "Cannot execute query. Fatal error. "}) {
    for (size_t p; (p = s.find(noise)) != std::string::npos;) s.erase(p, std::strlen(noise));
  }
  // "connection to server at "127.0.0.1", port 1 failed: " repeats what Describe() says.
  size_t p = s.find("connection to server at ");
  if (p != std::string::npos) {
    size_t f = s.find("failed: ", p);
    if (f != std::string::npos) s.erase(p, f + 8 - p);
  }
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

void ApplySessionSettings(soci::session& sql, const DbOptions& o, bool read_only) {
  switch (o.type) {
    case DbType::kSqlite:
      if (read_only) {
        sql << "PRAGMA query_only=1";
      } else {
        sql << "PRAGMA journal_mode=WAL";
        sql << ("PRAGMA synchronous=" + o.synchronous);
        sql << "PRAGMA foreign_keys=OFF";
      }
      break;
    case DbType::kPostgres:
      // NOTICEs ("table does not exist, skipping") would go to stderr through libpq.
      sql << "SET client_min_messages TO WARNING";
      sql << "SET client_encoding TO 'UTF8'";
      if (read_only) sql << "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY";
      break;
    case DbType::kMySql:
      // Strict: a too-long value is an error, never silently cut. READ COMMITTED: the same
      // visibility as on PostgreSQL, and no gap locks between masters.
      sql << "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";
      sql << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
      sql << "SET NAMES utf8mb4";
      if (read_only) sql << "SET SESSION TRANSACTION READ ONLY";
      break;
  }
}

StatusOr<std::unique_ptr<soci::session>> Connect(const DbOptions& o, bool read_only) {
  std::string conn;
  const soci::backend_factory* factory = nullptr;
  std::string timeout = std::to_string(o.connect_timeout_s);
  switch (o.type) {
    case DbType::kSqlite:
      if (o.synchronous != "NORMAL" && o.synchronous != "FULL" && o.synchronous != "OFF")
        return InvalidArgument("db.synchronous: expected NORMAL, FULL or OFF, got '" +
                               o.synchronous + "'");
      factory = soci::factory_sqlite3();
      conn = "db=" + o.sqlite_path + " timeout=30";
      break;
    case DbType::kPostgres:
      factory = soci::factory_postgresql();
      conn = "host=" + PgQuote(o.host) + " port=" + std::to_string(EffectivePort(o)) +
             " dbname=" + PgQuote(o.name) + " user=" + PgQuote(o.user) +
             " password=" + PgQuote(o.password) + " connect_timeout=" + timeout +
             " application_name=dsched";
      break;
    case DbType::kMySql:
      factory = soci::factory_mysql();
      // No "reconnect" option: the driver's silent reconnect is off by default, and it would
      // lose an open transaction without telling us; SqlStore reconnects itself.
      conn = "host=" + MyQuote(o.host) + " port=" + std::to_string(EffectivePort(o)) +
             " db=" + MyQuote(o.name) + " user=" + MyQuote(o.user) +
             " password=" + MyQuote(o.password) + " connect_timeout=" + timeout +
             " charset=utf8mb4";
      break;
  }
  try {
    auto s = std::make_unique<soci::session>(*factory, conn);
    ApplySessionSettings(*s, o, read_only);
    return s;
  } catch (const std::exception& e) {
    return Unavailable("cannot connect to the " + Describe(o) + ": " + OneLine(e.what()));
  }
}

}  // namespace dsched
