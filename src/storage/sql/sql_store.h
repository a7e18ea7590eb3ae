// SqlStore: the stores of stores.h on SOCI. This issue runs it on SQLite (the embedded
// default): one writer connection serialised by a mutex (SQLite has one writer anyway) and a
// small pool of reader connections, which WAL lets run beside the writer.
// Thread-safe. SOCI exceptions are caught here and returned as Status.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/stores.h"

namespace soci {
class session;
}

namespace dsched {

struct SqlStoreOptions {
  std::string sqlite_path;             // file; ":memory:" is not supported (readers need the file)
  std::string synchronous = "NORMAL";  // NORMAL: durable across a process crash; FULL: power loss
  int readers = 4;
};

class SqlStore final : public DefinitionStore, public InstanceStore, public UserStore {
 public:
  // Opens (creating the file if needed) and migrates to the newest schema.
  static StatusOr<std::unique_ptr<SqlStore>> Open(const SqlStoreOptions& opts, const Clock& clock);
  ~SqlStore() override;

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

  // UserStore
  StatusOr<User> GetUserByName(const std::string& name) override;
  StatusOr<User> GetUser(int64_t id) override;
  StatusOr<User> CreateUser(User u) override;
  Status CreateSession(const Session& s) override;
  StatusOr<Session> GetSession(const std::string& id) override;
  Status TouchSession(const std::string& id, int64_t now_ms) override;
  Status DeleteSessionsOfUser(int64_t user_id) override;
  StatusOr<User> GetUserByToken(const std::string& token, int64_t now_ms) override;

 private:
  class ReaderLease;
  explicit SqlStore(const Clock& clock);
  StatusOr<WorkflowDefinition> LoadDag(soci::session& sql, WorkflowDefinition def);
  Status WriteVersion(soci::session& sql, WorkflowDefinition& def,
                      const WorkflowDefinition* previous);

  const Clock& clock_;
  std::mutex write_mu_;
  std::unique_ptr<soci::session> writer_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<soci::session>> readers_;  // idle ones
};

}  // namespace dsched
