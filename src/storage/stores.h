// The storage seam (DESIGN.md §3b): one interface per aggregate, called directly by the code
// that needs it (no service layer in between). Implementations: sql/ (SOCI). Every method is
// safe to call from any thread; every write is one transaction.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/entities.h"

namespace dsched {

struct Page {
  int64_t offset = 0;
  int64_t limit = 20;
  // false: the caller knows the total already and the store may skip counting (PageResult's
  // total is then -1). Honoured by ListWorkflowInstances, whose COUNT reads every index entry
  // of a project (100,000 instances: ~10 ms on SQLite).
  bool with_total = true;
};

template <typename T>
struct PageResult {
  std::vector<T> rows;
  int64_t total = 0;
};

// Projects and workflow definitions with every version of their DAG.
class DefinitionStore {
 public:
  virtual ~DefinitionStore() = default;

  // Inserts; AlreadyExists when the name or code is taken.
  virtual StatusOr<Project> CreateProject(Project p) = 0;
  virtual StatusOr<Project> GetProject(int64_t code) = 0;
  virtual StatusOr<Project> GetProjectByName(const std::string& name) = 0;
  virtual StatusOr<PageResult<Project>> ListProjects(const std::string& search, Page page) = 0;

  // Stores a new definition as version 1 with its tasks and relations (one transaction).
  // AlreadyExists when the project already has a workflow with that name.
  virtual StatusOr<WorkflowDefinition> CreateWorkflow(WorkflowDefinition def) = 0;
  // Stores def as the next version; each task keeps its version when unchanged, else gets
  // the next one. NotFound when the code is unknown.
  virtual StatusOr<WorkflowDefinition> UpdateWorkflow(WorkflowDefinition def) = 0;
  // The current version (with its DAG).
  virtual StatusOr<WorkflowDefinition> GetWorkflow(int64_t code) = 0;
  virtual StatusOr<WorkflowDefinition> GetWorkflowVersion(int64_t code, int version) = 0;
  virtual StatusOr<WorkflowDefinition> GetWorkflowByName(int64_t project_code,
                                                         const std::string& name) = 0;
  // Definitions without their DAG, newest update first.
  virtual StatusOr<PageResult<WorkflowDefinition>> ListWorkflows(int64_t project_code,
                                                                 const std::string& search,
                                                                 Page page) = 0;
  virtual Status SetReleaseState(int64_t code, ReleaseState state) = 0;
  // Removes the definition and its versions. Idempotent (deleting a missing code is OK).
  virtual Status DeleteWorkflow(int64_t code) = 0;

  // Versions, move and task lookups (sql/definition_versions_store.cc).
  // The stored versions of a definition without their DAG, newest first. NotFound for an
  // unknown code.
  virtual StatusOr<PageResult<WorkflowDefinition>> ListWorkflowVersions(int64_t code,
                                                                        Page page) = 0;
  // Makes an older version the current one again (its name, params and DAG); the release
  // state stays. NotFound for an unknown code or version, AlreadyExists when another workflow
  // of the project has that version's name now. Idempotent.
  virtual StatusOr<WorkflowDefinition> SwitchWorkflowVersion(int64_t code, int version) = 0;
  // Removes one version and its relations. FailedPrecondition for the current version,
  // NotFound for an unknown one.
  virtual Status DeleteWorkflowVersion(int64_t code, int version) = 0;
  // Moves a definition (and its tasks) to another project, stored as its next version.
  // NotFound for an unknown code, AlreadyExists when the target project has a workflow of
  // that name. Moving to the project it is in changes nothing.
  virtual StatusOr<WorkflowDefinition> MoveWorkflow(int64_t code, int64_t target_project_code) = 0;
  // Stores def (code of an existing definition) as its next version without making it the
  // current one: the version an edited instance runs (process-instances update without
  // syncDefine). Returns it with its version. NotFound for an unknown code.
  virtual StatusOr<WorkflowDefinition> AddWorkflowVersion(WorkflowDefinition def) = 0;
  // The newest stored version of a task definition. NotFound for an unknown code.
  virtual StatusOr<TaskDefinition> GetTaskDefinition(int64_t code) = 0;
};

// A set of state changes committed in one transaction (group commit, DESIGN.md §3).
// Changes are grouped per workflow instance; each group is fenced by that instance's
// owner_epoch, and a group whose fence fails is dropped alone (its instance is `lost`).
// Thread-compatible: filled and committed by the engine thread.
class WriteBatch {
 public:
  struct Group {
    int64_t epoch = 0;
    std::optional<WorkflowInstance> workflow;
    std::vector<TaskInstance*> inserts;   // ids are written back on commit
    std::vector<TaskInstance> updates;
    bool lost = false;                    // set by Commit when the fence failed
    // The store's key of each insert, given on the first attempt and kept when the batch is
    // committed again after a failure: when the earlier attempt's COMMIT did reach the
    // database (the connection broke before the answer came back), the retry finds those rows
    // by key and rewrites them instead of inserting every new task attempt a second time.
    std::vector<std::string> insert_keys;
    // Alert outbox rows caused by this group's changes, written after them in the same
    // transaction and only when the fence held. alert_keys: as insert_keys, for the alerts.
    std::vector<Alert> alerts;
    std::vector<std::string> alert_keys;
  };
  void UpdateWorkflow(const WorkflowInstance& wi) {
    auto& g = groups_[wi.id];
    g.epoch = wi.owner_epoch;
    g.workflow = wi;
  }
  // `ti` must stay alive until the commit returns.
  void InsertTask(int64_t epoch, TaskInstance* ti) {
    auto& g = groups_[ti->workflow_instance_id];
    g.epoch = epoch;
    g.inserts.push_back(ti);
  }
  void UpdateTask(int64_t epoch, const TaskInstance& ti) {
    auto& g = groups_[ti.workflow_instance_id];
    g.epoch = epoch;
    g.updates.push_back(ti);
  }
  void AddAlert(int64_t workflow_instance_id, int64_t epoch, Alert a) {
    auto& g = groups_[workflow_instance_id];
    g.epoch = epoch;
    g.alerts.push_back(std::move(a));
  }
  bool empty() const { return groups_.empty(); }
  std::map<int64_t, Group>& groups() { return groups_; }

 private:
  std::map<int64_t, Group> groups_;
};

struct InstanceFilter {
  int64_t project_code = 0;
  int64_t definition_code = 0;  // 0 = any
  std::string search;           // name contains
  std::optional<WorkflowState> state;
  std::string host;
  int64_t start_after = 0, start_before = 0;
};

struct TaskInstanceFilter {
  int64_t project_code = 0;
  int64_t workflow_instance_id = 0;
  int64_t task_instance_id = 0;
  int64_t task_code = 0;
  std::string search;
  std::optional<TaskState> state;
  std::string host;
};

// Commands, workflow instances and task instances.
class InstanceStore {
 public:
  virtual ~InstanceStore() = default;

  virtual StatusOr<int64_t> InsertCommand(Command c) = 0;
  // Pending commands, highest priority then oldest first.
  virtual StatusOr<std::vector<Command>> ListCommands(int limit) = 0;
  // Claims command_id and, in the same transaction, writes `instance`: inserted when its id
  // is 0 (id written back), else updated if its owner_epoch still equals expected_epoch (the
  // fence) and then set to instance.owner_epoch. Also writes `supersede`: rows of that
  // instance whose flag goes to NO or whose state is reset (recover, rerun).
  // AlreadyExists when another master took the command, Aborted when the fence failed.
  virtual Status ClaimCommand(int64_t command_id, WorkflowInstance* instance,
                              int64_t expected_epoch,
                              const std::vector<TaskInstance>& supersede) = 0;
  // Moves a command that cannot run to t_ds_error_command with the reason.
  virtual Status FailCommand(const Command& c, const std::string& message) = 0;

  virtual StatusOr<WorkflowInstance> GetWorkflowInstance(int64_t id) = 0;
  virtual StatusOr<PageResult<WorkflowInstance>> ListWorkflowInstances(const InstanceFilter& f,
                                                                       Page page) = 0;
  virtual StatusOr<std::vector<WorkflowInstance>> ListByTrigger(int64_t trigger_code) = 0;
  // Instances that are not in a final state (start-up recovery, failover).
  virtual StatusOr<std::vector<WorkflowInstance>> ListUnfinished() = 0;
  // Compare-and-set of the owner: succeeds only while owner_epoch == expected_epoch.
  virtual Status TakeOwnership(int64_t id, int64_t expected_epoch, const std::string& host,
                               int64_t new_epoch) = 0;
  // The highest owner_epoch ever written: a restarted standalone master takes the next one.
  virtual StatusOr<int64_t> MaxOwnerEpoch() = 0;

  virtual StatusOr<TaskInstance> GetTaskInstance(int64_t id) = 0;
  // Every task instance of a workflow instance, by id (all attempts, flag YES and NO).
  virtual StatusOr<std::vector<TaskInstance>> ListTaskInstances(int64_t workflow_instance_id) = 0;
  virtual StatusOr<PageResult<TaskInstance>> ListTaskInstancesPaged(const TaskInstanceFilter& f,
                                                                    Page page) = 0;

  // Group commit. Returns an error only when the transaction as a whole failed (nothing
  // written); a fenced-out group is reported through its `lost` flag instead.
  virtual Status Commit(WriteBatch& batch) = 0;

  // Edits of finished instances (sql/definition_versions_store.cc).
  // Removes a finished workflow instance with its task instances and returns the log paths of
  // those (the caller deletes the files, which may live on another host). FailedPrecondition
  // when the instance is not in a final state; OK and nothing when it does not exist.
  virtual StatusOr<std::vector<std::string>> DeleteWorkflowInstance(int64_t id) = 0;
  // Writes what an edit of a finished instance changes: definition_version, schedule_time,
  // global_params and timeout of wi.id. FailedPrecondition when the instance is not in a final
  // state (any more), NotFound when it does not exist. Idempotent.
  virtual Status UpdateFinishedInstance(const WorkflowInstance& wi) = 0;
};

struct TaskGroupFilter {
  std::string name;                    // name contains
  std::optional<int> status;           // 1 open, 0 closed
  std::optional<int64_t> project_code; // the project's groups and the global ones (code 0)
};

struct TaskGroupQueueFilter {
  int64_t group_id = 0;  // 0 = every group
  std::string task_name, process_instance_name;  // contains
  std::optional<TaskGroupQueueStatus> status;
};

// Task groups and their queues. A slot is taken only by Acquire, whose conditional update of
// use_size makes it safe when several masters serve one group.
class TaskGroupStore {
 public:
  virtual ~TaskGroupStore() = default;

  // Inserts (id, times written back); AlreadyExists when the name is taken.
  virtual StatusOr<TaskGroup> CreateTaskGroup(TaskGroup g) = 0;
  // Name, description and size of group g.id. NotFound; AlreadyExists for a taken name.
  virtual StatusOr<TaskGroup> UpdateTaskGroup(const TaskGroup& g) = 0;
  virtual StatusOr<TaskGroup> GetTaskGroup(int64_t id) = 0;
  // Newest first.
  virtual StatusOr<PageResult<TaskGroup>> ListTaskGroups(const TaskGroupFilter& f, Page page) = 0;
  // Opens (1) or closes (0) a group. FailedPrecondition when it already has that status,
  // NotFound when it does not exist.
  virtual Status SetTaskGroupStatus(int64_t id, int status) = 0;

  // Puts task instance q.task_id in the group's queue as a waiter. Idempotent per task id:
  // a second call returns the existing row unchanged.
  virtual StatusOr<TaskGroupQueue> Enqueue(TaskGroupQueue q) = 0;
  // Gives the task a slot if it is the group's first waiter (force-started rows first, then
  // higher priority, then earlier row) and, unless force-started, a slot is free in the open
  // group: in one transaction, use_size + 1 conditional on use_size < group_size and status
  // open, and the row goes to ACQUIRE_SUCCESS. true when the task holds a slot now (also when
  // it already did); false when it must wait. NotFound when the task has no queue row or the
  // group does not exist.
  virtual StatusOr<bool> Acquire(int64_t task_id) = 0;
  // Gives the slot of task_id back (use_size - 1, never below 0; nothing for a force-started
  // row) and marks the row RELEASE, also when it was still waiting. Idempotent; OK when the
  // task has no row. Returns the group id (0 when there was nothing to release).
  virtual StatusOr<int64_t> Release(int64_t task_id) = 0;
  virtual StatusOr<TaskGroupQueue> GetQueueRow(int64_t queue_id) = 0;
  // Queue rows, highest priority then oldest first.
  virtual StatusOr<PageResult<TaskGroupQueue>> ListQueue(const TaskGroupQueueFilter& f,
                                                         Page page) = 0;
  // The rows waiting in a group, in the order they are served.
  virtual StatusOr<std::vector<TaskGroupQueue>> ListWaiters(int64_t group_id) = 0;
  // Changes a waiting row's priority. NotFound; FailedPrecondition when it no longer waits.
  virtual Status SetQueuePriority(int64_t queue_id, int priority) = 0;
  // Marks a waiting row force-started: its next Acquire succeeds without a slot. NotFound;
  // FailedPrecondition when it no longer waits.
  virtual Status ForceStart(int64_t queue_id) = 0;
};

struct ScheduleFilter {
  int64_t project_code = 0;
  int64_t definition_code = 0;  // 0 = any
  std::vector<int64_t> definition_codes;  // non-empty: only these definitions' schedules
  std::string search;           // the definition's name contains
};

// One slot of one schedule to fire.
struct FireSlot {
  int64_t schedule_id = 0;
  int64_t fire_time = 0;  // ms; becomes the command's schedule_time (the business date)
};

struct FireResult {
  int64_t fired = 0;      // SCHEDULER commands inserted
  int64_t duplicate = 0;  // slots fired already, or older than one that was (another
                          // master, a retry, a lagging master)
  int64_t offline = 0;    // slots of schedules (or definitions) no longer online or gone
};

// Cron schedules (at most one per workflow definition) and their fire ledger (DESIGN.md §3).
class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;

  // Inserts (id and times written back). AlreadyExists when the definition has a schedule.
  virtual StatusOr<Schedule> CreateSchedule(Schedule s) = 0;
  // Rewrites every field of s.id but its definition, project, creator, create time and
  // release state. NotFound.
  virtual StatusOr<Schedule> UpdateSchedule(Schedule s) = 0;
  // With the joined definition, project and user names. NotFound.
  virtual StatusOr<Schedule> GetSchedule(int64_t id) = 0;
  virtual StatusOr<Schedule> GetScheduleByDefinition(int64_t definition_code) = 0;
  // The project's schedules, newest update first.
  virtual StatusOr<PageResult<Schedule>> ListSchedules(const ScheduleFilter& f, Page page) = 0;
  // Removes the schedule and its ledger. Idempotent.
  virtual Status DeleteSchedule(int64_t id) = 0;
  // Sets release_state (and update_time, which tells the firer the schedule changed). NotFound.
  virtual Status SetScheduleReleaseState(int64_t id, ReleaseState state) = 0;
  // Every online schedule (the firer's working set), without joined names.
  virtual StatusOr<std::vector<Schedule>> ListOnlineSchedules() = 0;
  // In ONE transaction, for each slot whose schedule and definition are still online: a row of
  // the fire ledger and its SCHEDULER command, built from the schedule's fields as they are at
  // that moment and the definition's current version, start_time = now. A slot already in the
  // ledger, or older than the schedule's last fired slot, is skipped (counted in `duplicate`),
  // never an error and never a second command, so calling Fire again with the same slots,
  // from any master, is safe. A schedule's slots must be given oldest first. The ledger keeps
  // about an hour of slots per schedule, and always its newest (pruned once a minute).
  // Unavailable when the database is busy or unreachable (nothing written; retry).
  virtual StatusOr<FireResult> Fire(const std::vector<FireSlot>& slots) = 0;
  // The latest slot in the ledger of a schedule; nullopt when it never fired.
  virtual StatusOr<std::optional<int64_t>> LastFire(int64_t schedule_id) = 0;
};

// Users, sessions, access tokens, tenants and queues.
class UserStore {
 public:
  virtual ~UserStore() = default;
  virtual StatusOr<User> GetUserByName(const std::string& name) = 0;
  virtual StatusOr<User> GetUser(int64_t id) = 0;
  virtual StatusOr<User> CreateUser(User u) = 0;
  virtual Status CreateSession(const Session& s) = 0;
  virtual StatusOr<Session> GetSession(const std::string& id) = 0;
  // Refreshes last_login_time (sliding expiry).
  virtual Status TouchSession(const std::string& id, int64_t now_ms) = 0;
  virtual Status DeleteSessionsOfUser(int64_t user_id) = 0;
  // The user owning an unexpired token.
  virtual StatusOr<User> GetUserByToken(const std::string& token, int64_t now_ms) = 0;
};

// The alert outbox (t_ds_alert). Rows caused by a workflow's state change are written by
// InstanceStore::Commit (WriteBatch::AddAlert); InsertAlert is for the rest (tests, alerts
// with no instance behind them).
class AlertStore {
 public:
  virtual ~AlertStore() = default;
  // Inserts a waiting row (status forced to 0, times now); returns its id.
  virtual StatusOr<int64_t> InsertAlert(Alert a) = 0;
  virtual StatusOr<Alert> GetAlert(int64_t id) = 0;
  // Waiting rows (alert_status 0), oldest first.
  virtual StatusOr<std::vector<Alert>> ListWaitingAlerts(int limit) = 0;
  // Sets status and log of a row that is still waiting (UPDATE ... AND alert_status = 0);
  // status 0 only records progress in the log. Aborted when the row is no longer waiting
  // (someone else finished it), NotFound when it does not exist.
  virtual Status MarkAlert(int64_t id, int status, const std::string& log) = 0;
};

// Administration: users beyond login, tenants, queues, worker groups, alert groups and alert
// plugin instances, access tokens, project grants and the project changes only owners and
// admins make, environments. Name clashes (a taken user name, tenant code, ...) are
// AlreadyExists; a missing id is NotFound. Lists are ordered newest (highest id) first, and
// `search` is a case-insensitive "name contains" ("" = all).
class AdminStore {
 public:
  virtual ~AdminStore() = default;

  // Users. UpdateUser writes every field of u (password_hash included) to the row u.id.
  // DeleteUser also removes the user's sessions, access tokens and project grants.
  virtual StatusOr<User> UpdateUser(const User& u) = 0;
  virtual Status DeleteUser(int64_t id) = 0;
  virtual StatusOr<PageResult<User>> ListUsers(const std::string& search, Page page) = 0;
  // How many users have this tenant (a tenant in use cannot be deleted).
  virtual StatusOr<int64_t> CountUsersOfTenant(int64_t tenant_id) = 0;

  // Tenants (queue_name/queue joined from the queue).
  virtual StatusOr<Tenant> CreateTenant(Tenant t) = 0;
  virtual StatusOr<Tenant> UpdateTenant(const Tenant& t) = 0;
  virtual Status DeleteTenant(int64_t id) = 0;
  virtual StatusOr<Tenant> GetTenant(int64_t id) = 0;
  virtual StatusOr<Tenant> GetTenantByCode(const std::string& code) = 0;
  virtual StatusOr<PageResult<Tenant>> ListTenants(const std::string& search, Page page) = 0;

  // Queues; queue_name is unique (the REST handlers also keep the YARN queues distinct).
  virtual StatusOr<Queue> CreateQueue(Queue q) = 0;
  virtual StatusOr<Queue> UpdateQueue(const Queue& q) = 0;
  virtual StatusOr<Queue> GetQueue(int64_t id) = 0;
  virtual StatusOr<PageResult<Queue>> ListQueues(const std::string& search, Page page) = 0;

  // Worker groups defined over the API.
  virtual StatusOr<WorkerGroup> CreateWorkerGroup(WorkerGroup g) = 0;
  virtual StatusOr<WorkerGroup> UpdateWorkerGroup(const WorkerGroup& g) = 0;
  virtual Status DeleteWorkerGroup(int64_t id) = 0;
  virtual StatusOr<WorkerGroup> GetWorkerGroup(int64_t id) = 0;
  virtual StatusOr<PageResult<WorkerGroup>> ListWorkerGroups(const std::string& search,
                                                             Page page) = 0;

  // Alert groups.
  virtual StatusOr<AlertGroup> CreateAlertGroup(AlertGroup g) = 0;
  virtual StatusOr<AlertGroup> UpdateAlertGroup(const AlertGroup& g) = 0;
  virtual Status DeleteAlertGroup(int64_t id) = 0;
  virtual StatusOr<AlertGroup> GetAlertGroup(int64_t id) = 0;
  virtual StatusOr<PageResult<AlertGroup>> ListAlertGroups(const std::string& search,
                                                           Page page) = 0;

  // Alert plugin kinds (base data) and their instances (plugin_name joined).
  virtual StatusOr<std::vector<PluginDefine>> ListPluginDefines(const std::string& type) = 0;
  virtual StatusOr<PluginDefine> GetPluginDefine(int64_t id) = 0;
  virtual StatusOr<AlertPluginInstance> CreateAlertPluginInstance(AlertPluginInstance i) = 0;
  // Name, params and warning type of i.id (the plugin and the instance type stay).
  virtual StatusOr<AlertPluginInstance> UpdateAlertPluginInstance(
      const AlertPluginInstance& i) = 0;
  virtual Status DeleteAlertPluginInstance(int64_t id) = 0;
  virtual StatusOr<AlertPluginInstance> GetAlertPluginInstance(int64_t id) = 0;
  virtual StatusOr<PageResult<AlertPluginInstance>> ListAlertPluginInstances(
      const std::string& search, Page page) = 0;

  // Access tokens (user_name joined); user_id 0 lists every user's, search is on user names.
  virtual StatusOr<AccessToken> CreateAccessToken(AccessToken t) = 0;
  virtual StatusOr<AccessToken> UpdateAccessToken(const AccessToken& t) = 0;
  virtual Status DeleteAccessToken(int64_t id) = 0;
  virtual StatusOr<AccessToken> GetAccessToken(int64_t id) = 0;
  virtual StatusOr<PageResult<AccessToken>> ListAccessTokens(int64_t user_id,
                                                             const std::string& search,
                                                             Page page) = 0;

  // Project grants. GrantProject sets the user's perm on the project (insert or update,
  // idempotent); RevokeProject removes it (idempotent). GrantPerm is 0 without a grant.
  virtual Status GrantProject(int64_t user_id, int64_t project_id, int perm) = 0;
  virtual Status RevokeProject(int64_t user_id, int64_t project_id) = 0;
  virtual StatusOr<int> GrantPerm(int64_t user_id, int64_t project_id) = 0;
  // The projects user_id owns (perm 7) or was granted (the grant's perm), user_name joined.
  virtual StatusOr<PageResult<Project>> ListProjectsOfUser(int64_t user_id,
                                                           const std::string& search,
                                                           Page page) = 0;
  // The projects user_id was granted (not those it owns), with the grant's perm.
  virtual StatusOr<std::vector<Project>> ListGrantedProjects(int64_t user_id) = 0;
  // The users holding a grant on the project.
  virtual StatusOr<std::vector<User>> ListUsersOfProject(int64_t project_id) = 0;
  // Name and description of p.code. NotFound; AlreadyExists for a taken name.
  virtual StatusOr<Project> UpdateProject(const Project& p) = 0;
  // Removes the project and its grants. FailedPrecondition while it still has workflow
  // definitions. Idempotent.
  virtual Status DeleteProject(int64_t code) = 0;

  virtual StatusOr<std::vector<Environment>> ListEnvironments() = 0;

  // One round trip to the database (the monitor's health check).
  virtual Status Ping() = 0;
  // The monitor's connection figures, as the database server reports them (all connections of
  // the server, not only this process's). SQLite has no server: its figures are this process's
  // own connections.
  struct DatabaseFigures {
    int64_t max_connections = 0;
    int64_t max_used_connections = 0;
    int64_t threads_connections = 0;
    int64_t threads_running = 0;
  };
  virtual StatusOr<DatabaseFigures> Figures() = 0;
};

}  // namespace dsched
