// SqlStore's TaskGroupStore: task groups (t_ds_task_group) and their queues
// (t_ds_task_group_queue). The slot count lives in the group row and is only ever changed by a
// conditional UPDATE inside the transaction that also moves the queue row, so two masters
// serving one group can never hand out more than group_size slots, and a release can never
// take use_size below zero or be counted twice for one task instance.
#include <soci/soci.h>

#include "storage/sql/sql_store.h"
#include "storage/sql/sql_util.h"

namespace dsched {

using namespace sql_internal;

namespace {

constexpr int kWait = static_cast<int>(TaskGroupQueueStatus::kWaitQueue);
constexpr int kAcquired = static_cast<int>(TaskGroupQueueStatus::kAcquireSuccess);
constexpr int kReleased = static_cast<int>(TaskGroupQueueStatus::kRelease);

TaskGroup GroupFromRow(const soci::row& r) {
  TaskGroup g;
  g.id = I(r, "id");
  g.name = S(r, "name");
  g.description = S(r, "description");
  g.group_size = I(r, "group_size");
  g.use_size = I(r, "use_size");
  g.user_id = I(r, "user_id");
  g.project_code = I(r, "project_code");
  g.status = static_cast<int>(I(r, "status"));
  g.create_time = I(r, "create_time");
  g.update_time = I(r, "update_time");
  return g;
}

TaskGroupQueue QueueFromRow(const soci::row& r) {
  TaskGroupQueue q;
  q.id = I(r, "id");
  q.task_id = I(r, "task_id");
  q.task_name = S(r, "task_name");
  q.group_id = I(r, "group_id");
  q.process_id = I(r, "process_id");
  q.priority = static_cast<int>(I(r, "priority"));
  q.status = static_cast<TaskGroupQueueStatus>(I(r, "status"));
  q.force_start = static_cast<int>(I(r, "force_start"));
  q.in_queue = static_cast<int>(I(r, "in_queue"));
  q.create_time = I(r, "create_time");
  q.update_time = I(r, "update_time");
  q.process_instance_name = S(r, "process_instance_name");
  q.project_name = S(r, "project_name");
  q.project_code = I(r, "project_code");
  return q;
}

// Queue rows with the names the queue page shows.
constexpr const char* kQueueSelect =
    "SELECT q.*, COALESCE(pi.name, '') AS process_instance_name, "
    "COALESCE(pi.project_code, 0) AS project_code, COALESCE(p.name, '') AS project_name "
    "FROM t_ds_task_group_queue q "
    "LEFT JOIN t_ds_process_instance pi ON pi.id = q.process_id "
    "LEFT JOIN t_ds_project p ON p.code = pi.project_code";

// The order waiters are served in: force-started first (they need no slot), then higher
// priority, then arrival.
constexpr const char* kServeOrder = " ORDER BY q.force_start DESC, q.priority DESC, q.id ASC";

std::vector<TaskGroupQueue> QueueRowsByTask(soci::session& sql, long long task_id) {
  return Query<TaskGroupQueue>(sql, std::string(kQueueSelect) + " WHERE q.task_id = :t",
                               QueueFromRow, task_id);
}

}  // namespace

StatusOr<TaskGroup> SqlStore::CreateTaskGroup(TaskGroup g) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long size = g.group_size, uid = g.user_id, pc = g.project_code, now = clock_.NowMs();
    int status = g.status;
    g.use_size = 0;
    g.create_time = g.update_time = now;
    g.id = InsertReturningId(*writer_, opts_.type, "t_ds_task_group",
                             "INSERT INTO t_ds_task_group(name, description, group_size, "
                             "use_size, user_id, project_code, status, create_time, update_time) "
                             "VALUES(:n, :d, :s, 0, :u, :p, :st, :ct, :ut)",
                             [&](Stmt& st) {
                               st.Use(g.name).Use(g.description).Use(size).Use(uid).Use(pc).Use(
                                   status).Use(now).Use(now);
                             });
    return g;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "task group " + g.name);
  }
}

StatusOr<TaskGroup> SqlStore::UpdateTaskGroup(const TaskGroup& g) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      long long id = g.id, size = g.group_size, now = clock_.NowMs();
      long long n = Stmt(*writer_).Use(g.name).Use(g.description).Use(size).Use(now).Use(id).Run(
          "UPDATE t_ds_task_group SET name = :n, description = :d, group_size = :s, "
          "update_time = :t WHERE id = :id");
      if (n == 0) return NotFound("task group " + std::to_string(g.id) + " does not exist");
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "task group " + g.name);
    }
  }
  return GetTaskGroup(g.id);
}

StatusOr<TaskGroup> SqlStore::GetTaskGroup(int64_t id) {
  ReaderLease sql(*this);
  try {
    long long i = id;
    auto rows = Query<TaskGroup>(*sql, "SELECT * FROM t_ds_task_group WHERE id = :i",
                                 GroupFromRow, i);
    if (rows.empty()) return NotFound("task group " + std::to_string(id) + " does not exist");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get task group");
  }
}

StatusOr<PageResult<TaskGroup>> SqlStore::ListTaskGroups(const TaskGroupFilter& f, Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    if (!f.name.empty()) w.Str(kNameLike, "%" + f.name + "%");
    if (f.status) w.Int("status = :st", *f.status);
    if (f.project_code) {
      // A project sees its own groups and the global ones.
      w.Int("project_code IN (:pc, 0)", *f.project_code);
    }
    PageResult<TaskGroup> out;
    out.total = Count(*sql, "SELECT COUNT(*) FROM t_ds_task_group", w);
    long long lim = page.limit, off = page.offset;
    Stmt st(*sql);
    w.Bind(st);
    st.Use(lim).Use(off);
    st.Rows("SELECT * FROM t_ds_task_group" + w.sql() + " ORDER BY id DESC LIMIT :l OFFSET :o",
            [&](const soci::row& r) { out.rows.push_back(GroupFromRow(r)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list task groups");
  }
}

Status SqlStore::SetTaskGroupStatus(int64_t id, int status) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = id, now = clock_.NowMs();
    long long n = Stmt(*writer_).Use(status).Use(now).Use(i).Use(status).Run(
        "UPDATE t_ds_task_group SET status = :s, update_time = :t WHERE id = :id "
        "AND status <> :s2");
    if (n > 0) return Status::Ok();
    long long exists = 0;
    Stmt(*writer_).Use(i).Into(exists).Run("SELECT COUNT(*) FROM t_ds_task_group WHERE id = :id");
    if (!exists) return NotFound("task group " + std::to_string(id) + " does not exist");
    return FailedPrecondition(std::string("task group ") + std::to_string(id) + " is already " +
                              (status == 1 ? "open" : "closed"));
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "task group status");
  }
}

StatusOr<TaskGroupQueue> SqlStore::Enqueue(TaskGroupQueue q) {
  {
    std::lock_guard<std::mutex> l(write_mu_);
    try {
      WriteTx tx(*writer_, opts_.type);
      long long tid = q.task_id, gid = q.group_id, pid = q.process_id, now = clock_.NowMs();
      int prio = q.priority;
      auto existing = QueueRowsByTask(*writer_, tid);
      if (existing.empty()) {
        InsertReturningId(*writer_, opts_.type, "t_ds_task_group_queue",
                          "INSERT INTO t_ds_task_group_queue(task_id, task_name, group_id, "
                          "process_id, priority, status, force_start, in_queue, create_time, "
                          "update_time) VALUES(:t, :n, :g, :p, :pr, -1, 0, 1, :ct, :ut)",
                          [&](Stmt& st) {
                            st.Use(tid).Use(q.task_name).Use(gid).Use(pid).Use(prio).Use(now).Use(
                                now);
                          });
      } else if (existing.front().status == TaskGroupQueueStatus::kRelease) {
        // A task resumed in place (recover after pause) queues again on the same row; it keeps
        // its place of arrival.
        Stmt(*writer_).Use(now).Use(tid).Run(
            "UPDATE t_ds_task_group_queue SET status = -1, force_start = 0, in_queue = 1, "
            "update_time = :t WHERE task_id = :id AND status = 2");
      }
      tx.commit();
    } catch (const std::exception& e) {
      return Fail(*writer_, e, "enqueue task " + std::to_string(q.task_id));
    }
  }
  ReaderLease sql(*this);
  try {
    auto rows = QueueRowsByTask(*sql, q.task_id);
    if (rows.empty()) return Internal("queue row of task " + std::to_string(q.task_id) + " vanished");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "enqueue task " + std::to_string(q.task_id));
  }
}

StatusOr<bool> SqlStore::Acquire(int64_t task_id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    WriteTx tx(*writer_, opts_.type);
    long long tid = task_id, now = clock_.NowMs();
    auto rows = QueueRowsByTask(*writer_, tid);
    if (rows.empty()) return NotFound("task " + std::to_string(task_id) + " is in no task group queue");
    const TaskGroupQueue& q = rows.front();
    if (q.status == TaskGroupQueueStatus::kAcquireSuccess) return true;
    if (q.status == TaskGroupQueueStatus::kRelease) return false;
    long long qid = q.id, gid = q.group_id;
    if (!q.force_start) {
      // Served in order: a waiter ahead of this one (higher priority, or as high and earlier)
      // goes first. Force-started waiters need no slot and are not in the way.
      long long prio = q.priority, ahead = 0;
      Stmt(*writer_).Use(gid).Use(prio).Use(prio).Use(qid).Into(ahead).Run(
          "SELECT COUNT(*) FROM t_ds_task_group_queue WHERE group_id = :g AND status = -1 AND "
          "force_start = 0 AND (priority > :p OR (priority = :p2 AND id < :id))");
      if (ahead > 0) return false;
      long long took = Stmt(*writer_).Use(now).Use(gid).Run(
          "UPDATE t_ds_task_group SET use_size = use_size + 1, update_time = :t "
          "WHERE id = :id AND use_size < group_size AND status = 1");
      if (took == 0) {
        long long exists = 0;
        Stmt(*writer_).Use(gid).Into(exists).Run("SELECT COUNT(*) FROM t_ds_task_group WHERE id = :id");
        if (!exists) return NotFound("task group " + std::to_string(gid) + " does not exist");
        return false;  // full or closed: nothing written, the row keeps waiting
      }
    }
    Stmt(*writer_).Use(now).Use(qid).Run(
        "UPDATE t_ds_task_group_queue SET status = 1, in_queue = 0, update_time = :t "
        "WHERE id = :id AND status = -1");
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "acquire a slot for task " + std::to_string(task_id));
  }
}

StatusOr<int64_t> SqlStore::Release(int64_t task_id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    WriteTx tx(*writer_, opts_.type);
    long long tid = task_id, now = clock_.NowMs();
    auto rows = QueueRowsByTask(*writer_, tid);
    if (rows.empty() || rows.front().status == TaskGroupQueueStatus::kRelease) return int64_t{0};
    const TaskGroupQueue& q = rows.front();
    long long qid = q.id, gid = q.group_id;
    int from = static_cast<int>(q.status);
    // The status condition makes a second release of the same row a no-op even if two callers
    // raced past the read above.
    long long moved = Stmt(*writer_).Use(now).Use(qid).Use(from).Run(
        "UPDATE t_ds_task_group_queue SET status = 2, in_queue = 0, update_time = :t "
        "WHERE id = :id AND status = :s");
    if (moved > 0 && q.status == TaskGroupQueueStatus::kAcquireSuccess && !q.force_start) {
      Stmt(*writer_).Use(now).Use(gid).Run(
          "UPDATE t_ds_task_group SET use_size = use_size - 1, update_time = :t "
          "WHERE id = :id AND use_size > 0");
    }
    tx.commit();
    return int64_t{gid};
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "release the slot of task " + std::to_string(task_id));
  }
}

StatusOr<TaskGroupQueue> SqlStore::GetQueueRow(int64_t queue_id) {
  ReaderLease sql(*this);
  try {
    long long i = queue_id;
    auto rows = Query<TaskGroupQueue>(*sql, std::string(kQueueSelect) + " WHERE q.id = :i",
                                      QueueFromRow, i);
    if (rows.empty())
      return NotFound("task group queue " + std::to_string(queue_id) + " does not exist");
    return rows.front();
  } catch (const std::exception& e) {
    return Fail(*sql, e, "get task group queue");
  }
}

StatusOr<PageResult<TaskGroupQueue>> SqlStore::ListQueue(const TaskGroupQueueFilter& f,
                                                         Page page) {
  ReaderLease sql(*this);
  try {
    Where w;
    if (f.group_id > 0) w.Int("q.group_id = :g", f.group_id);
    if (!f.task_name.empty()) w.Str("LOWER(q.task_name) LIKE LOWER(:tn)", "%" + f.task_name + "%");
    if (!f.process_instance_name.empty())
      w.Str("LOWER(pi.name) LIKE LOWER(:pn)", "%" + f.process_instance_name + "%");
    if (f.status) w.Int("q.status = :s", static_cast<int>(*f.status));
    PageResult<TaskGroupQueue> out;
    out.total = Count(*sql,
                      "SELECT COUNT(*) FROM t_ds_task_group_queue q "
                      "LEFT JOIN t_ds_process_instance pi ON pi.id = q.process_id",
                      w);
    long long lim = page.limit, off = page.offset;
    Stmt st(*sql);
    w.Bind(st);
    st.Use(lim).Use(off);
    st.Rows(std::string(kQueueSelect) + w.sql() + " ORDER BY q.priority DESC, q.id ASC "
                                                  "LIMIT :l OFFSET :o",
            [&](const soci::row& r) { out.rows.push_back(QueueFromRow(r)); });
    return out;
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list task group queue");
  }
}

StatusOr<std::vector<TaskGroupQueue>> SqlStore::ListWaiters(int64_t group_id) {
  ReaderLease sql(*this);
  try {
    long long g = group_id;
    return Query<TaskGroupQueue>(
        *sql, std::string(kQueueSelect) + " WHERE q.group_id = :g AND q.status = -1" + kServeOrder,
        QueueFromRow, g);
  } catch (const std::exception& e) {
    return Fail(*sql, e, "list task group waiters");
  }
}

// Both operator actions apply to a row that still waits; the status condition keeps them from
// touching a row that took its slot meanwhile.
static Status WaitingRowUpdate(soci::session& sql, int64_t queue_id, long long changed,
                               const char* what) {
  if (changed > 0) return Status::Ok();
  long long exists = 0, i = queue_id;
  Stmt(sql).Use(i).Into(exists).Run("SELECT COUNT(*) FROM t_ds_task_group_queue WHERE id = :id");
  if (!exists) return NotFound("task group queue " + std::to_string(queue_id) + " does not exist");
  return FailedPrecondition("task group queue " + std::to_string(queue_id) +
                            " no longer waits: cannot " + what);
}

Status SqlStore::SetQueuePriority(int64_t queue_id, int priority) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = queue_id, now = clock_.NowMs();
    long long n = Stmt(*writer_).Use(priority).Use(now).Use(i).Run(
        "UPDATE t_ds_task_group_queue SET priority = :p, update_time = :t "
        "WHERE id = :id AND status = -1");
    return WaitingRowUpdate(*writer_, queue_id, n, "change its priority");
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "task group queue priority");
  }
}

Status SqlStore::ForceStart(int64_t queue_id) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    long long i = queue_id, now = clock_.NowMs();
    long long n = Stmt(*writer_).Use(now).Use(i).Run(
        "UPDATE t_ds_task_group_queue SET force_start = 1, update_time = :t "
        "WHERE id = :id AND status = -1");
    return WaitingRowUpdate(*writer_, queue_id, n, "force-start it");
  } catch (const std::exception& e) {
    return Fail(*writer_, e, "force start");
  }
}

}  // namespace dsched
