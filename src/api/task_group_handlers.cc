// Handlers of /task-group/*: task groups (named slot pools shared by the tasks of every
// workflow that names them) and their queues. The slots themselves are handed out by the
// master (TaskGroupStore::Acquire); these routes only define groups and let an operator
// reorder or force-start a waiting task.

#include <limits>

#include "api/handlers.h"
#include "common/time_format.h"

namespace dsched::api {

using nlohmann::json;

namespace {

// DolphinScheduler 3.2.2's task group status codes (api/enums/Status.java).
constexpr DsStatus kTaskGroupNameExist = static_cast<DsStatus>(130001);
constexpr DsStatus kTaskGroupSizeError = static_cast<DsStatus>(130002);
constexpr DsStatus kTaskGroupStatusError = static_cast<DsStatus>(130003);
constexpr DsStatus kCreateTaskGroupError = static_cast<DsStatus>(130008);
constexpr DsStatus kUpdateTaskGroupError = static_cast<DsStatus>(130009);
constexpr DsStatus kQueryTaskGroupListError = static_cast<DsStatus>(130010);
constexpr DsStatus kCloseTaskGroupError = static_cast<DsStatus>(130011);
constexpr DsStatus kStartTaskGroupError = static_cast<DsStatus>(130012);
constexpr DsStatus kQueryTaskGroupQueueListError = static_cast<DsStatus>(130013);
constexpr DsStatus kTaskGroupQueueAlreadyStart = static_cast<DsStatus>(130017);
constexpr DsStatus kTaskGroupStatusClosed = static_cast<DsStatus>(130018);
constexpr DsStatus kTaskGroupStatusOpened = static_cast<DsStatus>(130019);

constexpr size_t kMaxDescription = 255;

const char* QueueStatusName(TaskGroupQueueStatus s) {
  switch (s) {
    case TaskGroupQueueStatus::kWaitQueue:
      return "WAIT_QUEUE";
    case TaskGroupQueueStatus::kAcquireSuccess:
      return "ACQUIRE_SUCCESS";
    case TaskGroupQueueStatus::kRelease:
      return "RELEASE";
  }
  return "WAIT_QUEUE";
}

json TaskGroupToJson(const TaskGroup& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"projectCode", g.project_code},
          {"description", g.description},
          {"groupSize", g.group_size},
          {"useSize", g.use_size},
          {"userId", g.user_id},
          {"status", g.status == 1 ? "YES" : "NO"},
          {"createTime", FormatDateTime(g.create_time)},
          {"updateTime", FormatDateTime(g.update_time)}};
}

json QueueToJson(const TaskGroupQueue& q) {
  return {{"id", q.id},
          {"taskId", q.task_id},
          {"taskName", q.task_name},
          {"projectName", q.project_name},
          {"projectCode", std::to_string(q.project_code)},
          {"processInstanceName", q.process_instance_name},
          {"groupId", q.group_id},
          {"processId", q.process_id},
          {"priority", q.priority},
          {"forceStart", q.force_start},
          {"inQueue", q.in_queue},
          {"status", QueueStatusName(q.status)},
          {"createTime", FormatDateTime(q.create_time)},
          {"updateTime", FormatDateTime(q.update_time)}};
}

// A store error the route has no more specific code for: bad input stays 10001, the rest gets
// the route's own code.
ApiError StoreError(const Status& s, DsStatus code, const std::string& msg) {
  if (s.code() == StatusCode::kInvalidArgument) return FromStatus(s);
  return {code, msg + ": " + s.message()};
}

// name (required), description (at most 255 characters), groupSize (> 0): shared by create
// and update.
struct GroupFields {
  std::string name, description;
  int64_t group_size = 0;
};
ApiOr<GroupFields> ReadGroupFields(const HttpRequest& req) {
  GroupFields f;
  auto name = RequiredParam(req, "name");
  if (!name.ok()) return name.error();
  f.name = name.value();
  if (f.name.size() > 100) return BadParam("name", "longer than 100 characters");
  f.description = req.Param("description").value_or("");
  if (f.description.size() > kMaxDescription)
    return BadParam("description", "longer than 255 characters");
  auto size = RequiredIntParam(req, "groupSize");
  if (!size.ok()) return size.error();
  f.group_size = size.value();
  if (f.group_size <= 0 || f.group_size > std::numeric_limits<int32_t>::max())
    return ApiError{kTaskGroupSizeError, "task group size error: groupSize must be at least 1"};
  return f;
}

ApiOr<TaskGroup> ExistingGroup(const Call& c, const std::string& param) {
  auto id = RequiredIntParam(c.req, param);
  if (!id.ok()) return id.error();
  auto g = c.deps.task_groups->GetTaskGroup(id.value());
  if (!g.ok() && g.status().code() == StatusCode::kNotFound)
    return BadParam(param, "task group " + std::to_string(id.value()) + " does not exist");
  return ToApiOr(std::move(g));
}

ApiOr<TaskGroupQueue> ExistingQueueRow(const Call& c) {
  auto id = RequiredIntParam(c.req, "queueId");
  if (!id.ok()) return id.error();
  auto q = c.deps.task_groups->GetQueueRow(id.value());
  if (!q.ok() && q.status().code() == StatusCode::kNotFound)
    return BadParam("queueId", "task group queue " + std::to_string(id.value()) + " does not exist");
  return ToApiOr(std::move(q));
}

HttpResponse GroupPage(const Call& c, const TaskGroupFilter& f, const PageArgs& page) {
  auto rows = c.deps.task_groups->ListTaskGroups(f, Page{page.offset(), page.page_size});
  if (!rows.ok())
    return Fail(StoreError(rows.status(), kQueryTaskGroupListError, "query task group list error"));
  json list = json::array();
  for (const auto& g : rows->rows) list.push_back(TaskGroupToJson(g));
  return Ok(PageInfo(std::move(list), rows->total, page));
}

// open: start-task-group (1) or close-task-group (0).
HttpResponse SetStatus(const Call& c, int open) {
  DSCHED_API_TRY(TaskGroup g, ExistingGroup(c, "id"));
  Status s = c.deps.task_groups->SetTaskGroupStatus(g.id, open);
  if (s.code() == StatusCode::kFailedPrecondition) {
    return open ? Fail(kTaskGroupStatusOpened, "The task group has been opened.")
                : Fail(kTaskGroupStatusClosed, "The task group has been closed.");
  }
  if (!s.ok())
    return Fail(StoreError(s, open ? kStartTaskGroupError : kCloseTaskGroupError,
                           open ? "start task group error" : "close task group error"));
  // Reopening a group frees its waiters: the master hears of it at once.
  if (open && c.deps.master) c.deps.master->WakeCommands();
  return Ok(nullptr);
}

}  // namespace

HttpResponse ListTaskGroupsPaged(const Call& c) {
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  TaskGroupFilter f;
  f.name = c.req.Param("name").value_or("");
  DSCHED_API_TRY(std::optional<int64_t> status, OptionalIntParam(c.req, "status"));
  if (status) {
    if (*status != 0 && *status != 1) return Fail(BadParam("status", "expected 1 (open) or 0 (closed)"));
    f.status = static_cast<int>(*status);
  }
  return GroupPage(c, f, page);
}

HttpResponse ListTaskGroupsByProject(const Call& c) {
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(std::optional<int64_t> project_code, OptionalIntParam(c.req, "projectCode"));
  TaskGroupFilter f;
  if (project_code && *project_code != 0) {
    DSCHED_API_TRY(Project p, ProjectForUser(c, *project_code, ProjectAccess::kRead));
    f.project_code = p.code;
  } else {
    f.project_code = 0;  // global groups only
  }
  return GroupPage(c, f, page);
}

HttpResponse CreateTaskGroup(const Call& c) {
  DSCHED_API_TRY(GroupFields fields, ReadGroupFields(c.req));
  DSCHED_API_TRY(int64_t project_code, IntParam(c.req, "projectCode", 0));
  if (project_code < 0) return Fail(BadParam("projectCode", "must not be negative"));
  if (project_code != 0) {
    DSCHED_API_TRY(Project p, ProjectForUser(c, project_code, ProjectAccess::kWrite));
    (void)p;
  }
  TaskGroup g;
  g.name = fields.name;
  g.description = fields.description;
  g.group_size = fields.group_size;
  g.project_code = project_code;
  g.user_id = c.user.id;
  g.status = 1;
  auto created = c.deps.task_groups->CreateTaskGroup(g);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists)
      return Fail(kTaskGroupNameExist, "this task group name is repeated in a project");
    return Fail(StoreError(created.status(), kCreateTaskGroupError, "create task group error"));
  }
  return Ok(TaskGroupToJson(*created));
}

HttpResponse UpdateTaskGroup(const Call& c) {
  DSCHED_API_TRY(TaskGroup g, ExistingGroup(c, "id"));
  DSCHED_API_TRY(GroupFields fields, ReadGroupFields(c.req));
  // A closed group is reopened before it is changed, as DolphinScheduler requires.
  if (g.status != 1) return Fail(kTaskGroupStatusError, "task group status error: it is closed");
  g.name = fields.name;
  g.description = fields.description;
  g.group_size = fields.group_size;
  auto updated = c.deps.task_groups->UpdateTaskGroup(g);
  if (!updated.ok()) {
    if (updated.status().code() == StatusCode::kAlreadyExists)
      return Fail(kTaskGroupNameExist, "this task group name is repeated in a project");
    return Fail(StoreError(updated.status(), kUpdateTaskGroupError, "update task group list error"));
  }
  // A larger group may admit waiters now.
  if (c.deps.master) c.deps.master->WakeCommands();
  return Ok(TaskGroupToJson(*updated));
}

HttpResponse CloseTaskGroup(const Call& c) { return SetStatus(c, 0); }

HttpResponse StartTaskGroup(const Call& c) { return SetStatus(c, 1); }

HttpResponse ListTaskGroupQueue(const Call& c) {
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(int64_t group_id, IntParam(c.req, "groupId", -1));
  TaskGroupQueueFilter f;
  f.group_id = group_id > 0 ? group_id : 0;  // -1 (the default): every group
  f.task_name = c.req.Param("taskInstanceName").value_or("");
  f.process_instance_name = c.req.Param("processInstanceName").value_or("");
  DSCHED_API_TRY(std::optional<int64_t> status, OptionalIntParam(c.req, "status"));
  if (status) {
    if (*status != -1 && *status != 1 && *status != 2)
      return Fail(BadParam("status", "expected -1 (WAIT_QUEUE), 1 (ACQUIRE_SUCCESS) or 2 (RELEASE)"));
    f.status = static_cast<TaskGroupQueueStatus>(*status);
  }
  auto rows = c.deps.task_groups->ListQueue(f, Page{page.offset(), page.page_size});
  if (!rows.ok())
    return Fail(StoreError(rows.status(), kQueryTaskGroupQueueListError,
                           "query task group queue list error"));
  json list = json::array();
  for (const auto& q : rows->rows) list.push_back(QueueToJson(q));
  return Ok(PageInfo(std::move(list), rows->total, page));
}

HttpResponse ModifyTaskGroupQueuePriority(const Call& c) {
  DSCHED_API_TRY(TaskGroupQueue q, ExistingQueueRow(c));
  DSCHED_API_TRY(int64_t priority, RequiredIntParam(c.req, "priority"));
  if (priority < 0 || priority > std::numeric_limits<int32_t>::max())
    return Fail(BadParam("priority", "must be between 0 and 2147483647"));
  Status s = c.deps.task_groups->SetQueuePriority(q.id, static_cast<int>(priority));
  if (s.code() == StatusCode::kFailedPrecondition)
    return Fail(kTaskGroupQueueAlreadyStart, "task group queue already start");
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

HttpResponse ForceStartTaskInQueue(const Call& c) {
  DSCHED_API_TRY(TaskGroupQueue q, ExistingQueueRow(c));
  Status s = c.deps.task_groups->ForceStart(q.id);
  if (s.code() == StatusCode::kFailedPrecondition)
    return Fail(kTaskGroupQueueAlreadyStart, "task group queue already start");
  if (!s.ok()) return Fail(FromStatus(s));
  // The master serves its waiters on every command scan: wake it rather than wait for one.
  if (c.deps.master) c.deps.master->WakeCommands();
  return Ok(nullptr);
}

}  // namespace dsched::api
