#include "model/json_codec.h"

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
          {"taskGroupId", 0},
          {"taskGroupPriority", 0},
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
          {"perm", 7},
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

}  // namespace dsched
