// Internal to src/api: the request context handlers receive and the handler functions, one
// group per file (project_handlers.cc, workflow_handlers.cc, instance_handlers.cc). The route
// table that binds them to methods and paths is in api_server.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "api/api_server.h"
#include "api/http_server.h"
#include "api/reply.h"
#include "model/entities.h"

namespace dsched::api {

class Authenticator;

// One authenticated request. Handlers only read it.
struct Call {
  const HttpRequest& req;
  const User& user;
  const ApiDeps& deps;
  // The server's; a handler that changes or deletes a user tells it (ForgetUser).
  Authenticator* auth = nullptr;
};

// DolphinScheduler's 30001 USER_NO_OPERATION_PERM: a general user on an admin-only route.
inline constexpr DsStatus kUserNoOperationPerm{30001};
ApiError NoOperationPerm();

// What a user wants to do with a project, for the permission check.
enum class ProjectAccess { kRead, kWrite };

// The project of a /projects/{projectCode}/... route, if the user may access it that way.
// 10018 when it does not exist, 30002 when the user lacks the permission. The one place
// project permissions are decided (today every logged-in user may do everything).
ApiOr<Project> ProjectForUser(const Call& c, int64_t project_code, ProjectAccess access);
// Same, taking the code from the path parameter `projectCode` (10001 when not a number).
ApiOr<Project> PathProject(const Call& c, ProjectAccess access);

// DolphinScheduler codes of the definition and instance edit routes (api/enums/Status.java),
// beside the common ones of reply.h.
inline constexpr DsStatus kTaskInstanceStateOperationError = static_cast<DsStatus>(10166);
inline constexpr DsStatus kBatchDeleteProcessInstanceByIdsError = static_cast<DsStatus>(10117);
inline constexpr DsStatus kCopyProcessDefinitionError = static_cast<DsStatus>(10149);
inline constexpr DsStatus kMoveProcessDefinitionError = static_cast<DsStatus>(10150);
inline constexpr DsStatus kSwitchProcessDefinitionVersionNotExistVersion =
    static_cast<DsStatus>(10153);
inline constexpr DsStatus kProcessDefinitionCodesIsEmpty = static_cast<DsStatus>(10158);
inline constexpr DsStatus kDeleteProcessDefineByCodeError = static_cast<DsStatus>(50022);
inline constexpr DsStatus kBatchDeleteProcessDefineByCodesError = static_cast<DsStatus>(50026);
inline constexpr DsStatus kImportProcessDefineError = static_cast<DsStatus>(50029);
inline constexpr DsStatus kTaskDefineNotExist = static_cast<DsStatus>(50030);
inline constexpr DsStatus kMainTableUsingVersion = static_cast<DsStatus>(50053);
inline constexpr DsStatus kTaskInstanceNotExists = static_cast<DsStatus>(10020);
inline constexpr DsStatus kTaskInstanceNotSubWorkflowInstance = static_cast<DsStatus>(10021);
inline constexpr DsStatus kSubProcessInstanceNotExist = static_cast<DsStatus>(50007);
inline constexpr DsStatus kProcessInstanceNotSubProcessInstance = static_cast<DsStatus>(50010);

// project_handlers.cc
HttpResponse CreateProject(const Call& c);
HttpResponse UpdateProject(const Call& c);
HttpResponse DeleteProject(const Call& c);
HttpResponse ListAuthedProjects(const Call& c);
HttpResponse ListUnauthProjects(const Call& c);
HttpResponse ListAuthedUsers(const Call& c);
HttpResponse ListAuthorizedLevelProjects(const Call& c);
HttpResponse ListAuthorizedLevelProjectsPaged(const Call& c);
HttpResponse ListProjectsPaged(const Call& c);
HttpResponse GetProject(const Call& c);
HttpResponse ListAllProjects(const Call& c);
HttpResponse TaskStateCount(const Call& c);
HttpResponse ProcessStateCount(const Call& c);

// workflow_handlers.cc
HttpResponse GenTaskCodes(const Call& c);
HttpResponse CreateWorkflow(const Call& c);
HttpResponse UpdateWorkflow(const Call& c);
HttpResponse GetWorkflow(const Call& c);
HttpResponse ListWorkflowsPaged(const Call& c);
HttpResponse GetWorkflowByName(const Call& c);
HttpResponse VerifyWorkflowName(const Call& c);
HttpResponse ListWorkflowDags(const Call& c);
HttpResponse ListWorkflowNames(const Call& c);
HttpResponse ReleaseWorkflow(const Call& c);
HttpResponse DeleteWorkflow(const Call& c);
HttpResponse CopyWorkflows(const Call& c);
HttpResponse MoveWorkflows(const Call& c);
HttpResponse BatchDeleteWorkflows(const Call& c);
HttpResponse ExportWorkflows(const Call& c);
HttpResponse ImportWorkflows(const Call& c);
HttpResponse ListWorkflowVersions(const Call& c);
HttpResponse SwitchWorkflowVersion(const Call& c);
HttpResponse DeleteWorkflowVersion(const Call& c);
HttpResponse ViewWorkflowTree(const Call& c);
HttpResponse ViewWorkflowVariables(const Call& c);
HttpResponse ListDefinitionTasks(const Call& c);
HttpResponse SimpleWorkflowList(const Call& c);
HttpResponse GetTaskDefinition(const Call& c);
// The DAG form of create / update (name given; description, globalParams, locations, timeout,
// executionType, warningGroupId, taskDefinitionJson, taskRelationJson read and validated).
ApiOr<WorkflowDefinition> WorkflowFromForm(const Call& c, const Project& project,
                                           const std::string& name);
// {globalParams, localParams: {task name: {taskType, localParamsList}}}: the variables view of
// a definition and of an instance.
nlohmann::json WorkflowVariablesJson(const nlohmann::json& global_params,
                                     const std::vector<TaskDefinition>& tasks);

// admin_handlers.cc: users, tenants, queues, worker groups, alert groups and plugin
// instances, UI plugins, access tokens, monitor. Registers its routes through `authed`.
using CallHandler = std::function<HttpResponse(const Call&)>;
void AddAdminRoutes(const std::function<void(const char*, const std::string&, CallHandler)>& authed);

// schedule_handlers.cc
HttpResponse CreateSchedule(const Call& c);
HttpResponse UpdateSchedule(const Call& c);
HttpResponse UpdateScheduleByDefinition(const Call& c);
HttpResponse OnlineSchedule(const Call& c);
HttpResponse OfflineSchedule(const Call& c);
HttpResponse DeleteSchedule(const Call& c);
HttpResponse ListSchedulesPaged(const Call& c);
HttpResponse ListSchedules(const Call& c);
HttpResponse PreviewSchedule(const Call& c);
// The offline half of ReleaseWorkflow: a definition going offline takes its schedule with it.
// OK when the definition has no schedule.
ApiOr<bool> OfflineScheduleOfDefinition(const Call& c, int64_t definition_code);

// instance_handlers.cc
HttpResponse StartProcessInstance(const Call& c);
HttpResponse ExecuteAction(const Call& c);
HttpResponse ListWorkflowInstancesPaged(const Call& c);
HttpResponse GetWorkflowInstance(const Call& c);
HttpResponse ListInstanceTasks(const Call& c);
HttpResponse ListInstancesByTrigger(const Call& c);
HttpResponse ListTaskInstancesPaged(const Call& c);
HttpResponse LogDetail(const Call& c);
HttpResponse DownloadLog(const Call& c);
HttpResponse UpdateWorkflowInstance(const Call& c);
HttpResponse DeleteWorkflowInstance(const Call& c);
HttpResponse BatchDeleteWorkflowInstances(const Call& c);
HttpResponse ViewInstanceGantt(const Call& c);
HttpResponse ViewInstanceVariables(const Call& c);
HttpResponse ForceTaskSuccess(const Call& c);
HttpResponse ExecuteTask(const Call& c);
HttpResponse SubInstanceOfTask(const Call& c);
HttpResponse ParentInstanceOfSub(const Call& c);

// task_group_handlers.cc (/task-group/*; registered when ApiDeps::task_groups is set)
HttpResponse ListTaskGroupsPaged(const Call& c);
HttpResponse ListTaskGroupsByProject(const Call& c);
HttpResponse CreateTaskGroup(const Call& c);
HttpResponse UpdateTaskGroup(const Call& c);
HttpResponse CloseTaskGroup(const Call& c);
HttpResponse StartTaskGroup(const Call& c);
HttpResponse ListTaskGroupQueue(const Call& c);
HttpResponse ModifyTaskGroupQueuePriority(const Call& c);
HttpResponse ForceStartTaskInQueue(const Call& c);

}  // namespace dsched::api
