#include "model/json_codec.h"

#include <string>
#include <string_view>

#include "common/time_format.h"

namespace dsched {

using nlohmann::json;

namespace {

std::string Loc(const std::string& where, const std::string& field) {
  return where.empty() ? field : where + "." + field;
}

std::string Show(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

StatusOr<std::string> JsonString(const json& j, const std::string& field, const std::string& where,
                                 const std::string& dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  const json& v = j[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return InvalidArgument(Loc(where, field) + ": expected a string, got " + v.dump());
}

template <typename E>
StatusOr<E> JsonEnum(const json& j, const std::string& field, const std::string& where, E dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  const json& v = j[field];
  if (v.is_string()) {
    if (v.get<std::string>().empty()) return dflt;
    if (auto e = Parse<E>(v.get<std::string>())) return *e;
  }
  return InvalidArgument(Loc(where, field) + ": unknown value '" + Show(v) + "', expected one of " +
                         AcceptedNames<E>());
}

}  // namespace

StatusOr<int64_t> JsonInt(const json& j, const std::string& field, const std::string& where,
                          int64_t dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  const json& v = j[field];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty()) return dflt;
    size_t pos = 0;
    try {
      int64_t n = std::stoll(s, &pos);
      if (pos == s.size()) return n;
    } catch (...) {
    }
  }
  return InvalidArgument(Loc(where, field) + ": expected an integer, got '" + Show(v) + "'");
}

StatusOr<std::vector<Property>> PropertiesFromJson(const json& j, const std::string& where) {
  std::vector<Property> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidArgument(where + ": expected a list of parameters");
  for (size_t i = 0; i < j.size(); ++i) {
    std::string w = where + "[" + std::to_string(i) + "]";
    const json& e = j[i];
    if (!e.is_object()) return InvalidArgument(w + ": expected an object");
    Property p;
    DSCHED_ASSIGN_OR_RETURN(p.prop, JsonString(e, "prop", w, ""));
    if (p.prop.empty()) return InvalidArgument(w + ".prop: must not be empty");
    DSCHED_ASSIGN_OR_RETURN(p.direct, JsonString(e, "direct", w, "IN"));
    if (p.direct != "IN" && p.direct != "OUT")
      return InvalidArgument(w + ".direct: unknown value '" + p.direct + "', expected IN|OUT");
    DSCHED_ASSIGN_OR_RETURN(p.type, JsonString(e, "type", w, "VARCHAR"));
    static const char* kTypes[] = {"VARCHAR", "INTEGER", "LONG",    "FLOAT", "DOUBLE", "DATE",
                                   "TIME",    "TIMESTAMP", "BOOLEAN", "LIST",  "FILE"};
    bool known = false;
    for (const char* t : kTypes) known = known || p.type == t;
    if (!known)
      return InvalidArgument(w + ".type: unknown value '" + p.type +
                             "', expected VARCHAR|INTEGER|LONG|FLOAT|DOUBLE|DATE|TIME|TIMESTAMP|"
                             "BOOLEAN|LIST|FILE");
    DSCHED_ASSIGN_OR_RETURN(p.value, JsonString(e, "value", w, ""));
    out.push_back(std::move(p));
  }
  return out;
}

StatusOr<std::vector<Property>> PropertiesFromText(const std::string& text,
                                                   const std::string& where) {
  if (text.empty() || text == "null") return std::vector<Property>{};
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidArgument(where + ": not valid JSON");
  return PropertiesFromJson(j, where);
}

json PropertiesToJson(const std::vector<Property>& props) {
  json a = json::array();
  for (const auto& p : props)
    a.push_back({{"prop", p.prop}, {"direct", p.direct}, {"type", p.type}, {"value", p.value}});
  return a;
}

std::vector<Property> TaskDefinition::LocalParams() const {
  if (!task_params.is_object() || !task_params.contains("localParams")) return {};
  auto r = PropertiesFromJson(task_params["localParams"], "localParams");
  return r.ok() ? *r : std::vector<Property>{};
}

StatusOr<TaskDefinition> TaskDefinitionFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": expected an object");
  TaskDefinition t;
  DSCHED_ASSIGN_OR_RETURN(t.code, JsonInt(j, "code", where, 0));
  int64_t v;
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "version", where, 1));
  t.version = static_cast<int>(v);
  DSCHED_ASSIGN_OR_RETURN(t.name, JsonString(j, "name", where, ""));
  DSCHED_ASSIGN_OR_RETURN(t.description, JsonString(j, "description", where, ""));
  DSCHED_ASSIGN_OR_RETURN(t.task_type, JsonString(j, "taskType", where, ""));
  if (j.contains("taskParams")) {
    const json& tp = j["taskParams"];
    if (tp.is_string()) {
      t.task_params = json::parse(tp.get<std::string>(), nullptr, false);
      if (t.task_params.is_discarded())
        return InvalidArgument(Loc(where, "taskParams") + ": not valid JSON");
    } else if (tp.is_object()) {
      t.task_params = tp;
    } else if (!tp.is_null()) {
      return InvalidArgument(Loc(where, "taskParams") + ": expected an object");
    }
  }
  if (!t.task_params.is_object()) t.task_params = json::object();
  if (t.task_params.contains("localParams")) {
    auto lp = PropertiesFromJson(t.task_params["localParams"], Loc(where, "taskParams.localParams"));
    if (!lp.ok()) return lp.status();
  }
  DSCHED_ASSIGN_OR_RETURN(t.flag, JsonEnum<Flag>(j, "flag", where, Flag::kYes));
  DSCHED_ASSIGN_OR_RETURN(t.priority, JsonEnum<Priority>(j, "taskPriority", where, Priority::kMedium));
  DSCHED_ASSIGN_OR_RETURN(t.worker_group, JsonString(j, "workerGroup", where, "default"));
  if (t.worker_group.empty()) t.worker_group = "default";
  DSCHED_ASSIGN_OR_RETURN(t.environment_code, JsonInt(j, "environmentCode", where, -1));
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "failRetryTimes", where, 0));
  if (v < 0) return InvalidArgument(Loc(where, "failRetryTimes") + ": must not be negative");
  t.fail_retry_times = static_cast<int>(v);
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "failRetryInterval", where, 1));
  if (v < 0) return InvalidArgument(Loc(where, "failRetryInterval") + ": must not be negative");
  t.fail_retry_interval = static_cast<int>(v);
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "delayTime", where, 0));
  if (v < 0) return InvalidArgument(Loc(where, "delayTime") + ": must not be negative");
  t.delay_time = static_cast<int>(v);
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "timeout", where, 0));
  if (v < 0) return InvalidArgument(Loc(where, "timeout") + ": must not be negative");
  t.timeout = static_cast<int>(v);
  std::string tf;
  DSCHED_ASSIGN_OR_RETURN(tf, JsonString(j, "timeoutFlag", where, "CLOSE"));
  if (tf != "OPEN" && tf != "CLOSE" && !tf.empty())
    return InvalidArgument(Loc(where, "timeoutFlag") + ": unknown value '" + tf +
                           "', expected OPEN|CLOSE");
  t.timeout_enabled = tf == "OPEN";
  std::string ts;
  DSCHED_ASSIGN_OR_RETURN(ts, JsonString(j, "timeoutNotifyStrategy", where, ""));
  if (!ts.empty()) {
    auto s = Parse<TimeoutStrategy>(ts);
    if (!s)
      return InvalidArgument(Loc(where, "timeoutNotifyStrategy") + ": unknown value '" + ts +
                             "', expected " + AcceptedNames<TimeoutStrategy>());
    t.timeout_strategy = *s;
  }
  if (t.timeout_enabled && !t.timeout_strategy) t.timeout_strategy = TimeoutStrategy::kWarn;
  DSCHED_ASSIGN_OR_RETURN(t.task_group_id, JsonInt(j, "taskGroupId", where, 0));
  if (t.task_group_id < 0) return InvalidArgument(Loc(where, "taskGroupId") + ": must not be negative");
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "taskGroupPriority", where, 0));
  t.task_group_priority = static_cast<int>(v);
  return t;
}

json TaskDefinitionToJson(const TaskDefinition& t) {
  json lp = PropertiesToJson(t.LocalParams());
  return {{"id", t.id},
          {"code", t.code},
          {"name", t.name},
          {"version", t.version},
          {"description", t.description},
          {"projectCode", t.project_code},
          {"userId", t.user_id},
          {"taskType", t.task_type},
          {"taskParams", t.task_params},
          {"taskParamList", lp},
          {"flag", Name(t.flag)},
          {"isCache", "NO"},
          {"taskPriority", Name(t.priority)},
          {"workerGroup", t.worker_group},
          {"environmentCode", t.environment_code},
          {"failRetryTimes", t.fail_retry_times},
          {"failRetryInterval", t.fail_retry_interval},
          {"timeoutFlag", t.timeout_enabled ? "OPEN" : "CLOSE"},
          {"timeoutNotifyStrategy",
           t.timeout_strategy ? json(Name(*t.timeout_strategy)) : json(nullptr)},
          {"timeout", t.timeout},
          {"delayTime", t.delay_time},
          {"resourceIds", ""},
          {"taskGroupId", t.task_group_id},
          {"taskGroupPriority", t.task_group_priority},
          {"cpuQuota", -1},
          {"memoryMax", -1},
          {"taskExecuteType", "BATCH"},
          {"createTime", FormatDateTime(t.create_time)},
          {"updateTime", FormatDateTime(t.update_time)}};
}

StatusOr<TaskRelation> TaskRelationFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": expected an object");
  TaskRelation r;
  DSCHED_ASSIGN_OR_RETURN(r.name, JsonString(j, "name", where, ""));
  DSCHED_ASSIGN_OR_RETURN(r.pre_task_code, JsonInt(j, "preTaskCode", where, 0));
  DSCHED_ASSIGN_OR_RETURN(r.post_task_code, JsonInt(j, "postTaskCode", where, 0));
  int64_t v;
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "preTaskVersion", where, 0));
  r.pre_task_version = static_cast<int>(v);
  DSCHED_ASSIGN_OR_RETURN(v, JsonInt(j, "postTaskVersion", where, 0));
  r.post_task_version = static_cast<int>(v);
  DSCHED_ASSIGN_OR_RETURN(r.condition_type, JsonString(j, "conditionType", where, "NONE"));
  if (r.condition_type.empty()) r.condition_type = "NONE";
  if (r.post_task_code == 0) return InvalidArgument(Loc(where, "postTaskCode") + ": is required");
  if (j.contains("conditionParams") && j["conditionParams"].is_object())
    r.condition_params = j["conditionParams"];
  return r;
}

json TaskRelationToJson(const TaskRelation& r) {
  return {{"name", r.name},
          {"preTaskCode", r.pre_task_code},
          {"preTaskVersion", r.pre_task_version},
          {"postTaskCode", r.post_task_code},
          {"postTaskVersion", r.post_task_version},
          {"conditionType", r.condition_type},
          {"conditionParams", r.condition_params}};
}

json ProjectToJson(const Project& p) {
  return {{"id", p.id},
          {"userId", p.user_id},
          {"userName", p.user_name},
          {"code", p.code},
          {"name", p.name},
          {"description", p.description},
          {"createTime", FormatDateTime(p.create_time)},
          {"updateTime", FormatDateTime(p.update_time)},
          {"perm", p.perm},
          {"defCount", 0},
          {"instRunningCount", 0}};
}

json WorkflowDefinitionToJson(const WorkflowDefinition& d) {
  json gp = PropertiesToJson(d.global_params);
  json gmap = json::object();
  for (const auto& p : d.global_params) gmap[p.prop] = p.value;
  return {{"id", d.id},
          {"code", d.code},
          {"name", d.name},
          {"version", d.version},
          {"releaseState", Name(d.release_state)},
          {"projectCode", d.project_code},
          {"description", d.description},
          {"globalParams", gp.dump()},
          {"globalParamList", gp},
          {"globalParamMap", gmap},
          {"createTime", FormatDateTime(d.create_time)},
          {"updateTime", FormatDateTime(d.update_time)},
          {"flag", "YES"},
          {"userId", d.user_id},
          {"locations", d.locations},
          {"timeout", d.timeout},
          {"warningGroupId", d.warning_group_id},
          {"executionType", Name(d.execution_type)},
          {"scheduleReleaseState", nullptr},
          {"schedule", nullptr}};
}

json DagDataToJson(const WorkflowDefinition& d) {
  json rels = json::array();
  for (const auto& r : d.relations) {
    json jr = TaskRelationToJson(r);
    jr["processDefinitionCode"] = d.code;
    jr["processDefinitionVersion"] = d.version;
    jr["projectCode"] = d.project_code;
    rels.push_back(jr);
  }
  json tasks = json::array();
  for (const auto& t : d.tasks) tasks.push_back(TaskDefinitionToJson(t));
  return {{"processDefinition", WorkflowDefinitionToJson(d)},
          {"processTaskRelationList", rels},
          {"taskDefinitionList", tasks}};
}

namespace {

// A minimal JSON text writer for AppendWorkflowInstanceJson: keys are literals, strings are
// escaped as JSON requires (quote, backslash, control characters); bytes >= 0x80 pass as they
// are (UTF-8 in, UTF-8 out).
class TextWriter {
 public:
  explicit TextWriter(std::string* out) : out_(out) {}
  void Open() { out_->push_back('{'); }
  void Close() { out_->push_back('}'); }
  void Key(const char* k) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(k);
    out_->append("\":");
  }
  void Int(const char* k, int64_t v) {
    Key(k);
    out_->append(std::to_string(v));
  }
  void Str(const char* k, std::string_view v) {
    Key(k);
    out_->push_back('"');
    for (char ch : v) {
      auto u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out_->push_back('\\');
        out_->push_back(ch);
      } else if (u < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        switch (ch) {
          case '\n': out_->append("\\n"); break;
          case '\t': out_->append("\\t"); break;
          case '\r': out_->append("\\r"); break;
          case '\b': out_->append("\\b"); break;
          case '\f': out_->append("\\f"); break;
          default:
            out_->append("\\u00");
            out_->push_back(kHex[u >> 4]);
            out_->push_back(kHex[u & 15]);
        }
      } else {
        out_->push_back(ch);
      }
    }
    out_->push_back('"');
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

void AppendWorkflowInstanceJson(std::string* out, const WorkflowInstance& wi) {
  TextWriter w(out);
  w.Open();
  w.Int("id", wi.id);
  w.Str("name", wi.name);
  w.Int("processDefinitionCode", wi.definition_code);
  w.Int("processDefinitionVersion", wi.definition_version);
  w.Int("projectCode", wi.project_code);
  w.Str("state", Name(wi.state));
  w.Str("recovery", wi.recovery ? "YES" : "NO");
  w.Str("startTime", FormatDateTime(wi.start_time));
  w.Str("endTime", FormatDateTime(wi.end_time));
  w.Int("runTimes", wi.run_times);
  w.Str("host", wi.host);
  w.Str("commandType", Name(wi.command_type));
  w.Str("commandParam", wi.command_param);
  w.Str("taskDependType", Name(wi.task_depend_type));
  w.Str("failureStrategy", Name(wi.failure_strategy));
  w.Str("warningType", Name(wi.warning_type));
  w.Int("warningGroupId", wi.warning_group_id);
  w.Str("scheduleTime", FormatDateTime(wi.schedule_time));
  w.Str("commandStartTime", FormatDateTime(wi.command_start_time));
  w.Str("globalParams", wi.global_params);
  w.Int("executorId", wi.executor_id);
  w.Str("executorName", wi.executor_name);
  w.Str("isSubProcess", wi.is_sub_process ? "YES" : "NO");
  w.Str("historyCmd", wi.history_cmd);
  w.Str("duration", wi.start_time && wi.end_time
                        ? std::to_string((wi.end_time - wi.start_time) / 1000) + "s"
                        : std::string());
  w.Str("processInstancePriority", Name(wi.priority));
  w.Str("workerGroup", wi.worker_group);
  w.Int("timeout", wi.timeout);
  w.Str("varPool", wi.var_pool);
  w.Int("dryRun", wi.dry_run);
  w.Str("restartTime", FormatDateTime(wi.restart_time));
  w.Int("testFlag", 0);
  w.Str("tenantCode", "default");
  w.Int("maxTryTimes", 0);
  w.Close();
}

json WorkflowInstanceToJson(const WorkflowInstance& wi) {
  int64_t end = wi.end_time;
  std::string duration;
  if (wi.start_time && end) duration = std::to_string((end - wi.start_time) / 1000) + "s";
  return {{"id", wi.id},
          {"name", wi.name},
          {"processDefinitionCode", wi.definition_code},
          {"processDefinitionVersion", wi.definition_version},
          {"projectCode", wi.project_code},
          {"state", Name(wi.state)},
          {"recovery", wi.recovery ? "YES" : "NO"},
          {"startTime", FormatDateTime(wi.start_time)},
          {"endTime", FormatDateTime(wi.end_time)},
          {"runTimes", wi.run_times},
          {"host", wi.host},
          {"commandType", Name(wi.command_type)},
          {"commandParam", wi.command_param},
          {"taskDependType", Name(wi.task_depend_type)},
          {"failureStrategy", Name(wi.failure_strategy)},
          {"warningType", Name(wi.warning_type)},
          {"warningGroupId", wi.warning_group_id},
          {"scheduleTime", FormatDateTime(wi.schedule_time)},
          {"commandStartTime", FormatDateTime(wi.command_start_time)},
          {"globalParams", wi.global_params},
          {"executorId", wi.executor_id},
          {"executorName", wi.executor_name},
          {"isSubProcess", wi.is_sub_process ? "YES" : "NO"},
          {"historyCmd", wi.history_cmd},
          {"duration", duration},
          {"processInstancePriority", Name(wi.priority)},
          {"workerGroup", wi.worker_group},
          {"timeout", wi.timeout},
          {"varPool", wi.var_pool},
          {"dryRun", wi.dry_run},
          {"restartTime", FormatDateTime(wi.restart_time)},
          {"testFlag", 0},
          {"tenantCode", "default"},
          {"maxTryTimes", 0}};
}

json TaskInstanceToJson(const TaskInstance& ti) {
  std::string duration;
  if (ti.start_time && ti.end_time) duration = std::to_string((ti.end_time - ti.start_time) / 1000) + "s";
  json params = json::parse(ti.task_params, nullptr, false);
  return {{"id", ti.id},
          {"name", ti.name},
          {"taskType", ti.task_type},
          {"processInstanceId", ti.workflow_instance_id},
          {"processInstanceName", ti.workflow_instance_name},
          {"projectCode", ti.project_code},
          {"taskCode", ti.task_code},
          {"taskDefinitionVersion", ti.task_definition_version},
          {"state", Name(ti.state)},
          {"firstSubmitTime", FormatDateTime(ti.first_submit_time)},
          {"submitTime", FormatDateTime(ti.submit_time)},
          {"startTime", FormatDateTime(ti.start_time)},
          {"endTime", FormatDateTime(ti.end_time)},
          {"host", ti.host},
          {"executePath", ti.execute_path},
          {"logPath", ti.log_path},
          {"retryTimes", ti.retry_times},
          {"maxRetryTimes", ti.max_retry_times},
          {"retryInterval", ti.retry_interval},
          {"pid", ti.pid},
          {"appLink", ti.app_link},
          {"flag", Name(ti.flag)},
          {"taskInstancePriority", Name(ti.priority)},
          {"workerGroup", ti.worker_group},
          {"executorId", ti.executor_id},
          {"varPool", ti.var_pool},
          {"delayTime", ti.delay_time},
          {"taskParams", params.is_discarded() ? json(ti.task_params) : params},
          {"dryRun", ti.dry_run},
          {"duration", duration},
          {"alertFlag", "NO"},
          {"isCache", "NO"},
          {"taskExecuteType", "BATCH"},
          {"testFlag", 0},
          {"environmentCode", -1}};
}

json ScheduleToJson(const Schedule& s) {
  return {{"id", s.id},
          {"processDefinitionCode", s.definition_code},
          {"processDefinitionName", s.definition_name},
          {"projectName", s.project_name},
          {"definitionDescription", s.definition_description},
          {"startTime", FormatDateTime(s.start_time)},
          {"endTime", FormatDateTime(s.end_time)},
          {"timezoneId", s.timezone_id},
          {"crontab", s.crontab},
          {"failureStrategy", Name(s.failure_strategy)},
          {"warningType", Name(s.warning_type)},
          {"createTime", FormatDateTime(s.create_time)},
          {"updateTime", FormatDateTime(s.update_time)},
          {"userId", s.user_id},
          {"userName", s.user_name},
          {"releaseState", Name(s.release_state)},
          {"warningGroupId", s.warning_group_id},
          {"processInstancePriority", Name(s.priority)},
          {"workerGroup", s.worker_group},
          {"tenantCode", s.tenant_code},
          {"environmentCode", s.environment_code},
          {"environmentName", nullptr},
          {"misfirePolicy", Name(s.misfire_policy)}};
}

StatusOr<Schedule> ScheduleParamFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": expected a JSON object");
  Schedule s;
  for (auto [field, out] : {std::pair{"startTime", &s.start_time}, std::pair{"endTime", &s.end_time}}) {
    DSCHED_ASSIGN_OR_RETURN(std::string text, JsonString(j, field, where, ""));
    if (text.empty()) return InvalidArgument(Loc(where, field) + ": it is required");
    auto ms = ParseDateTime(text);
    if (!ms)
      return InvalidArgument(Loc(where, field) + ": '" + text +
                             "' is not a date of the form yyyy-MM-dd HH:mm:ss");
    *out = *ms;
  }
  DSCHED_ASSIGN_OR_RETURN(s.crontab, JsonString(j, "crontab", where, ""));
  if (s.crontab.empty()) return InvalidArgument(Loc(where, "crontab") + ": it is required");
  DSCHED_ASSIGN_OR_RETURN(s.timezone_id, JsonString(j, "timezoneId", where, ""));
  if (s.timezone_id.empty()) s.timezone_id = "UTC";
  return s;
}

// ---------------------------------------------------------------- administration

namespace {

json TimeOrNull(int64_t ms) { return ms == 0 ? json(nullptr) : json(FormatDateTime(ms)); }

const char* kWarningTypes[] = {"NONE", "SUCCESS", "FAILURE", "ALL"};

}  // namespace

json UserToJson(const User& u, const std::string& tenant_code, const std::string& queue_name) {
  return {{"id", u.id},
          {"userName", u.user_name},
          {"email", u.email},
          {"phone", u.phone},
          {"userType", u.user_type == UserType::kAdmin ? "ADMIN_USER" : "GENERAL_USER"},
          {"tenantId", u.tenant_id},
          {"tenantCode", tenant_code.empty() ? json(nullptr) : json(tenant_code)},
          {"queue", u.queue},
          {"queueName", queue_name.empty() ? json(u.queue) : json(queue_name)},
          {"state", u.state},
          {"timeZone", u.time_zone.empty() ? json(nullptr) : json(u.time_zone)},
          {"alertGroup", nullptr},
          {"createTime", TimeOrNull(u.create_time)},
          {"updateTime", TimeOrNull(u.update_time)}};
}

json TenantToJson(const Tenant& t) {
  return {{"id", t.id},
          {"tenantCode", t.tenant_code},
          {"description", t.description},
          {"queueId", t.queue_id},
          {"queueName", t.queue_name},
          {"queue", t.queue},
          {"createTime", TimeOrNull(t.create_time)},
          {"updateTime", TimeOrNull(t.update_time)}};
}

json QueueToJson(const Queue& q) {
  return {{"id", q.id},
          {"queueName", q.queue_name},
          {"queue", q.queue},
          {"createTime", TimeOrNull(q.create_time)},
          {"updateTime", TimeOrNull(q.update_time)}};
}

json WorkerGroupToJson(const WorkerGroup& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"addrList", g.addr_list},
          {"description", g.description},
          {"otherParamsJson", g.other_params_json},
          {"systemDefault", false},
          {"createTime", TimeOrNull(g.create_time)},
          {"updateTime", TimeOrNull(g.update_time)}};
}

json AlertGroupToJson(const AlertGroup& g) {
  return {{"id", g.id},
          {"groupName", g.group_name},
          {"alertInstanceIds", g.alert_instance_ids},
          {"description", g.description},
          {"createUserId", g.create_user_id},
          {"createTime", TimeOrNull(g.create_time)},
          {"updateTime", TimeOrNull(g.update_time)}};
}

json PluginDefineToJson(const PluginDefine& d) {
  return {{"id", d.id},
          {"pluginName", d.plugin_name},
          {"pluginType", d.plugin_type},
          {"pluginParams", d.plugin_params},
          {"createTime", TimeOrNull(d.create_time)},
          {"updateTime", TimeOrNull(d.update_time)}};
}

json AlertPluginInstanceToJson(const AlertPluginInstance& i) {
  int wt = i.warning_type >= 0 && i.warning_type <= 3 ? i.warning_type : 3;
  return {{"id", i.id},
          {"pluginDefineId", i.plugin_define_id},
          {"instanceName", i.instance_name},
          {"pluginInstanceParams", i.plugin_instance_params},
          {"instanceType", i.instance_type == 1 ? "GLOBAL" : "NORMAL"},
          {"warningType", kWarningTypes[wt]},
          {"alertPluginName", i.plugin_name},
          {"createTime", TimeOrNull(i.create_time)},
          {"updateTime", TimeOrNull(i.update_time)}};
}

json AccessTokenToJson(const AccessToken& t) {
  return {{"id", t.id},
          {"userId", t.user_id},
          {"token", t.token},
          {"expireTime", TimeOrNull(t.expire_time)},
          {"userName", t.user_name},
          {"createTime", TimeOrNull(t.create_time)},
          {"updateTime", TimeOrNull(t.update_time)}};
}

json EnvironmentToJson(const Environment& e) {
  return {{"id", e.id},
          {"code", e.code},
          {"name", e.name},
          {"config", e.config},
          {"description", e.description},
          {"workerGroups", json::array()},
          {"operator", e.operator_id},
          {"createTime", TimeOrNull(e.create_time)},
          {"updateTime", TimeOrNull(e.update_time)}};
}

}  // namespace dsched
