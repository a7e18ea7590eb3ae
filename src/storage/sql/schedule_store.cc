// SqlStore's ScheduleStore: cron schedules and the fire ledger (DESIGN.md §3, "Cron, exactly
// once"). The firing rule lives in Fire(); when a slot fires is the master's scheduler's business
// (src/master/scheduler.h), not this file's.

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "storage/sql/sql_store.h"
#include "storage/sql/sql_util.h"

namespace dsched {

using namespace sql_internal;

namespace {

constexpr const char* kScheduleSelect =
    "SELECT s.*, COALESCE(d.name, '') AS definition_name, "
    "COALESCE(d.description, '') AS definition_description, "
    "COALESCE(p.name, '') AS project_name, COALESCE(u.user_name, '') AS user_name "
    "FROM t_ds_schedules s "
    "LEFT JOIN t_ds_process_definition d ON d.code = s.process_definition_code "
    "LEFT JOIN t_ds_project p ON p.code = s.project_code "
    "LEFT JOIN t_ds_user u ON u.id = s.user_id";

Schedule ScheduleFromRow(const soci::row& r, bool joined) {
  Schedule s;
  s.id = I(r, "id");
  s.definition_code = I(r, "process_definition_code");
  s.project_code = I(r, "project_code");
  s.start_time = I(r, "start_time");
  s.end_time = I(r, "end_time");
  s.timezone_id = S(r, "timezone_id");
  s.crontab = S(r, "crontab");
  s.failure_strategy = static_cast<FailureStrategy>(I(r, "failure_strategy"));
  s.warning_type = static_cast<WarningType>(I(r, "warning_type"));
  s.warning_group_id = I(r, "warning_group_id");
  s.release_state = static_cast<ReleaseState>(I(r, "release_state"));
  s.priority = static_cast<Priority>(I(r, "process_instance_priority"));
  s.worker_group = S(r, "worker_group");
  s.tenant_code = S(r, "tenant_code");
  s.environment_code = I(r, "environment_code");
  s.misfire_policy = static_cast<MisfirePolicy>(I(r, "misfire_policy"));
  s.user_id = I(r, "user_id");
  s.create_time = I(r, "create_time");
  s.update_time = I(r, "update_time");
  if (joined) {
    s.definition_name = S(r, "definition_name");
    s.definition_description = S(r, "definition_description");
    s.project_name = S(r, "project_name");
    s.user_name = S(r, "user_name");
  }
  return s;
}

// The columns a create or an update writes, bound in this order by ScheduleBind.
constexpr const char* kScheduleWritable =
    "start_time, end_time, timezone_id, crontab, failure_strategy, warning_type, "
    "warning_group_id, process_instance_priority, worker_group, tenant_code, environment_code, "
    "misfire_policy, update_time";

// Holds the converted values of a Schedule while soci keeps their addresses.
struct ScheduleBind {
  explicit ScheduleBind(const Schedule& s)
      : s(s),
        start(s.start_time),
        end(s.end_time),
        fs(Code(s.failure_strategy)),
        wt(Code(s.warning_type)),
        wg(s.warning_group_id),
        prio(Code(s.priority)),
        env(s.environment_code),
        misfire(Code(s.misfire_policy)),
        updated(s.update_time) {}
  void Bind(Stmt& st) {
    st.Use(start)
        .Use(end)
        .Use(s.timezone_id)
        .Use(s.crontab)
        .Use(fs)
        .Use(wt)
        .Use(wg)
        .Use(prio)
        .Use(s.worker_group)
        .Use(s.tenant_code)
        .Use(env)
        .Use(misfire)
        .Use(updated);
  }
  const Schedule& s;
  long long start, end;
  int fs, wt;
  long long wg;
  int prio;
  long long env;
  int misfire;
  long long updated;
};

}  // namespace

StatusOr<Schedule> SqlStore::CreateSchedule(Schedule s) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      s.create_time = s.update_time = clock_.NowMs();
      ScheduleBind b(s);
      long long dc = s.definition_code, pc = s.project_code, uid = s.user_id, ct = s.create_time;
      int rs = Code(s.release_state);
      static const std::string kSql =
          std::string("INSERT INTO t_ds_schedules(") + kScheduleWritable +
          ", process_definition_code, project_code, user_id, release_state, create_time) VALUES(" +
          Placeholders(kScheduleWritable) + ", :dc, :pc, :uid, :rs, :ct)";
      s.id = InsertReturningId(*writer_, opts_.type, "t_ds_schedules", kSql, [&](Stmt& st) {
        b.Bind(st);
        st.Use(dc).Use(pc).Use(uid).Use(rs).Use(ct);
      });
    } catch (const std::exception& e) {
      Status f = Fail(*writer_, e, "schedule");
      if (f.code() == StatusCode::kAlreadyExists)
        return AlreadyExists("workflow " + std::to_string(s.definition_code) +
                             " already has a schedule");
      return f;
    }
  }
  return GetSchedule(s.id);
}

StatusOr<Schedule> SqlStore::UpdateSchedule(Schedule s) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      s.update_time = clock_.NowMs();
      ScheduleBind b(s);
      long long id = s.id;
      static const std::string kSql = std::string("UPDATE t_ds_schedules SET ") +
                                      SetClause(kScheduleWritable) + " WHERE id = :id";
      Stmt st(*writer_);
      b.Bind(st);
      st.Use(id);
      if (st.Run(kSql) == 0)
        return NotFound("schedule " + std::to_string(s.id) + " does not exist");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "update schedule");
    }
  }
  return GetSchedule(s.id);
}

StatusOr<Schedule> SqlStore::GetSchedule(int64_t id) {
  ReaderLease sql(*this);
  try {
    long long i = id;
    auto rows = Query<Schedule>(
        *sql, std::string(kScheduleSelect) + " WHERE s.id = :id",
        [](const soci::row& r) { return ScheduleFromRow(r, true); }, i);
    if (rows.empty()) return NotFound("schedule " + std::to_string(id) + " does not exist");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get schedule");
  }
}

StatusOr<Schedule> SqlStore::GetScheduleByDefinition(int64_t definition_code) {
  ReaderLease sql(*this);
  try {
    long long c = definition_code;
    auto rows = Query<Schedule>(
        *sql, std::string(kScheduleSelect) + " WHERE s.process_definition_code = :c",
        [](const soci::row& r) { return ScheduleFromRow(r, true); }, c);
    if (rows.empty())
      return NotFound("workflow " + std::to_string(definition_code) + " has no schedule");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get schedule");
  }
}

StatusOr<PageResult<Schedule>> SqlStore::ListSchedules(const ScheduleFilter& f, Page page) {
  ReaderLease sql(*this);
  try {
    PageResult<Schedule> out;
    Where w;
    w.Int("s.project_code = :p", f.project_code);
    if (f.definition_code) w.Int("s.process_definition_code = :dc", f.definition_code);
    if (!f.definition_codes.empty()) w.IntIn("s.process_definition_code", f.definition_codes);
    if (!f.search.empty()) w.Str("LOWER(d.name) LIKE LOWER(:like)", "%" + f.search + "%");
    out.total = Count(*sql,
                      "SELECT COUNT(*) FROM t_ds_schedules s LEFT JOIN t_ds_process_definition d "
                      "ON d.code = s.process_definition_code",
                      w);
    long long lim = page.limit, off = page.offset;
    Stmt st(*sql);
    w.Bind(st);
    st.Use(lim).Use(off);
    st.Rows(std::string(kScheduleSelect) + w.sql() +
                " ORDER BY s.update_time DESC, s.id DESC LIMIT :l OFFSET :o",
            [&](const soci::row& r) { out.rows.push_back(ScheduleFromRow(r, true)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list schedules");
  }
}

Status SqlStore::DeleteSchedule(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    WriteTx tx(*writer_, opts_.type);
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_schedules WHERE id = :id");
    // The ledger goes with it: a schedule created later gets a new id, so nothing it fires
    // could collide with these rows anyway.
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_schedule_fire WHERE schedule_id = :id");
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete schedule");
  }
}

Status SqlStore::SetScheduleReleaseState(int64_t id, ReleaseState state) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id, now = clock_.NowMs();
    int rs = Code(state);
    Stmt st(*writer_);
    st.Use(rs).Use(now).Use(i);
    if (st.Run("UPDATE t_ds_schedules SET release_state = :rs, update_time = :t WHERE id = :id") ==
        0)
      return NotFound("schedule " + std::to_string(id) + " does not exist");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "release schedule");
  }
}

StatusOr<std::vector<Schedule>> SqlStore::ListOnlineSchedules() {
  ReaderLease sql(*this);
  try {
    int online = Code(ReleaseState::kOnline);
    return Query<Schedule>(
        *sql, "SELECT * FROM t_ds_schedules WHERE release_state = :rs ORDER BY id",
        [](const soci::row& r) { return ScheduleFromRow(r, false); }, online);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list online schedules");
  }
}

namespace {

// A fire is set-based: a handful of statements for the whole batch, whatever its size, so that
// 10,000 slots due in one second commit in one short transaction (issue 5's target).
//  1. The slots go into a per-connection temporary table, kFireBatch, by multi-row inserts.
//  2. commands: one INSERT ... SELECT of a SCHEDULER command for each slot whose schedule and
//     definition are online now (DolphinScheduler's fire job does nothing for an offline
//     definition) and whose schedule has no ledger row at or after the slot (fired already, or
//     older than one that was: a lagging master's). Built from the schedule's fields as they are
//     now and the definition's current version. The commands of this transaction are the
//     SCHEDULER ones with an id above the largest before it (ids only grow).
//  3. ledger: one INSERT ... SELECT of the fire-ledger row of each of those commands, naming it.
//     The primary key (schedule_id, fire_time) is the arbiter between masters: a slot another
//     master holds, committed or still in flight (waited for), inserts nothing.
//  4. Only when some slot lost that race (never on SQLite, whose writer is single): one DELETE
//     takes back the commands whose ledger row names another command.
// Only when some slots got no command, one count tells the duplicates from the offline ones;
// once a minute, one DELETE prunes the ledger (below). Every statement drives from the batch or
// from this transaction's commands by keys, so none reads the whole ledger or command table.
//
// Pruning: of each schedule fired, the ledger rows more than kLedgerKeepMs older than its new
// slot go, so the ledger stays small (an hour of slots per schedule). Not every older row: a
// lagging master firing slot T while another commits T+5s must still meet T's row (its INSERT
// waits for that transaction and then conflicts); had T's row been deleted in that same
// transaction, the waiting INSERT would go through and T would start twice. A master an hour
// behind is fenced out long before (its session expired). The newest row of a schedule always
// stays: it is what LastFire and the "older than the last fired slot" rule read.
constexpr int64_t kLedgerKeepMs = 3600 * 1000;
constexpr const char* kFireBatch = "dsched_fire_batch";
constexpr size_t kFillRows = 500;  // slots per multi-row insert (2 parameters each)

// One statement's text and its integer parameters, numbered in order of appearance (soci binds
// positionally, and each placeholder appears once): append each P() to the text before calling
// the next, never two in one expression (C++ leaves their order unspecified).
struct FireQuery {
  explicit FireQuery(DbType t) : type(t) {}
  // Appends a placeholder bound to v.
  std::string P(int64_t v) {
    args.push_back(v);
    return (type == DbType::kSqlite ? "?" : ":p") + std::to_string(args.size());
  }
  // A placeholder in a SELECT list: PostgreSQL types it as text there, which it will not store
  // in a BIGINT column; the others take the value as it is.
  std::string Big(int64_t v) {
    return type == DbType::kPostgres ? "CAST(" + P(v) + " AS BIGINT)" : P(v);
  }
  DbType type;
  std::string sql;
  std::vector<int64_t> args;
};

// Runs FireQuery statements on one connection inside the caller's transaction. Run returns the
// rows a write changed, or the first column of the first row of a query. Throws on a database
// error (turned into a Status by SqlStore::Fail).
class FireRunner {
 public:
  virtual ~FireRunner() = default;
  virtual int64_t Run(const FireQuery& q, bool query = false) = 0;
};

// SQLite, the embedded default: statements on the connection's native handle, each text
// prepared once per Fire. Through soci, binding 20,000 values costs more than the statements.
class SqliteFireRunner : public FireRunner {
 public:
  explicit SqliteFireRunner(soci::session& sql)
      : db_(static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_) {}
  ~SqliteFireRunner() override {
    for (auto& [text, st] : prepared_) sqlite_api::sqlite3_finalize(st);
  }
  int64_t Run(const FireQuery& q, bool query) override {
    namespace sq = sqlite_api;
    sq::sqlite3_stmt*& st = prepared_[q.sql];
    if (!st && sq::sqlite3_prepare_v2(db_, q.sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(sq::sqlite3_errmsg(db_));
    for (size_t i = 0; i < q.args.size(); ++i)
      sq::sqlite3_bind_int64(st, static_cast<int>(i + 1), q.args[i]);
    int rc = sq::sqlite3_step(st);
    int64_t out = 0;
    if (rc == SQLITE_ROW) {
      out = sq::sqlite3_column_int64(st, 0);
    } else if (rc == SQLITE_DONE) {
      out = query ? 0 : sq::sqlite3_changes(db_);
    } else {
      std::string m = sq::sqlite3_errmsg(db_);
      sq::sqlite3_reset(st);
      throw std::runtime_error(m);
    }
    sq::sqlite3_reset(st);
    return out;
  }

 private:
  sqlite_api::sqlite3* db_;
  std::map<std::string, sqlite_api::sqlite3_stmt*> prepared_;
};

// PostgreSQL and MySQL/MariaDB through soci.
class SociFireRunner : public FireRunner {
 public:
  explicit SociFireRunner(soci::session& sql) : sql_(sql) {}
  int64_t Run(const FireQuery& q, bool query) override {
    std::vector<long long> args(q.args.begin(), q.args.end());
    long long out = 0;
    soci::indicator ind = soci::i_ok;
    soci::statement st(sql_);
    for (long long& a : args) st.exchange(soci::use(a));
    if (query) st.exchange(soci::into(out, ind));
    st.alloc();
    st.prepare(q.sql);
    st.define_and_bind();
    st.execute(true);
    if (query) return ind == soci::i_null ? 0 : out;
    return st.get_affected_rows();
  }
 private:
  soci::session& sql_;
};

FireResult FireBatch(FireRunner& db, DbType type, const std::vector<FireSlot>& slots, int64_t now,
                     bool prune_ledger) {
  const bool mysql = type == DbType::kMySql, pg = type == DbType::kPostgres;
  // SQLite plans without statistics and would scan a big table to probe a small one; its CROSS
  // JOIN keeps the written order (the batch or this transaction's commands first, then
  // primary-key lookups). The servers plan from statistics and take no ON after CROSS JOIN.
  const std::string join = type == DbType::kSqlite ? " CROSS JOIN " : " JOIN ";
  const int online = Code(ReleaseState::kOnline), scheduler = Code(CommandType::kScheduler);
  FireResult out;

  // A slot repeated in the batch, or older than an earlier one of its schedule, is a duplicate
  // (as it would be had the earlier one been fired by a call of its own). The rest go to the
  // database, which judges them against the ledger.
  std::vector<FireSlot> batch;
  batch.reserve(slots.size());
  {
    std::unordered_map<int64_t, int64_t> newest;
    for (const FireSlot& s : slots) {
      auto [it, fresh] = newest.emplace(s.schedule_id, s.fire_time);
      if (!fresh) {
        if (s.fire_time <= it->second) {
          ++out.duplicate;
          continue;
        }
        it->second = s.fire_time;
      }
      batch.push_back(s);
    }
  }

  {
    FireQuery q(type);
    // Probed by key only on MySQL, whose planner may start from the ledger.
    q.sql = std::string("CREATE TEMPORARY TABLE IF NOT EXISTS ") + kFireBatch +
            "(schedule_id BIGINT NOT NULL, fire_time BIGINT NOT NULL" +
            (mysql ? ", PRIMARY KEY (schedule_id, fire_time))" : ")") +
            (pg ? " ON COMMIT DELETE ROWS" : "");
    db.Run(q);
    q.sql = std::string("DELETE FROM ") + kFireBatch;  // a rolled back Fire may have left rows
    db.Run(q);
  }
  for (size_t from = 0; from < batch.size(); from += kFillRows) {
    FireQuery q(type);
    q.sql = std::string("INSERT INTO ") + kFireBatch + "(schedule_id, fire_time) VALUES ";
    for (size_t i = from; i < std::min(batch.size(), from + kFillRows); ++i) {
      if (i > from) q.sql += ", ";
      q.sql += "(" + q.P(batch[i].schedule_id) + ", ";
      q.sql += q.P(batch[i].fire_time) + ")";
    }
    db.Run(q);
  }

  const std::string b = std::string(kFireBatch) + " b";
  int64_t before = 0;  // every command of this transaction gets a larger id (ids only grow)
  {
    FireQuery q(type);
    q.sql = "SELECT COALESCE(MAX(id), 0) FROM t_ds_command";
    before = db.Run(q, true);
  }
  int64_t commands = 0;
  {
    FireQuery q(type);
    q.sql =
        "INSERT INTO t_ds_command(command_type, process_definition_code, "
        "process_definition_version, project_code, task_depend_type, failure_strategy, "
        "warning_type, warning_group_id, schedule_time, start_time, executor_id, "
        "process_instance_priority, worker_group, tenant_code, environment_code, command_param) "
        "SELECT ";
    q.sql += q.Big(scheduler) + ", s.process_definition_code, d.version, s.project_code, ";
    q.sql += q.Big(Code(TaskDependType::kTaskPost)) +
             ", s.failure_strategy, s.warning_type, s.warning_group_id, b.fire_time, ";
    // '{}': MySQL gives TEXT columns no default.
    q.sql += q.Big(now) +
             ", s.user_id, s.process_instance_priority, s.worker_group, s.tenant_code, "
             "s.environment_code, '{}' FROM " + b + join +
             "t_ds_schedules s ON s.id = b.schedule_id" + join +
             "t_ds_process_definition d ON d.code = s.process_definition_code "
             "WHERE s.release_state = ";
    q.sql += q.P(online) + " AND d.release_state = ";
    q.sql += q.P(online) +
             " AND NOT EXISTS (SELECT 1 FROM t_ds_schedule_fire f "
             "WHERE f.schedule_id = b.schedule_id AND f.fire_time >= b.fire_time)";
    commands = db.Run(q);
  }

  if (commands < static_cast<int64_t>(batch.size())) {
    // Of the slots without a command, those whose schedule has a ledger row at or after them
    // (another master's, an earlier fire's) are duplicates; the others were offline.
    FireQuery q(type);
    q.sql = "SELECT COUNT(*) FROM " + b +
            " WHERE EXISTS (SELECT 1 FROM t_ds_schedule_fire f WHERE f.schedule_id = "
            "b.schedule_id AND f.fire_time >= b.fire_time)";
    int64_t dup = db.Run(q, true);
    out.duplicate += dup;
    out.offline += static_cast<int64_t>(batch.size()) - commands - dup;
  }
  if (commands == 0) return out;

  // This transaction's commands: on a server database, SCHEDULER commands other masters
  // committed meanwhile may be among them too; their slots are in the ledger already, so they
  // insert nothing below and are kept.
  auto ours = [&](FireQuery& q) {
    std::string w = " WHERE c.id > " + q.P(before);
    return w + " AND c.command_type = " + q.P(scheduler);
  };
  {
    FireQuery q(type);
    q.sql = std::string(mysql ? "INSERT IGNORE" : "INSERT") +
            " INTO t_ds_schedule_fire(schedule_id, fire_time, command_id, create_time) "
            "SELECT s.id, c.schedule_time, c.id, ";
    q.sql += q.Big(now) + " FROM t_ds_command c" + join +
             "t_ds_schedules s ON s.process_definition_code = c.process_definition_code";
    q.sql += ours(q);
    if (!mysql) q.sql += " ON CONFLICT (schedule_id, fire_time) DO NOTHING";
    out.fired = db.Run(q);
  }
  if (out.fired < commands) {
    // Slots another master committed (or was committing) since the commands were written: take
    // those commands back. A schedule deleted meanwhile leaves no ledger row and goes too.
    FireQuery q(type);
    q.sql = "DELETE FROM t_ds_command WHERE id > ";
    q.sql += q.P(before) + " AND command_type = ";
    q.sql += q.P(scheduler) +
             " AND NOT EXISTS (SELECT 1 FROM t_ds_schedules s JOIN t_ds_schedule_fire f ON "
             "f.schedule_id = s.id WHERE s.process_definition_code = "
             "t_ds_command.process_definition_code AND f.fire_time = t_ds_command.schedule_time "
             "AND f.command_id = t_ds_command.id)";
    out.duplicate += db.Run(q);
  }

  if (prune_ledger) {
    FireQuery q(type);
    std::string pairs = "FROM t_ds_command c" + join +
                        "t_ds_schedules s ON s.process_definition_code = c.process_definition_code" +
                        join +
                        "t_ds_schedule_fire f ON f.schedule_id = s.id AND f.fire_time < "
                        "c.schedule_time - ";
    pairs += q.P(kLedgerKeepMs);
    pairs += ours(q);
    // MySQL refuses a DELETE whose subquery reads the table it deletes from; its multi-table
    // DELETE says the same.
    q.sql = mysql ? "DELETE f " + pairs
                  : "DELETE FROM t_ds_schedule_fire WHERE (schedule_id, fire_time) IN "
                    "(SELECT f.schedule_id, f.fire_time " + pairs + ")";
    db.Run(q);
  }
  return out;
}

}  // namespace

StatusOr<FireResult> SqlStore::Fire(const std::vector<FireSlot>& slots) {
  if (slots.empty()) return FireResult{};
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    WriteTx tx(*writer_, opts_.type);
    long long now = clock_.NowMs();
    // Pruning costs a range probe per slot: once a minute is enough to hold the ledger near an
    // hour per schedule fired that often, and keeps it off the path of most fires.
    bool prune = now - last_ledger_prune_ms_ >= 60 * 1000;
    FireResult out;
    if (opts_.type == DbType::kSqlite) {
      SqliteFireRunner db(*writer_);
      out = FireBatch(db, opts_.type, slots, now, prune);
    } else {
      SociFireRunner db(*writer_);
      out = FireBatch(db, opts_.type, slots, now, prune);
    }
    tx.commit();
    if (prune) last_ledger_prune_ms_ = now;
    return out;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "fire schedules");
  }
}

StatusOr<std::optional<int64_t>> SqlStore::LastFire(int64_t schedule_id) {
  ReaderLease sql(*this);
  try {
    long long id = schedule_id, last = 0;
    soci::indicator ind = soci::i_null;
    Stmt st(*sql);
    st.Use(id).Into(last, ind);
    st.Run("SELECT MAX(fire_time) FROM t_ds_schedule_fire WHERE schedule_id = :id");
    if (ind == soci::i_null) return std::optional<int64_t>();
    return std::optional<int64_t>(last);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "last fire");
  }
}

}  // namespace dsched
