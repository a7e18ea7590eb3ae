#include "storage/sql/sql_store.h"

#include <soci/soci.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "common/time_format.h"

#include "model/json_codec.h"
#include "model/states.h"
#include "storage/sql/migrations.h"
#include "storage/sql/sql_util.h"

namespace dsched {

using nlohmann::json;
using namespace sql_internal;

namespace {

Project ProjectFromRow(const soci::row& r) {
  Project p;
  p.id = I(r, "id");
  p.code = I(r, "code");
  p.name = S(r, "name");
  p.description = S(r, "description");
  p.user_id = I(r, "user_id");
  p.user_name = S(r, "user_name");
  p.create_time = I(r, "create_time");
  p.update_time = I(r, "update_time");
  return p;
}

constexpr const char* kWiColumns =
    "name, process_definition_code, process_definition_version, project_code, state, "
    "state_history, recovery, start_time, end_time, run_times, host, owner_epoch, command_type, "
    "command_param, task_depend_type, failure_strategy, warning_type, warning_group_id, "
    "schedule_time, command_start_time, global_params, executor_id, executor_name, "
    "is_sub_process, history_cmd, process_instance_priority, worker_group, timeout, var_pool, "
    "dry_run, restart_time, trigger_code";

// Every read of an instance selects "id, <kWiColumns>" (kWiSelect) and reads it by position:
// on the list page, looking each column up by name cost a tenth of the request.
const std::string kWiSelect =
    std::string("SELECT id, ") + kWiColumns + " FROM t_ds_process_instance";

WorkflowInstance WorkflowInstanceFromRow(const soci::row& r) {
  WorkflowInstance w;
  w.id = IAt(r, 0);
  w.name = SAt(r, 1);
  w.definition_code = IAt(r, 2);
  w.definition_version = static_cast<int>(IAt(r, 3));
  w.project_code = IAt(r, 4);
  w.state = static_cast<WorkflowState>(IAt(r, 5));
  w.state_history = SAt(r, 6);
  w.recovery = static_cast<int>(IAt(r, 7));
  w.start_time = IAt(r, 8);
  w.end_time = IAt(r, 9);
  w.run_times = static_cast<int>(IAt(r, 10));
  w.host = SAt(r, 11);
  w.owner_epoch = IAt(r, 12);
  w.command_type = static_cast<CommandType>(IAt(r, 13));
  w.command_param = SAt(r, 14);
  w.task_depend_type = static_cast<TaskDependType>(IAt(r, 15));
  w.failure_strategy = static_cast<FailureStrategy>(IAt(r, 16));
  w.warning_type = static_cast<WarningType>(IAt(r, 17));
  w.warning_group_id = IAt(r, 18);
  w.schedule_time = IAt(r, 19);
  w.command_start_time = IAt(r, 20);
  w.global_params = SAt(r, 21);
  w.executor_id = IAt(r, 22);
  w.executor_name = SAt(r, 23);
  w.is_sub_process = static_cast<int>(IAt(r, 24));
  w.history_cmd = SAt(r, 25);
  w.priority = static_cast<Priority>(IAt(r, 26));
  w.worker_group = SAt(r, 27);
  w.timeout = static_cast<int>(IAt(r, 28));
  w.var_pool = SAt(r, 29);
  w.dry_run = static_cast<int>(IAt(r, 30));
  w.restart_time = IAt(r, 31);
  w.trigger_code = IAt(r, 32);
  return w;
}

// Binds every column of kWiColumns in order; the holder keeps the converted ints alive.
struct WiBind {
  explicit WiBind(const WorkflowInstance& w)
      : w(w),
        state(Code(w.state)),
        command_type(Code(w.command_type)),
        task_depend_type(Code(w.task_depend_type)),
        failure_strategy(Code(w.failure_strategy)),
        warning_type(Code(w.warning_type)),
        priority(Code(w.priority)),
        def_code(w.definition_code),
        project_code(w.project_code),
        start_time(w.start_time),
        end_time(w.end_time),
        owner_epoch(w.owner_epoch),
        warning_group_id(w.warning_group_id),
        schedule_time(w.schedule_time),
        command_start_time(w.command_start_time),
        executor_id(w.executor_id),
        restart_time(w.restart_time),
        trigger_code(w.trigger_code) {}
  template <typename Stmt>
  void Bind(Stmt& st) {
    st.exchange(soci::use(w.name));
    st.exchange(soci::use(def_code));
    st.exchange(soci::use(w.definition_version));
    st.exchange(soci::use(project_code));
    st.exchange(soci::use(state));
    st.exchange(soci::use(w.state_history));
    st.exchange(soci::use(w.recovery));
    st.exchange(soci::use(start_time));
    st.exchange(soci::use(end_time));
    st.exchange(soci::use(w.run_times));
    st.exchange(soci::use(w.host));
    st.exchange(soci::use(owner_epoch));
    st.exchange(soci::use(command_type));
    st.exchange(soci::use(w.command_param));
    st.exchange(soci::use(task_depend_type));
    st.exchange(soci::use(failure_strategy));
    st.exchange(soci::use(warning_type));
    st.exchange(soci::use(warning_group_id));
    st.exchange(soci::use(schedule_time));
    st.exchange(soci::use(command_start_time));
    st.exchange(soci::use(w.global_params));
    st.exchange(soci::use(executor_id));
    st.exchange(soci::use(w.executor_name));
    st.exchange(soci::use(w.is_sub_process));
    st.exchange(soci::use(w.history_cmd));
    st.exchange(soci::use(priority));
    st.exchange(soci::use(w.worker_group));
    st.exchange(soci::use(w.timeout));
    st.exchange(soci::use(w.var_pool));
    st.exchange(soci::use(w.dry_run));
    st.exchange(soci::use(restart_time));
    st.exchange(soci::use(trigger_code));
  }
  const WorkflowInstance& w;
  int state, command_type, task_depend_type, failure_strategy, warning_type, priority;
  long long def_code, project_code, start_time, end_time, owner_epoch, warning_group_id,
      schedule_time, command_start_time, executor_id, restart_time, trigger_code;
};

constexpr const char* kTiColumns =
    "name, task_type, process_instance_id, process_instance_name, project_code, task_code, "
    "task_definition_version, state, first_submit_time, submit_time, start_time, end_time, host, "
    "execute_path, log_path, retry_times, max_retry_times, retry_interval, pid, app_link, flag, "
    "task_instance_priority, worker_group, executor_id, var_pool, delay_time, task_params, dry_run";

TaskInstance TaskInstanceFromRow(const soci::row& r) {
  TaskInstance t;
  t.id = I(r, "id");
  t.name = S(r, "name");
  t.task_type = S(r, "task_type");
  t.workflow_instance_id = I(r, "process_instance_id");
  t.workflow_instance_name = S(r, "process_instance_name");
  t.project_code = I(r, "project_code");
  t.task_code = I(r, "task_code");
  t.task_definition_version = static_cast<int>(I(r, "task_definition_version"));
  t.state = static_cast<TaskState>(I(r, "state"));
  t.first_submit_time = I(r, "first_submit_time");
  t.submit_time = I(r, "submit_time");
  t.start_time = I(r, "start_time");
  t.end_time = I(r, "end_time");
  t.host = S(r, "host");
  t.execute_path = S(r, "execute_path");
  t.log_path = S(r, "log_path");
  t.retry_times = static_cast<int>(I(r, "retry_times"));
  t.max_retry_times = static_cast<int>(I(r, "max_retry_times"));
  t.retry_interval = static_cast<int>(I(r, "retry_interval"));
  t.pid = static_cast<int>(I(r, "pid"));
  t.app_link = S(r, "app_link");
  t.flag = static_cast<Flag>(I(r, "flag"));
  t.priority = static_cast<Priority>(I(r, "task_instance_priority"));
  t.worker_group = S(r, "worker_group");
  t.executor_id = I(r, "executor_id");
  t.var_pool = S(r, "var_pool");
  t.delay_time = static_cast<int>(I(r, "delay_time"));
  t.task_params = S(r, "task_params");
  t.dry_run = static_cast<int>(I(r, "dry_run"));
  return t;
}

struct TiBind {
  explicit TiBind(const TaskInstance& t)
      : t(t),
        state(Code(t.state)),
        flag(Code(t.flag)),
        priority(Code(t.priority)),
        wi(t.workflow_instance_id),
        project_code(t.project_code),
        task_code(t.task_code),
        first_submit_time(t.first_submit_time),
        submit_time(t.submit_time),
        start_time(t.start_time),
        end_time(t.end_time),
        executor_id(t.executor_id) {}
  template <typename Stmt>
  void Bind(Stmt& st) {
    st.exchange(soci::use(t.name));
    st.exchange(soci::use(t.task_type));
    st.exchange(soci::use(wi));
    st.exchange(soci::use(t.workflow_instance_name));
    st.exchange(soci::use(project_code));
    st.exchange(soci::use(task_code));
    st.exchange(soci::use(t.task_definition_version));
    st.exchange(soci::use(state));
    st.exchange(soci::use(first_submit_time));
    st.exchange(soci::use(submit_time));
    st.exchange(soci::use(start_time));
    st.exchange(soci::use(end_time));
    st.exchange(soci::use(t.host));
    st.exchange(soci::use(t.execute_path));
    st.exchange(soci::use(t.log_path));
    st.exchange(soci::use(t.retry_times));
    st.exchange(soci::use(t.max_retry_times));
    st.exchange(soci::use(t.retry_interval));
    st.exchange(soci::use(t.pid));
    st.exchange(soci::use(t.app_link));
    st.exchange(soci::use(flag));
    st.exchange(soci::use(priority));
    st.exchange(soci::use(t.worker_group));
    st.exchange(soci::use(executor_id));
    st.exchange(soci::use(t.var_pool));
    st.exchange(soci::use(t.delay_time));
    st.exchange(soci::use(t.task_params));
    st.exchange(soci::use(t.dry_run));
  }
  const TaskInstance& t;
  int state, flag, priority;
  long long wi, project_code, task_code, first_submit_time, submit_time, start_time, end_time,
      executor_id;
};

void InsertTaskInstance(soci::session& sql, DbType type, TaskInstance& t,
                        const std::string& insert_key) {
  static const std::string kSql = std::string("INSERT INTO t_ds_task_instance(") + kTiColumns +
                                  ", insert_key) VALUES(" + Placeholders(kTiColumns) + ", :key)";
  TiBind b(t);
  t.id = InsertReturningId(sql, type, "t_ds_task_instance", kSql, [&](Stmt& st) {
    b.Bind(st);
    st.Use(insert_key);
  });
}

long long UpdateTaskInstance(soci::session& sql, const TaskInstance& t) {
  static const std::string kSql = std::string("UPDATE t_ds_task_instance SET ") +
                                  SetClause(kTiColumns) + " WHERE id = :id";
  TiBind b(t);
  long long id = t.id;
  Stmt st(sql);
  b.Bind(st);
  st.Use(id);
  return st.Run(kSql);
}

// ---- Multi-row writes of a group's task rows on the server databases (Commit). One statement
// for many rows: each statement is a round trip plus a parse and plan on the server, and the
// engine waits for its group commit, so per-row statements made a 10,000-task run on
// PostgreSQL or MariaDB far slower than on SQLite, whose statements are in-process calls.

// The kind of each column of kTiColumns, in order: 's' text, 'i' integer. PostgreSQL cannot
// infer the type of a parameter inside a VALUES list (it would be text), so the multi-row
// UPDATE casts each one.
constexpr const char* kTiKinds = "ssisiiiiiiiisssiiiisiisisisi";

// Rows per statement: far below PostgreSQL's 65,535 parameters (29 a row), and with the byte
// cap below MySQL's default max_allowed_packet (16 MiB) whatever the task parameters weigh.
constexpr size_t kRowsPerStatement = 200;
constexpr size_t kTextBytesPerStatement = 4u << 20;

size_t TextBytes(const TaskInstance& t) {
  return t.name.size() + t.task_type.size() + t.workflow_instance_name.size() + t.host.size() +
         t.execute_path.size() + t.log_path.size() + t.app_link.size() + t.worker_group.size() +
         t.var_pool.size() + t.task_params.size() + 256;
}

// Calls write(first, last) for consecutive chunks of rows[0, n) within the caps above.
template <typename Row, typename Write>
void InChunks(const std::vector<Row>& rows, Write&& write) {
  size_t first = 0;
  while (first < rows.size()) {
    size_t last = first, bytes = 0;
    while (last < rows.size() && last - first < kRowsPerStatement &&
           (last == first || bytes + TextBytes(*rows[last]) <= kTextBytesPerStatement)) {
      bytes += TextBytes(*rows[last]);
      ++last;
    }
    write(first, last);
    first = last;
  }
}

// ":r<row>c0, :r<row>c1, ..." for one row of kTiColumns; with `cast`, each in
// CAST(... AS BIGINT|TEXT) (PostgreSQL's VALUES list). `tag` keeps the names of several
// statements apart when they share one text.
std::string RowPlaceholders(size_t row, bool cast, const std::string& tag = "") {
  std::string out;
  const std::string prefix = ":r" + tag + std::to_string(row) + "c";
  for (size_t c = 0; kTiKinds[c]; ++c) {
    if (c) out += ", ";
    std::string p = prefix + std::to_string(c);
    out += cast ? "CAST(" + p + (kTiKinds[c] == 'i' ? " AS BIGINT)" : " AS TEXT)") : p;
  }
  return out;
}

// The ids of the rows with these insert keys, by key: one SELECT per chunk.
std::map<std::string, int64_t> IdsByInsertKey(soci::session& sql,
                                              const std::vector<const std::string*>& keys) {
  std::map<std::string, int64_t> out;
  for (size_t first = 0; first < keys.size(); first += kRowsPerStatement) {
    size_t last = std::min(keys.size(), first + kRowsPerStatement);
    std::string q = "SELECT id, insert_key FROM t_ds_task_instance WHERE insert_key IN (";
    Stmt st(sql);
    for (size_t i = first; i < last; ++i) {
      q += (i == first ? ":k" : ", :k") + std::to_string(i - first);
      st.Use(*keys[i]);
    }
    st.Rows(q + ")", [&](const soci::row& r) { out[S(r, "insert_key")] = I(r, "id"); });
  }
  return out;
}

// Inserts rows[i] with key *keys[i], several rows per statement, and writes each new id back.
// PostgreSQL answers the ids in the INSERT itself (RETURNING). On MySQL the driver's last id is
// the first row's; with `consecutive_ids` (the server gives one statement's rows consecutive
// ids: innodb_autoinc_lock_mode 0 or 1, auto_increment_increment 1) the others follow it, else
// they are read back in one SELECT by key. Throws when a row's id cannot be learnt.
void InsertTaskInstances(soci::session& sql, DbType type, const std::vector<TaskInstance*>& rows,
                         const std::vector<const std::string*>& keys, bool consecutive_ids) {
  if (rows.size() == 1) {
    InsertTaskInstance(sql, type, *rows[0], *keys[0]);
    return;
  }
  InChunks(rows, [&](size_t first, size_t last) {
    std::string q = std::string("INSERT INTO t_ds_task_instance(") + kTiColumns +
                    ", insert_key) VALUES ";
    std::deque<TiBind> binds;  // soci keeps the addresses of the bound values
    Stmt st(sql);
    for (size_t i = first; i < last; ++i) {
      q += (i == first ? "(" : ", (") + RowPlaceholders(i - first, false) + ", :r" +
           std::to_string(i - first) + "k)";
      binds.emplace_back(*rows[i]);
      binds.back().Bind(st);
      st.Use(*keys[i]);
    }
    std::map<std::string, int64_t> ids;
    if (type == DbType::kPostgres) {
      st.Rows(q + " RETURNING id, insert_key",
              [&](const soci::row& r) { ids[S(r, "insert_key")] = I(r, "id"); });
    } else {
      st.Run(q);
      long long first_id = 0;
      if (consecutive_ids && sql.get_last_insert_id("t_ds_task_instance", first_id) &&
          first_id > 0) {
        for (size_t i = first; i < last; ++i)
          ids[*keys[i]] = first_id + static_cast<long long>(i - first);
      } else {
        ids = IdsByInsertKey(sql, std::vector<const std::string*>(keys.begin() + first,
                                                                  keys.begin() + last));
      }
    }
    for (size_t i = first; i < last; ++i) {
      auto it = ids.find(*keys[i]);
      if (it == ids.end())
        throw std::runtime_error("inserted task instance " + rows[i]->name +
                                 " but its id was not found by its insert key");
      rows[i]->id = it->second;
    }
  });
}

// "name = v.c0, task_type = v.c1, ...": the SET list of a multi-row UPDATE from a derived
// table v whose columns c0, c1, ... follow kTiColumns.
const std::string& TiSetFromValues() {
  static const std::string kSet = SetClause(kTiColumns, "v.c");
  return kSet;
}

// PostgreSQL's multi-row UPDATE of rows[first, last), binding their values to st:
// UPDATE ... FROM (VALUES ...) AS v(id, c0, ...) WHERE t.id = v.id. binds and ids keep the
// bound values alive until the statement runs.
std::string PgUpdateRows(Stmt& st, const std::vector<const TaskInstance*>& rows, size_t first,
                         size_t last, const std::string& tag, std::deque<TiBind>& binds,
                         std::deque<long long>& ids) {
  std::string names = "id";
  for (size_t c = 0; kTiKinds[c]; ++c) names += ", c" + std::to_string(c);
  std::string q = "UPDATE t_ds_task_instance AS t SET " + TiSetFromValues() + " FROM (VALUES ";
  for (size_t i = first; i < last; ++i) {
    const std::string r = tag + std::to_string(i - first);
    q += (i == first ? "(CAST(:r" : ", (CAST(:r") + r + "i AS BIGINT), " +
         RowPlaceholders(i - first, true, tag) + ")";
    ids.push_back(rows[i]->id);
    st.Use(ids.back());
    binds.emplace_back(*rows[i]);
    binds.back().Bind(st);
  }
  return q + ") AS v(" + names + ") WHERE t.id = v.id";
}

// Writes each row whole (by id), several rows per statement: the same effect as
// UpdateTaskInstance on each. Ids must be distinct.
void UpdateTaskInstances(soci::session& sql, DbType type,
                         const std::vector<const TaskInstance*>& rows) {
  if (rows.size() == 1) {
    UpdateTaskInstance(sql, *rows[0]);
    return;
  }
  InChunks(rows, [&](size_t first, size_t last) {
    std::deque<TiBind> binds;
    std::deque<long long> ids;
    Stmt st(sql);
    std::string q;
    if (type == DbType::kPostgres) {
      q = PgUpdateRows(st, rows, first, last, "", binds, ids);
    } else {
      // MySQL has no UPDATE ... FROM. A multi-row INSERT by id that turns into an update of
      // each row (every id exists; insert_key, the only other unique key, is not written):
      // one statement the server parses and runs far faster than an UPDATE joined with a
      // derived table of the rows.
      static const std::string kUpsert = [] {
        std::string out;
        for (const std::string& name : ColumnNames(kTiColumns))
          out += (out.empty() ? "" : ", ") + name + " = VALUES(" + name + ")";
        return out;
      }();
      q = std::string("INSERT INTO t_ds_task_instance(id, ") + kTiColumns + ") VALUES ";
      for (size_t i = first; i < last; ++i) {
        const std::string r = std::to_string(i - first);
        q += (i == first ? "(:r" : ", (:r") + r + "i, " + RowPlaceholders(i - first, false) + ")";
        ids.push_back(rows[i]->id);
        st.Use(ids.back());
        binds.emplace_back(*rows[i]);
        binds.back().Bind(st);
      }
      q += " ON DUPLICATE KEY UPDATE " + kUpsert;
    }
    st.Run(q);
  });
}

// The task rows of one fenced group on a server database: the new rows in multi-row INSERTs,
// the changed rows in multi-row UPDATEs. A retried batch (keys given by an earlier attempt)
// first looks its keyed rows up in one SELECT: those the earlier attempt did commit are
// rewritten under their first id instead of being inserted again. SQLite keeps the row-by-row
// path in Commit: its statements cost no round trip.
void WriteGroupTasks(soci::session& sql, DbType type, WriteBatch::Group& g,
                     const std::function<std::string()>& new_key, bool consecutive_ids) {
  const size_t keyed = std::min(g.insert_keys.size(), g.inserts.size());
  while (g.insert_keys.size() < g.inserts.size()) g.insert_keys.push_back(new_key());
  std::map<int64_t, const TaskInstance*> updates;  // by id: the last version of each row
  std::vector<TaskInstance*> inserts;
  std::vector<const std::string*> keys;
  std::map<std::string, int64_t> found;
  if (keyed > 0) {
    std::vector<const std::string*> old_keys;
    for (size_t i = 0; i < keyed; ++i) old_keys.push_back(&g.insert_keys[i]);
    found = IdsByInsertKey(sql, old_keys);
  }
  for (size_t i = 0; i < g.inserts.size(); ++i) {
    auto it = i < keyed ? found.find(g.insert_keys[i]) : found.end();
    if (it != found.end()) {
      g.inserts[i]->id = it->second;
      updates[it->second] = g.inserts[i];
    } else {
      inserts.push_back(g.inserts[i]);
      keys.push_back(&g.insert_keys[i]);
    }
  }
  if (!inserts.empty()) InsertTaskInstances(sql, type, inserts, keys, consecutive_ids);
  // Each update writes the whole row, so of several updates of one task in a batch (say
  // RUNNING then SUCCESS) only the last reaches the database.
  for (const TaskInstance& t : g.updates) updates[t.id] = &t;
  std::vector<const TaskInstance*> rows;
  rows.reserve(updates.size());
  for (const auto& [id, t] : updates) rows.push_back(t);
  if (!rows.empty()) UpdateTaskInstances(sql, type, rows);
}

// PostgreSQL: the first attempt of a whole batch as one statement (data-modifying WITH), so a
// group commit is one round trip instead of five (BEGIN, fence, INSERT, UPDATE, COMMIT). On a
// busy host each round trip also waits for the server process to be scheduled, and the engine
// waits for its commit: those waits, not the server's work, made runs on PostgreSQL slower
// than on SQLite. The statement is its own transaction. Each group's fence comes first and
// RETURNs its row when it holds (and locks it until the end); the group's task writes carry
// EXISTS on that result, so a group whose instance changed owner writes nothing, as in the
// general path. Returns false, having done nothing, for a batch it does not take: a retry
// (rows of an earlier attempt may exist), alerts (rare, so they keep the general path), or
// more rows than one statement should carry. Throws on a database error; the insert keys it
// gave then let the retry find whatever did land.
bool CommitPgInOneStatement(soci::session& sql, WriteBatch& batch,
                            const std::function<std::string()>& new_key) {
  constexpr size_t kMaxRows = 1000;  // 29 parameters a row; PostgreSQL allows 65,535
  size_t rows = 0;
  for (auto& [wid, g] : batch.groups()) {
    if (!g.insert_keys.empty() || !g.alerts.empty()) return false;
    rows += g.inserts.size() + g.updates.size();
  }
  if (rows > kMaxRows) return false;

  Stmt st(sql);
  std::deque<WiBind> wbinds;
  std::deque<TiBind> tbinds;
  std::deque<long long> nums;
  std::string with, out;
  std::vector<WriteBatch::Group*> groups;
  auto add = [&](const std::string& cte, const std::string& body) {
    with += (with.empty() ? "WITH " : ", ") + cte + " AS (" + body + ")";
  };
  for (auto& [wid, g] : batch.groups()) {
    const std::string G = "g" + std::to_string(groups.size()), fence = "f" + G;
    groups.push_back(&g);
    std::string fence_sql;
    if (g.workflow) {
      wbinds.emplace_back(*g.workflow);
      wbinds.back().Bind(st);
      fence_sql = "UPDATE t_ds_process_instance SET " + SetClause(kWiColumns, ":" + G + "c");
    } else {
      fence_sql = "UPDATE t_ds_process_instance SET owner_epoch = owner_epoch";
    }
    nums.push_back(wid);
    st.Use(nums.back());
    nums.push_back(g.epoch);
    st.Use(nums.back());
    add(fence, fence_sql + " WHERE id = :" + G + "id AND owner_epoch = :" + G + "e RETURNING id");
    out += std::string(out.empty() ? "" : " UNION ALL ") + "SELECT CAST(" +
           std::to_string(groups.size() - 1) + " AS BIGINT) AS g, id, CAST('' AS TEXT) AS k FROM " +
           fence;
    const std::string held = " WHERE EXISTS (SELECT 1 FROM " + fence + ")";

    while (g.insert_keys.size() < g.inserts.size()) g.insert_keys.push_back(new_key());
    size_t chunk = 0;
    InChunks(g.inserts, [&](size_t first, size_t last) {
      const std::string tag = G + "i" + std::to_string(chunk++) + "_", cte = "i" + tag;
      std::string q = std::string("INSERT INTO t_ds_task_instance(") + kTiColumns +
                      ", insert_key) SELECT * FROM (VALUES ";
      for (size_t i = first; i < last; ++i) {
        const std::string r = tag + std::to_string(i - first);
        q += (i == first ? "(" : ", (") + RowPlaceholders(i - first, true, tag) + ", CAST(:r" +
             r + "k AS TEXT))";
        tbinds.emplace_back(*g.inserts[i]);
        tbinds.back().Bind(st);
        st.Use(g.insert_keys[i]);
      }
      add(cte, q + ") AS v" + held + " RETURNING id, insert_key");
      out += " UNION ALL SELECT " + std::to_string(groups.size() - 1) + ", id, insert_key FROM " +
             cte;
    });

    std::map<int64_t, const TaskInstance*> latest;  // by id: of several updates, the last
    for (const TaskInstance& t : g.updates) latest[t.id] = &t;
    std::vector<const TaskInstance*> updates;
    for (const auto& [id, t] : latest) updates.push_back(t);
    chunk = 0;
    InChunks(updates, [&](size_t first, size_t last) {
      const std::string tag = G + "u" + std::to_string(chunk++) + "_";
      add("u" + tag, PgUpdateRows(st, updates, first, last, tag, tbinds, nums) + " AND EXISTS "
                     "(SELECT 1 FROM " + fence + ")");
    });
  }

  std::vector<bool> held(groups.size(), false);
  std::map<std::string, int64_t> ids;
  st.Rows(with + " " + out, [&](const soci::row& r) {
    const size_t g = static_cast<size_t>(I(r, "g"));
    const std::string k = S(r, "k");
    if (k.empty())
      held[g] = true;
    else
      ids[k] = I(r, "id");
  });
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    WriteBatch::Group& g = *groups[gi];
    g.lost = !held[gi];
    if (g.lost) continue;
    for (size_t i = 0; i < g.inserts.size(); ++i) {
      auto it = ids.find(g.insert_keys[i]);
      if (it == ids.end())
        throw std::runtime_error("inserted task instance " + g.inserts[i]->name +
                                 " but the statement did not return its id");
      g.inserts[i]->id = it->second;
    }
  }
  return true;
}

// Fenced: updates only while owner_epoch equals `fence`. Returns rows matched (MySQL reports
// matched, not changed, rows: soci connects with CLIENT_FOUND_ROWS; a conformance test checks).
long long UpdateWorkflowInstance(soci::session& sql, const WorkflowInstance& w, int64_t fence) {
  static const std::string kSql = std::string("UPDATE t_ds_process_instance SET ") +
                                  SetClause(kWiColumns) + " WHERE id = :id AND owner_epoch = :f";
  WiBind b(w);
  long long id = w.id, f = fence;
  Stmt st(sql);
  b.Bind(st);
  st.Use(id).Use(f);
  return st.Run(kSql);
}

void InsertWorkflowInstance(soci::session& sql, DbType type, WorkflowInstance& w) {
  static const std::string kSql = std::string("INSERT INTO t_ds_process_instance(") + kWiColumns +
                                  ") VALUES(" + Placeholders(kWiColumns) + ")";
  WiBind b(w);
  w.id = InsertReturningId(sql, type, "t_ds_process_instance", kSql, [&](Stmt& st) { b.Bind(st); });
}

}  // namespace

namespace sql_internal {

// Shared with definition_versions_store.cc: the _log table has the same columns.
WorkflowDefinition DefinitionFromRow(const soci::row& r) {
  WorkflowDefinition d;
  d.id = I(r, "id");
  d.code = I(r, "code");
  d.name = S(r, "name");
  d.version = static_cast<int>(I(r, "version"));
  d.description = S(r, "description");
  d.project_code = I(r, "project_code");
  d.release_state = static_cast<ReleaseState>(I(r, "release_state"));
  auto gp = PropertiesFromText(S(r, "global_params"), "globalParams");
  if (gp.ok()) d.global_params = *gp;
  d.locations = S(r, "locations");
  d.timeout = static_cast<int>(I(r, "timeout"));
  d.execution_type = static_cast<ExecutionType>(I(r, "execution_type"));
  d.warning_group_id = I(r, "warning_group_id");
  d.user_id = I(r, "user_id");
  d.create_time = I(r, "create_time");
  d.update_time = I(r, "update_time");
  return d;
}

}  // namespace sql_internal

StatusOr<std::unique_ptr<SqlStore>> SqlStore::Open(const DbOptions& opts, const Clock& clock,
                                                   SchemaMode mode) {
  std::unique_ptr<SqlStore> s(new SqlStore(opts, clock));
  DSCHED_ASSIGN_OR_RETURN(s->writer_, Connect(opts, /*read_only=*/false));
  if (opts.type == DbType::kMySql) {
    // Whether one INSERT's rows get consecutive ids (InsertTaskInstances): the server's
    // settings, read once. Unknown (a server without InnoDB's variable) counts as no.
    try {
      long long mode = 2, step = 0;
      soci::indicator mi = soci::i_null, si = soci::i_null;
      Stmt(*s->writer_).Into(mode, mi).Into(step, si).Run(
          "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment");
      s->consecutive_ids_ = mi == soci::i_ok && si == soci::i_ok && mode <= 1 && step == 1;
    } catch (const std::exception&) {
      s->consecutive_ids_ = false;
    }
  }
  DSCHED_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*s->writer_, opts.type));
  const int newest = NewestSchemaVersion();
  const std::string where = " in the " + Describe(opts);
  if (version > newest)
    return FailedPrecondition("schema version " + std::to_string(version) + where +
                              " is newer than this dsched knows (" + std::to_string(newest) +
                              "): it was written by a newer dsched; run that one");
  if (mode == SchemaMode::kRequireCurrent && version == 0)
    return FailedPrecondition("no dsched schema" + where +
                              ": create it with script/create-dolphinscheduler.sh "
                              "(dsched db create)");
  if (mode == SchemaMode::kRequireCurrent && version < newest)
    return FailedPrecondition("schema version " + std::to_string(version) + where +
                              " is older than this dsched's " + std::to_string(newest) +
                              ": upgrade it with script/upgrade-dolphinscheduler.sh "
                              "(dsched db upgrade)");
  if (version == 0) {
    Status c = CreateSchema(*s->writer_, opts.type);
    if (!c.ok()) return Status(c.code(), c.message() + where);
  } else if (version < newest) {
    auto u = UpgradeSchema(*s->writer_, opts.type);
    if (!u.ok()) return Status(u.status().code(), u.status().message() + where);
    spdlog::info("upgraded the schema{} from version {} to {}", where, u->from, u->to);
  }
  for (int i = 0; i < opts.pool_size; ++i) {
    DSCHED_ASSIGN_OR_RETURN(auto r, Connect(opts, /*read_only=*/true));
    s->readers_.push_back(std::move(r));
  }
  return s;
}

namespace {
std::string RandomKeyPrefix() {
  std::random_device rd;
  uint64_t r = (uint64_t{rd()} << 32) ^ rd();
  return fmt::format("{:016x}-", r);
}
}  // namespace

SqlStore::SqlStore(const DbOptions& opts, const Clock& clock)
    : opts_(opts), clock_(clock), key_prefix_(RandomKeyPrefix()) {}

// Unique across processes and restarts without coordination: a random prefix per store, then a
// counter.
std::string SqlStore::NewInsertKey() {
  return key_prefix_ + std::to_string(next_insert_key_.fetch_add(1, std::memory_order_relaxed));
}
SqlStore::~SqlStore() = default;

Status SqlStore::Fail(soci::session& sql, const std::exception& e, const std::string& what) {
  std::string m = OneLine(e.what());
  if (opts_.type != DbType::kSqlite) {
    bool connected = true;
    try {
      connected = sql.is_connected();  // a round trip; only on this error path
    } catch (const std::exception&) {
      connected = false;
    }
    if (!connected) {
      if (!outage_.exchange(true))
        spdlog::warn("lost the connection to the {}: {}; reconnecting", Describe(opts_), m);
      try {
        sql.reconnect();
        ApplySessionSettings(sql, opts_, &sql != writer_.get());
        if (outage_.exchange(false)) spdlog::info("reconnected to the {}", Describe(opts_));
      } catch (const std::exception&) {
        // Still down: the next failure on this connection tries again.
      }
      return Unavailable(what + ": the database is unreachable: " + m);
    }
  }
  if (m.find("UNIQUE constraint") != std::string::npos ||       // SQLite
      m.find("duplicate key value") != std::string::npos ||     // PostgreSQL
      m.find("Duplicate entry") != std::string::npos)           // MySQL
    return AlreadyExists(what + ": already exists");
  if (m.find("database is locked") != std::string::npos ||      // SQLite
      m.find("deadlock detected") != std::string::npos ||       // PostgreSQL
      m.find("could not serialize") != std::string::npos ||
      m.find("Deadlock found") != std::string::npos ||          // MySQL
      m.find("Lock wait timeout") != std::string::npos)
    return Unavailable(what + ": " + m);
  return Internal(what + ": " + m);
}

// ---------------------------------------------------------------- projects

StatusOr<Project> SqlStore::CreateProject(Project p) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long code = p.code, uid = p.user_id, ct = clock_.NowMs();
    p.create_time = p.update_time = ct;
    p.id = InsertReturningId(*writer_, opts_.type, "t_ds_project",
                             "INSERT INTO t_ds_project(code, name, description, user_id, "
                             "create_time, update_time) VALUES(:c, :n, :d, :u, :t1, :t2)",
                             [&](Stmt& st) {
                               st.Use(code).Use(p.name).Use(p.description).Use(uid).Use(ct).Use(ct);
                             });
    return p;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "project " + p.name);
  }
}

static const char* kProjectSelect =
    "SELECT p.*, COALESCE(u.user_name, '') AS user_name FROM t_ds_project p "
    "LEFT JOIN t_ds_user u ON u.id = p.user_id ";

StatusOr<Project> SqlStore::GetProject(int64_t code) {
  ReaderLease sql(*this);
  try {
    // Every project-scoped request reads its project: a kept statement (preparing this join
    // was half the cost of the lookup).
    std::vector<Project> rows;
    sql.Rows(std::string(kProjectSelect) + "WHERE p.code = :c", Binds().Int(code),
             [&](const soci::row& r) { rows.push_back(ProjectFromRow(r)); });
    if (rows.empty()) return NotFound("project " + std::to_string(code) + " not found");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get project");
  }
}

StatusOr<Project> SqlStore::GetProjectByName(const std::string& name) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<Project>(*sql, std::string(kProjectSelect) + "WHERE p.name = :n",
                               ProjectFromRow, name);
    if (rows.empty()) return NotFound("project " + name + " not found");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get project");
  }
}

StatusOr<PageResult<Project>> SqlStore::ListProjects(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    PageResult<Project> out;
    std::string like = "%" + search + "%";
    long long total = 0, lim = page.limit, off = page.offset;
    Stmt count(*sql);
    count.Use(like).Into(total);
    count.Run("SELECT COUNT(*) FROM t_ds_project WHERE LOWER(name) LIKE LOWER(:s)");
    out.total = total;
    out.rows = Query<Project>(*sql,
                              std::string(kProjectSelect) +
                                  "WHERE LOWER(p.name) LIKE LOWER(:s) ORDER BY p.id DESC "
                                  "LIMIT :l OFFSET :o",
                              ProjectFromRow, like, lim, off);
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list projects");
  }
}

// ---------------------------------------------------------------- definitions

Status SqlStore::WriteVersion(soci::session& sql, WorkflowDefinition& def,
                              const WorkflowDefinition* previous) {
  long long now = clock_.NowMs();
  def.update_time = now;
  long long code = def.code, pc = def.project_code, uid = def.user_id,
            wg = def.warning_group_id, ct = def.create_time;
  int rs = Code(def.release_state), et = Code(def.execution_type);
  std::string gp = PropertiesToJson(def.global_params).dump();
  // Each task keeps its version when its definition did not change.
  std::map<int64_t, const TaskDefinition*> old;
  if (previous)
    for (const auto& t : previous->tasks) old[t.code] = &t;
  for (auto& t : def.tasks) {
    t.project_code = def.project_code;
    if (!t.user_id) t.user_id = def.user_id;
    auto it = old.find(t.code);
    if (it != old.end()) {
      TaskDefinition a = *it->second, b = t;
      a.version = b.version = 0;
      a.id = b.id = 0;
      a.create_time = b.create_time = a.update_time = b.update_time = 0;
      if (TaskDefinitionToJson(a) == TaskDefinitionToJson(b)) {
        t.version = it->second->version;
        t.create_time = it->second->create_time;
        t.update_time = it->second->update_time;
        continue;
      }
    }
    long long tc = t.code;
    long long max_version = 0;
    soci::indicator ind = soci::i_null;
    Stmt mv(sql);
    mv.Use(tc).Into(max_version, ind);
    mv.Run("SELECT MAX(version) FROM t_ds_task_definition_log WHERE code = :c");
    if (ind != soci::i_ok) max_version = 0;
    t.version = static_cast<int>(max_version) + 1;
    t.create_time = t.create_time ? t.create_time : now;
    t.update_time = now;
    std::string body = TaskDefinitionToJson(t).dump();
    long long tpc = t.project_code, tct = t.create_time, tut = t.update_time;
    Stmt ins(sql);
    ins.Use(tc).Use(t.version).Use(t.name).Use(tpc).Use(t.task_type).Use(body).Use(tct).Use(tut);
    ins.Run("INSERT INTO t_ds_task_definition_log(code, version, name, project_code, task_type, "
            "body, create_time, update_time) VALUES(:c, :v, :n, :p, :t, :b, :ct, :ut)");
  }
  std::map<int64_t, int> versions;
  for (const auto& t : def.tasks) versions[t.code] = t.version;
  for (auto& r : def.relations) {
    r.pre_task_version = r.pre_task_code ? versions[r.pre_task_code] : 0;
    r.post_task_version = versions[r.post_task_code];
    long long pre = r.pre_task_code, post = r.post_task_code;
    std::string cp = r.condition_params.dump();
    Stmt ins(sql);
    ins.Use(code).Use(def.version).Use(pc).Use(r.name).Use(pre).Use(r.pre_task_version).Use(post)
        .Use(r.post_task_version).Use(r.condition_type).Use(cp).Use(now);
    ins.Run("INSERT INTO t_ds_process_task_relation_log(process_definition_code, "
            "process_definition_version, project_code, name, pre_task_code, pre_task_version, "
            "post_task_code, post_task_version, condition_type, condition_params, create_time) "
            "VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k)");
  }
  {
    Stmt log(sql);
    log.Use(code).Use(def.name).Use(def.version).Use(def.description).Use(pc).Use(rs).Use(gp)
        .Use(def.locations).Use(def.timeout).Use(et).Use(wg).Use(uid).Use(ct).Use(now);
    log.Run("INSERT INTO t_ds_process_definition_log(code, name, version, description, "
            "project_code, release_state, global_params, locations, timeout, execution_type, "
            "warning_group_id, user_id, create_time, update_time) "
            "VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k, :l, :m, :n)");
  }
  if (previous) {
    Stmt up(sql);
    up.Use(def.name).Use(def.version).Use(def.description).Use(rs).Use(gp).Use(def.locations)
        .Use(def.timeout).Use(et).Use(wg).Use(now).Use(code);
    up.Run("UPDATE t_ds_process_definition SET name = :a, version = :b, description = :c, "
           "release_state = :d, global_params = :e, locations = :f, timeout = :g, "
           "execution_type = :h, warning_group_id = :i, update_time = :j WHERE code = :k");
  } else {
    def.id = InsertReturningId(
        sql, opts_.type, "t_ds_process_definition",
        "INSERT INTO t_ds_process_definition(code, name, version, description, project_code, "
        "release_state, global_params, locations, timeout, execution_type, warning_group_id, "
        "user_id, create_time, update_time) "
        "VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k, :l, :m, :n)",
        [&](Stmt& st) {
          st.Use(code).Use(def.name).Use(def.version).Use(def.description).Use(pc).Use(rs).Use(gp)
              .Use(def.locations).Use(def.timeout).Use(et).Use(wg).Use(uid).Use(ct).Use(now);
        });
  }
  return Status::Ok();
}

StatusOr<WorkflowDefinition> SqlStore::CreateWorkflow(WorkflowDefinition def) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long pc = def.project_code, n = 0;
    Stmt dup(*writer_);
    dup.Use(pc).Use(def.name).Into(n);
    dup.Run("SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND name = :n");
    if (n) return AlreadyExists("process definition name " + def.name + " already exists");
    WriteTx tx(*writer_, opts_.type);
    def.version = 1;
    def.create_time = clock_.NowMs();
    DSCHED_RETURN_IF_ERROR(WriteVersion(*writer_, def, nullptr));
    tx.commit();
    return def;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "workflow " + def.name);
  }
}

StatusOr<WorkflowDefinition> SqlStore::UpdateWorkflow(WorkflowDefinition def) {
  auto prev = GetWorkflow(def.code);
  if (!prev.ok()) return prev.status();
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long pc = def.project_code, code = def.code, n = 0;
    Stmt dup(*writer_);
    dup.Use(pc).Use(def.name).Use(code).Into(n);
    dup.Run("SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND "
            "name = :n AND code <> :c");
    if (n) return AlreadyExists("process definition name " + def.name + " already exists");
    WriteTx tx(*writer_, opts_.type);
    long long max_version = 0;
    soci::indicator ind = soci::i_null;
    Stmt mv(*writer_);
    mv.Use(code).Into(max_version, ind);
    mv.Run("SELECT MAX(version) FROM t_ds_process_definition_log WHERE code = :c");
    def.version = static_cast<int>(ind == soci::i_ok ? max_version : 0) + 1;
    def.id = prev->id;
    def.create_time = prev->create_time;
    DSCHED_RETURN_IF_ERROR(WriteVersion(*writer_, def, &*prev));
    tx.commit();
    return def;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "workflow " + def.name);
  }
}

StatusOr<WorkflowDefinition> SqlStore::LoadDag(soci::session& sql, WorkflowDefinition def) {
  // One query for the edges and the task definitions they point at: a 10,000-task DAG is one
  // round trip, not 10,000 (which on a server database was most of a run's start-up time).
  long long code = def.code, version = def.version;
  struct Body {
    int64_t code;
    int version;
    bool found;
    int64_t id;
    std::string body;
  };
  std::vector<Body> bodies;
  std::set<std::pair<int64_t, int>> seen;
  Stmt rels(sql);
  rels.Use(code).Use(version);
  rels.Rows("SELECT r.name, r.pre_task_code, r.pre_task_version, r.post_task_code, "
            "r.post_task_version, r.condition_type, r.condition_params, t.id AS task_id, "
            "t.body AS task_body FROM t_ds_process_task_relation_log r "
            "LEFT JOIN t_ds_task_definition_log t ON t.code = r.post_task_code AND "
            "t.version = r.post_task_version "
            "WHERE r.process_definition_code = :c AND r.process_definition_version = :v "
            "ORDER BY r.id",
            [&](const soci::row& r) {
              TaskRelation rel;
              rel.name = S(r, "name");
              rel.pre_task_code = I(r, "pre_task_code");
              rel.pre_task_version = static_cast<int>(I(r, "pre_task_version"));
              rel.post_task_code = I(r, "post_task_code");
              rel.post_task_version = static_cast<int>(I(r, "post_task_version"));
              rel.condition_type = S(r, "condition_type");
              rel.condition_params = json::parse(S(r, "condition_params"), nullptr, false);
              if (rel.condition_params.is_discarded()) rel.condition_params = json::object();
              def.relations.push_back(rel);
              if (!seen.insert({rel.post_task_code, rel.post_task_version}).second) return;
              bool found = r.get_indicator("task_body") == soci::i_ok;
              bodies.push_back({rel.post_task_code, rel.post_task_version, found,
                                found ? I(r, "task_id") : 0, found ? S(r, "task_body") : ""});
            });
  for (const Body& b : bodies) {
    std::string key = std::to_string(b.code) + " v" + std::to_string(b.version);
    if (!b.found) return Internal("task definition " + key + " is missing");
    json j = json::parse(b.body, nullptr, false);
    if (j.is_discarded()) return Internal("task definition " + key + " is not JSON");
    auto t = TaskDefinitionFromJson(j, "stored task");
    if (!t.ok()) return t.status();
    t->id = b.id;
    t->project_code = j.value("projectCode", int64_t{0});
    t->user_id = j.value("userId", int64_t{0});
    t->create_time = ParseDateTime(j.value("createTime", "")).value_or(0);
    t->update_time = ParseDateTime(j.value("updateTime", "")).value_or(0);
    def.tasks.push_back(*t);
  }
  return def;
}

StatusOr<WorkflowDefinition> SqlStore::GetWorkflow(int64_t code) {
  ReaderLease sql(*this);
  try {
    long long c = code;
    auto rows = Query<WorkflowDefinition>(
        *sql, "SELECT * FROM t_ds_process_definition WHERE code = :c", DefinitionFromRow, c);
    if (rows.empty())
      return NotFound("process definition " + std::to_string(code) + " does not exist");
    return LoadDag(*sql, rows.front());
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get workflow");
  }
}

StatusOr<WorkflowDefinition> SqlStore::GetWorkflowVersion(int64_t code, int version) {
  ReaderLease sql(*this);
  try {
    long long c = code, v = version;
    auto rows = Query<WorkflowDefinition>(
        *sql, "SELECT * FROM t_ds_process_definition_log WHERE code = :c AND version = :v",
        DefinitionFromRow, c, v);
    if (rows.empty())
      return NotFound("process definition " + std::to_string(code) + " version " +
                      std::to_string(version) + " does not exist");
    return LoadDag(*sql, rows.front());
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get workflow version");
  }
}

StatusOr<WorkflowDefinition> SqlStore::GetWorkflowByName(int64_t project_code,
                                                         const std::string& name) {
  ReaderLease sql(*this);
  try {
    long long pc = project_code;
    auto rows = Query<WorkflowDefinition>(
        *sql, "SELECT * FROM t_ds_process_definition WHERE project_code = :p AND name = :n",
        DefinitionFromRow, pc, name);
    if (rows.empty()) return NotFound("process definition " + name + " does not exist");
    return LoadDag(*sql, rows.front());
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get workflow");
  }
}

StatusOr<PageResult<WorkflowDefinition>> SqlStore::ListWorkflows(int64_t project_code,
                                                                 const std::string& search,
                                                                 Page page) {
  ReaderLease sql(*this);
  try {
    PageResult<WorkflowDefinition> out;
    Where w;
    w.Int("project_code = :p", project_code);
    if (!search.empty()) w.Str(kNameLike, "%" + search + "%");
    out.total = Count(*sql, "SELECT COUNT(*) FROM t_ds_process_definition", w);
    long long lim = page.limit, off = page.offset;
    Stmt st(*sql);
    w.Bind(st);
    st.Use(lim).Use(off);
    st.Rows("SELECT * FROM t_ds_process_definition" + w.sql() +
                " ORDER BY update_time DESC, id DESC LIMIT :l OFFSET :o",
            [&](const soci::row& r) { out.rows.push_back(DefinitionFromRow(r)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list workflows");
  }
}

Status SqlStore::SetReleaseState(int64_t code, ReleaseState state) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code, now = clock_.NowMs();
    int s = Code(state);
    Stmt st(*writer_);
    st.Use(s).Use(now).Use(c);
    if (st.Run("UPDATE t_ds_process_definition SET release_state = :s, update_time = :t "
               "WHERE code = :c") == 0)
      return NotFound("process definition " + std::to_string(code) + " does not exist");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "release workflow");
  }
}

Status SqlStore::DeleteWorkflow(int64_t code) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code;
    WriteTx tx(*writer_, opts_.type);
    Stmt(*writer_).Use(c).Run("DELETE FROM t_ds_process_definition WHERE code = :c");
    Stmt(*writer_).Use(c).Run("DELETE FROM t_ds_process_definition_log WHERE code = :c");
    Stmt(*writer_).Use(c).Run(
        "DELETE FROM t_ds_process_task_relation_log WHERE process_definition_code = :c");
    // Its schedule goes with it (never online here: a definition is deleted offline, and an
    // online schedule needs an online definition), with the schedule's fire ledger.
    Stmt(*writer_).Use(c).Run(
        "DELETE FROM t_ds_schedule_fire WHERE schedule_id IN "
        "(SELECT id FROM t_ds_schedules WHERE process_definition_code = :c)");
    Stmt(*writer_).Use(c).Run("DELETE FROM t_ds_schedules WHERE process_definition_code = :c");
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete workflow");
  }
}

// ---------------------------------------------------------------- commands & instances

StatusOr<int64_t> SqlStore::InsertCommand(Command c) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long dc = c.definition_code, pc = c.project_code, wi = c.workflow_instance_id,
              wg = c.warning_group_id, sched = c.schedule_time, st = c.start_time,
              ex = c.executor_id, env = c.environment_code, trig = c.trigger_code;
    if (!st) st = clock_.NowMs();
    int ct = Code(c.command_type), tdt = Code(c.task_depend_type),
        fs = Code(c.failure_strategy), wt = Code(c.warning_type), prio = Code(c.priority);
    return InsertReturningId(
        *writer_, opts_.type, "t_ds_command",
        "INSERT INTO t_ds_command(command_type, process_definition_code, "
        "process_definition_version, project_code, process_instance_id, command_param, "
        "task_depend_type, failure_strategy, warning_type, warning_group_id, schedule_time, "
        "start_time, executor_id, process_instance_priority, worker_group, tenant_code, "
        "environment_code, dry_run, trigger_code) VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, "
        ":j, :k, :l, :m, :n, :o, :p, :q, :r, :s)",
        [&](Stmt& s) {
          s.Use(ct).Use(dc).Use(c.definition_version).Use(pc).Use(wi).Use(c.command_param)
              .Use(tdt).Use(fs).Use(wt).Use(wg).Use(sched).Use(st).Use(ex).Use(prio)
              .Use(c.worker_group).Use(c.tenant_code).Use(env).Use(c.dry_run).Use(trig);
        });
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "insert command");
  }
}

StatusOr<std::vector<Command>> SqlStore::ListCommands(int limit) {
  ReaderLease sql(*this);
  try {
    long long lim = limit;
    return Query<Command>(
        *sql, "SELECT * FROM t_ds_command ORDER BY process_instance_priority, id LIMIT :l",
        [](const soci::row& r) {
          Command c;
          c.id = I(r, "id");
          c.command_type = static_cast<CommandType>(I(r, "command_type"));
          c.definition_code = I(r, "process_definition_code");
          c.definition_version = static_cast<int>(I(r, "process_definition_version"));
          c.project_code = I(r, "project_code");
          c.workflow_instance_id = I(r, "process_instance_id");
          c.command_param = S(r, "command_param");
          c.task_depend_type = static_cast<TaskDependType>(I(r, "task_depend_type"));
          c.failure_strategy = static_cast<FailureStrategy>(I(r, "failure_strategy"));
          c.warning_type = static_cast<WarningType>(I(r, "warning_type"));
          c.warning_group_id = I(r, "warning_group_id");
          c.schedule_time = I(r, "schedule_time");
          c.start_time = I(r, "start_time");
          c.executor_id = I(r, "executor_id");
          c.priority = static_cast<Priority>(I(r, "process_instance_priority"));
          c.worker_group = S(r, "worker_group");
          c.tenant_code = S(r, "tenant_code");
          c.environment_code = I(r, "environment_code");
          c.dry_run = static_cast<int>(I(r, "dry_run"));
          c.trigger_code = I(r, "trigger_code");
          return c;
        },
        lim);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list commands");
  }
}

Status SqlStore::ClaimCommand(int64_t command_id, WorkflowInstance* instance,
                              int64_t expected_epoch, const std::vector<TaskInstance>& supersede) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    WriteTx tx(*writer_, opts_.type);
    long long cid = command_id;
    // The DELETE is the claim: of two masters, exactly one deletes the row.
    if (Stmt(*writer_).Use(cid).Run("DELETE FROM t_ds_command WHERE id = :id") == 0)
      return AlreadyExists("command " + std::to_string(command_id) + " was claimed already");
    if (instance->id == 0) {
      InsertWorkflowInstance(*writer_, opts_.type, *instance);
    } else if (UpdateWorkflowInstance(*writer_, *instance, expected_epoch) == 0) {
      return Aborted("workflow instance " + std::to_string(instance->id) +
                     " is owned by another master");
    }
    for (const TaskInstance& t : supersede) UpdateTaskInstance(*writer_, t);
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "claim command");
  }
}

Status SqlStore::FailCommand(const Command& c, const std::string& message) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    WriteTx tx(*writer_, opts_.type);
    long long id = c.id, dc = c.definition_code, st = c.start_time;
    int ct = Code(c.command_type);
    // DELETE + INSERT is the portable "insert or replace": failing a command twice keeps one
    // row with the latest reason.
    Stmt(*writer_).Use(id).Run("DELETE FROM t_ds_error_command WHERE id = :id");
    Stmt(*writer_).Use(id).Use(ct).Use(dc).Use(c.command_param).Use(st).Use(message).Run(
        "INSERT INTO t_ds_error_command(id, command_type, process_definition_code, "
        "command_param, start_time, message) VALUES(:a, :b, :c, :d, :e, :f)");
    Stmt(*writer_).Use(id).Run("DELETE FROM t_ds_command WHERE id = :id");
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "fail command");
  }
}

StatusOr<WorkflowInstance> SqlStore::GetWorkflowInstance(int64_t id) {
  ReaderLease sql(*this);
  try {
    long long i = id;
    auto rows = Query<WorkflowInstance>(*sql, kWiSelect + " WHERE id = :i",
                                        WorkflowInstanceFromRow, i);
    if (rows.empty()) return NotFound("process instance " + std::to_string(id) + " does not exist");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get workflow instance");
  }
}

StatusOr<PageResult<WorkflowInstance>> SqlStore::ListWorkflowInstances(const InstanceFilter& f,
                                                                       Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    if (f.project_code) w.Int("project_code = :pc", f.project_code);
    if (f.definition_code) w.Int("process_definition_code = :dc", f.definition_code);
    if (f.state) w.Int("state = :st", Code(*f.state));
    if (!f.search.empty()) w.Str(kNameLike, "%" + f.search + "%");
    if (!f.host.empty()) w.Str("host = :host", f.host);
    if (f.start_after) w.Int("start_time >= :sa", f.start_after);
    if (f.start_before) w.Int("start_time <= :sb", f.start_before);
    PageResult<WorkflowInstance> out;
    out.total =
        page.with_total ? Count(*sql, "SELECT COUNT(*) FROM t_ds_process_instance", w) : -1;
    Binds b = w.values();
    b.Int(page.limit).Int(page.offset);
    out.rows.reserve(static_cast<size_t>(std::clamp<int64_t>(page.limit, 0, 1000)));
    sql.Rows(kWiSelect + w.sql() +
                 " ORDER BY id DESC LIMIT :l OFFSET :o",
             b, [&](const soci::row& r) { out.rows.push_back(WorkflowInstanceFromRow(r)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list workflow instances");
  }
}

StatusOr<std::vector<WorkflowInstance>> SqlStore::ListByTrigger(int64_t trigger_code) {
  ReaderLease sql(*this);
  try {
    long long t = trigger_code;
    return Query<WorkflowInstance>(
        *sql, kWiSelect + " WHERE trigger_code = :t ORDER BY id",
        WorkflowInstanceFromRow, t);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list by trigger");
  }
}

StatusOr<std::vector<WorkflowInstance>> SqlStore::ListUnfinished() {
  ReaderLease sql(*this);
  try {
    return Query<WorkflowInstance>(
        *sql, kWiSelect + " WHERE state NOT IN (3, 5, 6, 7) ORDER BY id",
        WorkflowInstanceFromRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list unfinished");
  }
}

Status SqlStore::TakeOwnership(int64_t id, int64_t expected_epoch, const std::string& host,
                               int64_t new_epoch) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id, ex = expected_epoch, ne = new_epoch;
    if (Stmt(*writer_).Use(host).Use(ne).Use(i).Use(ex).Run(
            "UPDATE t_ds_process_instance SET host = :h, owner_epoch = :n WHERE id = :i AND "
            "owner_epoch = :e") == 0)
      return Aborted("workflow instance " + std::to_string(id) + " changed owner");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "take ownership");
  }
}

StatusOr<int64_t> SqlStore::MaxOwnerEpoch() {
  ReaderLease sql(*this);
  try {
    long long m = 0;
    soci::indicator ind = soci::i_null;
    Stmt(*sql).Into(m, ind).Run("SELECT MAX(owner_epoch) FROM t_ds_process_instance");
    return ind == soci::i_ok ? static_cast<int64_t>(m) : 0;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "max epoch");
  }
}

StatusOr<TaskInstance> SqlStore::GetTaskInstance(int64_t id) {
  ReaderLease sql(*this);
  try {
    long long i = id;
    auto rows = Query<TaskInstance>(*sql, "SELECT * FROM t_ds_task_instance WHERE id = :i",
                                    TaskInstanceFromRow, i);
    if (rows.empty()) return NotFound("task instance " + std::to_string(id) + " does not exist");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get task instance");
  }
}

StatusOr<std::vector<TaskInstance>> SqlStore::ListTaskInstances(int64_t workflow_instance_id) {
  ReaderLease sql(*this);
  try {
    long long w = workflow_instance_id;
    return Query<TaskInstance>(
        *sql, "SELECT * FROM t_ds_task_instance WHERE process_instance_id = :w ORDER BY id",
        TaskInstanceFromRow, w);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list task instances");
  }
}

StatusOr<PageResult<TaskInstance>> SqlStore::ListTaskInstancesPaged(const TaskInstanceFilter& f,
                                                                    Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    if (f.project_code) w.Int("project_code = :pc", f.project_code);
    if (f.workflow_instance_id) w.Int("process_instance_id = :wi", f.workflow_instance_id);
    if (f.task_instance_id) w.Int("id = :ti", f.task_instance_id);
    if (f.task_code) w.Int("task_code = :tc", f.task_code);
    if (f.state) w.Int("state = :st", Code(*f.state));
    if (!f.search.empty()) w.Str(kNameLike, "%" + f.search + "%");
    if (!f.host.empty()) w.Str("host = :host", f.host);
    PageResult<TaskInstance> out;
    out.total = Count(*sql, "SELECT COUNT(*) FROM t_ds_task_instance", w);
    long long lim = page.limit, off = page.offset;
    Stmt st(*sql);
    w.Bind(st);
    st.Use(lim).Use(off);
    st.Rows("SELECT * FROM t_ds_task_instance" + w.sql() + " ORDER BY id DESC LIMIT :l OFFSET :o",
            [&](const soci::row& r) { out.rows.push_back(TaskInstanceFromRow(r)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list task instances");
  }
}

Status SqlStore::Commit(WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  std::lock_guard<std::mutex> l(write_mu_);
  // A batch comes back after a failed attempt (an outage): only this attempt's fences count.
  for (auto& [wid, g] : batch.groups()) g.lost = false;
  try {
    if (opts_.type == DbType::kPostgres &&
        CommitPgInOneStatement(*writer_, batch, [this] { return NewInsertKey(); }))
      return Status::Ok();
    WriteTx tx(*writer_, opts_.type);
    for (auto& [wid, g] : batch.groups()) {
      // The fence comes first in each group, so a group that lost its instance has written
      // nothing and is simply skipped: no savepoint needed (two round trips per group saved on
      // the servers).
      long long fenced;
      if (g.workflow) {
        fenced = UpdateWorkflowInstance(*writer_, *g.workflow, g.epoch);
      } else {
        long long id = wid, ep = g.epoch;
        // A locking no-op: it holds the row until commit, so no takeover slips in between.
        fenced = Stmt(*writer_).Use(id).Use(ep).Run(
            "UPDATE t_ds_process_instance SET owner_epoch = owner_epoch WHERE id = :i AND "
            "owner_epoch = :e");
      }
      if (fenced == 0) {
        g.lost = true;
        continue;
      }
      if (opts_.type != DbType::kSqlite) {
        WriteGroupTasks(*writer_, opts_.type, g, [this] { return NewInsertKey(); },
                        consecutive_ids_);
      } else {
        for (size_t i = 0; i < g.inserts.size(); ++i) {
          TaskInstance& t = *g.inserts[i];
          if (i == g.insert_keys.size()) {
            g.insert_keys.push_back(NewInsertKey());
            InsertTaskInstance(*writer_, opts_.type, t, g.insert_keys[i]);
            continue;
          }
          // A retried batch: the lookup costs a round trip, but only after a failure.
          long long found = 0;
          soci::indicator ind = soci::i_null;
          Stmt(*writer_).Use(g.insert_keys[i]).Into(found, ind).Run(
              "SELECT id FROM t_ds_task_instance WHERE insert_key = :k");
          if (ind == soci::i_ok && found > 0) {
            t.id = found;
            UpdateTaskInstance(*writer_, t);
          } else {
            InsertTaskInstance(*writer_, opts_.type, t, g.insert_keys[i]);
          }
        }
        // Each update writes the whole row, so of several updates of one task in a batch (say
        // RUNNING then SUCCESS) only the last needs to reach the database.
        std::set<int64_t> written;
        for (auto it = g.updates.rbegin(); it != g.updates.rend(); ++it)
          if (written.insert(it->id).second) UpdateTaskInstance(*writer_, *it);
      }
      if (!g.alerts.empty()) WriteGroupAlerts(g);  // alert_store.cc
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    for (auto& [wid, g] : batch.groups())
      for (TaskInstance* t : g.inserts) t->id = 0;
    return Fail(*writer_, e, "group commit");
  }
}

// ---------------------------------------------------------------- retention

StatusOr<SqlStore::CleanResult> SqlStore::CleanFinished(int64_t before_ms, bool dry_run,
                                                       int batch,
                                                       std::vector<std::string>* log_paths) {
  // The states that end a run (model/states.h IsFinal): nothing runs in them.
  static const std::string kEnded = "state IN (3, 5, 6, 7) AND end_time > 0 AND end_time < :b";
  CleanResult out;
  long long before = before_ms, limit = std::max(1, batch);
  if (dry_run) {
    ReaderLease sql(*this);
    try {
      long long wis = 0, tis = 0;
      Stmt(*sql).Use(before).Into(wis).Run("SELECT COUNT(*) FROM t_ds_process_instance WHERE " +
                                           kEnded);
      Stmt(*sql).Use(before).Into(tis).Run(
          "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id IN (SELECT id FROM "
          "t_ds_process_instance WHERE " + kEnded + ")");
      out.workflow_instances = wis;
      out.task_instances = tis;
      return out;
    } catch (const std::exception& e) {
      return Fail(*sql, e, "clean (dry run)");
    }
  }
  for (;;) {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      std::vector<long long> ids;
      Stmt pick(*writer_);
      pick.Use(before).Use(limit);
      pick.Rows("SELECT id FROM t_ds_process_instance WHERE " + kEnded + " ORDER BY id LIMIT :n",
                [&](const soci::row& r) { ids.push_back(I(r, "id")); });
      if (ids.empty()) return out;
      std::vector<std::string> logs_of_batch;
      WriteTx tx(*writer_, opts_.type);
      for (long long id : ids) {
        // Deleting the instance first, under the same condition, is what keeps a run safe: a
        // rerun that started since the pick changed the state, so this deletes nothing and its
        // tasks stay. On the servers the DELETE also locks the row until commit.
        if (Stmt(*writer_).Use(id).Use(before).Run(
                "DELETE FROM t_ds_process_instance WHERE id = :i AND " + kEnded) == 0)
          continue;
        ++out.workflow_instances;
        Stmt logs(*writer_);
        logs.Use(id);
        logs.Rows("SELECT log_path FROM t_ds_task_instance WHERE process_instance_id = :i",
                  [&](const soci::row& r) {
                    std::string p = S(r, "log_path");
                    if (!p.empty()) logs_of_batch.push_back(p);
                  });
        out.task_instances += Stmt(*writer_).Use(id).Run(
            "DELETE FROM t_ds_task_instance WHERE process_instance_id = :i");
      }
      tx.commit();
      if (log_paths) log_paths->insert(log_paths->end(), logs_of_batch.begin(), logs_of_batch.end());
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "clean");
    }
  }
}

// ---------------------------------------------------------------- users

namespace {
User UserFromRow(const soci::row& r) {
  User u;
  u.id = I(r, "id");
  u.user_name = S(r, "user_name");
  u.password_hash = S(r, "user_password");
  u.user_type = static_cast<UserType>(I(r, "user_type"));
  u.email = S(r, "email");
  u.phone = S(r, "phone");
  u.tenant_id = I(r, "tenant_id");
  u.state = static_cast<int>(I(r, "state"));
  u.queue = S(r, "queue");
  u.time_zone = S(r, "time_zone");
  u.create_time = I(r, "create_time");
  u.update_time = I(r, "update_time");
  return u;
}
}  // namespace

StatusOr<User> SqlStore::GetUserByName(const std::string& name) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<User>(*sql, "SELECT * FROM t_ds_user WHERE user_name = :n", UserFromRow, name);
    if (rows.empty()) return NotFound("user " + name + " not exists");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get user");
  }
}

StatusOr<User> SqlStore::GetUser(int64_t id) {
  ReaderLease sql(*this);
  try {
    long long i = id;
    auto rows = Query<User>(*sql, "SELECT * FROM t_ds_user WHERE id = :i", UserFromRow, i);
    if (rows.empty()) return NotFound("user " + std::to_string(id) + " not exists");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get user");
  }
}

StatusOr<User> SqlStore::CreateUser(User u) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long now = clock_.NowMs(), tid = u.tenant_id;
    int ut = static_cast<int>(u.user_type);
    u.create_time = u.update_time = now;
    u.id = InsertReturningId(
        *writer_, opts_.type, "t_ds_user",
        "INSERT INTO t_ds_user(user_name, user_password, user_type, email, phone, tenant_id, "
        "state, queue, time_zone, create_time, update_time) VALUES(:a, :b, :c, :d, :e, :f, :g, "
        ":h, :i, :j, :k)",
        [&](Stmt& st) {
          st.Use(u.user_name).Use(u.password_hash).Use(ut).Use(u.email).Use(u.phone).Use(tid)
              .Use(u.state).Use(u.queue).Use(u.time_zone).Use(now).Use(now);
        });
    return u;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "user " + u.user_name);
  }
}

Status SqlStore::CreateSession(const Session& s) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long uid = s.user_id, t = s.last_login_time;
    Stmt(*writer_).Use(s.id).Use(uid).Use(s.ip).Use(t).Run(
        "INSERT INTO t_ds_session(id, user_id, ip, last_login_time) VALUES(:a, :b, :c, :d)");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "create session");
  }
}

StatusOr<Session> SqlStore::GetSession(const std::string& id) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<Session>(*sql, "SELECT * FROM t_ds_session WHERE id = :i",
                               [](const soci::row& r) {
                                 Session s;
                                 s.id = S(r, "id");
                                 s.user_id = I(r, "user_id");
                                 s.ip = S(r, "ip");
                                 s.last_login_time = I(r, "last_login_time");
                                 return s;
                               },
                               id);
    if (rows.empty()) return NotFound("session not found");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get session");
  }
}

Status SqlStore::TouchSession(const std::string& id, int64_t now_ms) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long t = now_ms;
    Stmt(*writer_).Use(t).Use(id).Run(
        "UPDATE t_ds_session SET last_login_time = :t WHERE id = :i");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "touch session");
  }
}

Status SqlStore::DeleteSessionsOfUser(int64_t user_id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long u = user_id;
    Stmt(*writer_).Use(u).Run("DELETE FROM t_ds_session WHERE user_id = :u");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete sessions");
  }
}

StatusOr<User> SqlStore::GetUserByToken(const std::string& token, int64_t now_ms) {
  long long uid = 0, exp = 0;
  {
    ReaderLease sql(*this);
    try {
      bool found = false;
      Stmt st(*sql);
      st.Use(token);
      st.Rows("SELECT user_id, expire_time FROM t_ds_access_token WHERE token = :t",
              [&](const soci::row& r) {
                found = true;
                uid = I(r, "user_id");
                exp = I(r, "expire_time");
              });
      if (!found) return Unauthenticated("unknown token");
    } catch (const std::exception& e) {
      return Fail(*sql, e, "get token");
    }
  }
  if (exp < now_ms) return Unauthenticated("token expired");
  return GetUser(uid);
}

}  // namespace dsched
