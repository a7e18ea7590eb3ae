// Handlers of /projects/{projectCode}/process-definition (workflow definitions: save the DAG
// the editor sends, read it back, release, delete; copy, move, export and import; versions,
// tree and variables views) and of the task-definition lookups of the DAG editor.

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>

#include "api/handlers.h"
#include "common/time_format.h"
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
// `schedules`: the schedules of the listed definitions by definition code (one query per page).
json DefinitionRow(const Call& c, const WorkflowDefinition& d,
                   std::map<int64_t, std::string>* user_names,
                   const std::map<int64_t, Schedule>& schedules) {
  json j = WorkflowDefinitionToJson(d);
  auto it = user_names->find(d.user_id);
  if (it == user_names->end()) {
    auto u = c.deps.users->GetUser(d.user_id);
    it = user_names->emplace(d.user_id, u.ok() ? u->user_name : std::string()).first;
  }
  j["userName"] = it->second;
  j["modifyBy"] = it->second;
  j["projectName"] = nullptr;
  // The list page shows the schedule's state and offers its actions from these two.
  j["schedule"] = nullptr;
  j["scheduleReleaseState"] = nullptr;
  if (auto s = schedules.find(d.code); s != schedules.end()) {
    j["schedule"] = ScheduleToJson(s->second);
    j["scheduleReleaseState"] = Name(s->second.release_state);
  }
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
  std::map<int64_t, Schedule> schedules;
  if (c.deps.schedules && !rows.rows.empty()) {
    ScheduleFilter f;
    f.project_code = project.code;
    for (const auto& d : rows.rows) f.definition_codes.push_back(d.code);
    DSCHED_API_TRY(auto found, c.deps.schedules->ListSchedules(
                                   f, Page{0, static_cast<int64_t>(f.definition_codes.size())}));
    for (auto& s : found.rows) schedules.emplace(s.definition_code, std::move(s));
  }
  std::map<int64_t, std::string> user_names;
  json list = json::array();
  for (const auto& d : rows.rows) list.push_back(DefinitionRow(c, d, &user_names, schedules));
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
  if (state == ReleaseState::kOffline) {
    // As DolphinScheduler: an offline workflow's schedule goes offline with it.
    DSCHED_API_TRY(bool done, OfflineScheduleOfDefinition(c, code));
    (void)done;
  }
  return Ok(true);
}

}  // namespace dsched::api

// ---------------------------------------------------------------------------------------------
// Copy, move, batch delete, export / import, versions, tree and variables.

namespace dsched::api {

namespace {

ApiError CodesEmpty() {
  return {kProcessDefinitionCodesIsEmpty, "process definition codes is empty"};
}

// "yyyyMMddHHmmssSSS", the stamp DolphinScheduler appends to copied and imported names.
std::string NameStamp(int64_t ms) {
  std::string out;
  for (char ch : FormatDateTime(ms))
    if (ch >= '0' && ch <= '9') out += ch;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03d", static_cast<int>(ms % 1000));
  return out + buf;
}

// The comma-separated `codes` of the batch routes, each a number, in order, without repeats.
ApiOr<std::vector<int64_t>> CodesParam(const HttpRequest& req, const std::string& name) {
  auto text = req.Param(name);
  if (!text) return CodesEmpty();
  std::vector<int64_t> out;
  size_t i = 0;
  while (i <= text->size()) {
    size_t comma = text->find(',', i);
    std::string item = text->substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    i = comma == std::string::npos ? text->size() + 1 : comma + 1;
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) continue;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size())
      return BadParam(name, "expected numbers separated by commas, got '" + item + "'");
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  if (out.empty()) return CodesEmpty();
  return out;
}

// Every definition of `codes` in `project`, with its DAG; 50003 naming the first one missing.
ApiOr<std::vector<WorkflowDefinition>> WorkflowsOfProject(const Call& c, const Project& project,
                                                          const std::vector<int64_t>& codes) {
  std::vector<WorkflowDefinition> out;
  for (int64_t code : codes) {
    auto d = WorkflowOfProject(c, project, code);
    if (!d.ok()) return d.error();
    out.push_back(std::move(d).value());
  }
  return out;
}

// Replaces every task code of `map` found in `j` (as a number, or as a string holding just
// the number): condition and switch branches, dependencies on tasks of the same workflow.
void ReplaceCodes(json& j, const std::map<int64_t, int64_t>& map) {
  if (j.is_object() || j.is_array()) {
    for (auto& v : j) ReplaceCodes(v, map);
  } else if (j.is_number_integer()) {
    auto it = map.find(j.get<int64_t>());
    if (it != map.end()) j = it->second;
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
      auto it = map.find(v);
      if (it != map.end()) j = std::to_string(it->second);
    }
  }
}

// The same DAG under new codes (definition and tasks), as copy and import store it: relations,
// locations and task parameters follow the new task codes. Version 1, offline.
WorkflowDefinition Rekeyed(const Call& c, WorkflowDefinition d, int64_t project_code,
                           const std::string& name) {
  std::map<int64_t, int64_t> map;
  for (auto& t : d.tasks) map[t.code] = c.deps.codes->Next();
  int64_t now = c.deps.clock->NowMs();
  for (auto& t : d.tasks) {
    t.code = map[t.code];
    t.id = 0;
    t.version = 1;
    t.project_code = project_code;
    t.user_id = c.user.id;
    t.create_time = t.update_time = now;
    ReplaceCodes(t.task_params, map);
  }
  for (auto& r : d.relations) {
    if (r.pre_task_code != 0 && map.count(r.pre_task_code)) r.pre_task_code = map[r.pre_task_code];
    if (map.count(r.post_task_code)) r.post_task_code = map[r.post_task_code];
    r.pre_task_version = r.post_task_version = 0;
    ReplaceCodes(r.condition_params, map);
  }
  json loc = json::parse(d.locations.empty() ? "[]" : d.locations, nullptr, false);
  if (!loc.is_discarded()) {
    ReplaceCodes(loc, map);
    d.locations = loc.dump();
  }
  d.id = 0;
  d.code = c.deps.codes->Next();
  d.version = 1;
  d.name = name;
  d.project_code = project_code;
  d.release_state = ReleaseState::kOffline;
  d.user_id = c.user.id;
  d.create_time = d.update_time = now;
  return d;
}

// Stores every definition or none: a failure part-way removes the ones stored before it.
ApiOr<std::vector<WorkflowDefinition>> CreateAll(const Call& c,
                                                 std::vector<WorkflowDefinition> defs,
                                                 DsStatus code, const std::string& what) {
  std::vector<WorkflowDefinition> created;
  for (auto& d : defs) {
    auto r = c.deps.defs->CreateWorkflow(d);
    if (!r.ok()) {
      for (const auto& done : created) (void)c.deps.defs->DeleteWorkflow(done.code);
      std::string why = r.status().code() == StatusCode::kAlreadyExists
                            ? "process definition name " + d.name + " already exists"
                            : r.status().message();
      return ApiError{code, what + why};
    }
    created.push_back(*std::move(r));
  }
  return created;
}

// Why a definition may not be deleted now (DolphinScheduler's rules): online, or runs.
ApiOr<bool> CheckDeletable(const Call& c, const WorkflowDefinition& d) {
  if (d.release_state == ReleaseState::kOnline) return AlreadyOnline(d);
  auto unfinished = c.deps.instances->ListUnfinished();
  if (!unfinished.ok()) return FromStatus(unfinished.status());
  int running = 0;
  for (const auto& wi : *unfinished) running += wi.definition_code == d.code ? 1 : 0;
  if (running > 0)
    return ApiError{DsStatus::kDeleteProcessDefinitionExecutingFail,
                    "delete process definition by code fail, for there are " +
                        std::to_string(running) + " process instances in executing using it"};
  return true;
}

// One element of the export file / import upload: DagData plus its schedule.
ApiOr<WorkflowDefinition> DefinitionFromExport(const json& e, const std::string& where) {
  if (!e.is_object() || !e.contains("processDefinition") || !e["processDefinition"].is_object())
    return BadParam(where + ".processDefinition", "it is required");
  const json& pd = e["processDefinition"];
  WorkflowDefinition d;
  if (!pd.contains("name") || !pd["name"].is_string() || pd["name"].get<std::string>().empty())
    return BadParam(where + ".processDefinition.name", "it is required");
  d.name = pd["name"].get<std::string>();
  if (pd.contains("description") && pd["description"].is_string())
    d.description = pd["description"].get<std::string>();
  if (pd.contains("globalParams") && !pd["globalParams"].is_null()) {
    auto gp =
        pd["globalParams"].is_string()
            ? PropertiesFromText(pd["globalParams"].get<std::string>(),
                                 where + ".processDefinition.globalParams")
            : PropertiesFromJson(pd["globalParams"], where + ".processDefinition.globalParams");
    if (!gp.ok()) return FromStatus(gp.status());
    d.global_params = *std::move(gp);
  }
  if (pd.contains("locations") && !pd["locations"].is_null()) {
    const json& loc = pd["locations"];
    if (loc.is_string()) {
      if (!loc.get<std::string>().empty() &&
          json::parse(loc.get<std::string>(), nullptr, false).is_discarded())
        return BadParam(where + ".processDefinition.locations", "not valid JSON");
      d.locations = loc.get<std::string>().empty() ? "[]" : loc.get<std::string>();
    } else {
      d.locations = loc.dump();
    }
  }
  auto timeout = JsonInt(pd, "timeout", where + ".processDefinition", 0);
  if (!timeout.ok()) return FromStatus(timeout.status());
  d.timeout = static_cast<int>(*timeout);
  if (pd.contains("executionType") && pd["executionType"].is_string()) {
    auto et = Parse<ExecutionType>(pd["executionType"].get<std::string>());
    if (!et)
      return BadParam(where + ".processDefinition.executionType",
                      "unknown value '" + pd["executionType"].get<std::string>() + "'");
    d.execution_type = *et;
  }
  const char* lists[] = {"taskDefinitionList", "processTaskRelationList"};
  for (const char* l : lists)
    if (!e.contains(l) || !e[l].is_array())
      return BadParam(where + "." + l, "expected a JSON list");
  const json& tasks = e["taskDefinitionList"];
  for (size_t i = 0; i < tasks.size(); ++i) {
    auto t =
        TaskDefinitionFromJson(tasks[i], where + ".taskDefinitionList[" + std::to_string(i) + "]");
    if (!t.ok()) return FromStatus(t.status());
    d.tasks.push_back(*std::move(t));
  }
  const json& rels = e["processTaskRelationList"];
  for (size_t i = 0; i < rels.size(); ++i) {
    auto r = TaskRelationFromJson(rels[i],
                                  where + ".processTaskRelationList[" + std::to_string(i) + "]");
    if (!r.ok()) return FromStatus(r.status());
    d.relations.push_back(*std::move(r));
  }
  Status valid = ValidateWorkflow(d);
  if (!valid.ok()) {
    ApiError e = DagError(valid);
    e.msg = where + ": " + e.msg;
    return e;
  }
  return d;
}

// The `file` part of a multipart/form-data body; nullopt when there is none.
std::optional<std::string> MultipartFile(const HttpRequest& req, const std::string& field) {
  const std::string& ct = req.content_type;
  size_t b = ct.find("boundary=");
  if (b == std::string::npos) return std::nullopt;
  std::string boundary = ct.substr(b + 9);
  if (size_t semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  if (boundary.empty()) return std::nullopt;
  const std::string delim = "--" + boundary;
  const std::string& body = req.body;
  size_t pos = body.find(delim);
  while (pos != std::string::npos) {
    pos += delim.size();
    if (body.compare(pos, 2, "--") == 0) break;  // the closing delimiter
    size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) break;
    std::string head = body.substr(pos, head_end - pos);
    size_t next = body.find("\r\n" + delim, head_end + 4);
    if (next == std::string::npos) break;
    std::string lower = head;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.find("name=\"" + field + "\"") != std::string::npos)
      return body.substr(head_end + 4, next - head_end - 4);
    pos = next + 2;
  }
  return std::nullopt;
}

// {globalParams, localParams: {taskName: {taskType, localParamsList}}}, the variables view of
// a definition and of an instance.
json VariablesOf(const json& global_params, const std::vector<TaskDefinition>& tasks) {
  json local = json::object();
  for (const auto& t : tasks) {
    auto props = t.LocalParams();
    if (props.empty()) continue;
    local[t.name] = {{"taskType", t.task_type}, {"localParamsList", PropertiesToJson(props)}};
  }
  return {{"globalParams", global_params}, {"localParams", std::move(local)}};
}

}  // namespace

HttpResponse CopyWorkflows(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(std::vector<int64_t> codes, CodesParam(c.req, "codes"));
  DSCHED_API_TRY(int64_t target_code, RequiredIntParam(c.req, "targetProjectCode"));
  DSCHED_API_TRY(Project target, ProjectForUser(c, target_code, ProjectAccess::kWrite));
  DSCHED_API_TRY(auto defs, WorkflowsOfProject(c, project, codes));
  std::vector<WorkflowDefinition> copies;
  int64_t now = c.deps.clock->NowMs();
  for (auto& d : defs) {
    std::string name = d.name + "_copy_" + NameStamp(now);
    copies.push_back(Rekeyed(c, std::move(d), target.code, name));
  }
  DSCHED_API_TRY(auto created,
                 CreateAll(c, std::move(copies), kCopyProcessDefinitionError,
                           "copy process definition from " + std::to_string(project.code) + " to " +
                               std::to_string(target.code) + " error : "));
  (void)created;
  return Ok(nullptr);
}

HttpResponse MoveWorkflows(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(std::vector<int64_t> codes, CodesParam(c.req, "codes"));
  DSCHED_API_TRY(int64_t target_code, RequiredIntParam(c.req, "targetProjectCode"));
  DSCHED_API_TRY(Project target, ProjectForUser(c, target_code, ProjectAccess::kWrite));
  DSCHED_API_TRY(auto defs, WorkflowsOfProject(c, project, codes));
  if (target.code == project.code) return Ok(nullptr);
  // Every name is checked before the first move, so a clash moves nothing.
  for (const auto& d : defs) {
    auto other = c.deps.defs->GetWorkflowByName(target.code, d.name);
    if (other.ok())
      return Fail(kMoveProcessDefinitionError,
                  "move process definition from " + std::to_string(project.code) + " to " +
                      std::to_string(target.code) + " error : process definition name " + d.name +
                      " already exists");
    if (other.status().code() != StatusCode::kNotFound) return Fail(FromStatus(other.status()));
  }
  for (const auto& d : defs) {
    auto moved = c.deps.defs->MoveWorkflow(d.code, target.code);
    if (!moved.ok())
      return Fail(kMoveProcessDefinitionError,
                  "move process definition from " + std::to_string(project.code) + " to " +
                      std::to_string(target.code) + " error : " + moved.status().message());
  }
  return Ok(nullptr);
}

HttpResponse BatchDeleteWorkflows(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(std::vector<int64_t> codes, CodesParam(c.req, "codes"));
  // All checked first: one that may not go keeps every one of them.
  std::vector<WorkflowDefinition> defs;
  std::string refused;
  for (int64_t code : codes) {
    auto d = WorkflowOfProject(c, project, code);
    if (!d.ok()) {
      refused += (refused.empty() ? "" : ",") + std::to_string(code);
      continue;
    }
    auto ok = CheckDeletable(c, d.value());
    if (!ok.ok()) {
      if (ok.error().code == DsStatus::kInternalServerError) return Fail(ok.error());
      refused += (refused.empty() ? "" : ",") + d->name;
      continue;
    }
    defs.push_back(std::move(d).value());
  }
  if (!refused.empty())
    return Fail(kBatchDeleteProcessDefineByCodesError,
                "batch delete process definition by codes error: " + refused);
  for (const auto& d : defs) {
    Status s = c.deps.defs->DeleteWorkflow(d.code);
    if (!s.ok()) return Fail(FromStatus(s));
  }
  return Ok(nullptr);
}

HttpResponse ExportWorkflows(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(std::vector<int64_t> codes, CodesParam(c.req, "codes"));
  DSCHED_API_TRY(auto defs, WorkflowsOfProject(c, project, codes));
  json file = json::array();
  for (const auto& d : defs) {
    json e = DagDataToJson(d);
    e["schedule"] = nullptr;
    file.push_back(std::move(e));
  }
  HttpResponse r;
  r.content_type = "application/json;charset=UTF-8";
  r.body = file.dump();
  r.headers.emplace_back(
      "Content-Disposition",
      "attachment;filename=workflow_" + std::to_string(c.deps.clock->NowMs()) + ".json");
  return r;
}

HttpResponse ImportWorkflows(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  auto file = MultipartFile(c.req, "file");
  if (!file) return Fail(BadParam("file", "it is required (multipart/form-data)"));
  json j = json::parse(*file, nullptr, false);
  if (j.is_discarded()) return Fail(BadParam("file", "not valid JSON"));
  if (j.is_object()) j = json::array({j});
  if (!j.is_array() || j.empty())
    return Fail(BadParam("file", "expected a JSON list of workflows"));
  std::vector<WorkflowDefinition> defs;
  int64_t now = c.deps.clock->NowMs();
  for (size_t i = 0; i < j.size(); ++i) {
    DSCHED_API_TRY(WorkflowDefinition d,
                   DefinitionFromExport(j[i], "file[" + std::to_string(i) + "]"));
    std::string name = d.name + "_import_" + NameStamp(now);
    defs.push_back(Rekeyed(c, std::move(d), project.code, name));
  }
  DSCHED_API_TRY(auto created, CreateAll(c, std::move(defs), kImportProcessDefineError,
                                         "import process definition error: "));
  (void)created;
  return Ok(nullptr);
}

HttpResponse ListWorkflowVersions(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  (void)d;
  DSCHED_API_TRY(auto rows,
                 c.deps.defs->ListWorkflowVersions(code, Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& v : rows.rows) {
    json row = WorkflowDefinitionToJson(v);
    row["operator"] = v.user_id;
    row["operateTime"] = FormatDateTime(v.update_time);
    list.push_back(std::move(row));
  }
  return Ok(PageInfo(std::move(list), rows.total, page));
}

HttpResponse SwitchWorkflowVersion(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(int64_t version, PathIntParam(c.req, "version"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  if (d.release_state == ReleaseState::kOnline) return Fail(AlreadyOnline(d));
  auto s = c.deps.defs->SwitchWorkflowVersion(code, static_cast<int>(version));
  if (!s.ok()) {
    if (s.status().code() == StatusCode::kNotFound)
      return Fail(kSwitchProcessDefinitionVersionNotExistVersion,
                  "Switch process definition version error: not exists process definition "
                  "version, [process definition id " +
                      std::to_string(code) + "] [version number " + std::to_string(version) + "]");
    if (s.status().code() == StatusCode::kAlreadyExists) return Fail(NameExists(d.name));
    return Fail(FromStatus(s.status()));
  }
  return Ok(nullptr);
}

HttpResponse DeleteWorkflowVersion(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(int64_t version, PathIntParam(c.req, "version"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  (void)d;
  Status s = c.deps.defs->DeleteWorkflowVersion(code, static_cast<int>(version));
  if (s.code() == StatusCode::kFailedPrecondition)
    return Fail(kMainTableUsingVersion, "the version that the master table is using");
  if (s.code() == StatusCode::kNotFound)
    return Fail(kDeleteProcessDefineByCodeError, "delete process definition by code error");
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

// The tree view: the definition's tasks in DAG order, each with its runs in the last `limit`
// instances (newest first), as DolphinScheduler's TreeViewDto.
HttpResponse ViewWorkflowTree(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(int64_t limit, RequiredIntParam(c.req, "limit"));
  if (limit < 1 || limit > 1000) return Fail(BadParam("limit", "must be between 1 and 1000"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  InstanceFilter f;
  f.project_code = project.code;
  f.definition_code = code;
  DSCHED_API_TRY(auto runs, c.deps.instances->ListWorkflowInstances(f, Page{0, limit}));
  auto run_json = [](int64_t id, const std::string& name, int64_t code, const std::string& type,
                     const std::string& state, int64_t start, int64_t end,
                     const std::string& host) {
    int64_t stop = end ? end : start;
    return json{{"id", id},
                {"name", name},
                {"code", code},
                {"type", type},
                {"state", state},
                {"startTime", start ? json(FormatDateTime(start)) : json(nullptr)},
                {"endTime", end ? json(FormatDateTime(end)) : json(nullptr)},
                {"host", host},
                {"duration", std::to_string((stop - start) / 1000) + "s"},
                {"subflowCode", 0}};
  };
  json root_runs = json::array();
  std::map<int64_t, json> task_runs;
  for (const auto& t : d.tasks) task_runs[t.code] = json::array();
  for (const auto& wi : runs.rows) {
    root_runs.push_back(run_json(wi.id, wi.name, wi.definition_code, "", Name(wi.state),
                                 wi.start_time, wi.end_time, wi.host));
    DSCHED_API_TRY(auto tasks, c.deps.instances->ListTaskInstances(wi.id));
    for (const auto& ti : tasks) {
      if (ti.flag != Flag::kYes || !task_runs.count(ti.task_code)) continue;
      task_runs[ti.task_code].push_back(run_json(ti.id, ti.name, ti.task_code, ti.task_type,
                                                 Name(ti.state), ti.start_time, ti.end_time,
                                                 ti.host));
    }
  }
  auto dag = Dag::Build(d.tasks, d.relations);
  if (!dag.ok()) return Fail(FromStatus(dag.status()));
  // Each task hangs under its first predecessor (the roots under the workflow), the shape the
  // UI's tree draws.
  std::map<int64_t, json> nodes;
  const auto& order = dag->TopoOrder();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const TaskDefinition& t = dag->Task(*it);
    json children = json::array();
    for (int64_t s : dag->Succs(*it))
      if (dag->Preds(s).front() == *it && nodes.count(s)) children.push_back(nodes[s]);
    nodes[*it] = {{"name", t.name},
                  {"code", t.code},
                  {"type", t.task_type},
                  {"instances", task_runs[t.code]},
                  {"children", std::move(children)}};
  }
  json roots = json::array();
  for (int64_t code : order)
    if (dag->Preds(code).empty()) roots.push_back(nodes[code]);
  return Ok({{"name", "DAG"},
             {"type", ""},
             {"code", d.code},
             {"instances", std::move(root_runs)},
             {"children", std::move(roots)}});
}

HttpResponse ViewWorkflowVariables(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  return Ok(VariablesOf(PropertiesToJson(d.global_params), d.tasks));
}

// query-task-definition-list: the tasks of one definition, {code, name, version} each.
HttpResponse ListDefinitionTasks(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t code, RequiredIntParam(c.req, "processDefinitionCode"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  json list = json::array();
  for (const auto& t : d.tasks)
    list.push_back({{"code", t.code}, {"name", t.name}, {"version", t.version}});
  return Ok(std::move(list));
}

HttpResponse SimpleWorkflowList(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(auto rows, c.deps.defs->ListWorkflows(project.code, "", Page{0, kAll}));
  json list = json::array();
  for (const auto& d : rows.rows)
    list.push_back(
        {{"id", d.id}, {"code", d.code}, {"name", d.name}, {"projectCode", d.project_code}});
  return Ok(std::move(list));
}

HttpResponse GetTaskDefinition(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  auto t = c.deps.defs->GetTaskDefinition(code);
  if ((!t.ok() && t.status().code() == StatusCode::kNotFound) ||
      (t.ok() && t->project_code != project.code))
    return Fail(kTaskDefineNotExist,
                "task definition [" + std::to_string(code) + "] does not exist");
  if (!t.ok()) return Fail(FromStatus(t.status()));
  return Ok(TaskDefinitionToJson(*t));
}

HttpResponse DeleteWorkflow(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowOfProject(c, project, code));
  DSCHED_API_TRY(bool deletable, CheckDeletable(c, d));
  (void)deletable;
  Status s = c.deps.defs->DeleteWorkflow(code);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

ApiOr<WorkflowDefinition> WorkflowFromForm(const Call& c, const Project& project,
                                           const std::string& name) {
  return ParseWorkflowForm(c, project, name);
}

// ViewInstanceVariables (instance_handlers.cc) shares the shape.
json WorkflowVariablesJson(const json& global_params, const std::vector<TaskDefinition>& tasks) {
  return VariablesOf(global_params, tasks);
}

}  // namespace dsched::api
