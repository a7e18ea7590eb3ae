// SqlStore's AlertStore: the alert outbox (t_ds_alert). Rows are written waiting (status 0) and
// leave that status exactly once, through MarkAlert's conditional UPDATE: a sender whose row
// was finished by someone else meanwhile learns it (Aborted) instead of overwriting the result.
// Alert groups and plugin instances are in admin_store.cc.
#include <soci/soci.h>

#include <algorithm>

#include "storage/sql/sql_store.h"
#include "storage/sql/sql_util.h"

namespace dsched {

using namespace sql_internal;

namespace {

constexpr const char* kAlertColumns =
    "title, sign, content, alert_status, warning_type, log, alertgroup_id, project_code, "
    "process_definition_code, process_instance_id, alert_type, create_time, update_time";

Alert AlertFromRow(const soci::row& r) {
  Alert a;
  a.id = I(r, "id");
  a.title = S(r, "title");
  a.content = S(r, "content");
  a.alert_status = static_cast<int>(I(r, "alert_status"));
  a.warning_type = static_cast<int>(I(r, "warning_type"));
  a.log = S(r, "log");
  a.alertgroup_id = I(r, "alertgroup_id");
  a.project_code = I(r, "project_code");
  a.process_definition_code = I(r, "process_definition_code");
  a.process_instance_id = I(r, "process_instance_id");
  a.alert_type = static_cast<int>(I(r, "alert_type"));
  a.create_time = I(r, "create_time");
  a.update_time = I(r, "update_time");
  return a;
}

// Inserts a as a waiting row; sign is the row's key (empty for rows nobody looks up).
int64_t InsertAlertRow(soci::session& sql, DbType type, const Alert& a, const std::string& sign,
                       long long now) {
  long long status = 0, warning = a.warning_type, group = a.alertgroup_id, project = a.project_code,
            def = a.process_definition_code, instance = a.process_instance_id,
            alert_type = a.alert_type;
  return InsertReturningId(sql, type, "t_ds_alert",
                           std::string("INSERT INTO t_ds_alert(") + kAlertColumns + ") VALUES(" +
                               Placeholders(kAlertColumns) + ")",
                           [&](Stmt& st) {
                             st.Use(a.title)
                                 .Use(sign)
                                 .Use(a.content)
                                 .Use(status)
                                 .Use(warning)
                                 .Use(a.log)
                                 .Use(group)
                                 .Use(project)
                                 .Use(def)
                                 .Use(instance)
                                 .Use(alert_type)
                                 .Use(now)
                                 .Use(now);
                           });
}

}  // namespace

void SqlStore::WriteGroupAlerts(WriteBatch::Group& g) {
  long long now = clock_.NowMs();
  for (size_t i = 0; i < g.alerts.size(); ++i) {
    if (i == g.alert_keys.size()) {
      g.alert_keys.push_back(NewInsertKey());
      g.alerts[i].id = InsertAlertRow(*writer_, opts_.type, g.alerts[i], g.alert_keys[i], now);
      continue;
    }
    // A retried batch whose earlier COMMIT may have landed: sign has no index, but this lookup
    // only runs after a failed commit.
    long long found = 0;
    soci::indicator ind = soci::i_null;
    Stmt(*writer_)
        .Use(g.alert_keys[i])
        .Into(found, ind)
        .Run("SELECT id FROM t_ds_alert WHERE sign = :k");
    g.alerts[i].id = (ind == soci::i_ok && found > 0)
                         ? found
                         : InsertAlertRow(*writer_, opts_.type, g.alerts[i], g.alert_keys[i], now);
  }
}

StatusOr<int64_t> SqlStore::InsertAlert(Alert a) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    return InsertAlertRow(*writer_, opts_.type, a, "", clock_.NowMs());
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "insert alert");
  }
}

StatusOr<Alert> SqlStore::GetAlert(int64_t id) {
  ReaderLease sql(*this);
  try {
    long long i = id;
    auto rows = Query<Alert>(*sql, "SELECT * FROM t_ds_alert WHERE id = :i", AlertFromRow, i);
    if (rows.empty()) return NotFound("alert " + std::to_string(id) + " does not exist");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get alert");
  }
}

StatusOr<std::vector<Alert>> SqlStore::ListWaitingAlerts(int limit) {
  ReaderLease sql(*this);
  try {
    long long n = std::max(1, limit);
    // idx_alert_status (alert_status, id) serves both the filter and the order.
    return Query<Alert>(*sql,
                        "SELECT * FROM t_ds_alert WHERE alert_status = 0 ORDER BY id LIMIT :n",
                        AlertFromRow, n);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list waiting alerts");
  }
}

Status SqlStore::MarkAlert(int64_t id, int status, const std::string& log) {
  if (status < 0 || status > 3)
    return InvalidArgument("alert status " + std::to_string(status) + " is not 0..3");
  long long changed = 0;
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long i = id, st = status, now = clock_.NowMs();
      changed = Stmt(*writer_).Use(st).Use(log).Use(now).Use(i).Run(
          "UPDATE t_ds_alert SET alert_status = :s, log = :l, update_time = :t "
          "WHERE id = :i AND alert_status = 0");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "mark alert");
    }
  }
  if (changed > 0) return Status::Ok();
  auto row = GetAlert(id);
  if (!row.ok()) return row.status();
  // MySQL counts rows changed, not matched: a progress write (status 0) with the log already
  // stored changes nothing although the row still waits.
  if (row->alert_status == 0) return Status::Ok();
  return Aborted("alert " + std::to_string(id) + " is no longer waiting (status " +
                 std::to_string(row->alert_status) + ")");
}

}  // namespace dsched
