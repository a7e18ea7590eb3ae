#include "storage/sql/migrations.h"

#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>

#include <algorithm>

namespace dsched {

namespace {

bool IsTransactionalDdl(DbType t) { return t != DbType::kMySql; }

std::vector<const SchemaScript*> ScriptsOf(DbType type, int version) {
  std::vector<const SchemaScript*> out;
  for (const SchemaScript& s : EmbeddedSchemaScripts())
    if (s.version == version && std::string(s.db) == DbTypeName(type)) out.push_back(&s);
  return out;
}

// MySQL has no CREATE INDEX IF NOT EXISTS and no transactional DDL: when an upgrade is run
// again after it stopped half way, what it already created is skipped, not an error.
bool AlreadyThere(const std::exception& e) {
  auto* my = dynamic_cast<const soci::mysql_soci_error*>(&e);
  if (!my) return false;
  // ER_TABLE_EXISTS_ERROR, ER_DUP_FIELDNAME, ER_DUP_KEYNAME
  return my->err_num_ == 1050 || my->err_num_ == 1060 || my->err_num_ == 1061;
}

// Serialises create/upgrade runs of several processes on one server database. SQLite needs
// none: its writer lock already does, and it is one process's file in practice.
class SchemaLock {
 public:
  SchemaLock(soci::session& sql, DbType type) : sql_(sql), type_(type) {}
  Status Acquire() {
    try {
      if (type_ == DbType::kPostgres) {
        sql_ << "SELECT pg_advisory_lock(4242031)";
      } else if (type_ == DbType::kMySql) {
        int got = 0;
        soci::indicator ind;
        sql_ << "SELECT GET_LOCK('dsched.schema', 120)", soci::into(got, ind);
        if (ind != soci::i_ok || got != 1)
          return Unavailable("another dsched db create/upgrade held the schema lock for 120 s");
      }
      held_ = true;
      return Status::Ok();
    } catch (const std::exception& e) {
      return Unavailable("cannot take the schema lock: " + OneLine(e.what()));
    }
  }
  ~SchemaLock() {
    if (!held_) return;
    try {
      if (type_ == DbType::kPostgres) sql_ << "SELECT pg_advisory_unlock(4242031)";
      if (type_ == DbType::kMySql) sql_ << "SELECT RELEASE_LOCK('dsched.schema')";
    } catch (const std::exception&) {
      // The lock goes with the connection anyway.
    }
  }

 private:
  soci::session& sql_;
  DbType type_;
  bool held_ = false;
};

// Runs the scripts of one version (0: create) and then writes its version row. On SQLite and
// PostgreSQL all of it is one transaction; on MySQL the DDL commits as it goes.
Status ApplyVersion(soci::session& sql, DbType type, int version, int row_version,
                    bool tolerate_existing) {
  auto scripts = ScriptsOf(type, version);
  if (scripts.empty())
    return Internal(std::string("this dsched has no ") + DbTypeName(type) + " scripts for " +
                    (version ? "sql/upgrade/" + std::to_string(version) : std::string("sql/create")));
  const SchemaScript* current = nullptr;
  try {
    std::unique_ptr<soci::transaction> tx;
    if (IsTransactionalDdl(type)) tx = std::make_unique<soci::transaction>(sql);
    for (const SchemaScript* s : scripts) {
      current = s;
      for (const std::string& stmt : SplitSqlScript(s->sql)) {
        try {
          sql << stmt;
        } catch (const std::exception& e) {
          if (!(tolerate_existing && AlreadyThere(e))) throw;
        }
      }
    }
    current = nullptr;
    long long v = row_version;
    sql << "INSERT INTO t_ds_version(id, version) VALUES(:i, :v)", soci::use(v), soci::use(v);
    if (tx) tx->commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    std::string where = current ? std::string(" in ") + current->path : std::string();
    return Internal(OneLine(e.what()) + where);
  }
}

}  // namespace

int NewestSchemaVersion() {
  int newest = 1;
  for (const SchemaScript& s : EmbeddedSchemaScripts()) newest = std::max(newest, s.version);
  return newest;
}

std::vector<std::string> SplitSqlScript(const std::string& script) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  while (i < script.size()) {
    size_t nl = script.find('\n', i);
    std::string line = script.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
    i = nl == std::string::npos ? script.size() : nl + 1;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line.compare(first, 2, "--") == 0) continue;
    cur += line + "\n";
    size_t last = line.find_last_not_of(" \t\r");
    if (line[last] == ';') {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
  return out;
}

StatusOr<std::vector<std::string>> ListTables(soci::session& sql, DbType type) {
  try {
    std::string q;
    switch (type) {
      case DbType::kSqlite:
        q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'";
        break;
      case DbType::kPostgres:
        // pg_tables, not information_schema: the latter hides tables the user may not read,
        // and a schema we cannot see must still stop `db create`.
        q = "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()";
        break;
      case DbType::kMySql:
        q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_type = 'BASE TABLE'";
        break;
    }
    std::vector<std::string> out;
    soci::rowset<std::string> rs = sql.prepare << q;
    for (const auto& name : rs) out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
  } catch (const std::exception& e) {
    return Unavailable("cannot list the tables: " + OneLine(e.what()));
  }
}

StatusOr<int> ReadSchemaVersion(soci::session& sql, DbType type) {
  DSCHED_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(sql, type));
  std::vector<std::string> ours;
  for (const auto& t : tables)
    if (t.rfind("t_ds_", 0) == 0) ours.push_back(t);
  if (ours.empty()) return 0;
  if (std::find(ours.begin(), ours.end(), "t_ds_version") == ours.end()) {
    return FailedPrecondition("the database holds " + std::to_string(ours.size()) +
                              " t_ds_* tables (" + ours.front() +
                              ", ...) but no t_ds_version: not a dsched schema, or a create "
                              "that did not finish");
  }
  try {
    // Read as text: DolphinScheduler's own t_ds_version holds '3.2.0'-style strings.
    int newest = 0;
    soci::rowset<soci::row> rs = sql.prepare << "SELECT version FROM t_ds_version";
    for (const auto& r : rs) {
      std::string v;
      switch (r.get_properties(0).get_data_type()) {
        case soci::dt_string:
          v = r.get<std::string>(0);
          break;
        case soci::dt_integer:
          v = std::to_string(r.get<int>(0));
          break;
        case soci::dt_long_long:
          v = std::to_string(r.get<long long>(0));
          break;
        default:
          v = "?";
      }
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        return FailedPrecondition("t_ds_version holds '" + v +
                                  "': this is a DolphinScheduler database, not a dsched one");
      newest = std::max(newest, std::stoi(v));
    }
    if (newest == 0)
      return FailedPrecondition(
          "t_ds_version is empty: a `dsched db create` did not finish; drop the t_ds_* tables "
          "and create again");
    return newest;
  } catch (const std::exception& e) {
    return Unavailable("cannot read the schema version: " + OneLine(e.what()));
  }
}

Status CreateSchema(soci::session& sql, DbType type) {
  SchemaLock lock(sql, type);
  DSCHED_RETURN_IF_ERROR(lock.Acquire());
  DSCHED_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(sql, type));
  for (const auto& t : tables) {
    if (t.rfind("t_ds_", 0) != 0) continue;
    auto v = ReadSchemaVersion(sql, type);
    return FailedPrecondition(
        "the database already holds a schema (" +
        (v.ok() ? "dsched schema version " + std::to_string(*v) : v.status().message()) +
        "); `dsched db create` only fills an empty database (use `dsched db upgrade`)");
  }
  Status s = ApplyVersion(sql, type, 0, NewestSchemaVersion(), /*tolerate_existing=*/false);
  if (!s.ok()) {
    std::string hint = IsTransactionalDdl(type)
                           ? "; nothing was created"
                           : "; MySQL cannot roll DDL back: drop the t_ds_* tables before "
                             "creating again";
    return Internal("create failed: " + s.message() + hint);
  }
  return Status::Ok();
}

StatusOr<UpgradeResult> UpgradeSchema(soci::session& sql, DbType type) {
  SchemaLock lock(sql, type);
  DSCHED_RETURN_IF_ERROR(lock.Acquire());
  DSCHED_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(sql, type));
  if (current == 0)
    return FailedPrecondition(
        "the database holds no dsched schema: create it first (`dsched db create`, "
        "script/create-dolphinscheduler.sh)");
  int newest = NewestSchemaVersion();
  if (current > newest)
    return FailedPrecondition("the database holds schema version " + std::to_string(current) +
                              ", newer than this dsched knows (" + std::to_string(newest) +
                              "): it was written by a newer dsched; run that one");
  UpgradeResult out;
  out.from = out.to = current;
  for (int v = current + 1; v <= newest; ++v) {
    Status s = ApplyVersion(sql, type, v, v, /*tolerate_existing=*/type == DbType::kMySql);
    if (!s.ok()) {
      std::string state = IsTransactionalDdl(type)
                              ? "; the database stays at version " + std::to_string(out.to)
                              : "; version " + std::to_string(v) +
                                    " may be half applied (MySQL commits DDL at once): fix the "
                                    "cause and run the upgrade again";
      return Internal("upgrade to version " + std::to_string(v) + " failed: " + s.message() +
                      state);
    }
    out.applied.push_back(v);
    out.to = v;
  }
  return out;
}

}  // namespace dsched
