// Internal to src/api: the request context handlers receive and the handler functions, one
// group per file (project_handlers.cc, workflow_handlers.cc, instance_handlers.cc). The route
// table that binds them to methods and paths is in api_server.cc.
#pragma once

#include <cstdint>

#include "api/api_server.h"
#include "api/http_server.h"
#include "api/reply.h"
#include "model/entities.h"

namespace dsched::api {

// One authenticated request. Handlers only read it.
struct Call {
  const HttpRequest& req;
  const User& user;
  const ApiDeps& deps;
};

// What a user wants to do with a project, for the permission check.
enum class ProjectAccess { kRead, kWrite };

// The project of a /projects/{projectCode}/... route, if the user may access it that way.
// 10018 when it does not exist, 30002 when the user lacks the permission. The one place
// project permissions are decided (today every logged-in user may do everything).
ApiOr<Project> ProjectForUser(const Call& c, int64_t project_code, ProjectAccess access);
// Same, taking the code from the path parameter `projectCode` (10001 when not a number).
ApiOr<Project> PathProject(const Call& c, ProjectAccess access);

// project_handlers.cc
HttpResponse CreateProject(const Call& c);
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

}  // namespace dsched::api
