// Handlers that start and steer runs (executors, execute-task, force success), list, show,
// edit and delete workflow and task instances, and serve task logs. Starting a run only
// inserts a command and wakes the master: the master owns everything that happens to an
// instance afterwards.

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "api/complement_dependents.h"
#include "api/handlers.h"
#include "common/time_format.h"
#include "cron/complement.h"
#include "dag/dag.h"
#include "model/json_codec.h"
#include "model/states.h"

namespace dsched::api {

using nlohmann::json;

namespace {

constexpr int64_t kDefaultLogLimit = 1000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The totals of large instance lists, reused for up to a second. Counting a project's
// instances reads every index entry (100,000 of them: ~10 ms on SQLite, the whole cost of the
// page), and the list is the most polled route: the UI asks again every 9 s per open page.
// Totals under kExactBelow are always counted afresh, so small lists (and tests) are exact; a
// large one's pager may lag the rows by about kTtlMs, the rows themselves are always fresh.
// When a total expires, one request counts it again while the others keep showing the old one
// (a count at once on every thread made the slowest hundredth of requests ten times slower).
// Keyed by store and filter. Thread-safe.
class TotalCache {
 public:
  static constexpr int64_t kExactBelow = 10000;
  static constexpr int64_t kTtlMs = 1000;
  // A counter that has not answered by then (failed, say) hands the count to the next request.
  static constexpr int64_t kCountingMaxMs = 5000;
  static constexpr size_t kMaxEntries = 4096;

  // The total to show, or nullopt: the caller counts, then calls Put.
  std::optional<int64_t> Get(const std::string& key, int64_t now_ms) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = totals_.find(key);
    if (it == totals_.end()) return std::nullopt;
    Entry& e = it->second;
    if (now_ms >= e.at_ms && now_ms - e.at_ms < kTtlMs) return e.total;
    if (e.counting_since_ms != 0 && now_ms >= e.counting_since_ms &&
        now_ms - e.counting_since_ms < kCountingMaxMs)
      return e.total;  // another request is counting it afresh
    e.counting_since_ms = now_ms == 0 ? 1 : now_ms;
    return std::nullopt;
  }
  void Put(const std::string& key, int64_t total, int64_t now_ms) {
    std::lock_guard<std::mutex> l(mu_);
    if (total < kExactBelow) {
      totals_.erase(key);
      return;
    }
    if (totals_.size() >= kMaxEntries) totals_.clear();
    totals_[key] = {total, now_ms, 0};
  }
  // After deletes through this API: the next page counts again.
  void Forget() {
    std::lock_guard<std::mutex> l(mu_);
    totals_.clear();
  }

 private:
  struct Entry {
    int64_t total;
    int64_t at_ms;
    int64_t counting_since_ms;  // 0: nobody is counting it
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> totals_;
};

TotalCache& LargeTotals() {
  static TotalCache cache;
  return cache;
}

std::string TotalKey(const Call& c, const InstanceFilter& f) {
  return std::to_string(reinterpret_cast<uintptr_t>(c.deps.instances)) + "|" +
         std::to_string(f.project_code) + "|" + std::to_string(f.definition_code) + "|" +
         (f.state ? std::to_string(Code(*f.state)) : "-") + "|" + std::to_string(f.start_after) +
         "|" + std::to_string(f.start_before) + "|" + f.host + "|" + f.search;
}

ApiError InstanceNotFound(int64_t id) {
  return {DsStatus::kProcessInstanceNotExist,
          "process instance " + std::to_string(id) + " does not exist"};
}

// The instance `id` if it belongs to `project`; 50001 otherwise.
ApiOr<WorkflowInstance> InstanceOfProject(const Call& c, const Project& project, int64_t id) {
  auto wi = c.deps.instances->GetWorkflowInstance(id);
  if (!wi.ok()) {
    if (wi.status().code() == StatusCode::kNotFound) return InstanceNotFound(id);
    return FromStatus(wi.status());
  }
  if (wi->project_code != project.code) return InstanceNotFound(id);
  return *std::move(wi);
}

// The task instance of a /log route, if the user may read its project.
ApiOr<TaskInstance> LogTaskInstance(const Call& c) {
  auto id = RequiredIntParam(c.req, "taskInstanceId");
  if (!id.ok()) return id.error();
  auto ti = c.deps.instances->GetTaskInstance(id.value());
  if (!ti.ok()) {
    if (ti.status().code() == StatusCode::kNotFound)
      return ApiError{DsStatus::kTaskInstanceNotFound, "task instance not found"};
    return FromStatus(ti.status());
  }
  auto p = ProjectForUser(c, ti->project_code, ProjectAccess::kRead);
  if (!p.ok()) return p.error();
  return *std::move(ti);
}

// scheduleTime of start-process-instance. The UI sends {"complementStartDate": ...,
// "complementEndDate": ...} (or a complementScheduleDateList) even for a plain run; the api-test
// sends "start,end". A plain run takes the start date as its schedule time, else now.
ApiOr<int64_t> ScheduleTime(const HttpRequest& req, int64_t now) {
  auto text = req.Param("scheduleTime");
  if (!text) return now;
  std::string first;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    for (const char* key : {"complementStartDate", "complementScheduleDateList"}) {
      if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
        std::string v = j[key].get<std::string>();
        first = std::string(Trim(std::string_view(v).substr(0, v.find(','))));
        auto t = ParseDateTime(first);
        if (!t)
          return BadParam(std::string("scheduleTime.") + key,
                          "expected yyyy-MM-dd HH:mm:ss, got '" + first + "'");
        return *t;
      }
    }
    return now;
  }
  first = std::string(Trim(std::string_view(*text).substr(0, text->find(','))));
  if (auto t = ParseDateTime(first)) return *t;
  return BadParam(
      "scheduleTime",
      "expected {\"complementStartDate\":\"yyyy-MM-dd HH:mm:ss\",...}, got '" + *text + "'");
}

// startNodeList: comma-separated task codes, each a task of `def`.
ApiOr<json> StartNodes(const HttpRequest& req, const WorkflowDefinition& def) {
  json codes = json::array();
  auto text = req.Param("startNodeList");
  if (!text) return codes;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string item(Trim(rest.substr(0, comma)));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    int64_t code = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), code);
    if (ec != std::errc() || end != item.data() + item.size())
      return BadParam("startNodeList", "'" + item + "' is not a task code");
    bool known = false;
    for (const auto& t : def.tasks) known = known || t.code == code;
    if (!known)
      return BadParam("startNodeList",
                      "task code " + item + " is not a task of workflow " + def.name);
    codes.push_back(code);
  }
  return codes;
}

// startParams: a JSON object of name -> value; values become strings, as DolphinScheduler
// keeps them.
ApiOr<json> StartParams(const HttpRequest& req) {
  json out = json::object();
  auto text = req.Param("startParams");
  if (!text) return out;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return BadParam("startParams", "expected a JSON object like {\"name\":\"value\"}");
  for (auto it = j.begin(); it != j.end(); ++it)
    out[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  return out;
}

// The business dates of a backfill from scheduleTime: {"complementStartDate",
// "complementEndDate"} (a range, whose dates `range` gives) or {"complementScheduleDateList":
// "d1,d2"}; the api-test's "start,end" form is a range too.
constexpr size_t kMaxComplementDates = 3660;  // ten years of days per request

using RangeDates = std::function<StatusOr<std::vector<int64_t>>(int64_t from, int64_t to)>;

ApiOr<std::vector<int64_t>> ComplementDates(const HttpRequest& req, const RangeDates& range) {
  auto text = req.Param("scheduleTime");
  if (!text) return BadParam("scheduleTime", "is required for COMPLEMENT_DATA");
  auto parse = [](const std::string& field, std::string v) -> ApiOr<int64_t> {
    std::string t(Trim(v));
    auto ms = ParseDateTime(t);
    if (!ms) return BadParam(field, "expected yyyy-MM-dd HH:mm:ss, got '" + t + "'");
    return *ms;
  };
  std::string start, end;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (j.contains("complementScheduleDateList") && j["complementScheduleDateList"].is_string() &&
        !j["complementScheduleDateList"].get<std::string>().empty()) {
      std::vector<int64_t> out;
      std::string list = j["complementScheduleDateList"].get<std::string>();
      size_t i = 0;
      while (i <= list.size()) {
        size_t comma = list.find(',', i);
        std::string item = list.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
        i = comma == std::string::npos ? list.size() + 1 : comma + 1;
        if (Trim(item).empty()) continue;
        auto ms = parse("scheduleTime.complementScheduleDateList", item);
        if (!ms.ok()) return ms.error();
        out.push_back(ms.value());
      }
      if (out.size() > kMaxComplementDates)
        return BadParam("scheduleTime.complementScheduleDateList",
                        "more than " + std::to_string(kMaxComplementDates) + " dates");
      if (out.empty()) return BadParam("scheduleTime.complementScheduleDateList", "is empty");
      return out;
    }
    start = j.value("complementStartDate", "");
    end = j.value("complementEndDate", "");
  } else {
    size_t comma = text->find(',');
    start = text->substr(0, comma);
    end = comma == std::string::npos ? start : text->substr(comma + 1);
  }
  auto from = parse("scheduleTime.complementStartDate", start);
  if (!from.ok()) return from.error();
  auto to = parse("scheduleTime.complementEndDate", end);
  if (!to.ok()) return to.error();
  auto days = range(from.value(), to.value());
  if (!days.ok()) {
    if (days.status().code() != StatusCode::kInvalidArgument) return FromStatus(days.status());
    return BadParam("scheduleTime", days.status().message());
  }
  return *days;
}

struct ExecuteTypeName {
  const char* name;
  ExecuteType type;
};
constexpr ExecuteTypeName kExecuteTypes[] = {
    {"PAUSE", ExecuteType::kPause},
    {"STOP", ExecuteType::kStop},
    {"RECOVER_SUSPENDED_PROCESS", ExecuteType::kRecoverSuspended},
    {"REPEAT_RUNNING", ExecuteType::kRepeatRunning},
    {"START_FAILURE_TASK_PROCESS", ExecuteType::kStartFailureTask},
};

// The dependents an ALL_DEPENDENT backfill of `root` also backfills (complement_dependents.h),
// read from every project's current definitions. Those offline or in a project the user may
// not write are left out and logged by name, the request still succeeding.
ApiOr<std::vector<WorkflowDefinition>> BackfillDependents(const Call& c,
                                                          const WorkflowDefinition& root,
                                                          bool all_levels) {
  constexpr int64_t kAll = std::numeric_limits<int32_t>::max();
  auto projects = c.deps.defs->ListProjects("", Page{0, kAll});
  if (!projects.ok()) return FromStatus(projects.status());
  std::vector<WorkflowDefinition> defs;
  for (const Project& p : projects->rows) {
    auto listed = c.deps.defs->ListWorkflows(p.code, "", Page{0, kAll});
    if (!listed.ok()) return FromStatus(listed.status());
    for (const WorkflowDefinition& d : listed->rows) {
      auto full = c.deps.defs->GetWorkflow(d.code);  // the listing has no tasks
      if (!full.ok()) {
        if (full.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
        return FromStatus(full.status());
      }
      defs.push_back(*std::move(full));
    }
  }
  std::vector<WorkflowDefinition> out;
  std::string skipped;
  for (int64_t code : DependentWorkflows(root.code, defs, all_levels)) {
    auto it = std::find_if(defs.begin(), defs.end(),
                           [&](const WorkflowDefinition& d) { return d.code == code; });
    const char* why = nullptr;
    if (it->release_state != ReleaseState::kOnline) {
      why = "offline";
    } else if (auto p = ProjectForUser(c, it->project_code, ProjectAccess::kWrite); !p.ok()) {
      if (p.error().code != DsStatus::kUserNoOperationProjectPerm &&
          p.error().code != DsStatus::kProjectNotFound)
        return p.error();
      why = "no write permission";
    }
    if (why) {
      skipped += (skipped.empty() ? "" : ", ") + it->name + " (" + std::to_string(code) + ", " + why + ")";
      continue;
    }
    out.push_back(*it);
  }
  if (!skipped.empty())
    spdlog::info("backfill of workflow {} ({}) skips dependent workflows: {}", root.name,
                 root.code, skipped);
  return out;
}

}  // namespace

HttpResponse StartProcessInstance(const Call& c) {
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t def_code, RequiredIntParam(req, "processDefinitionCode"));
  auto def = c.deps.defs->GetWorkflow(def_code);
  if (!def.ok() || def->project_code != project.code) {
    if (def.ok() || def.status().code() == StatusCode::kNotFound)
      return Fail(DsStatus::kProcessDefineNotExist,
                  "process definition " + std::to_string(def_code) + " does not exist");
    return Fail(FromStatus(def.status()));
  }
  if (def->release_state != ReleaseState::kOnline)
    return Fail(DsStatus::kProcessDefineNotRelease,
                "process definition " + std::to_string(def_code) + " process version " +
                    std::to_string(def->version) + " not online");
  DSCHED_API_TRY(CommandType exec_type,
                 EnumParam<CommandType>(req, "execType", CommandType::kStartProcess));
  if (exec_type != CommandType::kStartProcess && exec_type != CommandType::kComplementData)
    return Fail(BadParam("execType", std::string(Name(exec_type)) + " is not supported yet"));
  int64_t now = c.deps.clock->NowMs();

  Command cmd;
  cmd.command_type = CommandType::kStartProcess;
  cmd.definition_code = def_code;
  cmd.definition_version = def->version;
  cmd.project_code = project.code;
  cmd.executor_id = c.user.id;
  DSCHED_API_TRY(cmd.failure_strategy,
                 EnumParam<FailureStrategy>(req, "failureStrategy", FailureStrategy::kContinue));
  DSCHED_API_TRY(cmd.warning_type, EnumParam<WarningType>(req, "warningType", WarningType::kNone));
  DSCHED_API_TRY(cmd.warning_group_id, IntParam(req, "warningGroupId", 0));
  DSCHED_API_TRY(cmd.task_depend_type,
                 EnumParam<TaskDependType>(req, "taskDependType", TaskDependType::kTaskPost));
  DSCHED_API_TRY(cmd.priority,
                 EnumParam<Priority>(req, "processInstancePriority", Priority::kMedium));
  cmd.worker_group = req.Param("workerGroup").value_or("default");
  cmd.tenant_code = req.Param("tenantCode").value_or("default");
  DSCHED_API_TRY(cmd.environment_code, IntParam(req, "environmentCode", -1));
  DSCHED_API_TRY(int64_t dry_run, IntParam(req, "dryRun", 0));
  if (dry_run != 0 && dry_run != 1) return Fail(BadParam("dryRun", "expected 0 or 1"));
  cmd.dry_run = static_cast<int>(dry_run);
  DSCHED_API_TRY(cmd.schedule_time, ScheduleTime(req, now));
  DSCHED_API_TRY(json start_nodes, StartNodes(req, *def));
  DSCHED_API_TRY(json start_params, StartParams(req));
  json param{{"StartNodeList", std::move(start_nodes)}, {"StartParams", std::move(start_params)}};
  cmd.start_time = now;
  cmd.trigger_code = c.deps.codes->Next();

  if (exec_type == CommandType::kComplementData) {
    // A backfill: one command per business date, in executionOrder; the master runs them one
    // at a time (RUN_MODE_SERIAL) or expectedParallelismNumber at a time (RUN_MODE_PARALLEL).
    // A range runs the fire times of the workflow's schedule inside it, in the schedule's
    // zone, when it has one (online or not), else every day.
    RangeDates range = [&](int64_t from, int64_t to) -> StatusOr<std::vector<int64_t>> {
      if (c.deps.schedules) {
        auto sched = c.deps.schedules->GetScheduleByDefinition(def_code);
        if (sched.ok()) {
          DSCHED_ASSIGN_OR_RETURN(auto expr, cron::CronExpression::Parse(sched->crontab));
          DSCHED_ASSIGN_OR_RETURN(auto zone, cron::TimeZone::Load(sched->timezone_id));
          return cron::CronDates(expr, zone, from, to, kMaxComplementDates);
        }
        if (sched.status().code() != StatusCode::kNotFound) return sched.status();
      }
      return cron::DailyDates(from, to, kMaxComplementDates);
    };
    DSCHED_API_TRY(std::vector<int64_t> dates, ComplementDates(req, range));
    std::string order = req.Param("executionOrder").value_or("DESC_ORDER");
    if (order != "DESC_ORDER" && order != "ASC_ORDER")
      return Fail(BadParam("executionOrder",
                           "unknown value '" + order + "', expected one of DESC_ORDER|ASC_ORDER"));
    std::string mode = req.Param("runMode").value_or("RUN_MODE_SERIAL");
    if (mode != "RUN_MODE_SERIAL" && mode != "RUN_MODE_PARALLEL")
      return Fail(BadParam(
          "runMode", "unknown value '" + mode + "', expected one of RUN_MODE_SERIAL|RUN_MODE_PARALLEL"));
    std::string dep_mode = req.Param("complementDependentMode").value_or("OFF_MODE");
    if (dep_mode != "OFF_MODE" && dep_mode != "ALL_DEPENDENT")
      return Fail(BadParam("complementDependentMode",
                           "unknown value '" + dep_mode + "', expected one of OFF_MODE|ALL_DEPENDENT"));
    std::string all_levels = req.Param("allLevelDependent").value_or("false");
    if (all_levels != "true" && all_levels != "false")
      return Fail(BadParam("allLevelDependent", "expected true or false, got '" + all_levels + "'"));
    DSCHED_API_TRY(int64_t parallelism, IntParam(req, "expectedParallelismNumber", 0));
    if (parallelism < 0) return Fail(BadParam("expectedParallelismNumber", "must not be negative"));
    dates = cron::OrderDates(std::move(dates), order == "DESC_ORDER");
    // 0 (or empty) means every date at once, as DolphinScheduler does.
    param["ComplementParallelism"] =
        mode == "RUN_MODE_SERIAL" ? 1 : (parallelism == 0 ? static_cast<int64_t>(dates.size()) : parallelism);
    std::vector<WorkflowDefinition> dependents;
    if (dep_mode == "ALL_DEPENDENT") {
      DSCHED_API_TRY(dependents, BackfillDependents(c, *def, all_levels == "true"));
    }
    cmd.command_type = CommandType::kComplementData;
    cmd.command_param = param.dump();
    for (int64_t date : dates) {
      cmd.schedule_time = date;
      auto id = c.deps.instances->InsertCommand(cmd);
      if (!id.ok()) return Fail(FromStatus(id.status()));
    }
    // Each dependent backfills the same dates after the workflow's, under the same trigger
    // code: the master's parallelism then spans them all, and a serial run reaches a
    // dependent's date only once the workflow's dates are done. The start nodes are tasks
    // of the workflow, not of its dependents.
    json dep_param = param;
    dep_param["StartNodeList"] = json::array();
    for (const WorkflowDefinition& d : dependents) {
      Command dc = cmd;
      dc.definition_code = d.code;
      dc.definition_version = d.version;
      dc.project_code = d.project_code;
      dc.command_param = dep_param.dump();
      for (int64_t date : dates) {
        dc.schedule_time = date;
        auto id = c.deps.instances->InsertCommand(dc);
        if (!id.ok()) return Fail(FromStatus(id.status()));
      }
    }
    if (c.deps.master) c.deps.master->WakeCommands();
    return Ok(cmd.trigger_code);
  }

  cmd.command_param = param.dump();
  auto id = c.deps.instances->InsertCommand(cmd);
  if (!id.ok()) return Fail(FromStatus(id.status()));
  // Without a master in this process the command still runs: masters scan the table too.
  if (c.deps.master) c.deps.master->WakeCommands();
  return Ok(cmd.trigger_code);
}

HttpResponse ExecuteAction(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t id, RequiredIntParam(c.req, "processInstanceId"));
  DSCHED_API_TRY(std::string action, RequiredParam(c.req, "executeType"));
  const ExecuteTypeName* type = nullptr;
  std::string accepted;
  for (const auto& t : kExecuteTypes) {
    if (action == t.name) type = &t;
    accepted += accepted.empty() ? t.name : std::string("|") + t.name;
  }
  if (!type)
    return Fail(
        BadParam("executeType", "unknown value '" + action + "', expected one of " + accepted));
  DSCHED_API_TRY(WorkflowInstance wi, InstanceOfProject(c, project, id));
  if (!c.deps.master) return Fail(DsStatus::kMasterNotExists, "master does not exist");
  Status s = c.deps.master->Execute(id, type->type);
  if (s.ok()) return Ok(nullptr);
  if (s.code() == StatusCode::kNotFound) return Fail(InstanceNotFound(id));
  if (s.code() == StatusCode::kFailedPrecondition) {
    // The master refused because of the state; report the state it has now.
    auto now = c.deps.instances->GetWorkflowInstance(id);
    WorkflowState state = now.ok() ? now->state : wi.state;
    return Fail(DsStatus::kProcessInstanceStateOperationError,
                "the status of process instance " + wi.name + " is " + Name(state) +
                    ",Cannot perform " + action + " operation");
  }
  return Fail(FromStatus(s));
}

HttpResponse ListWorkflowInstancesPaged(const Call& c) {
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(PageArgs page, PageParams(req));
  InstanceFilter f;
  f.project_code = project.code;
  DSCHED_API_TRY(f.definition_code, IntParam(req, "processDefineCode", 0));
  f.search = req.Param("searchVal").value_or("");
  DSCHED_API_TRY(f.state, OptionalEnumParam<WorkflowState>(req, "stateType"));
  f.host = req.Param("host").value_or("");
  DSCHED_API_TRY(f.start_after, DateParam(req, "startDate"));
  DSCHED_API_TRY(f.start_before, DateParam(req, "endDate"));
  std::string key = TotalKey(c, f);
  Page p{page.offset(), page.page_size};
  std::optional<int64_t> known = LargeTotals().Get(key, c.deps.clock->NowMs());
  p.with_total = !known;
  DSCHED_API_TRY(auto rows, c.deps.instances->ListWorkflowInstances(f, p));
  int64_t total = rows.total;
  if (known) {
    // Never less than what this very page shows.
    total = std::max<int64_t>(*known, page.offset() + static_cast<int64_t>(rows.rows.size()));
  } else {
    LargeTotals().Put(key, total, c.deps.clock->NowMs());
  }
  // The envelope and PageInfo as every page has them, with the rows written straight as text
  // into its empty totalList (building 20 json objects was a third of this route's cost).
  HttpResponse out = Ok(PageInfo(json::array(), total, page));
  std::string rows_text;
  rows_text.reserve(rows.rows.size() * 900);
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    if (i) rows_text.push_back(',');
    AppendWorkflowInstanceJson(&rows_text, rows.rows[i]);
  }
  static const std::string kEmptyList = "\"totalList\":[]";
  size_t at = out.body.find(kEmptyList);
  if (at != std::string::npos) out.body.insert(at + kEmptyList.size() - 1, rows_text);
  return out;
}

HttpResponse GetWorkflowInstance(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(WorkflowInstance wi, InstanceOfProject(c, project, id));
  json j = WorkflowInstanceToJson(wi);
  // The DAG of the version this instance runs, not the current one: the editor may have moved on.
  auto def = c.deps.defs->GetWorkflowVersion(wi.definition_code, wi.definition_version);
  if (def.ok()) {
    j["dagData"] = DagDataToJson(*def);
    j["locations"] = def->locations;
  } else if (def.status().code() == StatusCode::kNotFound) {
    j["dagData"] = nullptr;  // the definition was deleted; the instance is still worth showing
  } else {
    return Fail(FromStatus(def.status()));
  }
  return Ok(std::move(j));
}

HttpResponse ListInstanceTasks(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(WorkflowInstance wi, InstanceOfProject(c, project, id));
  DSCHED_API_TRY(auto tasks, c.deps.instances->ListTaskInstances(id));
  json list = json::array();
  for (const auto& ti : tasks)
    if (ti.flag == Flag::kYes) list.push_back(TaskInstanceToJson(ti));
  return Ok({{"taskList", std::move(list)}, {"processInstanceState", Name(wi.state)}});
}

HttpResponse ListInstancesByTrigger(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t trigger, RequiredIntParam(c.req, "triggerCode"));
  DSCHED_API_TRY(auto rows, c.deps.instances->ListByTrigger(trigger));
  json list = json::array();
  for (const auto& wi : rows)
    if (wi.project_code == project.code) list.push_back(WorkflowInstanceToJson(wi));
  return Ok(std::move(list));
}

HttpResponse ListTaskInstancesPaged(const Call& c) {
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(PageArgs page, PageParams(req));
  TaskInstanceFilter f;
  f.project_code = project.code;
  DSCHED_API_TRY(f.workflow_instance_id, IntParam(req, "processInstanceId", 0));
  DSCHED_API_TRY(f.task_code, IntParam(req, "taskCode", 0));
  f.search = req.Param("searchVal").value_or("");
  DSCHED_API_TRY(f.state, OptionalEnumParam<TaskState>(req, "stateType"));
  f.host = req.Param("host").value_or("");
  DSCHED_API_TRY(auto rows,
                 c.deps.instances->ListTaskInstancesPaged(f, Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& ti : rows.rows) list.push_back(TaskInstanceToJson(ti));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

// The UI pages through a log by asking again with skipLineNum += lineNum until message is "".
// The reader (ApiDeps::logs) reads the file from its start on each call: fine for the logs
// tasks write today; an index of line offsets would be the next step for very long logs.
HttpResponse LogDetail(const Call& c) {
  DSCHED_API_TRY(TaskInstance ti, LogTaskInstance(c));
  DSCHED_API_TRY(int64_t skip, IntParam(c.req, "skipLineNum", 0));
  DSCHED_API_TRY(int64_t limit, IntParam(c.req, "limit", kDefaultLogLimit));
  if (skip < 0) return Fail(BadParam("skipLineNum", "must not be negative"));
  if (limit < 0) return Fail(BadParam("limit", "must not be negative"));
  bool finished = IsFinal(ti.state);
  auto answer = [&](int64_t lines, std::string message) {
    return Ok({{"lineNum", lines}, {"message", std::move(message)}, {"finished", finished}});
  };
  if (ti.log_path.empty()) return answer(0, "");
  auto page = c.deps.logs != nullptr
                  ? c.deps.logs->RollView(ti.host, ti.log_path, skip, limit)
                  : StatusOr<LogPage>(NotFound("this server reads no task logs"));
  if (!page.ok()) {
    // Not written yet is normal for a task that has not started; gone after the end is not.
    if (page.status().code() == StatusCode::kNotFound && !finished) return answer(0, "");
    return Fail(DsStatus::kQueryTaskInstanceLogError,
                "view task instance log error: " + page.status().message());
  }
  return answer(page->lines, std::move(page->text));
}

HttpResponse DownloadLog(const Call& c) {
  DSCHED_API_TRY(TaskInstance ti, LogTaskInstance(c));
  auto bytes = ti.log_path.empty() ? StatusOr<std::string>(NotFound("the task has no log"))
               : c.deps.logs == nullptr
                   ? StatusOr<std::string>(NotFound("this server reads no task logs"))
                   : c.deps.logs->Bytes(ti.host, ti.log_path);
  if (!bytes.ok())
    return Fail(DsStatus::kDownloadTaskInstanceLogFileError,
                "download task instance log file error: " + bytes.status().message());
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.body = std::move(bytes).value();
  std::string file = ti.log_path.substr(ti.log_path.find_last_of('/') + 1);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file + "\"");
  return r;
}

}  // namespace dsched::api

// ---------------------------------------------------------------------------------------------
// Edits of finished instances (update, delete), their Gantt and variables views, force
// success of a task, and running tasks of a finished instance again.

namespace dsched::api {

namespace {

ApiError StateRefuses(const WorkflowInstance& wi, const std::string& operation) {
  return {DsStatus::kProcessInstanceStateOperationError,
          "the status of process instance " + wi.name + " is " + Name(wi.state) +
              ",Cannot perform " + operation + " operation"};
}

// A finished instance of the path's project: 50001 when there is none, 50006 when it runs.
ApiOr<WorkflowInstance> FinishedInstance(const Call& c, const Project& project, int64_t id,
                                         const std::string& operation) {
  auto wi = InstanceOfProject(c, project, id);
  if (!wi.ok()) return wi.error();
  if (!IsFinal(wi->state)) return StateRefuses(wi.value(), operation);
  return std::move(wi).value();
}

// Comma-separated ids (processInstanceIds, startNodeList), each a number.
ApiOr<std::vector<int64_t>> IdList(const HttpRequest& req, const std::string& name) {
  auto text = req.Param(name);
  if (!text) return BadParam(name, "it is required");
  std::vector<int64_t> out;
  size_t i = 0;
  while (i <= text->size()) {
    size_t comma = text->find(',', i);
    std::string item(
        Trim(text->substr(i, comma == std::string::npos ? std::string::npos : comma - i)));
    i = comma == std::string::npos ? text->size() + 1 : comma + 1;
    if (item.empty()) continue;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size())
      return BadParam(name, "expected numbers separated by commas, got '" + item + "'");
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  if (out.empty()) return BadParam(name, "it is empty");
  return out;
}

// Removes the log files of deleted task instances; a file already gone is no error.
void RemoveLogs(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    std::error_code ec;
    std::filesystem::remove(p, ec);
  }
}

// The definition version an instance runs, or 50003.
ApiOr<WorkflowDefinition> InstanceDefinition(const Call& c, const WorkflowInstance& wi) {
  auto d = c.deps.defs->GetWorkflowVersion(wi.definition_code, wi.definition_version);
  if (!d.ok()) {
    if (d.status().code() == StatusCode::kNotFound)
      return ApiError{
          DsStatus::kProcessDefineNotExist,
          "process definition " + std::to_string(wi.definition_code) + " does not exist"};
    return FromStatus(d.status());
  }
  return *std::move(d);
}

}  // namespace

// PUT /process-instances/{id}: the DAG (and params, timeout, schedule time) a finished instance
// runs on its next recover or rerun. It becomes a new version of the definition, which is made
// the current one only with syncDefine=true.
HttpResponse UpdateWorkflowInstance(const Call& c) {
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t id, PathIntParam(req, "id"));
  DSCHED_API_TRY(WorkflowInstance wi, FinishedInstance(c, project, id, "update"));
  DSCHED_API_TRY(std::string sync_text, RequiredParam(req, "syncDefine"));
  if (sync_text != "true" && sync_text != "false")
    return Fail(BadParam("syncDefine", "expected true or false, got '" + sync_text + "'"));
  bool sync = sync_text == "true";
  int64_t schedule_time = wi.schedule_time;
  if (auto st = req.Param("scheduleTime")) {
    auto ms = ParseDateTime(*st);
    if (!ms)
      return Fail(BadParam("scheduleTime", "expected yyyy-MM-dd HH:mm:ss, got '" + *st + "'"));
    schedule_time = *ms;
  }
  auto current = c.deps.defs->GetWorkflow(wi.definition_code);
  if (!current.ok() || current->project_code != project.code) {
    if (current.ok() || current.status().code() == StatusCode::kNotFound)
      return Fail(DsStatus::kProcessDefineNotExist,
                  "process definition " + std::to_string(wi.definition_code) + " does not exist");
    return Fail(FromStatus(current.status()));
  }
  if (sync && current->release_state == ReleaseState::kOnline)
    return Fail(DsStatus::kProcessDefineStateOnline,
                "process definition [" + current->name + "] is already online");
  DSCHED_API_TRY(WorkflowDefinition d, WorkflowFromForm(c, project, current->name));
  // What the instance form does not carry stays as the definition has it.
  if (!req.Param("description")) d.description = current->description;
  if (!req.Param("executionType")) d.execution_type = current->execution_type;
  if (!req.Param("warningGroupId")) d.warning_group_id = current->warning_group_id;
  if (!req.Param("locations")) d.locations = current->locations;
  d.id = current->id;
  d.code = current->code;
  d.create_time = current->create_time;
  d.release_state = current->release_state;
  auto stored = sync ? c.deps.defs->UpdateWorkflow(std::move(d))
                     : c.deps.defs->AddWorkflowVersion(std::move(d));
  if (!stored.ok()) return Fail(FromStatus(stored.status()));
  wi.definition_version = stored->version;
  wi.global_params = PropertiesToJson(stored->global_params).dump();
  wi.timeout = stored->timeout;
  wi.schedule_time = schedule_time;
  Status s = c.deps.instances->UpdateFinishedInstance(wi);
  if (s.code() == StatusCode::kFailedPrecondition) {
    auto now = c.deps.instances->GetWorkflowInstance(id);
    return Fail(StateRefuses(now.ok() ? *now : wi, "update"));
  }
  if (s.code() == StatusCode::kNotFound) return Fail(InstanceNotFound(id));
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

HttpResponse DeleteWorkflowInstance(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(WorkflowInstance wi, FinishedInstance(c, project, id, "delete"));
  auto logs = c.deps.instances->DeleteWorkflowInstance(id);
  if (!logs.ok()) {
    if (logs.status().code() == StatusCode::kFailedPrecondition) {
      auto now = c.deps.instances->GetWorkflowInstance(id);
      return Fail(StateRefuses(now.ok() ? *now : wi, "delete"));
    }
    return Fail(FromStatus(logs.status()));
  }
  RemoveLogs(*logs);
  LargeTotals().Forget();
  return Ok(nullptr);
}

HttpResponse BatchDeleteWorkflowInstances(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(std::vector<int64_t> ids, IdList(c.req, "processInstanceIds"));
  // All checked first: one that may not go keeps every one of them.
  std::string refused;
  for (int64_t id : ids) {
    auto wi = FinishedInstance(c, project, id, "delete");
    if (!wi.ok()) {
      if (wi.error().code == DsStatus::kInternalServerError) return Fail(wi.error());
      refused += (refused.empty() ? "" : ",") + std::to_string(id);
    }
  }
  if (!refused.empty())
    return Fail(kBatchDeleteProcessInstanceByIdsError,
                "batch delete process instance by ids " + refused + " error");
  std::vector<std::string> all_logs;
  for (int64_t id : ids) {
    auto logs = c.deps.instances->DeleteWorkflowInstance(id);
    if (!logs.ok()) {
      RemoveLogs(all_logs);
      return Fail(kBatchDeleteProcessInstanceByIdsError,
                  "batch delete process instance by ids " + std::to_string(id) + " error");
    }
    all_logs.insert(all_logs.end(), logs->begin(), logs->end());
  }
  RemoveLogs(all_logs);
  LargeTotals().Forget();
  return Ok(nullptr);
}

// The Gantt chart: the current run of each task, in the DAG's order.
HttpResponse ViewInstanceGantt(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(WorkflowInstance wi, InstanceOfProject(c, project, id));
  DSCHED_API_TRY(WorkflowDefinition def, InstanceDefinition(c, wi));
  DSCHED_API_TRY(auto rows, c.deps.instances->ListTaskInstances(id));
  auto dag = Dag::Build(def.tasks, def.relations);
  if (!dag.ok()) return Fail(FromStatus(dag.status()));
  std::map<int64_t, const TaskInstance*> current;
  for (const auto& ti : rows)
    if (ti.flag == Flag::kYes) current[ti.task_code] = &ti;
  int64_t now = c.deps.clock->NowMs();
  json names = json::array(), tasks = json::array(), status = json::object();
  for (int64_t code : dag->TopoOrder()) {
    auto it = current.find(code);
    if (it == current.end()) continue;
    const TaskInstance& ti = *it->second;
    int64_t start = ti.start_time ? ti.start_time : now;
    int64_t end = ti.end_time ? ti.end_time : now;
    names.push_back(ti.name);
    status[ti.name] = Name(ti.state);
    tasks.push_back(
        {{"taskName", ti.name},
         {"startDate", json::array({start})},
         {"endDate", json::array({end})},
         {"executionDate", ti.start_time ? json(FormatDateTime(ti.start_time)) : json(nullptr)},
         {"isoStart", FormatDateTime(start)},
         {"isoEnd", FormatDateTime(end)},
         {"status", Name(ti.state)},
         {"duration", std::to_string((end - start) / 1000) + "s"}});
  }
  return Ok({{"height", static_cast<int64_t>(tasks.size())},
             {"taskNames", std::move(names)},
             {"taskStatus", std::move(status)},
             {"tasks", std::move(tasks)}});
}

HttpResponse ViewInstanceVariables(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(WorkflowInstance wi, InstanceOfProject(c, project, id));
  DSCHED_API_TRY(WorkflowDefinition def, InstanceDefinition(c, wi));
  json global = json::parse(wi.global_params.empty() ? "[]" : wi.global_params, nullptr, false);
  if (global.is_discarded()) global = json::array();
  return Ok(WorkflowVariablesJson(global, def.tasks));
}

// query-sub-by-parent?taskId=: the child instance a SUB_PROCESS task started. The child's
// trigger code is the negated id of that task instance (see the engine).
HttpResponse SubInstanceOfTask(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t task_id, RequiredIntParam(c.req, "taskId"));
  auto ti = c.deps.instances->GetTaskInstance(task_id);
  if ((!ti.ok() && ti.status().code() == StatusCode::kNotFound) ||
      (ti.ok() && ti->project_code != project.code))
    return Fail(kTaskInstanceNotExists,
                "task instance " + std::to_string(task_id) + " does not exist");
  if (!ti.ok()) return Fail(FromStatus(ti.status()));
  if (ti->task_type != "SUB_PROCESS")
    return Fail(kTaskInstanceNotSubWorkflowInstance,
                "task instance " + std::to_string(task_id) + " is not sub process instance");
  DSCHED_API_TRY(auto children, c.deps.instances->ListByTrigger(-task_id));
  if (children.empty())
    return Fail(kSubProcessInstanceNotExist, "the task belong to process instance does not exist");
  return Ok({{"subProcessInstanceId", children.front().id}});
}

// query-parent-by-sub?subId=: the instance whose SUB_PROCESS task started instance subId.
HttpResponse ParentInstanceOfSub(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  DSCHED_API_TRY(int64_t sub_id, RequiredIntParam(c.req, "subId"));
  DSCHED_API_TRY(WorkflowInstance sub, InstanceOfProject(c, project, sub_id));
  json param = json::parse(sub.command_param.empty() ? "{}" : sub.command_param, nullptr, false);
  int64_t parent = param.is_object() ? param.value("ParentWorkflowInstanceId", int64_t{0}) : 0;
  if (!sub.is_sub_process || parent == 0)
    return Fail(kProcessInstanceNotSubProcessInstance,
                "process instance " + sub.name + " is not sub process instance");
  return Ok({{"parentWorkflowInstance", parent}});
}

HttpResponse ForceTaskSuccess(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  auto ti = c.deps.instances->GetTaskInstance(id);
  if ((!ti.ok() && ti.status().code() == StatusCode::kNotFound) ||
      (ti.ok() && ti->project_code != project.code))
    return Fail(DsStatus::kTaskInstanceNotFound, "task instance not found");
  if (!ti.ok()) return Fail(FromStatus(ti.status()));
  DSCHED_API_TRY(WorkflowInstance wi,
                 FinishedInstance(c, project, ti->workflow_instance_id, "force success"));
  (void)wi;
  auto refused = [&](TaskState s) {
    return Fail(kTaskInstanceStateOperationError, "the status of task instance " +
                                                      std::to_string(id) + " is " + Name(s) +
                                                      ",Cannot perform force success operation");
  };
  if (ti->state != TaskState::kFailure && ti->state != TaskState::kNeedFaultTolerance &&
      ti->state != TaskState::kKill)
    return refused(ti->state);
  if (!c.deps.master) return Fail(DsStatus::kMasterNotExists, "master does not exist");
  Status s = c.deps.master->ForceTaskSuccess(id);
  if (s.ok()) return Ok(nullptr);
  if (s.code() == StatusCode::kNotFound)
    return Fail(DsStatus::kTaskInstanceNotFound, "task instance not found");
  if (s.code() == StatusCode::kFailedPrecondition) {
    // Something changed since the checks above: report what the store says now.
    auto now_ti = c.deps.instances->GetTaskInstance(id);
    auto now_wi = c.deps.instances->GetWorkflowInstance(ti->workflow_instance_id);
    if (now_wi.ok() && !IsFinal(now_wi->state)) return Fail(StateRefuses(*now_wi, "force success"));
    return refused(now_ti.ok() ? now_ti->state : ti->state);
  }
  return Fail(FromStatus(s));
}

HttpResponse ExecuteTask(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(int64_t id, RequiredIntParam(c.req, "processInstanceId"));
  DSCHED_API_TRY(std::vector<int64_t> nodes, IdList(c.req, "startNodeList"));
  DSCHED_API_TRY(TaskDependType mode, RequiredEnumParam<TaskDependType>(c.req, "taskDependType"));
  DSCHED_API_TRY(WorkflowInstance wi, FinishedInstance(c, project, id, "execute task"));
  if (!c.deps.master) return Fail(DsStatus::kMasterNotExists, "master does not exist");
  Status s = c.deps.master->ExecuteTask(id, nodes, mode);
  if (s.ok()) return Ok(nullptr);
  if (s.code() == StatusCode::kNotFound) return Fail(InstanceNotFound(id));
  if (s.code() == StatusCode::kInvalidArgument) return Fail(BadParam("startNodeList", s.message()));
  if (s.code() == StatusCode::kFailedPrecondition) {
    auto now = c.deps.instances->GetWorkflowInstance(id);
    return Fail(StateRefuses(now.ok() ? *now : wi, "execute task"));
  }
  return Fail(FromStatus(s));
}

}  // namespace dsched::api
