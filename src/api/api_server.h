// The REST API server of DolphinScheduler 3.2.2 (ds-rest-api.md): base path /dolphinscheduler,
// the {code,msg,data,success,failed} envelope, session/token authentication, and the handlers
// of the journeys J1-J5. Handlers are thin: parse the request, call a store or the master,
// render JSON (model/json_codec.h). Business rules of execution belong to the master, not here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"
#include "rpc/interfaces.h"
#include "storage/stores.h"

namespace dsched::api {

// A server running in this process (standalone): what /monitor/{nodeType} reports and where
// the worker address list comes from.
struct LocalServer {
  std::string node_type;  // "MASTER", "WORKER" or "ALERT_SERVER"
  std::string host;
  int port = 0;
  int64_t start_time_ms = 0;
  // Cluster mode: the JSON heartbeat the server registered (its own figures: load, memory,
  // NORMAL/BUSY, thread-pool use). Empty in standalone: the API process's figures stand in.
  std::string heartbeat;
};

// The collaborators, owned by the caller and outliving the server.
struct ApiDeps {
  DefinitionStore* defs = nullptr;
  InstanceStore* instances = nullptr;
  UserStore* users = nullptr;
  MasterControl* master = nullptr;
  Clock* clock = nullptr;
  CodeGenerator* codes = nullptr;
  // Users, tenants, queues, grants and the other admin pages. Without it those routes answer
  // fixed values and a general user reaches only the projects they own.
  AdminStore* admin = nullptr;
  std::vector<LocalServer> servers;
  // Cluster mode: the live servers, read from the registry at each request (instead of
  // `servers`, which standalone fills once).
  std::function<std::vector<LocalServer>()> list_servers;
  std::string db_type;   // "SQLITE", "POSTGRESQL" or "MYSQL", for /monitor/databases
  std::string data_dir;  // disk figures of the monitor
  // Cron schedules (/projects/{projectCode}/schedules). Without it those routes answer 10000.
  ScheduleStore* schedules = nullptr;
  // Called after a schedule went online or offline, changed or was deleted, so that the
  // firer re-reads the online set at once (Scheduler::Refresh); may be empty.
  std::function<void()> schedules_changed;
  // Task groups and their queues (/task-group/*). Without it the project's group list is
  // empty and the other task group routes are not served.
  TaskGroupStore* task_groups = nullptr;
  // Task logs for /log/detail and /log/download-log: standalone reads its own log directory,
  // a cluster API asks the logger of the task's host. Without it there are no logs to show.
  LogReader* logs = nullptr;
};

// Thread-safe: requests are served on the HTTP server's threads; all state lives in the stores.
class ApiServer {
 public:
  // Binds api.host:api.port (port 0 = an ephemeral port, see port()) and starts serving on
  // api.threads threads (4 when the config table has no such key). Reads api.max_body_bytes
  // and api.session_timeout_s. Unavailable when the address cannot be bound.
  static StatusOr<std::unique_ptr<ApiServer>> Create(const Config& cfg, ApiDeps deps);
  ~ApiServer();

  int port() const;
  // Stops serving and joins the threads. Idempotent; also done by the destructor.
  void Stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Creates admin / dolphinscheduler123 (ADMIN_USER), DolphinScheduler's default login, when no
// user 'admin' exists. Idempotent, also when two processes race to create it.
Status EnsureAdminUser(UserStore& users, const Clock& clock);

}  // namespace dsched::api
