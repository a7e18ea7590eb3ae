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

}  // namespace dsched
