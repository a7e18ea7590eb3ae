// SqlStore's ScheduleStore: cron schedules and the fire ledger (DESIGN.md §3, "Cron, exactly
// once"). The firing rule lives in Fire(); when a slot fires is the master's scheduler's business
// (src/master/scheduler.h), not this file's.

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <functional>
#include <stdexcept>

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

// The statements of a fire, with parameters named by `ph` (1-based). Per slot fired:
//  - command, then ledger (below), then
//  - prune (1 schedule id, 2 slot): the schedule's ledger rows more than kLedgerKeepMs older
//    than the slot go, so the ledger stays small (an hour of slots per schedule). Not every
//    older row: a lagging master firing slot T while another commits T+5s must still meet
//    T's row (its INSERT waits for that transaction and then conflicts); had T's row been
//    deleted in that same transaction, the waiting INSERT would go through and T would start
//    twice. A master an hour behind is fenced out long before (its session expired).
//  - newer (1 schedule id, 2 slot): the schedule's ledger rows at or after the slot. One
//    means the slot fired already or is older than one that did (a lagging master's), and
//    is not fired; run only to tell such a skip from an offline one in the counts.
//  - command (1 command type, 2 task depend type, 3 slot, 4 now, 5 command param, 6 schedule
//    id, 7 and 8 the online code, 9 the slot again: soci binds each name once), inserting
//    nothing when the schedule already has a ledger row at or after the slot (see `newer`).
//  - ledger (1 schedule id, 2 slot, 3 command id, 4 now).
// The command first, read from the schedule and definition rows as they are now: a schedule
// taken offline (or a definition released offline) since the caller looked inserts nothing, as
// DolphinScheduler's fire job does nothing for an offline definition. Then the ledger row,
// which the primary key makes the arbiter: a slot already there (committed by another master,
// or waited for until it committed) inserts nothing, and the command just written is taken
// back.
constexpr int64_t kLedgerKeepMs = 3600 * 1000;

struct FireSql {
  std::string prune, newer, command, ledger;
};

FireSql MakeFireSql(DbType type, const std::function<std::string(int)>& ph) {
  // PostgreSQL types a parameter in a SELECT list as text, which it will not store in a BIGINT
  // column; the others take the value as it is.
  auto big = [&](int i) {
    return type == DbType::kPostgres ? "CAST(" + ph(i) + " AS BIGINT)" : ph(i);
  };
  FireSql q;
  q.prune = "DELETE FROM t_ds_schedule_fire WHERE schedule_id = " + ph(1) + " AND fire_time < " +
            big(2) + " - " + std::to_string(kLedgerKeepMs);
  q.newer = "SELECT COUNT(*) FROM t_ds_schedule_fire WHERE schedule_id = " + ph(1) +
            " AND fire_time >= " + ph(2);
  q.command =
      "INSERT INTO t_ds_command(command_type, process_definition_code, "
      "process_definition_version, project_code, task_depend_type, failure_strategy, "
      "warning_type, warning_group_id, schedule_time, start_time, executor_id, "
      "process_instance_priority, worker_group, tenant_code, environment_code, command_param) "
      "SELECT " + big(1) + ", s.process_definition_code, d.version, s.project_code, " + big(2) +
      ", s.failure_strategy, s.warning_type, s.warning_group_id, " + big(3) + ", " + big(4) +
      ", s.user_id, s.process_instance_priority, s.worker_group, s.tenant_code, "
      "s.environment_code, " + ph(5) +
      " FROM t_ds_schedules s JOIN t_ds_process_definition d "
      "ON d.code = s.process_definition_code "
      "WHERE s.id = " + ph(6) + " AND s.release_state = " + ph(7) +
      " AND d.release_state = " + ph(8) +
      " AND NOT EXISTS (SELECT 1 FROM t_ds_schedule_fire f WHERE f.schedule_id = s.id "
      "AND f.fire_time >= " + big(9) + ")";
  if (type == DbType::kPostgres) q.command += " RETURNING id";
  const std::string values =
      "(schedule_id, fire_time, command_id, create_time) VALUES(" + ph(1) + ", " + ph(2) + ", " +
      ph(3) + ", " + ph(4) + ")";
  q.ledger = type == DbType::kMySql
                 ? "INSERT IGNORE INTO t_ds_schedule_fire" + values
                 : "INSERT INTO t_ds_schedule_fire" + values +
                       " ON CONFLICT (schedule_id, fire_time) DO NOTHING";
  return q;
}

constexpr const char* kCommandParam = "{}";  // MySQL gives TEXT columns no default

// SQLite, the embedded default: the same statements on the connection's native handle. Through
// soci, binding the values of each execution costs about as much as the statement itself,
// which at 10,000 slots of one second is most of the way to the 100 ms target. Throws
// std::runtime_error with SQLite's message (turned into a Status by the caller).
FireResult FireOnSqlite(soci::session& sql, const std::vector<FireSlot>& slots, int64_t now,
                        bool prune_ledger) {
  namespace sq = sqlite_api;
  sq::sqlite3* db = static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
  struct Prepared {
    sq::sqlite3_stmt* st = nullptr;
    ~Prepared() { sq::sqlite3_finalize(st); }
  };
  auto fail = [db]() { throw std::runtime_error(sq::sqlite3_errmsg(db)); };
  auto prepare = [&](const std::string& q, Prepared& p) {
    if (sq::sqlite3_prepare_v2(db, q.c_str(), -1, &p.st, nullptr) != SQLITE_OK) fail();
  };
  // Runs a prepared statement to completion and returns the rows it changed; its bindings
  // stay for the next run.
  auto run = [&](Prepared& p) {
    int rc = sq::sqlite3_step(p.st);
    if (rc == SQLITE_ROW) {  // the count of `newer`
      int n = sq::sqlite3_column_int(p.st, 0);
      sq::sqlite3_reset(p.st);
      return n;
    }
    if (rc != SQLITE_DONE) {
      std::string m = sq::sqlite3_errmsg(db);
      sq::sqlite3_reset(p.st);
      throw std::runtime_error(m);
    }
    sq::sqlite3_reset(p.st);
    return sq::sqlite3_changes(db);
  };
  FireSql q = MakeFireSql(DbType::kSqlite, [](int i) { return "?" + std::to_string(i); });
  Prepared prune, newer, cmd, ledger, undo;
  prepare(q.prune, prune);
  prepare(q.newer, newer);
  prepare(q.command, cmd);
  prepare(q.ledger, ledger);
  prepare("DELETE FROM t_ds_command WHERE id = ?1", undo);
  const int online = Code(ReleaseState::kOnline);
  sq::sqlite3_bind_int(cmd.st, 1, Code(CommandType::kScheduler));
  sq::sqlite3_bind_int(cmd.st, 2, Code(TaskDependType::kTaskPost));
  sq::sqlite3_bind_int64(cmd.st, 4, now);
  sq::sqlite3_bind_text(cmd.st, 5, kCommandParam, -1, SQLITE_STATIC);
  sq::sqlite3_bind_int(cmd.st, 7, online);
  sq::sqlite3_bind_int(cmd.st, 8, online);
  sq::sqlite3_bind_int64(ledger.st, 4, now);
  FireResult out;
  for (const FireSlot& slot : slots) {
    for (Prepared* p : {&newer, &prune}) {
      sq::sqlite3_bind_int64(p->st, 1, slot.schedule_id);
      sq::sqlite3_bind_int64(p->st, 2, slot.fire_time);
    }
    sq::sqlite3_bind_int64(cmd.st, 3, slot.fire_time);
    sq::sqlite3_bind_int64(cmd.st, 9, slot.fire_time);
    sq::sqlite3_bind_int64(cmd.st, 6, slot.schedule_id);
    if (run(cmd) == 0) {
      ++(run(newer) > 0 ? out.duplicate : out.offline);
      continue;
    }
    int64_t cid = sq::sqlite3_last_insert_rowid(db);
    sq::sqlite3_bind_int64(ledger.st, 1, slot.schedule_id);
    sq::sqlite3_bind_int64(ledger.st, 2, slot.fire_time);
    sq::sqlite3_bind_int64(ledger.st, 3, cid);
    if (run(ledger) == 0) {
      ++out.duplicate;
      sq::sqlite3_bind_int64(undo.st, 1, cid);
      run(undo);
      continue;
    }
    if (prune_ledger) run(prune);
    ++out.fired;
  }
  return out;
}

// PostgreSQL and MySQL through soci, each statement prepared once for the batch.
FireResult FireOnServer(soci::session& sql, DbType type, const std::vector<FireSlot>& slots,
                        long long now, bool prune_ledger) {
  long long sid = 0, ft = 0, cid = 0;
  const int ctype = Code(CommandType::kScheduler), depend = Code(TaskDependType::kTaskPost),
            online1 = Code(ReleaseState::kOnline), online2 = online1;
  const std::string param = kCommandParam;
  const bool pg = type == DbType::kPostgres;
  FireSql q = MakeFireSql(type, [](int i) { return ":p" + std::to_string(i); });
  soci::statement cmd(sql);
  cmd.exchange(soci::use(ctype));
  cmd.exchange(soci::use(depend));
  cmd.exchange(soci::use(ft));
  cmd.exchange(soci::use(now));
  cmd.exchange(soci::use(param));
  cmd.exchange(soci::use(sid));
  cmd.exchange(soci::use(online1));
  cmd.exchange(soci::use(online2));
  cmd.exchange(soci::use(ft));
  if (pg) cmd.exchange(soci::into(cid));
  cmd.alloc();
  cmd.prepare(q.command);
  cmd.define_and_bind();
  long long newer_count = 0;
  soci::statement newer(sql);
  newer.exchange(soci::use(sid));
  newer.exchange(soci::use(ft));
  newer.exchange(soci::into(newer_count));
  newer.alloc();
  newer.prepare(q.newer);
  newer.define_and_bind();
  soci::statement prune(sql);
  prune.exchange(soci::use(sid));
  prune.exchange(soci::use(ft));
  prune.alloc();
  prune.prepare(q.prune);
  prune.define_and_bind();
  soci::statement ledger(sql);
  ledger.exchange(soci::use(sid));
  ledger.exchange(soci::use(ft));
  ledger.exchange(soci::use(cid));
  ledger.exchange(soci::use(now));
  ledger.alloc();
  ledger.prepare(q.ledger);
  ledger.define_and_bind();

  FireResult out;
  for (const FireSlot& slot : slots) {
    sid = slot.schedule_id;
    ft = slot.fire_time;
    cid = 0;
    cmd.execute(true);
    if (cmd.get_affected_rows() == 0) {
      newer.execute(true);
      ++(newer_count > 0 ? out.duplicate : out.offline);
      continue;
    }
    if (!pg && !sql.get_last_insert_id("t_ds_command", cid))
      sql << "SELECT LAST_INSERT_ID()", soci::into(cid);
    ledger.execute(true);
    if (ledger.get_affected_rows() == 0) {
      ++out.duplicate;
      long long dup = cid;
      Stmt(sql).Use(dup).Run("DELETE FROM t_ds_command WHERE id = :id");
      continue;
    }
    if (prune_ledger) prune.execute(true);
    ++out.fired;
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
    // Pruning is a statement per slot: once a minute is enough to hold the ledger near an hour
    // per schedule, and keeps it off the path of the other fires (10,000 due at once).
    bool prune = now - last_ledger_prune_ms_ >= 60 * 1000;
    FireResult out = opts_.type == DbType::kSqlite
                         ? FireOnSqlite(*writer_, slots, now, prune)
                         : FireOnServer(*writer_, opts_.type, slots, now, prune);
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
