#include "storage/sql/sql_store.h"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <set>

#include <nlohmann/json.hpp>

#include "common/time_format.h"

#include "model/json_codec.h"
#include "model/states.h"
#include "storage/sql/migrations.h"

namespace dsched {

using nlohmann::json;

namespace {

// Column readers that accept whatever numeric type the backend reports.
int64_t I(const soci::row& r, const std::string& name) {
  if (r.get_indicator(name) == soci::i_null) return 0;
  switch (r.get_properties(name).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(name);
    case soci::dt_long_long:
      return r.get<long long>(name);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(r.get<unsigned long long>(name));
    case soci::dt_double:
      return static_cast<int64_t>(r.get<double>(name));
    case soci::dt_string:
      return std::stoll(r.get<std::string>(name));
    default:
      return 0;
  }
}

std::string S(const soci::row& r, const std::string& name) {
  if (r.get_indicator(name) == soci::i_null) return "";
  switch (r.get_properties(name).get_data_type()) {
    case soci::dt_string:
      return r.get<std::string>(name);
    default:
      return std::to_string(I(r, name));
  }
}

Status FromException(const std::exception& e, const char* what) {
  std::string m = e.what();
  if (m.find("UNIQUE constraint") != std::string::npos)
    return AlreadyExists(std::string(what) + ": already exists");
  if (m.find("database is locked") != std::string::npos)
    return Unavailable(std::string(what) + ": " + m);
  return Internal(std::string(what) + ": " + m);
}

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

constexpr const char* kWiColumns =
    "name, process_definition_code, process_definition_version, project_code, state, "
    "state_history, recovery, start_time, end_time, run_times, host, owner_epoch, command_type, "
    "command_param, task_depend_type, failure_strategy, warning_type, warning_group_id, "
    "schedule_time, command_start_time, global_params, executor_id, executor_name, "
    "is_sub_process, history_cmd, process_instance_priority, worker_group, timeout, var_pool, "
    "dry_run, restart_time, trigger_code";

WorkflowInstance WorkflowInstanceFromRow(const soci::row& r) {
  WorkflowInstance w;
  w.id = I(r, "id");
  w.name = S(r, "name");
  w.definition_code = I(r, "process_definition_code");
  w.definition_version = static_cast<int>(I(r, "process_definition_version"));
  w.project_code = I(r, "project_code");
  w.state = static_cast<WorkflowState>(I(r, "state"));
  w.state_history = S(r, "state_history");
  w.recovery = static_cast<int>(I(r, "recovery"));
  w.start_time = I(r, "start_time");
  w.end_time = I(r, "end_time");
  w.run_times = static_cast<int>(I(r, "run_times"));
  w.host = S(r, "host");
  w.owner_epoch = I(r, "owner_epoch");
  w.command_type = static_cast<CommandType>(I(r, "command_type"));
  w.command_param = S(r, "command_param");
  w.task_depend_type = static_cast<TaskDependType>(I(r, "task_depend_type"));
  w.failure_strategy = static_cast<FailureStrategy>(I(r, "failure_strategy"));
  w.warning_type = static_cast<WarningType>(I(r, "warning_type"));
  w.warning_group_id = I(r, "warning_group_id");
  w.schedule_time = I(r, "schedule_time");
  w.command_start_time = I(r, "command_start_time");
  w.global_params = S(r, "global_params");
  w.executor_id = I(r, "executor_id");
  w.executor_name = S(r, "executor_name");
  w.is_sub_process = static_cast<int>(I(r, "is_sub_process"));
  w.history_cmd = S(r, "history_cmd");
  w.priority = static_cast<Priority>(I(r, "process_instance_priority"));
  w.worker_group = S(r, "worker_group");
  w.timeout = static_cast<int>(I(r, "timeout"));
  w.var_pool = S(r, "var_pool");
  w.dry_run = static_cast<int>(I(r, "dry_run"));
  w.restart_time = I(r, "restart_time");
  w.trigger_code = I(r, "trigger_code");
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

// "a = :a, b = :b" for an UPDATE of the given column list.
std::string SetClause(const char* columns) {
  std::string out, cols = columns;
  size_t i = 0;
  while (i < cols.size()) {
    size_t c = cols.find(',', i);
    std::string name = cols.substr(i, c == std::string::npos ? std::string::npos : c - i);
    name.erase(0, name.find_first_not_of(' '));
    if (!out.empty()) out += ", ";
    out += name + " = ?";
    i = c == std::string::npos ? cols.size() : c + 1;
  }
  return out;
}

std::string Placeholders(const char* columns) {
  std::string out = "?";
  for (const char* p = columns; *p; ++p)
    if (*p == ',') out += ", ?";
  return out;
}

int64_t LastInsertId(soci::session& sql) {
  long long id = 0;
  sql << "SELECT last_insert_rowid()", soci::into(id);
  return id;
}

void InsertTaskInstance(soci::session& sql, TaskInstance& t) {
  static const std::string kSql = std::string("INSERT INTO t_ds_task_instance(") + kTiColumns +
                                  ") VALUES(" + Placeholders(kTiColumns) + ")";
  TiBind b(t);
  soci::statement st(sql);
  b.Bind(st);
  st.alloc();
  st.prepare(kSql);
  st.define_and_bind();
  st.execute(true);
  t.id = LastInsertId(sql);
}

long long UpdateTaskInstance(soci::session& sql, const TaskInstance& t) {
  static const std::string kSql =
      std::string("UPDATE t_ds_task_instance SET ") + SetClause(kTiColumns) + " WHERE id = ?";
  TiBind b(t);
  long long id = t.id;
  soci::statement st(sql);
  b.Bind(st);
  st.exchange(soci::use(id));
  st.alloc();
  st.prepare(kSql);
  st.define_and_bind();
  st.execute(true);
  return st.get_affected_rows();
}

// Fenced: updates only while owner_epoch equals `fence`. Returns rows affected.
long long UpdateWorkflowInstance(soci::session& sql, const WorkflowInstance& w, int64_t fence) {
  static const std::string kSql = std::string("UPDATE t_ds_process_instance SET ") +
                                  SetClause(kWiColumns) + " WHERE id = ? AND owner_epoch = ?";
  WiBind b(w);
  long long id = w.id, f = fence;
  soci::statement st(sql);
  b.Bind(st);
  st.exchange(soci::use(id));
  st.exchange(soci::use(f));
  st.alloc();
  st.prepare(kSql);
  st.define_and_bind();
  st.execute(true);
  return st.get_affected_rows();
}

void InsertWorkflowInstance(soci::session& sql, WorkflowInstance& w) {
  static const std::string kSql = std::string("INSERT INTO t_ds_process_instance(") + kWiColumns +
                                  ") VALUES(" + Placeholders(kWiColumns) + ")";
  WiBind b(w);
  soci::statement st(sql);
  b.Bind(st);
  st.alloc();
  st.prepare(kSql);
  st.define_and_bind();
  st.execute(true);
  w.id = LastInsertId(sql);
}

template <typename T, typename F>
StatusOr<std::vector<T>> Query(soci::session& sql, const std::string& q, F from_row) {
  std::vector<T> out;
  soci::rowset<soci::row> rs = sql.prepare << q;
  for (const auto& r : rs) out.push_back(from_row(r));
  return out;
}

}  // namespace

// A reader connection borrowed from the pool for one call.
class SqlStore::ReaderLease {
 public:
  explicit ReaderLease(SqlStore& s) : s_(s) {
    std::unique_lock<std::mutex> l(s_.readers_mu_);
    s_.readers_cv_.wait(l, [&] { return !s_.readers_.empty(); });
    session_ = std::move(s_.readers_.back());
    s_.readers_.pop_back();
  }
  ~ReaderLease() {
    std::lock_guard<std::mutex> l(s_.readers_mu_);
    s_.readers_.push_back(std::move(session_));
    s_.readers_cv_.notify_one();
  }
  soci::session& operator*() { return *session_; }

 private:
  SqlStore& s_;
  std::unique_ptr<soci::session> session_;
};

StatusOr<std::unique_ptr<SqlStore>> SqlStore::Open(const SqlStoreOptions& opts,
                                                   const Clock& clock) {
  if (opts.synchronous != "NORMAL" && opts.synchronous != "FULL" && opts.synchronous != "OFF")
    return InvalidArgument("db.synchronous: expected NORMAL, FULL or OFF, got '" +
                           opts.synchronous + "'");
  std::unique_ptr<SqlStore> s(new SqlStore(clock));
  std::string conn = "db=" + opts.sqlite_path + " timeout=30";
  try {
    s->writer_ = std::make_unique<soci::session>(*soci::factory_sqlite3(), conn);
    *s->writer_ << "PRAGMA journal_mode=WAL";
    *s->writer_ << ("PRAGMA synchronous=" + opts.synchronous);
    *s->writer_ << "PRAGMA foreign_keys=OFF";
    DSCHED_RETURN_IF_ERROR(ApplyMigrations(*s->writer_, SqliteMigrations()));
    for (int i = 0; i < std::max(1, opts.readers); ++i) {
      auto r = std::make_unique<soci::session>(*soci::factory_sqlite3(), conn);
      *r << "PRAGMA query_only=1";
      s->readers_.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    return Unavailable("cannot open SQLite database " + opts.sqlite_path + ": " + e.what());
  }
  return s;
}

SqlStore::SqlStore(const Clock& clock) : clock_(clock) {}
SqlStore::~SqlStore() = default;

// ---------------------------------------------------------------- projects

StatusOr<Project> SqlStore::CreateProject(Project p) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long code = p.code, uid = p.user_id, ct = clock_.NowMs();
    p.create_time = p.update_time = ct;
    *writer_ << "INSERT INTO t_ds_project(code, name, description, user_id, create_time, "
                "update_time) VALUES(:c, :n, :d, :u, :t1, :t2)",
        soci::use(code), soci::use(p.name), soci::use(p.description), soci::use(uid),
        soci::use(ct), soci::use(ct);
    p.id = LastInsertId(*writer_);
    return p;
  } catch (const std::exception& e) {
    return FromException(e, ("project " + p.name).c_str());
  }
}

static const char* kProjectSelect =
    "SELECT p.*, COALESCE(u.user_name, '') AS user_name FROM t_ds_project p "
    "LEFT JOIN t_ds_user u ON u.id = p.user_id ";

StatusOr<Project> SqlStore::GetProject(int64_t code) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<Project>(*sql, std::string(kProjectSelect) + "WHERE p.code = " +
                                         std::to_string(code), ProjectFromRow);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return NotFound("project " + std::to_string(code) + " not found");
    return rows->front();
  } catch (const std::exception& e) {
    return FromException(e, "get project");
  }
}

StatusOr<Project> SqlStore::GetProjectByName(const std::string& name) {
  ReaderLease sql(*this);
  try {
    soci::rowset<soci::row> rs =
        ((*sql).prepare << std::string(kProjectSelect) + "WHERE p.name = :n", soci::use(name));
    for (const auto& r : rs) return ProjectFromRow(r);
    return NotFound("project " + name + " not found");
  } catch (const std::exception& e) {
    return FromException(e, "get project");
  }
}

StatusOr<PageResult<Project>> SqlStore::ListProjects(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    PageResult<Project> out;
    std::string like = "%" + search + "%";
    long long total = 0;
    *sql << "SELECT COUNT(*) FROM t_ds_project WHERE name LIKE :s", soci::use(like),
        soci::into(total);
    out.total = total;
    long long lim = page.limit, off = page.offset;
    soci::rowset<soci::row> rs =
        ((*sql).prepare << std::string(kProjectSelect) +
                               "WHERE p.name LIKE :s ORDER BY p.id DESC LIMIT :l OFFSET :o",
         soci::use(like), soci::use(lim), soci::use(off));
    for (const auto& r : rs) out.rows.push_back(ProjectFromRow(r));
    return out;
  } catch (const std::exception& e) {
    return FromException(e, "list projects");
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
    int max_version = 0;
    long long tc = t.code;
    soci::indicator ind;
    sql << "SELECT MAX(version) FROM t_ds_task_definition_log WHERE code = :c", soci::use(tc),
        soci::into(max_version, ind);
    if (ind != soci::i_ok) max_version = 0;
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
    t.version = max_version + 1;
    t.create_time = t.create_time ? t.create_time : now;
    t.update_time = now;
    std::string body = TaskDefinitionToJson(t).dump();
    long long tpc = t.project_code, tct = t.create_time, tut = t.update_time;
    sql << "INSERT INTO t_ds_task_definition_log(code, version, name, project_code, task_type, "
           "body, create_time, update_time) VALUES(:c, :v, :n, :p, :t, :b, :ct, :ut)",
        soci::use(tc), soci::use(t.version), soci::use(t.name), soci::use(tpc),
        soci::use(t.task_type), soci::use(body), soci::use(tct), soci::use(tut);
  }
  std::map<int64_t, int> versions;
  for (const auto& t : def.tasks) versions[t.code] = t.version;
  for (auto& r : def.relations) {
    r.pre_task_version = r.pre_task_code ? versions[r.pre_task_code] : 0;
    r.post_task_version = versions[r.post_task_code];
    long long pre = r.pre_task_code, post = r.post_task_code;
    std::string cp = r.condition_params.dump();
    sql << "INSERT INTO t_ds_process_task_relation_log(process_definition_code, "
           "process_definition_version, project_code, name, pre_task_code, pre_task_version, "
           "post_task_code, post_task_version, condition_type, condition_params, create_time) "
           "VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k)",
        soci::use(code), soci::use(def.version), soci::use(pc), soci::use(r.name), soci::use(pre),
        soci::use(r.pre_task_version), soci::use(post), soci::use(r.post_task_version),
        soci::use(r.condition_type), soci::use(cp), soci::use(now);
  }
  sql << "INSERT INTO t_ds_process_definition_log(code, name, version, description, "
         "project_code, release_state, global_params, locations, timeout, execution_type, "
         "warning_group_id, user_id, create_time, update_time) "
         "VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k, :l, :m, :n)",
      soci::use(code), soci::use(def.name), soci::use(def.version), soci::use(def.description),
      soci::use(pc), soci::use(rs), soci::use(gp), soci::use(def.locations),
      soci::use(def.timeout), soci::use(et), soci::use(wg), soci::use(uid), soci::use(ct),
      soci::use(now);
  if (previous) {
    sql << "UPDATE t_ds_process_definition SET name = :a, version = :b, description = :c, "
           "release_state = :d, global_params = :e, locations = :f, timeout = :g, "
           "execution_type = :h, warning_group_id = :i, update_time = :j WHERE code = :k",
        soci::use(def.name), soci::use(def.version), soci::use(def.description), soci::use(rs),
        soci::use(gp), soci::use(def.locations), soci::use(def.timeout), soci::use(et),
        soci::use(wg), soci::use(now), soci::use(code);
  } else {
    sql << "INSERT INTO t_ds_process_definition(code, name, version, description, "
           "project_code, release_state, global_params, locations, timeout, execution_type, "
           "warning_group_id, user_id, create_time, update_time) "
           "VALUES(:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k, :l, :m, :n)",
        soci::use(code), soci::use(def.name), soci::use(def.version),
        soci::use(def.description), soci::use(pc), soci::use(rs), soci::use(gp),
        soci::use(def.locations), soci::use(def.timeout), soci::use(et), soci::use(wg),
        soci::use(uid), soci::use(ct), soci::use(now);
    def.id = LastInsertId(sql);
  }
  return Status::Ok();
}

StatusOr<WorkflowDefinition> SqlStore::CreateWorkflow(WorkflowDefinition def) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long pc = def.project_code;
    int n = 0;
    *writer_ << "SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND "
                "name = :n",
        soci::use(pc), soci::use(def.name), soci::into(n);
    if (n) return AlreadyExists("process definition name " + def.name + " already exists");
    soci::transaction tx(*writer_);
    def.version = 1;
    def.create_time = clock_.NowMs();
    DSCHED_RETURN_IF_ERROR(WriteVersion(*writer_, def, nullptr));
    tx.commit();
    return def;
  } catch (const std::exception& e) {
    return FromException(e, ("workflow " + def.name).c_str());
  }
}

StatusOr<WorkflowDefinition> SqlStore::UpdateWorkflow(WorkflowDefinition def) {
  auto prev = GetWorkflow(def.code);
  if (!prev.ok()) return prev.status();
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long pc = def.project_code, code = def.code;
    int n = 0;
    *writer_ << "SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND "
                "name = :n AND code <> :c",
        soci::use(pc), soci::use(def.name), soci::use(code), soci::into(n);
    if (n) return AlreadyExists("process definition name " + def.name + " already exists");
    soci::transaction tx(*writer_);
    int max_version = 0;
    *writer_ << "SELECT MAX(version) FROM t_ds_process_definition_log WHERE code = :c",
        soci::use(code), soci::into(max_version);
    def.version = max_version + 1;
    def.id = prev->id;
    def.create_time = prev->create_time;
    DSCHED_RETURN_IF_ERROR(WriteVersion(*writer_, def, &*prev));
    tx.commit();
    return def;
  } catch (const std::exception& e) {
    return FromException(e, ("workflow " + def.name).c_str());
  }
}

StatusOr<WorkflowDefinition> SqlStore::LoadDag(soci::session& sql, WorkflowDefinition def) {
  long long code = def.code;
  soci::rowset<soci::row> rels =
      (sql.prepare << "SELECT * FROM t_ds_process_task_relation_log WHERE "
                      "process_definition_code = :c AND process_definition_version = :v "
                      "ORDER BY id",
       soci::use(code), soci::use(def.version));
  std::vector<std::pair<int64_t, int>> task_keys;
  for (const auto& r : rels) {
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
    task_keys.emplace_back(rel.post_task_code, rel.post_task_version);
  }
  std::set<std::pair<int64_t, int>> seen;
  for (const auto& [tc, tv] : task_keys) {
    if (!seen.insert({tc, tv}).second) continue;
    long long c = tc;
    int v = tv;
    std::string body;
    long long id = 0;
    soci::indicator ind;
    sql << "SELECT id, body FROM t_ds_task_definition_log WHERE code = :c AND version = :v",
        soci::use(c), soci::use(v), soci::into(id), soci::into(body, ind);
    if (ind != soci::i_ok) return Internal("task definition " + std::to_string(tc) + " v" +
                                           std::to_string(tv) + " is missing");
    auto t = TaskDefinitionFromJson(json::parse(body), "stored task");
    if (!t.ok()) return t.status();
    t->id = id;
    json j = json::parse(body);
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
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_process_definition WHERE code = " +
                               std::to_string(code));
    for (const auto& r : rs) return LoadDag(*sql, DefinitionFromRow(r));
    return NotFound("process definition " + std::to_string(code) + " does not exist");
  } catch (const std::exception& e) {
    return FromException(e, "get workflow");
  }
}

StatusOr<WorkflowDefinition> SqlStore::GetWorkflowVersion(int64_t code, int version) {
  ReaderLease sql(*this);
  try {
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_process_definition_log WHERE code = " +
                               std::to_string(code) + " AND version = " + std::to_string(version));
    for (const auto& r : rs) return LoadDag(*sql, DefinitionFromRow(r));
    return NotFound("process definition " + std::to_string(code) + " version " +
                    std::to_string(version) + " does not exist");
  } catch (const std::exception& e) {
    return FromException(e, "get workflow version");
  }
}

StatusOr<WorkflowDefinition> SqlStore::GetWorkflowByName(int64_t project_code,
                                                         const std::string& name) {
  ReaderLease sql(*this);
  try {
    long long pc = project_code;
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_process_definition WHERE project_code = :p AND "
                           "name = :n",
         soci::use(pc), soci::use(name));
    for (const auto& r : rs) return LoadDag(*sql, DefinitionFromRow(r));
    return NotFound("process definition " + name + " does not exist");
  } catch (const std::exception& e) {
    return FromException(e, "get workflow");
  }
}

StatusOr<PageResult<WorkflowDefinition>> SqlStore::ListWorkflows(int64_t project_code,
                                                                 const std::string& search,
                                                                 Page page) {
  ReaderLease sql(*this);
  try {
    PageResult<WorkflowDefinition> out;
    long long pc = project_code, lim = page.limit, off = page.offset, total = 0;
    std::string like = "%" + search + "%";
    *sql << "SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND name "
            "LIKE :s",
        soci::use(pc), soci::use(like), soci::into(total);
    out.total = total;
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_process_definition WHERE project_code = :p AND "
                           "name LIKE :s ORDER BY update_time DESC, id DESC LIMIT :l OFFSET :o",
         soci::use(pc), soci::use(like), soci::use(lim), soci::use(off));
    for (const auto& r : rs) out.rows.push_back(DefinitionFromRow(r));
    return out;
  } catch (const std::exception& e) {
    return FromException(e, "list workflows");
  }
}

Status SqlStore::SetReleaseState(int64_t code, ReleaseState state) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code, now = clock_.NowMs();
    int s = Code(state);
    soci::statement st = (writer_->prepare << "UPDATE t_ds_process_definition SET "
                                              "release_state = :s, update_time = :t WHERE code = :c",
                          soci::use(s), soci::use(now), soci::use(c));
    st.execute(true);
    if (st.get_affected_rows() == 0)
      return NotFound("process definition " + std::to_string(code) + " does not exist");
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "release workflow");
  }
}

Status SqlStore::DeleteWorkflow(int64_t code) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code;
    soci::transaction tx(*writer_);
    *writer_ << "DELETE FROM t_ds_process_definition WHERE code = :c", soci::use(c);
    *writer_ << "DELETE FROM t_ds_process_definition_log WHERE code = :c", soci::use(c);
    *writer_ << "DELETE FROM t_ds_process_task_relation_log WHERE process_definition_code = :c",
        soci::use(c);
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "delete workflow");
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
    *writer_ << "INSERT INTO t_ds_command(command_type, process_definition_code, "
                "process_definition_version, project_code, process_instance_id, command_param, "
                "task_depend_type, failure_strategy, warning_type, warning_group_id, "
                "schedule_time, start_time, executor_id, process_instance_priority, worker_group, "
                "tenant_code, environment_code, dry_run, trigger_code) VALUES(:a, :b, :c, :d, "
                ":e, :f, :g, :h, :i, :j, :k, :l, :m, :n, :o, :p, :q, :r, :s)",
        soci::use(ct), soci::use(dc), soci::use(c.definition_version), soci::use(pc),
        soci::use(wi), soci::use(c.command_param), soci::use(tdt), soci::use(fs), soci::use(wt),
        soci::use(wg), soci::use(sched), soci::use(st), soci::use(ex), soci::use(prio),
        soci::use(c.worker_group), soci::use(c.tenant_code), soci::use(env),
        soci::use(c.dry_run), soci::use(trig);
    return LastInsertId(*writer_);
  } catch (const std::exception& e) {
    return FromException(e, "insert command");
  }
}

StatusOr<std::vector<Command>> SqlStore::ListCommands(int limit) {
  ReaderLease sql(*this);
  try {
    return Query<Command>(
        *sql,
        "SELECT * FROM t_ds_command ORDER BY process_instance_priority, id LIMIT " +
            std::to_string(limit),
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
        });
  } catch (const std::exception& e) {
    return FromException(e, "list commands");
  }
}

Status SqlStore::ClaimCommand(int64_t command_id, WorkflowInstance* instance,
                              int64_t expected_epoch, const std::vector<TaskInstance>& supersede) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    soci::transaction tx(*writer_);
    long long cid = command_id;
    soci::statement del =
        (writer_->prepare << "DELETE FROM t_ds_command WHERE id = :id", soci::use(cid));
    del.execute(true);
    if (del.get_affected_rows() == 0)
      return AlreadyExists("command " + std::to_string(command_id) + " was claimed already");
    if (instance->id == 0) {
      InsertWorkflowInstance(*writer_, *instance);
    } else if (UpdateWorkflowInstance(*writer_, *instance, expected_epoch) == 0) {
      return Aborted("workflow instance " + std::to_string(instance->id) +
                     " is owned by another master");
    }
    for (const TaskInstance& t : supersede) UpdateTaskInstance(*writer_, t);
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "claim command");
  }
}

Status SqlStore::FailCommand(const Command& c, const std::string& message) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    soci::transaction tx(*writer_);
    long long id = c.id, dc = c.definition_code, st = c.start_time;
    int ct = Code(c.command_type);
    *writer_ << "INSERT OR REPLACE INTO t_ds_error_command(id, command_type, "
                "process_definition_code, command_param, start_time, message) VALUES(:a, :b, "
                ":c, :d, :e, :f)",
        soci::use(id), soci::use(ct), soci::use(dc), soci::use(c.command_param), soci::use(st),
        soci::use(message);
    *writer_ << "DELETE FROM t_ds_command WHERE id = :id", soci::use(id);
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "fail command");
  }
}

StatusOr<WorkflowInstance> SqlStore::GetWorkflowInstance(int64_t id) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<WorkflowInstance>(
        *sql, "SELECT * FROM t_ds_process_instance WHERE id = " + std::to_string(id),
        WorkflowInstanceFromRow);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return NotFound("process instance " + std::to_string(id) + " does not exist");
    return rows->front();
  } catch (const std::exception& e) {
    return FromException(e, "get workflow instance");
  }
}

StatusOr<PageResult<WorkflowInstance>> SqlStore::ListWorkflowInstances(const InstanceFilter& f,
                                                                       Page page) {
  ReaderLease sql(*this);
  try {
    std::string where = " WHERE (:pc = 0 OR project_code = :pc2)";
    long long pc = f.project_code, dc = f.definition_code, sa = f.start_after,
              sb = f.start_before, lim = page.limit, off = page.offset;
    int state = f.state ? Code(*f.state) : -1;
    std::string like = "%" + f.search + "%";
    where += " AND (:dc = 0 OR process_definition_code = :dc2)";
    where += " AND (:st = -1 OR state = :st2)";
    where += " AND name LIKE :like";
    where += " AND (:host = '' OR host = :host2)";
    where += " AND (:sa = 0 OR start_time >= :sa2) AND (:sb = 0 OR start_time <= :sb2)";
    PageResult<WorkflowInstance> out;
    long long total = 0;
    *sql << "SELECT COUNT(*) FROM t_ds_process_instance" + where, soci::use(pc), soci::use(pc),
        soci::use(dc),
        soci::use(dc), soci::use(state), soci::use(state), soci::use(like), soci::use(f.host),
        soci::use(f.host), soci::use(sa), soci::use(sa), soci::use(sb), soci::use(sb),
        soci::into(total);
    out.total = total;
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_process_instance" + where +
                               " ORDER BY id DESC LIMIT :l OFFSET :o",
         soci::use(pc), soci::use(pc), soci::use(dc), soci::use(dc), soci::use(state), soci::use(state),
         soci::use(like), soci::use(f.host), soci::use(f.host), soci::use(sa), soci::use(sa),
         soci::use(sb), soci::use(sb), soci::use(lim), soci::use(off));
    for (const auto& r : rs) out.rows.push_back(WorkflowInstanceFromRow(r));
    return out;
  } catch (const std::exception& e) {
    return FromException(e, "list workflow instances");
  }
}

StatusOr<std::vector<WorkflowInstance>> SqlStore::ListByTrigger(int64_t trigger_code) {
  ReaderLease sql(*this);
  try {
    return Query<WorkflowInstance>(*sql,
                                   "SELECT * FROM t_ds_process_instance WHERE trigger_code = " +
                                       std::to_string(trigger_code) + " ORDER BY id",
                                   WorkflowInstanceFromRow);
  } catch (const std::exception& e) {
    return FromException(e, "list by trigger");
  }
}

StatusOr<std::vector<WorkflowInstance>> SqlStore::ListUnfinished() {
  ReaderLease sql(*this);
  try {
    return Query<WorkflowInstance>(
        *sql, "SELECT * FROM t_ds_process_instance WHERE state NOT IN (3, 5, 6, 7) ORDER BY id",
        WorkflowInstanceFromRow);
  } catch (const std::exception& e) {
    return FromException(e, "list unfinished");
  }
}

Status SqlStore::TakeOwnership(int64_t id, int64_t expected_epoch, const std::string& host,
                               int64_t new_epoch) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id, ex = expected_epoch, ne = new_epoch;
    std::string h = host;
    soci::statement st = (writer_->prepare << "UPDATE t_ds_process_instance SET host = :h, "
                                              "owner_epoch = :n WHERE id = :i AND owner_epoch = :e",
                          soci::use(h), soci::use(ne), soci::use(i), soci::use(ex));
    st.execute(true);
    if (st.get_affected_rows() == 0)
      return Aborted("workflow instance " + std::to_string(id) + " changed owner");
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "take ownership");
  }
}

StatusOr<int64_t> SqlStore::MaxOwnerEpoch() {
  ReaderLease sql(*this);
  try {
    long long m = 0;
    soci::indicator ind;
    *sql << "SELECT MAX(owner_epoch) FROM t_ds_process_instance", soci::into(m, ind);
    return ind == soci::i_ok ? static_cast<int64_t>(m) : 0;
  } catch (const std::exception& e) {
    return FromException(e, "max epoch");
  }
}

StatusOr<TaskInstance> SqlStore::GetTaskInstance(int64_t id) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<TaskInstance>(
        *sql, "SELECT * FROM t_ds_task_instance WHERE id = " + std::to_string(id),
        TaskInstanceFromRow);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return NotFound("task instance " + std::to_string(id) + " does not exist");
    return rows->front();
  } catch (const std::exception& e) {
    return FromException(e, "get task instance");
  }
}

StatusOr<std::vector<TaskInstance>> SqlStore::ListTaskInstances(int64_t workflow_instance_id) {
  ReaderLease sql(*this);
  try {
    return Query<TaskInstance>(*sql,
                               "SELECT * FROM t_ds_task_instance WHERE process_instance_id = " +
                                   std::to_string(workflow_instance_id) + " ORDER BY id",
                               TaskInstanceFromRow);
  } catch (const std::exception& e) {
    return FromException(e, "list task instances");
  }
}

StatusOr<PageResult<TaskInstance>> SqlStore::ListTaskInstancesPaged(const TaskInstanceFilter& f,
                                                                    Page page) {
  ReaderLease sql(*this);
  try {
    long long pc = f.project_code, wi = f.workflow_instance_id, ti = f.task_instance_id,
              tc = f.task_code, lim = page.limit, off = page.offset;
    int state = f.state ? Code(*f.state) : -1;
    std::string like = "%" + f.search + "%";
    std::string where =
        " WHERE (:pc = 0 OR project_code = :pc2) AND (:wi = 0 OR process_instance_id = :wi2) AND (:ti = 0 OR "
        "id = :ti2) AND (:tc = 0 OR task_code = :tc2) AND (:st = -1 OR state = :st2) AND name "
        "LIKE :like AND (:host = '' OR host = :host2)";
    PageResult<TaskInstance> out;
    long long total = 0;
    *sql << "SELECT COUNT(*) FROM t_ds_task_instance" + where, soci::use(pc), soci::use(pc),
        soci::use(wi),
        soci::use(wi), soci::use(ti), soci::use(ti), soci::use(tc), soci::use(tc),
        soci::use(state), soci::use(state), soci::use(like), soci::use(f.host), soci::use(f.host),
        soci::into(total);
    out.total = total;
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_task_instance" + where +
                               " ORDER BY id DESC LIMIT :l OFFSET :o",
         soci::use(pc), soci::use(pc), soci::use(wi), soci::use(wi), soci::use(ti), soci::use(ti), soci::use(tc),
         soci::use(tc), soci::use(state), soci::use(state), soci::use(like), soci::use(f.host),
         soci::use(f.host), soci::use(lim), soci::use(off));
    for (const auto& r : rs) out.rows.push_back(TaskInstanceFromRow(r));
    return out;
  } catch (const std::exception& e) {
    return FromException(e, "list task instances");
  }
}

Status SqlStore::Commit(WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    soci::transaction tx(*writer_);
    for (auto& [wid, g] : batch.groups()) {
      *writer_ << "SAVEPOINT grp";
      long long fenced;
      if (g.workflow) {
        fenced = UpdateWorkflowInstance(*writer_, *g.workflow, g.epoch);
      } else {
        long long id = wid, ep = g.epoch;
        soci::statement st =
            (writer_->prepare << "UPDATE t_ds_process_instance SET owner_epoch = owner_epoch "
                                 "WHERE id = :i AND owner_epoch = :e",
             soci::use(id), soci::use(ep));
        st.execute(true);
        fenced = st.get_affected_rows();
      }
      if (fenced == 0) {
        g.lost = true;
        *writer_ << "ROLLBACK TO SAVEPOINT grp";
        *writer_ << "RELEASE SAVEPOINT grp";
        continue;
      }
      for (TaskInstance* t : g.inserts) InsertTaskInstance(*writer_, *t);
      for (const TaskInstance& t : g.updates) UpdateTaskInstance(*writer_, t);
      *writer_ << "RELEASE SAVEPOINT grp";
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    for (auto& [wid, g] : batch.groups())
      for (TaskInstance* t : g.inserts) t->id = 0;
    return FromException(e, "group commit");
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
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_user WHERE user_name = :n", soci::use(name));
    for (const auto& r : rs) return UserFromRow(r);
    return NotFound("user " + name + " not exists");
  } catch (const std::exception& e) {
    return FromException(e, "get user");
  }
}

StatusOr<User> SqlStore::GetUser(int64_t id) {
  ReaderLease sql(*this);
  try {
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_user WHERE id = " + std::to_string(id));
    for (const auto& r : rs) return UserFromRow(r);
    return NotFound("user " + std::to_string(id) + " not exists");
  } catch (const std::exception& e) {
    return FromException(e, "get user");
  }
}

StatusOr<User> SqlStore::CreateUser(User u) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long now = clock_.NowMs(), tid = u.tenant_id;
    int ut = static_cast<int>(u.user_type);
    u.create_time = u.update_time = now;
    *writer_ << "INSERT INTO t_ds_user(user_name, user_password, user_type, email, phone, "
                "tenant_id, state, queue, time_zone, create_time, update_time) VALUES(:a, :b, "
                ":c, :d, :e, :f, :g, :h, :i, :j, :k)",
        soci::use(u.user_name), soci::use(u.password_hash), soci::use(ut), soci::use(u.email),
        soci::use(u.phone), soci::use(tid), soci::use(u.state), soci::use(u.queue),
        soci::use(u.time_zone), soci::use(now), soci::use(now);
    u.id = LastInsertId(*writer_);
    return u;
  } catch (const std::exception& e) {
    return FromException(e, ("user " + u.user_name).c_str());
  }
}

Status SqlStore::CreateSession(const Session& s) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long uid = s.user_id, t = s.last_login_time;
    *writer_ << "INSERT INTO t_ds_session(id, user_id, ip, last_login_time) VALUES(:a, :b, :c, :d)",
        soci::use(s.id), soci::use(uid), soci::use(s.ip), soci::use(t);
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "create session");
  }
}

StatusOr<Session> SqlStore::GetSession(const std::string& id) {
  ReaderLease sql(*this);
  try {
    soci::rowset<soci::row> rs =
        ((*sql).prepare << "SELECT * FROM t_ds_session WHERE id = :i", soci::use(id));
    for (const auto& r : rs) {
      Session s;
      s.id = S(r, "id");
      s.user_id = I(r, "user_id");
      s.ip = S(r, "ip");
      s.last_login_time = I(r, "last_login_time");
      return s;
    }
    return NotFound("session not found");
  } catch (const std::exception& e) {
    return FromException(e, "get session");
  }
}

Status SqlStore::TouchSession(const std::string& id, int64_t now_ms) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long t = now_ms;
    *writer_ << "UPDATE t_ds_session SET last_login_time = :t WHERE id = :i", soci::use(t),
        soci::use(id);
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "touch session");
  }
}

Status SqlStore::DeleteSessionsOfUser(int64_t user_id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long u = user_id;
    *writer_ << "DELETE FROM t_ds_session WHERE user_id = :u", soci::use(u);
    return Status::Ok();
  } catch (const std::exception& e) {
    return FromException(e, "delete sessions");
  }
}

StatusOr<User> SqlStore::GetUserByToken(const std::string& token, int64_t now_ms) {
  ReaderLease sql(*this);
  try {
    long long uid = 0, exp = 0;
    soci::indicator ind;
    *sql << "SELECT user_id, expire_time FROM t_ds_access_token WHERE token = :t",
        soci::use(token), soci::into(uid, ind), soci::into(exp);
    if (!(*sql).got_data() || ind != soci::i_ok) return Unauthenticated("unknown token");
    if (exp < now_ms) return Unauthenticated("token expired");
  } catch (const std::exception& e) {
    return FromException(e, "get token");
  }
  long long uid = 0;
  {
    ReaderLease sql(*this);
    *sql << "SELECT user_id FROM t_ds_access_token WHERE token = :t", soci::use(token),
        soci::into(uid);
  }
  return GetUser(uid);
}

}  // namespace dsched
