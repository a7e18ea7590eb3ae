// Handlers of /projects (create, list, read, update, delete, who may see which), the project
// permission check every project-scoped route goes through, and the home page's state counts.

#include <limits>

#include "api/handlers.h"
#include "model/json_codec.h"

namespace dsched::api {

using nlohmann::json;

namespace {

constexpr int64_t kAll = std::numeric_limits<int32_t>::max();
// t_ds_relation_project_user.perm: 7 read, write and execute (owners, write grants); 4 read.
constexpr int kPermRead = 4;
constexpr int kPermWrite = 7;
constexpr size_t kMaxProjectName = 100;
constexpr size_t kMaxDescription = 255;
constexpr DsStatus kUserNotExist{10010};
constexpr DsStatus kDeleteProjectDefinesNotNull{10137};

bool IsAdmin(const User& u) { return u.user_type == UserType::kAdmin; }

// The projects a user may see, newest first: every one for an admin; for a general user those
// they own or were granted (with the grant's perm).
StatusOr<PageResult<Project>> VisibleProjects(const Call& c, const std::string& search, Page page) {
  if (IsAdmin(c.user)) return c.deps.defs->ListProjects(search, page);
  if (c.deps.admin) return c.deps.admin->ListProjectsOfUser(c.user.id, search, page);
  // Without the admin store there are no grants: the user's own projects.
  DSCHED_ASSIGN_OR_RETURN(auto all, c.deps.defs->ListProjects(search, Page{0, kAll}));
  PageResult<Project> out;
  for (auto& p : all.rows) {
    if (p.user_id != c.user.id) continue;
    if (out.total >= page.offset && out.total < page.offset + page.limit)
      out.rows.push_back(std::move(p));
    ++out.total;
  }
  return out;
}

json ProjectList(const std::vector<Project>& rows) {
  json list = json::array();
  for (const auto& p : rows) list.push_back(ProjectToJson(p));
  return list;
}

}  // namespace

ApiError NoOperationPerm() { return {kUserNoOperationPerm, "user has no operation privilege"}; }

// Admins reach every project; a general user the projects they own (read and write) and those
// granted to them: perm 7 reads and writes, 4 only reads. DolphinScheduler's answers: 10018
// for a code no project has, 30002 for a project the user may not use that way.
ApiOr<Project> ProjectForUser(const Call& c, int64_t project_code, ProjectAccess access) {
  auto p = c.deps.defs->GetProject(project_code);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound)
      return ApiError{DsStatus::kProjectNotFound,
                      "project " + std::to_string(project_code) + " not found"};
    return FromStatus(p.status());
  }
  if (IsAdmin(c.user) || p->user_id == c.user.id) {
    p->perm = kPermWrite;
    return *std::move(p);
  }
  int perm = 0;
  if (c.deps.admin) {
    auto granted = c.deps.admin->GrantPerm(c.user.id, p->id);
    if (!granted.ok()) return FromStatus(granted.status());
    perm = *granted;
  }
  bool allowed =
      access == ProjectAccess::kRead ? (perm & kPermRead) != 0 : (perm & kPermWrite) == kPermWrite;
  if (!allowed)
    return ApiError{DsStatus::kUserNoOperationProjectPerm,
                    "user " + c.user.user_name + " is not has project " +
                        std::to_string(project_code) + " permission"};
  p->perm = perm;
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

// Project lists show an admin every project and a general user their own and granted ones
// (ProjectForUser decides single projects).
HttpResponse ListProjectsPaged(const Call& c) {
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, VisibleProjects(c, c.req.Param("searchVal").value_or(""),
                                            Page{page.offset(), page.page_size}));
  return Ok(PageInfo(ProjectList(rows.rows), rows.total, page));
}

HttpResponse GetProject(const Call& c) {
  DSCHED_API_TRY(Project p, PathProject(c, ProjectAccess::kRead));
  return Ok(ProjectToJson(p));
}

HttpResponse ListAllProjects(const Call& c) {
  DSCHED_API_TRY(auto rows, VisibleProjects(c, "", Page{0, kAll}));
  return Ok(ProjectList(rows.rows));
}

// PUT /projects/{code}: name, description and (userName) the owner. Needs write permission.
HttpResponse UpdateProject(const Call& c) {
  DSCHED_API_TRY(Project p, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(std::string name, RequiredParam(c.req, "projectName"));
  if (name.size() > kMaxProjectName)
    return Fail(
        BadParam("projectName", "longer than " + std::to_string(kMaxProjectName) + " characters"));
  std::string description = c.req.Param("description").value_or("");
  if (description.size() > kMaxDescription)
    return Fail(
        BadParam("description", "longer than " + std::to_string(kMaxDescription) + " characters"));
  if (auto owner = c.req.Param("userName")) {
    auto u = c.deps.users->GetUserByName(*owner);
    if (!u.ok()) {
      if (u.status().code() == StatusCode::kNotFound)
        return Fail(kUserNotExist, "user " + *owner + " not exists");
      return Fail(FromStatus(u.status()));
    }
    p.user_id = u->id;
  }
  p.name = name;
  p.description = description;
  auto updated = c.deps.admin->UpdateProject(p);
  if (!updated.ok()) {
    if (updated.status().code() == StatusCode::kAlreadyExists)
      return Fail(DsStatus::kProjectAlreadyExists, "project " + name + " already exists");
    return Fail(FromStatus(updated.status()));
  }
  return Ok(ProjectToJson(*updated));
}

HttpResponse DeleteProject(const Call& c) {
  DSCHED_API_TRY(Project p, PathProject(c, ProjectAccess::kWrite));
  Status s = c.deps.admin->DeleteProject(p.code);
  if (s.code() == StatusCode::kFailedPrecondition)
    return Fail(kDeleteProjectDefinesNotNull,
                "please delete the process definitions in project first!");
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(true);
}

// The user of an admin's userId query, or 10010.
ApiOr<User> QueriedUser(const Call& c) {
  auto id = RequiredIntParam(c.req, "userId");
  if (!id.ok()) return id.error();
  auto u = c.deps.users->GetUser(id.value());
  if (!u.ok()) {
    if (u.status().code() == StatusCode::kNotFound)
      return ApiError{kUserNotExist, "user " + std::to_string(id.value()) + " not exists"};
    return FromStatus(u.status());
  }
  return *std::move(u);
}

// Every project with userId's perm on it: 7 owner or write grant, 4 read grant, 0 none.
StatusOr<std::vector<Project>> ProjectsWithPermOf(const Call& c, const User& u,
                                                  const std::string& search) {
  DSCHED_ASSIGN_OR_RETURN(auto all, c.deps.defs->ListProjects(search, Page{0, kAll}));
  DSCHED_ASSIGN_OR_RETURN(auto granted, c.deps.admin->ListGrantedProjects(u.id));
  for (auto& p : all.rows) {
    p.perm = p.user_id == u.id ? kPermWrite : 0;
    for (const auto& g : granted)
      if (g.id == p.id && p.user_id != u.id) p.perm = g.perm;
  }
  return std::move(all.rows);
}

// Admin only: the projects granted to userId (not the ones they own).
HttpResponse ListAuthedProjects(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(User u, QueriedUser(c));
  DSCHED_API_TRY(auto rows, c.deps.admin->ListGrantedProjects(u.id));
  return Ok(ProjectList(rows));
}

// Admin only: the projects userId holds no grant on (their own included, as DolphinScheduler
// lists them).
HttpResponse ListUnauthProjects(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(User u, QueriedUser(c));
  DSCHED_API_TRY(auto all, c.deps.defs->ListProjects("", Page{0, kAll}));
  DSCHED_API_TRY(auto granted, c.deps.admin->ListGrantedProjects(u.id));
  std::vector<Project> out;
  for (const auto& p : all.rows) {
    bool is_granted = false;
    for (const auto& g : granted) is_granted = is_granted || g.id == p.id;
    if (!is_granted) out.push_back(p);
  }
  return Ok(ProjectList(out));
}

// The users granted projectCode: for an admin or the project's owner.
HttpResponse ListAuthedUsers(const Call& c) {
  DSCHED_API_TRY(int64_t code, RequiredIntParam(c.req, "projectCode"));
  DSCHED_API_TRY(Project p, ProjectForUser(c, code, ProjectAccess::kRead));
  if (!IsAdmin(c.user) && p.user_id != c.user.id) return Fail(NoOperationPerm());
  DSCHED_API_TRY(auto users, c.deps.admin->ListUsersOfProject(p.id));
  json list = json::array();
  for (const auto& u : users)
    list.push_back({{"id", u.id},
                    {"userName", u.user_name},
                    {"email", u.email},
                    {"userType", u.user_type == UserType::kAdmin ? "ADMIN_USER" : "GENERAL_USER"},
                    {"state", u.state}});
  return Ok(std::move(list));
}

HttpResponse ListAuthorizedLevelProjects(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(User u, QueriedUser(c));
  DSCHED_API_TRY(auto rows, ProjectsWithPermOf(c, u, ""));
  return Ok(ProjectList(rows));
}

HttpResponse ListAuthorizedLevelProjectsPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(User u, QueriedUser(c));
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, ProjectsWithPermOf(c, u, c.req.Param("searchVal").value_or("")));
  std::vector<Project> slice;
  for (int64_t i = page.offset();
       i < static_cast<int64_t>(rows.size()) && i < page.offset() + page.page_size; ++i)
    slice.push_back(rows[i]);
  return Ok(PageInfo(ProjectList(slice), static_cast<int64_t>(rows.size()), page));
}

// The projects whose runs a home-page count covers: the one asked for (after the permission
// check), all (code 0) for an admin, the visible ones for a general user.
ApiOr<std::vector<int64_t>> CountedProjects(const Call& c) {
  auto code = IntParam(c.req, "projectCode", 0);
  if (!code.ok()) return code.error();
  if (code.value() != 0) {
    auto p = ProjectForUser(c, code.value(), ProjectAccess::kRead);
    if (!p.ok()) return p.error();
    return std::vector<int64_t>{code.value()};
  }
  if (IsAdmin(c.user)) return std::vector<int64_t>{0};
  auto visible = VisibleProjects(c, "", Page{0, kAll});
  if (!visible.ok()) return FromStatus(visible.status());
  std::vector<int64_t> codes;
  for (const auto& p : visible->rows) codes.push_back(p.code);
  return codes;
}

// One count query per state (and project) keeps this on the store interface as it is; the
// home page asks once per visit, so the small queries do not matter.
HttpResponse TaskStateCount(const Call& c) {
  DSCHED_API_TRY(std::vector<int64_t> projects, CountedProjects(c));
  json counts = json::array();
  int64_t total = 0;
  for (const auto& [state, name] : EnumNames<TaskState>::Get()) {
    int64_t n = 0;
    for (int64_t code : projects) {
      TaskInstanceFilter f;
      f.project_code = code;
      f.state = state;
      DSCHED_API_TRY(auto r, c.deps.instances->ListTaskInstancesPaged(f, Page{0, 1}));
      n += r.total;
    }
    counts.push_back({{"state", name}, {"count", n}});
    total += n;
  }
  return Ok({{"totalCount", total}, {"taskInstanceStatusCounts", std::move(counts)}});
}

HttpResponse ProcessStateCount(const Call& c) {
  DSCHED_API_TRY(std::vector<int64_t> projects, CountedProjects(c));
  DSCHED_API_TRY(int64_t start, DateParam(c.req, "startDate"));
  DSCHED_API_TRY(int64_t end, DateParam(c.req, "endDate"));
  json counts = json::array();
  int64_t total = 0;
  for (const auto& [state, name] : EnumNames<WorkflowState>::Get()) {
    int64_t n = 0;
    for (int64_t code : projects) {
      InstanceFilter f;
      f.project_code = code;
      f.state = state;
      f.start_after = start;
      f.start_before = end;
      DSCHED_API_TRY(auto r, c.deps.instances->ListWorkflowInstances(f, Page{0, 1}));
      n += r.total;
    }
    counts.push_back({{"state", name}, {"count", n}});
    total += n;
  }
  return Ok({{"totalCount", total}, {"workflowInstanceStatusCounts", std::move(counts)}});
}

}  // namespace dsched::api
