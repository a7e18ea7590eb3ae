// Handlers of /projects/{projectCode}/process-definition (workflow definitions: save the DAG
// the editor sends, read it back, release, delete) and of task code generation.

#include <limits>
#include <map>

#include "api/handlers.h"
#include "dag/dag.h"
#include "model/json_codec.h"

namespace dsched::api {

using nlohmann::json;

namespace {

constexpr int64_t kAll = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxGenNum = 1000;

ApiError DefinitionNotFound(const std::string& what) {
  return {DsStatus::kProcessDefineNotExist, "process definition " + what + " does not exist"};
}

ApiError NameExists(const std::string& name) {
  return {DsStatus::kProcessDefinitionNameExist,
          "process definition name " + name + " already exists"};
}

ApiError AlreadyOnline(const WorkflowDefinition& d) {
  return {DsStatus::kProcessDefineStateOnline,
          "process definition [" + d.name + "] is already online"};
}

// ValidateWorkflow names the problem in its message; DolphinScheduler gives cycles, empty DAGs
// and bad task parameters codes of their own, everything else is a plain invalid request.
ApiError DagError(const Status& s) {
  const std::string& m = s.message();
  if (m.rfind("cycle", 0) == 0) return {DsStatus::kProcessNodeHasCycle, m};
  if (m.rfind("taskDefinitionJson: the workflow has no task", 0) == 0)
    return {DsStatus::kProcessDagIsEmpty, m};
  if (m.rfind("task '", 0) == 0 &&
      (m.find(": taskParams") != std::string::npos || m.find(": param '") != std::string::npos))
    return {DsStatus::kProcessNodeParameterInvalid, m};
  return FromStatus(s);
}

// A JSON list parameter (taskDefinitionJson, taskRelationJson).
ApiOr<json> JsonListParam(const HttpRequest& req, const std::string& name) {
  auto text = req.Param(name);
  if (!text) return BadParam(name, "it is required");
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return BadParam(name, "not valid JSON");
  if (!j.is_array()) return BadParam(name, "expected a JSON list");
  return j;
}

// The DAG form of create and update (ds-rest-api.md §4), checked with ValidateWorkflow.
// Fills every field of the definition but code, id, version and release state.
ApiOr<WorkflowDefinition> ParseWorkflowForm(const Call& c, const Project& project,
                                            const std::string& name) {
  const HttpRequest& req = c.req;
  int64_t now = c.deps.clock->NowMs();
  WorkflowDefinition d;
  d.name = name;
  d.project_code = project.code;
  d.user_id = c.user.id;
  d.create_time = d.update_time = now;
  d.description = req.Param("description").value_or("");
  auto gp = PropertiesFromText(req.Param("globalParams").value_or(""), "globalParams");
  if (!gp.ok()) return FromStatus(gp.status());
  d.global_params = *std::move(gp);
  if (auto loc = req.Param("locations")) {
    if (json::parse(*loc, nullptr, false).is_discarded())
      return BadParam("locations", "not valid JSON");
    d.locations = *loc;
  }
  auto timeout = IntParam(req, "timeout", 0);
  if (!timeout.ok()) return timeout.error();
  d.timeout = static_cast<int>(timeout.value());
  auto et = EnumParam<ExecutionType>(req, "executionType", ExecutionType::kParallel);
  if (!et.ok()) return et.error();
  d.execution_type = et.value();
  auto warning_group = IntParam(req, "warningGroupId", 0);
  if (!warning_group.ok()) return warning_group.error();
  d.warning_group_id = warning_group.value();

  auto tasks = JsonListParam(req, "taskDefinitionJson");
  if (!tasks.ok()) return tasks.error();
  for (size_t i = 0; i < tasks.value().size(); ++i) {
    auto t =
        TaskDefinitionFromJson(tasks.value()[i], "taskDefinitionJson[" + std::to_string(i) + "]");
    if (!t.ok()) return FromStatus(t.status());
    t->project_code = project.code;
    t->user_id = c.user.id;
    t->create_time = t->update_time = now;
    d.tasks.push_back(*std::move(t));
  }
  auto rels = JsonListParam(req, "taskRelationJson");
  if (!rels.ok()) return rels.error();
  for (size_t i = 0; i < rels.value().size(); ++i) {
    auto r = TaskRelationFromJson(rels.value()[i], "taskRelationJson[" + std::to_string(i) + "]");
    if (!r.ok()) return FromStatus(r.status());
    d.relations.push_back(*std::move(r));
  }
  Status valid = ValidateWorkflow(d);
  if (!valid.ok()) return DagError(valid);
  return d;
}

// The definition `code` if it belongs to `project`; 50003 otherwise.
ApiOr<WorkflowDefinition> WorkflowOfProject(const Call& c, const Project& project, int64_t code) {
  auto d = c.deps.defs->GetWorkflow(code);
  if (!d.ok()) {
    if (d.status().code() == StatusCode::kNotFound) return DefinitionNotFound(std::to_string(code));
    return FromStatus(d.status());
  }
  if (d->project_code != project.code) return DefinitionNotFound(std::to_string(code));
  return *std::move(d);
}

// OK when no workflow of the project is called `name` but the one with code `self`.
ApiOr<bool> CheckNameFree(const Call& c, const Project& project, const std::string& name,
                          int64_t self) {
  auto other = c.deps.defs->GetWorkflowByName(project.code, name);
  if (other.ok()) {
    if (other->code != self) return NameExists(name);
    return true;
  }
  if (other.status().code() != StatusCode::kNotFound) return FromStatus(other.status());
  return true;
}

// The list row of a definition: DolphinScheduler joins the user's name in.
json DefinitionRow(const Call& c, const WorkflowDefinition& d,
                   std::map<int64_t, std::string>* user_names) {
  json j = WorkflowDefinitionToJson(d);
  auto it = user_names->find(d.user_id);
  if (it == user_names->end()) {
    auto u = c.deps.users->GetUser(d.user_id);
    it = user_names->emplace(d.user_id, u.ok() ? u->user_name : std::string()).first;
  }
  j["userName"] = it->second;
  j["modifyBy"] = it->second;
  j["projectName"] = nullptr;
  return j;
}

}  // namespace

HttpResponse GenTaskCodes(const Call& c) {
  DSCHED_API_TRY(Project p, PathProject(c, ProjectAccess::kWrite));
  (void)p;
  DSCHED_API_TRY(int64_t n, RequiredIntParam(c.req, "genNum"));
  if (n < 1 || n > kMaxGenNum)
    return Fail(BadParam("genNum", "must be between 1 and " + std::to_string(kMaxGenNum)));
  json codes = json::array();
  for (int64_t i = 0; i < n; ++i) codes.push_back(c.deps.codes->Next());
  return Ok(std::move(codes));
}

HttpResponse CreateWorkflow(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(std::string name, RequiredParam(c.req, "name"));
  DSCHED_API_TRY(bool free, CheckNameFree(c, project, name, 0));
  (void)free;
  DSCHED_API_TRY(WorkflowDefinition d, ParseWorkflowForm(c, project, name));
  d.code = c.deps.codes->Next();
  d.version = 1;
  d.release_state = ReleaseState::kOffline;
  auto created = c.deps.defs->CreateWorkflow(std::move(d));
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists) return Fail(NameExists(name));
    return Fail(FromStatus(created.status()));
  }
  return Ok(WorkflowDefinitionToJson(*created));
}

HttpResponse UpdateWorkflow(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(WorkflowDefinition old, WorkflowOfProject(c, project, code));
  if (old.release_state == ReleaseState::kOnline) return Fail(AlreadyOnline(old));
  DSCHED_API_TRY(std::string name, RequiredParam(c.req, "name"));
  DSCHED_API_TRY(bool free, CheckNameFree(c, project, name, code));
  (void)free;
  DSCHED_API_TRY(auto release, OptionalEnumParam<ReleaseState>(c.req, "releaseState"));
  DSCHED_API_TRY(WorkflowDefinition d, ParseWorkflowForm(c, project, name));
  d.id = old.id;
  d.code = code;
  d.version = old.version;
  d.create_time = old.create_time;
  d.release_state = old.release_state;
  auto updated = c.deps.defs->UpdateWorkflow(std::move(d));
  if (!updated.ok()) {
    if (updated.status().code() == StatusCode::kNotFound)
      return Fail(DefinitionNotFound(std::to_string(code)));
    if (updated.status().code() == StatusCode::kAlreadyExists) return Fail(NameExists(name));
    return Fail(FromStatus(updated.status()));
  }
  if (release && *release == ReleaseState::kOnline) {
    Status s = c.deps.defs->SetReleaseState(code, ReleaseState::kOnline);
    if (!s.ok()) return Fail(FromStatus(s));
    updated->release_state = ReleaseState::kOnline;
  }
  return Ok(WorkflowDefinitionToJson(*updated));
}

HttpResponse GetWorkflow(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  return Ok(DagDataToJson(d));
}

HttpResponse ListWorkflowsPaged(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows,
                 c.deps.defs->ListWorkflows(project.code, c.req.Param("searchVal").value_or(""),
                                            Page{page.offset(), page.page_size}));
  std::map<int64_t, std::string> user_names;
  json list = json::array();
  for (const auto& d : rows.rows) list.push_back(DefinitionRow(c, d, &user_names));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

HttpResponse GetWorkflowByName(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(std::string name, RequiredParam(c.req, "name"));
  auto d = c.deps.defs->GetWorkflowByName(project.code, name);
  if (!d.ok()) {
    if (d.status().code() == StatusCode::kNotFound) return Fail(DefinitionNotFound(name));
    return Fail(FromStatus(d.status()));
  }
  return Ok(DagDataToJson(*d));
}

HttpResponse VerifyWorkflowName(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(std::string name, RequiredParam(c.req, "name"));
  // `code` comes along when an existing workflow is renamed: its own name is no conflict.
  DSCHED_API_TRY(int64_t self, IntParam(c.req, "code", 0));
  DSCHED_API_TRY(bool free, CheckNameFree(c, project, name, self));
  (void)free;
  return Ok(nullptr);
}

// GET .../list and .../all: DolphinScheduler answers both with DagData, DAG included (its
// api-test looks for the task script in the answer).
HttpResponse ListWorkflowDags(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(auto rows, c.deps.defs->ListWorkflows(project.code, "", Page{0, kAll}));
  json list = json::array();
  for (const auto& row : rows.rows) {
    auto d = c.deps.defs->GetWorkflow(row.code);
    if (!d.ok()) {
      if (d.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
      return Fail(FromStatus(d.status()));
    }
    list.push_back(DagDataToJson(*d));
  }
  return Ok(std::move(list));
}

HttpResponse ListWorkflowNames(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(auto rows, c.deps.defs->ListWorkflows(project.code, "", Page{0, kAll}));
  json list = json::array();
  for (const auto& d : rows.rows)
    list.push_back({{"code", d.code}, {"name", d.name}, {"version", d.version}});
  return Ok(std::move(list));
}

HttpResponse ReleaseWorkflow(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(ReleaseState state, RequiredEnumParam<ReleaseState>(c.req, "releaseState"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  (void)d;
  Status s = c.deps.defs->SetReleaseState(code, state);
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound) return Fail(DefinitionNotFound(std::to_string(code)));
    return Fail(FromStatus(s));
  }
  return Ok(true);
}

HttpResponse DeleteWorkflow(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  if (d.release_state == ReleaseState::kOnline) return Fail(AlreadyOnline(d));
  DSCHED_API_TRY(auto unfinished, c.deps.instances->ListUnfinished());
  int running = 0;
  for (const auto& wi : unfinished) running += wi.definition_code == code ? 1 : 0;
  if (running > 0)
    return Fail(DsStatus::kDeleteProcessDefinitionExecutingFail,
                "delete process definition by code fail, for there are " + std::to_string(running) +
                    " process instances in executing using it");
  Status s = c.deps.defs->DeleteWorkflow(code);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

}  // namespace dsched::api
