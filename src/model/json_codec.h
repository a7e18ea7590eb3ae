// Entities <-> DolphinScheduler's JSON shapes (ds-rest-api.md §4, §8): the one place that
// knows the wire field names, used by the REST handlers and by storage (task definitions are
// stored as that JSON). Parsing is lenient the way DolphinScheduler's UI needs (numbers as
// strings, empty strings as absent) and strict about meaning: a wrong type or an unknown enum
// value is an InvalidArgument naming the field, e.g. "taskDefinitionJson[1].failRetryTimes:
// expected an integer, got 'abc'". Pure.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/entities.h"

namespace dsched {

// `where` prefixes error messages (e.g. "taskDefinitionJson[0]").
StatusOr<TaskDefinition> TaskDefinitionFromJson(const nlohmann::json& j, const std::string& where);
nlohmann::json TaskDefinitionToJson(const TaskDefinition& t);

StatusOr<TaskRelation> TaskRelationFromJson(const nlohmann::json& j, const std::string& where);
nlohmann::json TaskRelationToJson(const TaskRelation& r);

StatusOr<std::vector<Property>> PropertiesFromJson(const nlohmann::json& j,
                                                   const std::string& where);
nlohmann::json PropertiesToJson(const std::vector<Property>& props);
// Same, from a JSON text ("" and "null" are an empty list).
StatusOr<std::vector<Property>> PropertiesFromText(const std::string& text,
                                                   const std::string& where);

nlohmann::json ProjectToJson(const Project& p);
// ProcessDefinition without its DAG.
nlohmann::json WorkflowDefinitionToJson(const WorkflowDefinition& d);
// DagData {processDefinition, processTaskRelationList, taskDefinitionList}.
nlohmann::json DagDataToJson(const WorkflowDefinition& d);
nlohmann::json WorkflowInstanceToJson(const WorkflowInstance& wi);
// The same object as WorkflowInstanceToJson, appended to *out as JSON text without building a
// json value: the instance list page renders 20 per request, and building them cost a third of
// the page. json_codec_test checks that both agree.
void AppendWorkflowInstanceJson(std::string* out, const WorkflowInstance& wi);
nlohmann::json TaskInstanceToJson(const TaskInstance& ti);
// Schedule as DolphinScheduler's list and create answers show it (§8), plus misfirePolicy.
nlohmann::json ScheduleToJson(const Schedule& s);
// The `schedule` form parameter {startTime, endTime, crontab, timezoneId}: fills those four
// fields (dates "yyyy-MM-dd HH:mm:ss" in the process time zone; timezoneId "" -> "UTC").
// InvalidArgument naming the field when one is missing or malformed. Checks neither the cron
// syntax nor the zone (src/cron does; model does not depend on it).
StatusOr<Schedule> ScheduleParamFromJson(const nlohmann::json& j, const std::string& where);

// Helpers for numbers that may arrive as JSON strings.
StatusOr<int64_t> JsonInt(const nlohmann::json& j, const std::string& field,
                          const std::string& where, int64_t dflt);

// Administration entities (ds-rest-api.md §8). A user's tenantCode and queueName are looked up
// by the caller; the password hash never leaves the server.
nlohmann::json UserToJson(const User& u, const std::string& tenant_code,
                          const std::string& queue_name);
nlohmann::json TenantToJson(const Tenant& t);
nlohmann::json QueueToJson(const Queue& q);
nlohmann::json WorkerGroupToJson(const WorkerGroup& g);
nlohmann::json AlertGroupToJson(const AlertGroup& g);
nlohmann::json PluginDefineToJson(const PluginDefine& d);
nlohmann::json AlertPluginInstanceToJson(const AlertPluginInstance& i);
nlohmann::json AccessTokenToJson(const AccessToken& t);
nlohmann::json EnvironmentToJson(const Environment& e);

}  // namespace dsched
