// SqlStore's AdminStore (stores.h): the rows behind DolphinScheduler's security pages and
// project grants. Rules about who may change them (admin only, validation of names) live in
// the REST handlers, not here; this file only keeps the rows consistent (a user's grants and
// tokens go with the user, a project's grants with the project).

#include <soci/soci.h>

#include "storage/sql/sql_store.h"
#include "storage/sql/sql_util.h"

namespace dsched {

using namespace sql_internal;

namespace {

User UserRow(const soci::row& r) {
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

Tenant TenantRow(const soci::row& r) {
  Tenant t;
  t.id = I(r, "id");
  t.tenant_code = S(r, "tenant_code");
  t.description = S(r, "description");
  t.queue_id = I(r, "queue_id");
  t.queue_name = S(r, "queue_name");
  t.queue = S(r, "queue");
  t.create_time = I(r, "create_time");
  t.update_time = I(r, "update_time");
  return t;
}

Queue QueueRow(const soci::row& r) {
  Queue q;
  q.id = I(r, "id");
  q.queue_name = S(r, "queue_name");
  q.queue = S(r, "queue");
  q.create_time = I(r, "create_time");
  q.update_time = I(r, "update_time");
  return q;
}

WorkerGroup WorkerGroupRow(const soci::row& r) {
  WorkerGroup g;
  g.id = I(r, "id");
  g.name = S(r, "name");
  g.addr_list = S(r, "addr_list");
  g.description = S(r, "description");
  g.other_params_json = S(r, "other_params_json");
  g.create_time = I(r, "create_time");
  g.update_time = I(r, "update_time");
  return g;
}

AlertGroup AlertGroupRow(const soci::row& r) {
  AlertGroup g;
  g.id = I(r, "id");
  g.group_name = S(r, "group_name");
  g.alert_instance_ids = S(r, "alert_instance_ids");
  g.description = S(r, "description");
  g.create_user_id = I(r, "create_user_id");
  g.create_time = I(r, "create_time");
  g.update_time = I(r, "update_time");
  return g;
}

PluginDefine PluginDefineRow(const soci::row& r) {
  PluginDefine d;
  d.id = I(r, "id");
  d.plugin_name = S(r, "plugin_name");
  d.plugin_type = S(r, "plugin_type");
  d.plugin_params = S(r, "plugin_params");
  d.create_time = I(r, "create_time");
  d.update_time = I(r, "update_time");
  return d;
}

AlertPluginInstance PluginInstanceRow(const soci::row& r) {
  AlertPluginInstance i;
  i.id = I(r, "id");
  i.plugin_define_id = I(r, "plugin_define_id");
  i.instance_name = S(r, "instance_name");
  i.plugin_instance_params = S(r, "plugin_instance_params");
  i.instance_type = static_cast<int>(I(r, "instance_type"));
  i.warning_type = static_cast<int>(I(r, "warning_type"));
  i.plugin_name = S(r, "plugin_name");
  i.create_time = I(r, "create_time");
  i.update_time = I(r, "update_time");
  return i;
}

AccessToken TokenRow(const soci::row& r) {
  AccessToken t;
  t.id = I(r, "id");
  t.user_id = I(r, "user_id");
  t.token = S(r, "token");
  t.expire_time = I(r, "expire_time");
  t.user_name = S(r, "user_name");
  t.create_time = I(r, "create_time");
  t.update_time = I(r, "update_time");
  return t;
}

Project ProjectRow(const soci::row& r) {
  Project p;
  p.id = I(r, "id");
  p.code = I(r, "code");
  p.name = S(r, "name");
  p.description = S(r, "description");
  p.user_id = I(r, "user_id");
  p.user_name = S(r, "user_name");
  p.perm = static_cast<int>(I(r, "perm"));
  p.create_time = I(r, "create_time");
  p.update_time = I(r, "update_time");
  return p;
}

Environment EnvironmentRow(const soci::row& r) {
  Environment e;
  e.id = I(r, "id");
  e.code = I(r, "code");
  e.name = S(r, "name");
  e.config = S(r, "config");
  e.description = S(r, "description");
  e.operator_id = I(r, "operator");
  e.create_time = I(r, "create_time");
  e.update_time = I(r, "update_time");
  return e;
}

constexpr const char* kTenantSelect =
    "SELECT t.*, COALESCE(q.queue_name, '') AS queue_name, COALESCE(q.queue, '') AS queue "
    "FROM t_ds_tenant t LEFT JOIN t_ds_queue q ON q.id = t.queue_id";
constexpr const char* kInstanceSelect =
    "SELECT i.*, COALESCE(d.plugin_name, '') AS plugin_name FROM t_ds_alert_plugin_instance i "
    "LEFT JOIN t_ds_plugin_define d ON d.id = i.plugin_define_id";
constexpr const char* kTokenSelect =
    "SELECT a.*, COALESCE(u.user_name, '') AS user_name FROM t_ds_access_token a "
    "LEFT JOIN t_ds_user u ON u.id = a.user_id";

// One page of `select` (whose rows come from `from`, aliased as `alias`) filtered by `w`,
// newest first, with the total.
template <typename T, typename F>
PageResult<T> ListPage(soci::session& sql, const std::string& select, const std::string& from,
                       const std::string& alias, Where& w, Page page, F from_row) {
  PageResult<T> out;
  out.total = Count(sql, "SELECT COUNT(*) FROM " + from + " " + alias, w);
  long long lim = page.limit, off = page.offset;
  Stmt st(sql);
  w.Bind(st);
  st.Use(lim).Use(off);
  st.Rows(select + w.sql() + " ORDER BY " + alias + ".id DESC LIMIT :lim OFFSET :off",
          [&](const soci::row& r) { out.rows.push_back(from_row(r)); });
  return out;
}

// Adds "column contains search" (case-insensitive) when search is not empty.
void NameContains(Where& w, const std::string& column, const std::string& search) {
  if (!search.empty()) w.Str("LOWER(" + column + ") LIKE LOWER(:like)", "%" + search + "%");
}

template <typename T, typename F>
StatusOr<T> One(soci::session& sql, const std::string& q, F from_row, long long id,
                const std::string& what) {
  auto rows = Query<T>(sql, q, from_row, id);
  if (rows.empty()) return NotFound(what + " " + std::to_string(id) + " not exists");
  return rows.front();
}

bool RowExists(soci::session& sql, const std::string& table, long long id) {
  long long n = 0;
  Stmt(sql).Use(id).Into(n).Run("SELECT COUNT(*) FROM " + table + " WHERE id = :i");
  return n > 0;
}

}  // namespace

// ---------------------------------------------------------------- users

StatusOr<User> SqlStore::UpdateUser(const User& u) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = u.id, tid = u.tenant_id, now = clock_.NowMs();
      int ut = static_cast<int>(u.user_type), state = u.state;
      if (!RowExists(*writer_, "t_ds_user", id))
        return NotFound("user " + std::to_string(u.id) + " not exists");
      Stmt(*writer_)
          .Use(u.user_name)
          .Use(u.password_hash)
          .Use(ut)
          .Use(u.email)
          .Use(u.phone)
          .Use(tid)
          .Use(state)
          .Use(u.queue)
          .Use(u.time_zone)
          .Use(now)
          .Use(id)
          .Run("UPDATE t_ds_user SET " +
               SetClause("user_name, user_password, user_type, email, phone, tenant_id, state, "
                         "queue, time_zone, update_time") +
               " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "user " + u.user_name);
    }
  }
  return GetUser(u.id);
}

Status SqlStore::DeleteUser(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    WriteTx tx(*writer_, opts_.type);
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_session WHERE user_id = :i");
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_access_token WHERE user_id = :i");
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_relation_project_user WHERE user_id = :i");
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_user WHERE id = :i");
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete user");
  }
}

StatusOr<PageResult<User>> SqlStore::ListUsers(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    NameContains(w, "u.user_name", search);
    return ListPage<User>(*sql, "SELECT u.* FROM t_ds_user u", "t_ds_user", "u", w, page, UserRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list users");
  }
}

StatusOr<int64_t> SqlStore::CountUsersOfTenant(int64_t tenant_id) {
  ReaderLease sql(*this);
  try {
    Where w;
    w.Int("u.tenant_id = :t", tenant_id);
    return static_cast<int64_t>(Count(*sql, "SELECT COUNT(*) FROM t_ds_user u", w));
  } catch (const std::exception& e) {
    return Fail(*sql, e, "count users of tenant");
  }
}

// ---------------------------------------------------------------- tenants

StatusOr<Tenant> SqlStore::CreateTenant(Tenant t) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long qid = t.queue_id, now = clock_.NowMs();
      t.id = InsertReturningId(
          *writer_, opts_.type, "t_ds_tenant",
          "INSERT INTO t_ds_tenant(tenant_code, description, queue_id, create_time, update_time) "
          "VALUES(:a, :b, :c, :d, :e)",
          [&](Stmt& st) { st.Use(t.tenant_code).Use(t.description).Use(qid).Use(now).Use(now); });
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "tenant " + t.tenant_code);
    }
  }
  return GetTenant(t.id);
}

StatusOr<Tenant> SqlStore::UpdateTenant(const Tenant& t) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = t.id, qid = t.queue_id, now = clock_.NowMs();
      if (!RowExists(*writer_, "t_ds_tenant", id))
        return NotFound("tenant " + std::to_string(t.id) + " not exists");
      Stmt(*writer_)
          .Use(t.tenant_code)
          .Use(t.description)
          .Use(qid)
          .Use(now)
          .Use(id)
          .Run("UPDATE t_ds_tenant SET " +
               SetClause("tenant_code, description, queue_id, update_time") + " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "tenant " + t.tenant_code);
    }
  }
  return GetTenant(t.id);
}

Status SqlStore::DeleteTenant(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_tenant WHERE id = :i");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete tenant");
  }
}

StatusOr<Tenant> SqlStore::GetTenant(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<Tenant>(*sql, std::string(kTenantSelect) + " WHERE t.id = :i", TenantRow, id,
                       "tenant");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get tenant");
  }
}

StatusOr<Tenant> SqlStore::GetTenantByCode(const std::string& code) {
  ReaderLease sql(*this);
  try {
    auto rows = Query<Tenant>(*sql, std::string(kTenantSelect) + " WHERE t.tenant_code = :c",
                              TenantRow, code);
    if (rows.empty()) return NotFound("tenant " + code + " not exists");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get tenant");
  }
}

StatusOr<PageResult<Tenant>> SqlStore::ListTenants(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    NameContains(w, "t.tenant_code", search);
    return ListPage<Tenant>(*sql, kTenantSelect, "t_ds_tenant", "t", w, page, TenantRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list tenants");
  }
}

// ---------------------------------------------------------------- queues

StatusOr<Queue> SqlStore::CreateQueue(Queue q) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long now = clock_.NowMs();
    q.create_time = q.update_time = now;
    q.id =
        InsertReturningId(*writer_, opts_.type, "t_ds_queue",
                          "INSERT INTO t_ds_queue(queue_name, queue, create_time, update_time) "
                          "VALUES(:a, :b, :c, :d)",
                          [&](Stmt& st) { st.Use(q.queue_name).Use(q.queue).Use(now).Use(now); });
    return q;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "queue " + q.queue_name);
  }
}

StatusOr<Queue> SqlStore::UpdateQueue(const Queue& q) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = q.id, now = clock_.NowMs();
      if (!RowExists(*writer_, "t_ds_queue", id))
        return NotFound("queue " + std::to_string(q.id) + " not exists");
      Stmt(*writer_)
          .Use(q.queue_name)
          .Use(q.queue)
          .Use(now)
          .Use(id)
          .Run("UPDATE t_ds_queue SET " + SetClause("queue_name, queue, update_time") +
               " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "queue " + q.queue_name);
    }
  }
  return GetQueue(q.id);
}

StatusOr<Queue> SqlStore::GetQueue(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<Queue>(*sql, "SELECT * FROM t_ds_queue WHERE id = :i", QueueRow, id, "queue");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get queue");
  }
}

StatusOr<PageResult<Queue>> SqlStore::ListQueues(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    NameContains(w, "q.queue_name", search);
    return ListPage<Queue>(*sql, "SELECT q.* FROM t_ds_queue q", "t_ds_queue", "q", w, page,
                           QueueRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list queues");
  }
}

// ---------------------------------------------------------------- worker groups

StatusOr<WorkerGroup> SqlStore::CreateWorkerGroup(WorkerGroup g) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long now = clock_.NowMs();
    g.create_time = g.update_time = now;
    g.id = InsertReturningId(
        *writer_, opts_.type, "t_ds_worker_group",
        "INSERT INTO t_ds_worker_group(name, addr_list, description, other_params_json, "
        "create_time, update_time) VALUES(:a, :b, :c, :d, :e, :f)",
        [&](Stmt& st) {
          st.Use(g.name)
              .Use(g.addr_list)
              .Use(g.description)
              .Use(g.other_params_json)
              .Use(now)
              .Use(now);
        });
    return g;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "worker group " + g.name);
  }
}

StatusOr<WorkerGroup> SqlStore::UpdateWorkerGroup(const WorkerGroup& g) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = g.id, now = clock_.NowMs();
      if (!RowExists(*writer_, "t_ds_worker_group", id))
        return NotFound("worker group " + std::to_string(g.id) + " not exists");
      Stmt(*writer_)
          .Use(g.name)
          .Use(g.addr_list)
          .Use(g.description)
          .Use(g.other_params_json)
          .Use(now)
          .Use(id)
          .Run("UPDATE t_ds_worker_group SET " +
               SetClause("name, addr_list, description, other_params_json, update_time") +
               " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "worker group " + g.name);
    }
  }
  return GetWorkerGroup(g.id);
}

Status SqlStore::DeleteWorkerGroup(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_worker_group WHERE id = :i");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete worker group");
  }
}

StatusOr<WorkerGroup> SqlStore::GetWorkerGroup(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<WorkerGroup>(*sql, "SELECT * FROM t_ds_worker_group WHERE id = :i", WorkerGroupRow,
                            id, "worker group");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get worker group");
  }
}

StatusOr<PageResult<WorkerGroup>> SqlStore::ListWorkerGroups(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    NameContains(w, "g.name", search);
    return ListPage<WorkerGroup>(*sql, "SELECT g.* FROM t_ds_worker_group g", "t_ds_worker_group",
                                 "g", w, page, WorkerGroupRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list worker groups");
  }
}

// ---------------------------------------------------------------- alert groups

StatusOr<AlertGroup> SqlStore::CreateAlertGroup(AlertGroup g) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long now = clock_.NowMs(), uid = g.create_user_id;
    g.create_time = g.update_time = now;
    g.id = InsertReturningId(
        *writer_, opts_.type, "t_ds_alertgroup",
        "INSERT INTO t_ds_alertgroup(group_name, alert_instance_ids, create_user_id, "
        "description, create_time, update_time) VALUES(:a, :b, :c, :d, :e, :f)",
        [&](Stmt& st) {
          st.Use(g.group_name)
              .Use(g.alert_instance_ids)
              .Use(uid)
              .Use(g.description)
              .Use(now)
              .Use(now);
        });
    return g;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "alert group " + g.group_name);
  }
}

StatusOr<AlertGroup> SqlStore::UpdateAlertGroup(const AlertGroup& g) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = g.id, now = clock_.NowMs();
      if (!RowExists(*writer_, "t_ds_alertgroup", id))
        return NotFound("alert group " + std::to_string(g.id) + " not exists");
      Stmt(*writer_)
          .Use(g.group_name)
          .Use(g.alert_instance_ids)
          .Use(g.description)
          .Use(now)
          .Use(id)
          .Run("UPDATE t_ds_alertgroup SET " +
               SetClause("group_name, alert_instance_ids, description, update_time") +
               " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "alert group " + g.group_name);
    }
  }
  return GetAlertGroup(g.id);
}

Status SqlStore::DeleteAlertGroup(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_alertgroup WHERE id = :i");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete alert group");
  }
}

StatusOr<AlertGroup> SqlStore::GetAlertGroup(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<AlertGroup>(*sql, "SELECT * FROM t_ds_alertgroup WHERE id = :i", AlertGroupRow, id,
                           "alert group");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get alert group");
  }
}

StatusOr<PageResult<AlertGroup>> SqlStore::ListAlertGroups(const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    NameContains(w, "g.group_name", search);
    return ListPage<AlertGroup>(*sql, "SELECT g.* FROM t_ds_alertgroup g", "t_ds_alertgroup", "g",
                                w, page, AlertGroupRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list alert groups");
  }
}

// ---------------------------------------------------------------- alert plugins

StatusOr<std::vector<PluginDefine>> SqlStore::ListPluginDefines(const std::string& type) {
  ReaderLease sql(*this);
  try {
    return Query<PluginDefine>(*sql,
                               "SELECT * FROM t_ds_plugin_define WHERE plugin_type = :t "
                               "ORDER BY id",
                               PluginDefineRow, type);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list plugin defines");
  }
}

StatusOr<PluginDefine> SqlStore::GetPluginDefine(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<PluginDefine>(*sql, "SELECT * FROM t_ds_plugin_define WHERE id = :i",
                             PluginDefineRow, id, "plugin");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get plugin define");
  }
}

StatusOr<AlertPluginInstance> SqlStore::CreateAlertPluginInstance(AlertPluginInstance i) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long now = clock_.NowMs(), def = i.plugin_define_id;
      int it = i.instance_type, wt = i.warning_type;
      i.id = InsertReturningId(
          *writer_, opts_.type, "t_ds_alert_plugin_instance",
          "INSERT INTO t_ds_alert_plugin_instance(plugin_define_id, plugin_instance_params, "
          "instance_name, instance_type, warning_type, create_time, update_time) "
          "VALUES(:a, :b, :c, :d, :e, :f, :g)",
          [&](Stmt& st) {
            st.Use(def)
                .Use(i.plugin_instance_params)
                .Use(i.instance_name)
                .Use(it)
                .Use(wt)
                .Use(now)
                .Use(now);
          });
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "alert plugin instance " + i.instance_name);
    }
  }
  return GetAlertPluginInstance(i.id);
}

StatusOr<AlertPluginInstance> SqlStore::UpdateAlertPluginInstance(const AlertPluginInstance& i) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = i.id, now = clock_.NowMs();
      int wt = i.warning_type;
      if (!RowExists(*writer_, "t_ds_alert_plugin_instance", id))
        return NotFound("alert plugin instance " + std::to_string(i.id) + " not exists");
      Stmt(*writer_)
          .Use(i.instance_name)
          .Use(i.plugin_instance_params)
          .Use(wt)
          .Use(now)
          .Use(id)
          .Run("UPDATE t_ds_alert_plugin_instance SET " +
               SetClause("instance_name, plugin_instance_params, warning_type, update_time") +
               " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "alert plugin instance " + i.instance_name);
    }
  }
  return GetAlertPluginInstance(i.id);
}

Status SqlStore::DeleteAlertPluginInstance(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_alert_plugin_instance WHERE id = :i");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete alert plugin instance");
  }
}

StatusOr<AlertPluginInstance> SqlStore::GetAlertPluginInstance(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<AlertPluginInstance>(*sql, std::string(kInstanceSelect) + " WHERE i.id = :i",
                                    PluginInstanceRow, id, "alert plugin instance");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get alert plugin instance");
  }
}

StatusOr<PageResult<AlertPluginInstance>> SqlStore::ListAlertPluginInstances(
    const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    NameContains(w, "i.instance_name", search);
    return ListPage<AlertPluginInstance>(*sql, kInstanceSelect, "t_ds_alert_plugin_instance", "i",
                                         w, page, PluginInstanceRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list alert plugin instances");
  }
}

// ---------------------------------------------------------------- access tokens

StatusOr<AccessToken> SqlStore::CreateAccessToken(AccessToken t) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long now = clock_.NowMs(), uid = t.user_id, exp = t.expire_time;
      t.id = InsertReturningId(
          *writer_, opts_.type, "t_ds_access_token",
          "INSERT INTO t_ds_access_token(user_id, token, expire_time, create_time, update_time) "
          "VALUES(:a, :b, :c, :d, :e)",
          [&](Stmt& st) { st.Use(uid).Use(t.token).Use(exp).Use(now).Use(now); });
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "access token");
    }
  }
  return GetAccessToken(t.id);
}

StatusOr<AccessToken> SqlStore::UpdateAccessToken(const AccessToken& t) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = t.id, uid = t.user_id, exp = t.expire_time, now = clock_.NowMs();
      if (!RowExists(*writer_, "t_ds_access_token", id))
        return NotFound("access token " + std::to_string(t.id) + " not exists");
      Stmt(*writer_).Use(uid).Use(t.token).Use(exp).Use(now).Use(id).Run(
          "UPDATE t_ds_access_token SET " + SetClause("user_id, token, expire_time, update_time") +
          " WHERE id = :id");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "access token");
    }
  }
  return GetAccessToken(t.id);
}

Status SqlStore::DeleteAccessToken(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id;
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_access_token WHERE id = :i");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete access token");
  }
}

StatusOr<AccessToken> SqlStore::GetAccessToken(int64_t id) {
  ReaderLease sql(*this);
  try {
    return One<AccessToken>(*sql, std::string(kTokenSelect) + " WHERE a.id = :i", TokenRow, id,
                            "access token");
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get access token");
  }
}

StatusOr<PageResult<AccessToken>> SqlStore::ListAccessTokens(int64_t user_id,
                                                             const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    if (user_id != 0) w.Int("a.user_id = :u", user_id);
    // The count runs on the token table alone, so the user-name filter is a subquery.
    if (!search.empty())
      w.Str("a.user_id IN (SELECT id FROM t_ds_user WHERE LOWER(user_name) LIKE LOWER(:like))",
            "%" + search + "%");
    return ListPage<AccessToken>(*sql, kTokenSelect, "t_ds_access_token", "a", w, page, TokenRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list access tokens");
  }
}

// ---------------------------------------------------------------- grants and projects

Status SqlStore::GrantProject(int64_t user_id, int64_t project_id, int perm) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long u = user_id, p = project_id, now = clock_.NowMs();
    // Update first, insert when there was nothing to update: portable (no upsert syntax
    // differs) and safe, as this connection is the only writer of the process and the
    // UNIQUE (user_id, project_id) key catches another process's race.
    WriteTx tx(*writer_, opts_.type);
    long long n = 0;
    Stmt(*writer_).Use(u).Use(p).Into(n).Run(
        "SELECT COUNT(*) FROM t_ds_relation_project_user WHERE user_id = :u AND project_id = :p");
    if (n > 0) {
      Stmt(*writer_).Use(perm).Use(now).Use(u).Use(p).Run(
          "UPDATE t_ds_relation_project_user SET perm = :perm, update_time = :t "
          "WHERE user_id = :u AND project_id = :p");
    } else {
      Stmt(*writer_).Use(u).Use(p).Use(perm).Use(now).Use(now).Run(
          "INSERT INTO t_ds_relation_project_user(user_id, project_id, perm, create_time, "
          "update_time) VALUES(:u, :p, :perm, :c, :t)");
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "grant project");
  }
}

Status SqlStore::RevokeProject(int64_t user_id, int64_t project_id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long u = user_id, p = project_id;
    Stmt(*writer_).Use(u).Use(p).Run(
        "DELETE FROM t_ds_relation_project_user WHERE user_id = :u AND project_id = :p");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "revoke project");
  }
}

StatusOr<int> SqlStore::GrantPerm(int64_t user_id, int64_t project_id) {
  ReaderLease sql(*this);
  try {
    long long u = user_id, p = project_id;
    int perm = 0;
    Stmt st(*sql);
    st.Use(u).Use(p);
    st.Rows("SELECT perm FROM t_ds_relation_project_user WHERE user_id = :u AND project_id = :p",
            [&](const soci::row& r) { perm = static_cast<int>(I(r, "perm")); });
    return perm;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "project grant");
  }
}

StatusOr<PageResult<Project>> SqlStore::ListProjectsOfUser(int64_t user_id,
                                                           const std::string& search, Page page) {
  ReaderLease sql(*this);
  try {
    PageResult<Project> out;
    long long u1 = user_id, u2 = user_id, u3 = user_id, lim = page.limit, off = page.offset;
    std::string like = "%" + search + "%";
    const std::string from =
        " FROM t_ds_project p LEFT JOIN t_ds_relation_project_user r "
        "ON r.project_id = p.id AND r.user_id = :u2 "
        "WHERE (p.user_id = :u3 OR r.user_id IS NOT NULL) AND LOWER(p.name) LIKE LOWER(:like)";
    long long total = 0;
    Stmt count(*sql);
    count.Use(u2).Use(u3).Use(like).Into(total);
    count.Run("SELECT COUNT(*)" + from);
    out.total = total;
    Stmt st(*sql);
    st.Use(u1).Use(u2).Use(u3).Use(like).Use(lim).Use(off);
    st.Rows(
        "SELECT p.*, COALESCE((SELECT user_name FROM t_ds_user WHERE id = p.user_id), '') "
        "AS user_name, CASE WHEN p.user_id = :u1 THEN 7 ELSE r.perm END AS perm" +
            from + " ORDER BY p.id DESC LIMIT :lim OFFSET :off",
        [&](const soci::row& r) { out.rows.push_back(ProjectRow(r)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list projects of user");
  }
}

StatusOr<std::vector<Project>> SqlStore::ListGrantedProjects(int64_t user_id) {
  ReaderLease sql(*this);
  try {
    long long u = user_id;
    return Query<Project>(
        *sql,
        "SELECT p.*, COALESCE((SELECT user_name FROM t_ds_user WHERE id = p.user_id), '') AS "
        "user_name, r.perm AS perm FROM t_ds_project p JOIN t_ds_relation_project_user r "
        "ON r.project_id = p.id WHERE r.user_id = :u ORDER BY p.id DESC",
        ProjectRow, u);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list granted projects");
  }
}

StatusOr<std::vector<User>> SqlStore::ListUsersOfProject(int64_t project_id) {
  ReaderLease sql(*this);
  try {
    long long p = project_id;
    return Query<User>(*sql,
                       "SELECT u.* FROM t_ds_user u JOIN t_ds_relation_project_user r "
                       "ON r.user_id = u.id WHERE r.project_id = :p ORDER BY u.id",
                       UserRow, p);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list users of project");
  }
}

StatusOr<Project> SqlStore::UpdateProject(const Project& p) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long code = p.code, now = clock_.NowMs(), n = 0;
      Stmt(*writer_).Use(code).Into(n).Run("SELECT COUNT(*) FROM t_ds_project WHERE code = :c");
      if (n == 0) return NotFound("project " + std::to_string(p.code) + " not found");
      Stmt(*writer_)
          .Use(p.name)
          .Use(p.description)
          .Use(now)
          .Use(code)
          .Run("UPDATE t_ds_project SET " + SetClause("name, description, update_time") +
               " WHERE code = :code");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "project " + p.name);
    }
  }
  return GetProject(p.code);
}

Status SqlStore::DeleteProject(int64_t code) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code, defs = 0;
    WriteTx tx(*writer_, opts_.type);
    Stmt(*writer_).Use(c).Into(defs).Run(
        "SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :c");
    if (defs > 0)
      return FailedPrecondition("project " + std::to_string(code) + " still has " +
                                std::to_string(defs) + " workflow definitions");
    Stmt(*writer_).Use(c).Run(
        "DELETE FROM t_ds_relation_project_user WHERE project_id IN "
        "(SELECT id FROM t_ds_project WHERE code = :c)");
    Stmt(*writer_).Use(c).Run("DELETE FROM t_ds_project WHERE code = :c");
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete project");
  }
}

// ---------------------------------------------------------------- environments, health

StatusOr<std::vector<Environment>> SqlStore::ListEnvironments() {
  ReaderLease sql(*this);
  try {
    return Query<Environment>(*sql, "SELECT * FROM t_ds_environment ORDER BY id DESC",
                              EnvironmentRow);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list environments");
  }
}

Status SqlStore::Ping() {
  ReaderLease sql(*this);
  try {
    int one = 0;
    Stmt(*sql).Into(one).Run("SELECT 1");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "ping");
  }
}

StatusOr<AdminStore::DatabaseFigures> SqlStore::Figures() {
  DatabaseFigures f;
  if (opts_.type == DbType::kSqlite) {
    // The writer and the readers of this process are all there is.
    f.max_connections = f.max_used_connections = f.threads_connections = opts_.pool_size + 1;
    return f;
  }
  ReaderLease sql(*this);
  try {
    auto one = [&](const std::string& q) {
      long long v = 0;
      Stmt(*sql).Into(v).Run(q);
      return static_cast<int64_t>(v);
    };
    if (opts_.type == DbType::kPostgres) {
      f.max_connections =
          one("SELECT CAST(setting AS BIGINT) FROM pg_settings WHERE name = 'max_connections'");
      f.threads_connections = one("SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = "
                                  "'client backend'");
      f.threads_running = one("SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = "
                              "'client backend' AND state = 'active'");
      // PostgreSQL keeps no high-water mark: the figure is the current count.
      f.max_used_connections = f.threads_connections;
    } else {
      // Variable_name / Value rows; the value is text.
      auto var = [&](const std::string& q) {
        std::string name, value;
        Stmt(*sql).Into(name).Into(value).Run(q);
        return static_cast<int64_t>(std::stoll(value));
      };
      f.max_connections = var("SHOW VARIABLES LIKE 'max_connections'");
      f.max_used_connections = var("SHOW GLOBAL STATUS LIKE 'Max_used_connections'");
      f.threads_connections = var("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
      f.threads_running = var("SHOW GLOBAL STATUS LIKE 'Threads_running'");
    }
    return f;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "database figures");
  }
}

}  // namespace dsched
