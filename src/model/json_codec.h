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
nlohmann::json TaskInstanceToJson(const TaskInstance& ti);

// Helpers for numbers that may arrive as JSON strings.
StatusOr<int64_t> JsonInt(const nlohmann::json& j, const std::string& field,
                          const std::string& where, int64_t dflt);

}  // namespace dsched
