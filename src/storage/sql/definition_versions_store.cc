// SqlStore: the versions of a workflow definition (list, switch back, delete one), moving a
// definition to another project, the task-definition lookup of the DAG editor, and the edits of
// finished workflow instances (update, delete). Creating and updating definitions, and the
// engine's writes, are sql_store.cc.

#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "model/json_codec.h"
#include "model/states.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/sql_util.h"

namespace dsched {

using nlohmann::json;
using namespace sql_internal;

namespace {

// The states in which nothing runs (model/states.h IsFinal): PAUSE, STOP, FAILURE, SUCCESS.
constexpr const char* kFinished = "state IN (3, 5, 6, 7)";

}  // namespace

StatusOr<PageResult<WorkflowDefinition>> SqlStore::ListWorkflowVersions(int64_t code, Page page) {
  ReaderLease sql(*this);
  try {
    long long c = code, lim = page.limit, off = page.offset, total = 0;
    Stmt(*sql).Use(c).Into(total).Run(
        "SELECT COUNT(*) FROM t_ds_process_definition_log WHERE code = :c");
    if (total == 0)
      return NotFound("process definition " + std::to_string(code) + " does not exist");
    PageResult<WorkflowDefinition> out;
    out.total = total;
    out.rows = Query<WorkflowDefinition>(
        *sql,
        "SELECT * FROM t_ds_process_definition_log WHERE code = :c ORDER BY version DESC "
        "LIMIT :l OFFSET :o",
        DefinitionFromRow, c, lim, off);
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list workflow versions");
  }
}

StatusOr<WorkflowDefinition> SqlStore::SwitchWorkflowVersion(int64_t code, int version) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code, v = version;
    auto current = Query<WorkflowDefinition>(
        *writer_, "SELECT * FROM t_ds_process_definition WHERE code = :c", DefinitionFromRow, c);
    if (current.empty())
      return NotFound("process definition " + std::to_string(code) + " does not exist");
    auto target = Query<WorkflowDefinition>(
        *writer_, "SELECT * FROM t_ds_process_definition_log WHERE code = :c AND version = :v",
        DefinitionFromRow, c, v);
    if (target.empty())
      return NotFound("process definition " + std::to_string(code) + " version " +
                      std::to_string(version) + " does not exist");
    WorkflowDefinition d = target.front();
    // The row keeps what is not part of a version: its id, project and release state.
    d.id = current.front().id;
    d.project_code = current.front().project_code;
    d.release_state = current.front().release_state;
    d.create_time = current.front().create_time;
    long long pc = d.project_code, taken = 0;
    Stmt(*writer_).Use(pc).Use(d.name).Use(c).Into(taken).Run(
        "SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND name = :n AND "
        "code <> :c");
    if (taken) return AlreadyExists("process definition name " + d.name + " already exists");
    long long now = clock_.NowMs();
    int et = Code(d.execution_type);
    long long wg = d.warning_group_id;
    std::string gp = PropertiesToJson(d.global_params).dump();
    Stmt(*writer_)
        .Use(d.name)
        .Use(v)
        .Use(d.description)
        .Use(gp)
        .Use(d.locations)
        .Use(d.timeout)
        .Use(et)
        .Use(wg)
        .Use(now)
        .Use(c)
        .Run(
            "UPDATE t_ds_process_definition SET name = :a, version = :b, description = :d, "
            "global_params = :e, locations = :f, timeout = :g, execution_type = :h, "
            "warning_group_id = :i, update_time = :j WHERE code = :c");
    d.update_time = now;
    return LoadDag(*writer_, std::move(d));
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "switch workflow version");
  }
}

Status SqlStore::DeleteWorkflowVersion(int64_t code, int version) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code, v = version, current = 0;
    soci::indicator ind = soci::i_null;
    Stmt(*writer_)
        .Use(c)
        .Into(current, ind)
        .Run("SELECT version FROM t_ds_process_definition WHERE code = :c");
    if (ind != soci::i_ok)
      return NotFound("process definition " + std::to_string(code) + " does not exist");
    if (current == v)
      return FailedPrecondition("version " + std::to_string(version) +
                                " is the current version of process definition " +
                                std::to_string(code));
    WriteTx tx(*writer_, opts_.type);
    if (Stmt(*writer_).Use(c).Use(v).Run(
            "DELETE FROM t_ds_process_definition_log WHERE code = :c AND version = :v") == 0)
      return NotFound("process definition " + std::to_string(code) + " version " +
                      std::to_string(version) + " does not exist");
    Stmt(*writer_).Use(c).Use(v).Run(
        "DELETE FROM t_ds_process_task_relation_log WHERE process_definition_code = :c AND "
        "process_definition_version = :v");
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete workflow version");
  }
}

StatusOr<WorkflowDefinition> SqlStore::MoveWorkflow(int64_t code, int64_t target_project_code) {
  auto prev = GetWorkflow(code);
  if (!prev.ok()) return prev.status();
  if (prev->project_code == target_project_code) return prev;
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = code, pc = target_project_code, taken = 0, max_version = 0;
    Stmt(*writer_)
        .Use(pc)
        .Use(prev->name)
        .Into(taken)
        .Run("SELECT COUNT(*) FROM t_ds_process_definition WHERE project_code = :p AND name = :n");
    if (taken) return AlreadyExists("process definition name " + prev->name + " already exists");
    WriteTx tx(*writer_, opts_.type);
    soci::indicator ind = soci::i_null;
    Stmt(*writer_)
        .Use(c)
        .Into(max_version, ind)
        .Run("SELECT MAX(version) FROM t_ds_process_definition_log WHERE code = :c");
    WorkflowDefinition d = *prev;
    d.project_code = target_project_code;
    d.version = static_cast<int>(ind == soci::i_ok ? max_version : 0) + 1;
    // WriteVersion stamps the tasks with the new project, so each gets a new version too.
    DSCHED_RETURN_IF_ERROR(WriteVersion(*writer_, d, &*prev));
    Stmt(*writer_).Use(pc).Use(c).Run(
        "UPDATE t_ds_process_definition SET project_code = :p WHERE code = :c");
    tx.commit();
    return d;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "move workflow");
  }
}

StatusOr<WorkflowDefinition> SqlStore::AddWorkflowVersion(WorkflowDefinition def) {
  auto prev = GetWorkflow(def.code);
  if (!prev.ok()) return prev.status();
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long c = def.code, max_version = 0;
    WriteTx tx(*writer_, opts_.type);
    soci::indicator ind = soci::i_null;
    Stmt(*writer_)
        .Use(c)
        .Into(max_version, ind)
        .Run("SELECT MAX(version) FROM t_ds_process_definition_log WHERE code = :c");
    def.version = static_cast<int>(ind == soci::i_ok ? max_version : 0) + 1;
    def.id = prev->id;
    def.project_code = prev->project_code;
    def.create_time = prev->create_time;
    DSCHED_RETURN_IF_ERROR(WriteVersion(*writer_, def, &*prev));
    // WriteVersion made it current; the definition row goes back to what it was, in the same
    // transaction, so no reader ever sees the new version as current.
    const WorkflowDefinition& p = *prev;
    long long pv = p.version, wg = p.warning_group_id, ut = p.update_time;
    int rs = Code(p.release_state), et = Code(p.execution_type);
    std::string gp = PropertiesToJson(p.global_params).dump();
    Stmt(*writer_)
        .Use(p.name)
        .Use(pv)
        .Use(p.description)
        .Use(rs)
        .Use(gp)
        .Use(p.locations)
        .Use(p.timeout)
        .Use(et)
        .Use(wg)
        .Use(ut)
        .Use(c)
        .Run(
            "UPDATE t_ds_process_definition SET name = :a, version = :b, description = :d, "
            "release_state = :r, global_params = :e, locations = :f, timeout = :g, "
            "execution_type = :h, warning_group_id = :i, update_time = :j WHERE code = :c");
    tx.commit();
    return def;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "add workflow version");
  }
}

StatusOr<TaskDefinition> SqlStore::GetTaskDefinition(int64_t code) {
  ReaderLease sql(*this);
  try {
    long long c = code, id = 0;
    std::string body;
    soci::indicator ind = soci::i_null;
    Stmt(*sql).Use(c).Into(id).Into(body, ind).Run(
        "SELECT id, body FROM t_ds_task_definition_log WHERE code = :c ORDER BY version DESC "
        "LIMIT 1");
    if (ind != soci::i_ok)
      return NotFound("task definition " + std::to_string(code) + " does not exist");
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded())
      return Internal("task definition " + std::to_string(code) + " is not JSON");
    auto t = TaskDefinitionFromJson(j, "stored task");
    if (!t.ok()) return t.status();
    t->id = id;
    t->project_code = j.value("projectCode", int64_t{0});
    t->user_id = j.value("userId", int64_t{0});
    t->create_time = ParseDateTime(j.value("createTime", "")).value_or(0);
    t->update_time = ParseDateTime(j.value("updateTime", "")).value_or(0);
    return *std::move(t);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get task definition");
  }
}

// ---------------------------------------------------------------- finished instances

StatusOr<std::vector<std::string>> SqlStore::DeleteWorkflowInstance(int64_t id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id, state = 0;
    soci::indicator ind = soci::i_null;
    Stmt(*writer_)
        .Use(i)
        .Into(state, ind)
        .Run("SELECT state FROM t_ds_process_instance WHERE id = :i");
    std::vector<std::string> logs;
    if (ind != soci::i_ok) return logs;
    WriteTx tx(*writer_, opts_.type);
    // Conditional on the state, in the transaction: a rerun claimed since the check above
    // changed it, and then nothing is deleted.
    if (Stmt(*writer_).Use(i).Run(std::string("DELETE FROM t_ds_process_instance WHERE id = :i "
                                              "AND ") +
                                  kFinished) == 0)
      return FailedPrecondition("workflow instance " + std::to_string(id) + " is not finished");
    Stmt st(*writer_);
    st.Use(i);
    st.Rows("SELECT log_path FROM t_ds_task_instance WHERE process_instance_id = :i",
            [&](const soci::row& r) {
              std::string p = S(r, "log_path");
              if (!p.empty()) logs.push_back(p);
            });
    Stmt(*writer_).Use(i).Run("DELETE FROM t_ds_task_instance WHERE process_instance_id = :i");
    tx.commit();
    return logs;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "delete workflow instance");
  }
}

Status SqlStore::UpdateFinishedInstance(const WorkflowInstance& wi) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = wi.id, v = wi.definition_version, st = wi.schedule_time, to = wi.timeout;
    if (Stmt(*writer_)
            .Use(v)
            .Use(st)
            .Use(wi.global_params)
            .Use(to)
            .Use(i)
            .Run(std::string("UPDATE t_ds_process_instance SET process_definition_version = :v, "
                             "schedule_time = :s, global_params = :g, timeout = :t WHERE id = :i "
                             "AND ") +
                 kFinished) > 0)
      return Status::Ok();
    // Nothing changed: MySQL counts changed rows only, so a repeat lands here too.
    long long state = 0;
    soci::indicator ind = soci::i_null;
    Stmt(*writer_)
        .Use(i)
        .Into(state, ind)
        .Run("SELECT state FROM t_ds_process_instance WHERE id = :i");
    if (ind != soci::i_ok)
      return NotFound("workflow instance " + std::to_string(wi.id) + " does not exist");
    if (IsFinal(static_cast<WorkflowState>(state))) return Status::Ok();
    return FailedPrecondition("workflow instance " + std::to_string(wi.id) + " is not finished");
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "update workflow instance");
  }
}

}  // namespace dsched
