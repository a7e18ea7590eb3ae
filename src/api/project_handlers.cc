// Handlers of /projects (create, list, read) and the home page's state counts.

#include <limits>

#include "api/handlers.h"
#include "model/json_codec.h"

namespace dsched::api {

using nlohmann::json;

namespace {

constexpr int64_t kAll = std::numeric_limits<int32_t>::max();

}  // namespace

ApiOr<Project> ProjectForUser(const Call& c, int64_t project_code, ProjectAccess access) {
  auto p = c.deps.defs->GetProject(project_code);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound)
      return ApiError{DsStatus::kProjectNotFound,
                      "project " + std::to_string(project_code) + " not found"};
    return FromStatus(p.status());
  }
  // Grants arrive with user management: then a general user needs to own the project or
  // hold a grant with the perm `access` needs, else 30002 USER_NO_OPERATION_PROJECT_PERM.
  // Until then every logged-in user may read and write every project.
  (void)access;
  return *std::move(p);
}

ApiOr<Project> PathProject(const Call& c, ProjectAccess access) {
  auto code = PathIntParam(c.req, "projectCode");
  if (!code.ok()) return code.error();
  return ProjectForUser(c, code.value(), access);
}

HttpResponse CreateProject(const Call& c) {
  DSCHED_API_TRY(std::string name, RequiredParam(c.req, "projectName"));
  Project p;
  p.code = c.deps.codes->Next();
  p.name = name;
  p.description = c.req.Param("description").value_or("");
  p.user_id = c.user.id;
  p.user_name = c.user.user_name;
  p.create_time = p.update_time = c.deps.clock->NowMs();
  auto created = c.deps.defs->CreateProject(p);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists)
      return Fail(DsStatus::kProjectAlreadyExists, "project " + name + " already exists");
    return Fail(FromStatus(created.status()));
  }
  return Ok(ProjectToJson(*created));
}

// Project lists show every project; when grants arrive they show the user's own and granted
// ones (ProjectForUser decides single projects).
HttpResponse ListProjectsPaged(const Call& c) {
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, c.deps.defs->ListProjects(c.req.Param("searchVal").value_or(""),
                                                      Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& p : rows.rows) list.push_back(ProjectToJson(p));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

HttpResponse GetProject(const Call& c) {
  DSCHED_API_TRY(Project p, PathProject(c, ProjectAccess::kRead));
  return Ok(ProjectToJson(p));
}

HttpResponse ListAllProjects(const Call& c) {
  DSCHED_API_TRY(auto rows, c.deps.defs->ListProjects("", Page{0, kAll}));
  json list = json::array();
  for (const auto& p : rows.rows) list.push_back(ProjectToJson(p));
  return Ok(std::move(list));
}

// One count query per state keeps this on the store interface as it is; the home page asks
// once per visit, so the dozen small queries do not matter.
HttpResponse TaskStateCount(const Call& c) {
  DSCHED_API_TRY(int64_t project_code, IntParam(c.req, "projectCode", 0));
  if (project_code != 0) {
    DSCHED_API_TRY(Project p, ProjectForUser(c, project_code, ProjectAccess::kRead));
    (void)p;
  }
  json counts = json::array();
  int64_t total = 0;
  for (const auto& [state, name] : EnumNames<TaskState>::Get()) {
    TaskInstanceFilter f;
    f.project_code = project_code;
    f.state = state;
    DSCHED_API_TRY(auto r, c.deps.instances->ListTaskInstancesPaged(f, Page{0, 1}));
    counts.push_back({{"state", name}, {"count", r.total}});
    total += r.total;
  }
  return Ok({{"totalCount", total}, {"taskInstanceStatusCounts", std::move(counts)}});
}

HttpResponse ProcessStateCount(const Call& c) {
  DSCHED_API_TRY(int64_t project_code, IntParam(c.req, "projectCode", 0));
  if (project_code != 0) {
    DSCHED_API_TRY(Project p, ProjectForUser(c, project_code, ProjectAccess::kRead));
    (void)p;
  }
  DSCHED_API_TRY(int64_t start, DateParam(c.req, "startDate"));
  DSCHED_API_TRY(int64_t end, DateParam(c.req, "endDate"));
  json counts = json::array();
  int64_t total = 0;
  for (const auto& [state, name] : EnumNames<WorkflowState>::Get()) {
    InstanceFilter f;
    f.project_code = project_code;
    f.state = state;
    f.start_after = start;
    f.start_before = end;
    DSCHED_API_TRY(auto r, c.deps.instances->ListWorkflowInstances(f, Page{0, 1}));
    counts.push_back({{"state", name}, {"count", r.total}});
    total += r.total;
  }
  return Ok({{"totalCount", total}, {"workflowInstanceStatusCounts", std::move(counts)}});
}

}  // namespace dsched::api
