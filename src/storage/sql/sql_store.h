// SqlStore: the stores of stores.h on SOCI, for SQLite (the embedded default), PostgreSQL and
// MySQL/MariaDB. One writer connection serialised by a mutex (SQLite has one writer anyway, and
// group commit makes one writer per process enough on the servers) and a pool of reader
// connections (on SQLite, WAL lets them run beside the writer).
//
// Dialects differ only where they must, each place saying why: new ids (RETURNING on
// PostgreSQL), the catalog, LIKE case, session settings (db_options.cc). Every value goes
// through a bound parameter, never into the SQL text.
//
// Group commit: one transaction per batch on every database. Each group's first statement is
// its owner_epoch fence, so a group that lost its instance has written nothing when it is
// skipped: no savepoints (they cost two round trips per group on the servers).
//
// Outages: a statement that fails because the connection is gone returns Unavailable, and that
// connection is re-opened on the spot or on its next failure; one log line per outage and one
// when it is over. Callers retry. A connection lost during COMMIT leaves the outcome unknown:
// a retried batch finds the task instances it may already have inserted by their insert key
// (WriteBatch::Group::insert_keys) instead of inserting them twice.
//
// Thread-safe. SOCI exceptions are caught here and returned as Status.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "storage/sql/db_options.h"
#include "storage/stores.h"

namespace soci {
class session;
}

namespace dsched {

namespace sql_internal {
class StatementCache;
}

enum class SchemaMode {
  // Creates the schema in an empty database and upgrades an older one: the embedded SQLite
  // default, and tests.
  kCreateOrUpgrade,
  // Refuses a database without the current schema, naming the script to run: shared servers,
  // where creating and upgrading is the operator's step (script/*-dolphinscheduler.sh).
  kRequireCurrent,
};

class SqlStore final : public DefinitionStore, public InstanceStore, public UserStore,
                       public ScheduleStore, public AdminStore, public TaskGroupStore,
                       public AlertStore {
 public:
  const DbOptions& options() const { return opts_; }
  // Connects (1 writer + opts.pool_size readers) and checks the schema version as `mode` says.
  // Unavailable (one line naming database, host and user) when it cannot connect;
  // FailedPrecondition when the schema is missing, older (kRequireCurrent) or newer.
  static StatusOr<std::unique_ptr<SqlStore>> Open(const DbOptions& opts, const Clock& clock,
                                                  SchemaMode mode = SchemaMode::kCreateOrUpgrade);
  ~SqlStore() override;

  DbType type() const { return opts_.type; }

  // Retention (`dsched db clean`): removes the workflow instances that ended (SUCCESS,
  // FAILURE, STOP, PAUSE) before before_ms, with their task instances, at most `batch`
  // instances per transaction so that no transaction grows large. An instance that runs is
  // never touched, also when it was restarted after the candidates were picked. The task log
  // paths of what was removed are appended to *log_paths (the caller deletes the files, which
  // may live on another host). dry_run only counts. Idempotent.
  struct CleanResult {
    int64_t workflow_instances = 0;
    int64_t task_instances = 0;
  };
  StatusOr<CleanResult> CleanFinished(int64_t before_ms, bool dry_run, int batch,
                                      std::vector<std::string>* log_paths);

  // DefinitionStore
  StatusOr<Project> CreateProject(Project p) override;
  StatusOr<Project> GetProject(int64_t code) override;
  StatusOr<Project> GetProjectByName(const std::string& name) override;
  StatusOr<PageResult<Project>> ListProjects(const std::string& search, Page page) override;
  StatusOr<WorkflowDefinition> CreateWorkflow(WorkflowDefinition def) override;
  StatusOr<WorkflowDefinition> UpdateWorkflow(WorkflowDefinition def) override;
  StatusOr<WorkflowDefinition> GetWorkflow(int64_t code) override;
  StatusOr<WorkflowDefinition> GetWorkflowVersion(int64_t code, int version) override;
  StatusOr<WorkflowDefinition> GetWorkflowByName(int64_t project_code,
                                                 const std::string& name) override;
  StatusOr<PageResult<WorkflowDefinition>> ListWorkflows(int64_t project_code,
                                                         const std::string& search,
                                                         Page page) override;
  Status SetReleaseState(int64_t code, ReleaseState state) override;
  Status DeleteWorkflow(int64_t code) override;
  // definition_versions_store.cc
  StatusOr<PageResult<WorkflowDefinition>> ListWorkflowVersions(int64_t code, Page page) override;
  StatusOr<WorkflowDefinition> SwitchWorkflowVersion(int64_t code, int version) override;
  Status DeleteWorkflowVersion(int64_t code, int version) override;
  StatusOr<WorkflowDefinition> MoveWorkflow(int64_t code, int64_t target_project_code) override;
  StatusOr<WorkflowDefinition> AddWorkflowVersion(WorkflowDefinition def) override;
  StatusOr<TaskDefinition> GetTaskDefinition(int64_t code) override;

  // InstanceStore
  StatusOr<int64_t> InsertCommand(Command c) override;
  StatusOr<std::vector<Command>> ListCommands(int limit) override;
  Status ClaimCommand(int64_t command_id, WorkflowInstance* instance, int64_t expected_epoch,
                      const std::vector<TaskInstance>& supersede) override;
  Status FailCommand(const Command& c, const std::string& message) override;
  StatusOr<WorkflowInstance> GetWorkflowInstance(int64_t id) override;
  StatusOr<PageResult<WorkflowInstance>> ListWorkflowInstances(const InstanceFilter& f,
                                                               Page page) override;
  StatusOr<std::vector<WorkflowInstance>> ListByTrigger(int64_t trigger_code) override;
  StatusOr<std::vector<WorkflowInstance>> ListUnfinished() override;
  Status TakeOwnership(int64_t id, int64_t expected_epoch, const std::string& host,
                       int64_t new_epoch) override;
  StatusOr<int64_t> MaxOwnerEpoch() override;
  StatusOr<TaskInstance> GetTaskInstance(int64_t id) override;
  StatusOr<std::vector<TaskInstance>> ListTaskInstances(int64_t workflow_instance_id) override;
  StatusOr<PageResult<TaskInstance>> ListTaskInstancesPaged(const TaskInstanceFilter& f,
                                                            Page page) override;
  Status Commit(WriteBatch& batch) override;
  // definition_versions_store.cc
  StatusOr<std::vector<std::string>> DeleteWorkflowInstance(int64_t id) override;
  Status UpdateFinishedInstance(const WorkflowInstance& wi) override;

  // UserStore
  StatusOr<User> GetUserByName(const std::string& name) override;
  StatusOr<User> GetUser(int64_t id) override;
  StatusOr<User> CreateUser(User u) override;
  Status CreateSession(const Session& s) override;
  StatusOr<Session> GetSession(const std::string& id) override;
  Status TouchSession(const std::string& id, int64_t now_ms) override;
  Status DeleteSessionsOfUser(int64_t user_id) override;
  StatusOr<User> GetUserByToken(const std::string& token, int64_t now_ms) override;

  // TaskGroupStore (task_group_store.cc)
  StatusOr<TaskGroup> CreateTaskGroup(TaskGroup g) override;
  StatusOr<TaskGroup> UpdateTaskGroup(const TaskGroup& g) override;
  StatusOr<TaskGroup> GetTaskGroup(int64_t id) override;
  StatusOr<PageResult<TaskGroup>> ListTaskGroups(const TaskGroupFilter& f, Page page) override;
  Status SetTaskGroupStatus(int64_t id, int status) override;
  StatusOr<TaskGroupQueue> Enqueue(TaskGroupQueue q) override;
  StatusOr<bool> Acquire(int64_t task_id) override;
  StatusOr<int64_t> Release(int64_t task_id) override;
  StatusOr<TaskGroupQueue> GetQueueRow(int64_t queue_id) override;
  StatusOr<PageResult<TaskGroupQueue>> ListQueue(const TaskGroupQueueFilter& f,
                                                 Page page) override;
  StatusOr<std::vector<TaskGroupQueue>> ListWaiters(int64_t group_id) override;
  Status SetQueuePriority(int64_t queue_id, int priority) override;
  Status ForceStart(int64_t queue_id) override;

  // AdminStore (admin_store.cc)
  StatusOr<User> UpdateUser(const User& u) override;
  Status DeleteUser(int64_t id) override;
  StatusOr<PageResult<User>> ListUsers(const std::string& search, Page page) override;
  StatusOr<int64_t> CountUsersOfTenant(int64_t tenant_id) override;
  StatusOr<Tenant> CreateTenant(Tenant t) override;
  StatusOr<Tenant> UpdateTenant(const Tenant& t) override;
  Status DeleteTenant(int64_t id) override;
  StatusOr<Tenant> GetTenant(int64_t id) override;
  StatusOr<Tenant> GetTenantByCode(const std::string& code) override;
  StatusOr<PageResult<Tenant>> ListTenants(const std::string& search, Page page) override;
  StatusOr<Queue> CreateQueue(Queue q) override;
  StatusOr<Queue> UpdateQueue(const Queue& q) override;
  StatusOr<Queue> GetQueue(int64_t id) override;
  StatusOr<PageResult<Queue>> ListQueues(const std::string& search, Page page) override;
  StatusOr<WorkerGroup> CreateWorkerGroup(WorkerGroup g) override;
  StatusOr<WorkerGroup> UpdateWorkerGroup(const WorkerGroup& g) override;
  Status DeleteWorkerGroup(int64_t id) override;
  StatusOr<WorkerGroup> GetWorkerGroup(int64_t id) override;
  StatusOr<PageResult<WorkerGroup>> ListWorkerGroups(const std::string& search,
                                                     Page page) override;
  StatusOr<AlertGroup> CreateAlertGroup(AlertGroup g) override;
  StatusOr<AlertGroup> UpdateAlertGroup(const AlertGroup& g) override;
  Status DeleteAlertGroup(int64_t id) override;
  StatusOr<AlertGroup> GetAlertGroup(int64_t id) override;
  StatusOr<PageResult<AlertGroup>> ListAlertGroups(const std::string& search, Page page) override;
  StatusOr<std::vector<PluginDefine>> ListPluginDefines(const std::string& type) override;
  StatusOr<PluginDefine> GetPluginDefine(int64_t id) override;
  StatusOr<AlertPluginInstance> CreateAlertPluginInstance(AlertPluginInstance i) override;
  StatusOr<AlertPluginInstance> UpdateAlertPluginInstance(const AlertPluginInstance& i) override;
  Status DeleteAlertPluginInstance(int64_t id) override;
  StatusOr<AlertPluginInstance> GetAlertPluginInstance(int64_t id) override;
  StatusOr<PageResult<AlertPluginInstance>> ListAlertPluginInstances(const std::string& search,
                                                                     Page page) override;
  StatusOr<AccessToken> CreateAccessToken(AccessToken t) override;
  StatusOr<AccessToken> UpdateAccessToken(const AccessToken& t) override;
  Status DeleteAccessToken(int64_t id) override;
  StatusOr<AccessToken> GetAccessToken(int64_t id) override;
  StatusOr<PageResult<AccessToken>> ListAccessTokens(int64_t user_id, const std::string& search,
                                                     Page page) override;
  Status GrantProject(int64_t user_id, int64_t project_id, int perm) override;
  Status RevokeProject(int64_t user_id, int64_t project_id) override;
  StatusOr<int> GrantPerm(int64_t user_id, int64_t project_id) override;
  StatusOr<PageResult<Project>> ListProjectsOfUser(int64_t user_id, const std::string& search,
                                                   Page page) override;
  StatusOr<std::vector<Project>> ListGrantedProjects(int64_t user_id) override;
  StatusOr<std::vector<User>> ListUsersOfProject(int64_t project_id) override;
  StatusOr<Project> UpdateProject(const Project& p) override;
  Status DeleteProject(int64_t code) override;
  StatusOr<std::vector<Environment>> ListEnvironments() override;
  Status Ping() override;
  StatusOr<DatabaseFigures> Figures() override;

  // ScheduleStore (schedule_store.cc)
  StatusOr<Schedule> CreateSchedule(Schedule s) override;
  StatusOr<Schedule> UpdateSchedule(Schedule s) override;
  StatusOr<Schedule> GetSchedule(int64_t id) override;
  StatusOr<Schedule> GetScheduleByDefinition(int64_t definition_code) override;
  StatusOr<PageResult<Schedule>> ListSchedules(const ScheduleFilter& f, Page page) override;
  Status DeleteSchedule(int64_t id) override;
  Status SetScheduleReleaseState(int64_t id, ReleaseState state) override;
  StatusOr<std::vector<Schedule>> ListOnlineSchedules() override;
  StatusOr<FireResult> Fire(const std::vector<FireSlot>& slots) override;
  StatusOr<std::optional<int64_t>> LastFire(int64_t schedule_id) override;

  // AlertStore (alert_store.cc)
  StatusOr<int64_t> InsertAlert(Alert a) override;
  StatusOr<Alert> GetAlert(int64_t id) override;
  StatusOr<std::vector<Alert>> ListWaitingAlerts(int limit) override;
  Status MarkAlert(int64_t id, int status, const std::string& log) override;

 private:
  class ReaderLease;
  SqlStore(const DbOptions& opts, const Clock& clock);
  StatusOr<WorkflowDefinition> LoadDag(soci::session& sql, WorkflowDefinition def);
  Status WriteVersion(soci::session& sql, WorkflowDefinition& def,
                      const WorkflowDefinition* previous);
  // Turns a SOCI exception into a Status; when the connection is gone, re-opens it (see the
  // file comment) and returns Unavailable.
  Status Fail(soci::session& sql, const std::exception& e, const std::string& what);

  std::string NewInsertKey();
  // Writes the alerts of a fenced group inside Commit's transaction (alert_store.cc); a retried
  // batch finds the rows an earlier attempt may have committed by their key (t_ds_alert.sign).
  void WriteGroupAlerts(WriteBatch::Group& g);

  const DbOptions opts_;
  bool consecutive_ids_ = false;  // MySQL: one INSERT's rows get consecutive ids (see Open)
  const Clock& clock_;
  const std::string key_prefix_;
  int64_t last_ledger_prune_ms_ = 0;  // guarded by write_mu_ (schedule_store.cc)
  std::atomic<int64_t> next_insert_key_{1};
  std::atomic<bool> outage_{false};
  std::mutex write_mu_;
  std::unique_ptr<soci::session> writer_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<soci::session>> readers_;  // idle ones
  // The kept statements of each reader connection (SQLite), guarded by readers_mu_. After
  // readers_, so that they are destroyed before the connections they refer to.
  std::unordered_map<const soci::session*, std::unique_ptr<sql_internal::StatementCache>>
      reader_statements_;
};

}  // namespace dsched
