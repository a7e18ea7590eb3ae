// Handlers of /projects/{projectCode}/schedules (ds-rest-api.md, journey J6): create, update,
// online, offline, delete, list and preview a workflow's cron schedule. The rules a schedule
// must satisfy to be saved (the crontab parses, the zone exists, start before end) and to go
// online (its workflow and every sub-workflow online) are checked here; firing is the master's
// (src/master/scheduler.h).

#include <ctime>
#include <limits>
#include <set>

#include "api/handlers.h"
#include "cron/cron.h"
#include "cron/tz.h"
#include "model/json_codec.h"

namespace dsched::api {

using nlohmann::json;

namespace {

// DolphinScheduler's schedule codes (api/enums/Status.java) that reply.h does not list.
constexpr DsStatus kScheduleCronOnlineForbidUpdate = static_cast<DsStatus>(10023);
constexpr DsStatus kScheduleCronCheckFailed = static_cast<DsStatus>(10024);
constexpr DsStatus kScheduleReleaseNeedNotChange = static_cast<DsStatus>(10126);
constexpr DsStatus kScheduleStartTimeEndTimeSame = static_cast<DsStatus>(10141);
constexpr DsStatus kScheduleNotExists = static_cast<DsStatus>(10203);
constexpr DsStatus kScheduleAlreadyExists = static_cast<DsStatus>(10204);
constexpr int kPreviewCount = 5;

ApiError NoStore() {
  return {DsStatus::kInternalServerError, "Internal Server Error: schedules are not served here"};
}

ApiError ScheduleNotFound(int64_t id) {
  return {kScheduleNotExists, "schedule " + std::to_string(id) + " does not exist"};
}

void Changed(const Call& c) {
  if (c.deps.schedules_changed) c.deps.schedules_changed();
}

// The definition `code` if it belongs to `project`; 50003 otherwise.
ApiOr<WorkflowDefinition> DefinitionOf(const Call& c, const Project& project, int64_t code) {
  auto d = c.deps.defs->GetWorkflow(code);
  if (!d.ok() && d.status().code() != StatusCode::kNotFound) return FromStatus(d.status());
  if (!d.ok() || d->project_code != project.code)
    return ApiError{DsStatus::kProcessDefineNotExist,
                    "process definition " + std::to_string(code) + " does not exist"};
  return *std::move(d);
}

// The schedule of path parameter `id` if it belongs to `project`; 10203 otherwise.
ApiOr<Schedule> PathSchedule(const Call& c, const Project& project) {
  if (!c.deps.schedules) return NoStore();
  auto id = PathIntParam(c.req, "id");
  if (!id.ok()) return id.error();
  auto s = c.deps.schedules->GetSchedule(id.value());
  if (!s.ok() && s.status().code() != StatusCode::kNotFound) return FromStatus(s.status());
  if (!s.ok() || s->project_code != project.code) return ScheduleNotFound(id.value());
  return *std::move(s);
}

// The `schedule` form parameter, fully checked: dates, crontab (10024 with the cron library's
// message naming the field), zone, and start before end.
ApiOr<Schedule> ScheduleParam(const HttpRequest& req) {
  auto text = req.Param("schedule");
  if (!text) return BadParam("schedule", "it is required");
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return BadParam("schedule", "not valid JSON");
  auto s = ScheduleParamFromJson(j, "schedule");
  if (!s.ok()) return FromStatus(s.status());
  auto cron = cron::CronExpression::Parse(s->crontab);
  if (!cron.ok())
    return ApiError{kScheduleCronCheckFailed, "scheduler crontab expression validation failure: " +
                                                  s->crontab + ": " + cron.status().message()};
  Status zone = cron::ValidateTimeZone(s->timezone_id);
  if (!zone.ok()) return BadParam("schedule.timezoneId", zone.message());
  if (s->start_time == s->end_time)
    return ApiError{kScheduleStartTimeEndTimeSame,
                    "The start time must not be the same as the end"};
  if (s->end_time < s->start_time)
    return BadParam("schedule.endTime", "'" + j.value("endTime", "") + "' is before startTime '" +
                                            j.value("startTime", "") + "'");
  return *std::move(s);
}

// Every form field of create and update but the schedule itself; absent ones take `dflt`'s
// values (the defaults differ: create's failure strategy is CONTINUE, update's END).
ApiOr<Schedule> ScheduleOptions(const HttpRequest& req, const Schedule& dflt) {
  Schedule s = dflt;
  auto fs = EnumParam<FailureStrategy>(req, "failureStrategy", dflt.failure_strategy);
  if (!fs.ok()) return fs.error();
  s.failure_strategy = fs.value();
  auto wt = EnumParam<WarningType>(req, "warningType", dflt.warning_type);
  if (!wt.ok()) return wt.error();
  s.warning_type = wt.value();
  auto wg = IntParam(req, "warningGroupId", dflt.warning_group_id);
  if (!wg.ok()) return wg.error();
  s.warning_group_id = wg.value();
  auto prio = EnumParam<Priority>(req, "processInstancePriority", dflt.priority);
  if (!prio.ok()) return prio.error();
  s.priority = prio.value();
  s.worker_group = req.Param("workerGroup").value_or(dflt.worker_group);
  s.tenant_code = req.Param("tenantCode").value_or(dflt.tenant_code);
  auto env = IntParam(req, "environmentCode", dflt.environment_code);
  if (!env.ok()) return env.error();
  s.environment_code = env.value();
  auto misfire = EnumParam<MisfirePolicy>(req, "misfirePolicy", dflt.misfire_policy);
  if (!misfire.ok()) return misfire.error();
  s.misfire_policy = misfire.value();
  return s;
}

// A Schedule with the parsed `schedule` parameter and options over `base`.
ApiOr<Schedule> ParseScheduleForm(const HttpRequest& req, Schedule base) {
  auto times = ScheduleParam(req);
  if (!times.ok()) return times.error();
  base.start_time = times->start_time;
  base.end_time = times->end_time;
  base.crontab = times->crontab;
  base.timezone_id = times->timezone_id;
  return ScheduleOptions(req, base);
}

// OK when `def` and every workflow it starts through SUB_PROCESS tasks, at any depth, are
// online; 50004 naming the first that is not.
ApiOr<bool> CheckOnlineTree(const Call& c, const WorkflowDefinition& def) {
  std::set<int64_t> seen{def.code};
  std::vector<WorkflowDefinition> todo{def};
  while (!todo.empty()) {
    WorkflowDefinition d = std::move(todo.back());
    todo.pop_back();
    if (d.release_state != ReleaseState::kOnline)
      return ApiError{DsStatus::kProcessDefineNotRelease,
                      "process definition " + d.name + " not on line"};
    for (const TaskDefinition& t : d.tasks) {
      if (t.task_type != "SUB_PROCESS" || !t.task_params.is_object()) continue;
      int64_t child = t.task_params.value("processDefinitionCode", int64_t{0});
      if (child == 0 || !seen.insert(child).second) continue;
      auto sub = c.deps.defs->GetWorkflow(child);
      if (!sub.ok()) {
        if (sub.status().code() == StatusCode::kNotFound)
          return ApiError{DsStatus::kProcessDefineNotExist,
                          "process definition " + std::to_string(child) + " does not exist"};
        return FromStatus(sub.status());
      }
      todo.push_back(*std::move(sub));
    }
  }
  return true;
}

// "yyyy-MM-dd HH:mm:ss" of an instant on the wall clock of `zone`.
std::string FormatInZone(int64_t ms, const cron::TimeZone& zone) {
  time_t local = static_cast<time_t>(zone.UtcToLocal(ms / 1000));
  std::tm tm{};
  gmtime_r(&local, &tm);  // the local seconds are counted like UTC ones (tz.h)
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

HttpResponse SetRelease(const Call& c, ReleaseState state) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(Schedule s, PathSchedule(c, project));
  if (s.release_state == state)
    return Fail(kScheduleReleaseNeedNotChange,
                std::string("schedule release is already ") + Name(state));
  if (state == ReleaseState::kOnline) {
    DSCHED_API_TRY(WorkflowDefinition d, DefinitionOf(c, project, s.definition_code));
    DSCHED_API_TRY(bool online, CheckOnlineTree(c, d));
    (void)online;
  }
  Status st = c.deps.schedules->SetScheduleReleaseState(s.id, state);
  if (!st.ok()) {
    if (st.code() == StatusCode::kNotFound) return Fail(ScheduleNotFound(s.id));
    return Fail(FromStatus(st));
  }
  Changed(c);
  return Ok(true);
}

}  // namespace

HttpResponse CreateSchedule(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  if (!c.deps.schedules) return Fail(NoStore());
  DSCHED_API_TRY(int64_t code, RequiredIntParam(c.req, "processDefinitionCode"));
  DSCHED_API_TRY(WorkflowDefinition d, DefinitionOf(c, project, code));
  Schedule base;
  base.definition_code = d.code;
  base.project_code = project.code;
  base.user_id = c.user.id;
  base.failure_strategy = FailureStrategy::kContinue;
  DSCHED_API_TRY(Schedule s, ParseScheduleForm(c.req, base));
  s.release_state = ReleaseState::kOffline;
  auto created = c.deps.schedules->CreateSchedule(s);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists)
      return Fail(kScheduleAlreadyExists, "workflow " + std::to_string(code) + " schedule " +
                                              s.crontab +
                                              " already exist, please update or delete it");
    return Fail(FromStatus(created.status()));
  }
  return Ok(ScheduleToJson(*created));
}

namespace {

HttpResponse Update(const Call& c, const Project& project, const Schedule& old) {
  if (old.release_state == ReleaseState::kOnline)
    return Fail(kScheduleCronOnlineForbidUpdate, "online status does not allow update operations");
  Schedule base = old;
  // Absent options take DolphinScheduler's update defaults, as its UI always sends them all;
  // misfirePolicy, which it does not know, keeps its value.
  base.failure_strategy = FailureStrategy::kEnd;
  base.warning_type = WarningType::kNone;
  base.warning_group_id = 0;
  base.priority = Priority::kMedium;
  base.worker_group = "default";
  base.tenant_code = "default";
  base.environment_code = -1;
  DSCHED_API_TRY(Schedule s, ParseScheduleForm(c.req, base));
  auto updated = c.deps.schedules->UpdateSchedule(s);
  if (!updated.ok()) {
    if (updated.status().code() == StatusCode::kNotFound) return Fail(ScheduleNotFound(old.id));
    return Fail(FromStatus(updated.status()));
  }
  Changed(c);
  return Ok(ScheduleToJson(*updated));
}

}  // namespace

HttpResponse UpdateSchedule(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(Schedule old, PathSchedule(c, project));
  return Update(c, project, old);
}

HttpResponse UpdateScheduleByDefinition(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  if (!c.deps.schedules) return Fail(NoStore());
  DSCHED_API_TRY(int64_t code, PathIntParam(c.req, "code"));
  DSCHED_API_TRY(WorkflowDefinition d, DefinitionOf(c, project, code));
  auto old = c.deps.schedules->GetScheduleByDefinition(d.code);
  if (!old.ok()) {
    if (old.status().code() == StatusCode::kNotFound)
      return Fail(kScheduleNotExists,
                  "schedule of workflow " + std::to_string(code) + " does not exist");
    return Fail(FromStatus(old.status()));
  }
  return Update(c, project, *old);
}

HttpResponse OnlineSchedule(const Call& c) { return SetRelease(c, ReleaseState::kOnline); }

HttpResponse OfflineSchedule(const Call& c) { return SetRelease(c, ReleaseState::kOffline); }

HttpResponse DeleteSchedule(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kWrite));
  DSCHED_API_TRY(Schedule s, PathSchedule(c, project));
  // As DolphinScheduler: an online schedule must be taken offline first.
  if (s.release_state == ReleaseState::kOnline)
    return Fail(kScheduleCronOnlineForbidUpdate,
                "online status does not allow update operations: schedule " + std::to_string(s.id) +
                    " is online");
  Status st = c.deps.schedules->DeleteSchedule(s.id);
  if (!st.ok()) return Fail(FromStatus(st));
  Changed(c);
  return Ok(true);
}

HttpResponse ListSchedulesPaged(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  if (!c.deps.schedules) return Fail(NoStore());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  ScheduleFilter f;
  f.project_code = project.code;
  DSCHED_API_TRY(f.definition_code, IntParam(c.req, "processDefinitionCode", 0));
  f.search = c.req.Param("searchVal").value_or("");
  DSCHED_API_TRY(auto rows,
                 c.deps.schedules->ListSchedules(f, Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const Schedule& s : rows.rows) list.push_back(ScheduleToJson(s));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

HttpResponse ListSchedules(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  if (!c.deps.schedules) return Fail(NoStore());
  ScheduleFilter f;
  f.project_code = project.code;
  DSCHED_API_TRY(auto rows,
                 c.deps.schedules->ListSchedules(f, Page{0, std::numeric_limits<int32_t>::max()}));
  json list = json::array();
  for (const Schedule& s : rows.rows) list.push_back(ScheduleToJson(s));
  return Ok(std::move(list));
}

HttpResponse PreviewSchedule(const Call& c) {
  DSCHED_API_TRY(Project project, PathProject(c, ProjectAccess::kRead));
  (void)project;
  DSCHED_API_TRY(Schedule s, ScheduleParam(c.req));
  auto cron = cron::CronExpression::Parse(s.crontab);
  auto zone = cron::TimeZone::Load(s.timezone_id);
  if (!cron.ok() || !zone.ok())  // checked by ScheduleParam; a zone file removed since then
    return Fail(FromStatus(!cron.ok() ? cron.status() : zone.status()));
  // The next fires from now, or from startTime when that is later, up to endTime.
  int64_t from = std::max(c.deps.clock->NowMs(), s.start_time - 1);
  json out = json::array();
  for (int64_t t : cron->NextFires(from, *zone, kPreviewCount)) {
    if (t > s.end_time) break;
    out.push_back(FormatInZone(t, *zone));
  }
  return Ok(std::move(out));
}

ApiOr<bool> OfflineScheduleOfDefinition(const Call& c, int64_t definition_code) {
  if (!c.deps.schedules) return true;
  auto s = c.deps.schedules->GetScheduleByDefinition(definition_code);
  if (!s.ok()) {
    if (s.status().code() == StatusCode::kNotFound) return true;
    return FromStatus(s.status());
  }
  if (s->release_state == ReleaseState::kOffline) return true;
  Status st = c.deps.schedules->SetScheduleReleaseState(s->id, ReleaseState::kOffline);
  if (!st.ok() && st.code() != StatusCode::kNotFound) return FromStatus(st);
  Changed(c);
  return true;
}

}  // namespace dsched::api
