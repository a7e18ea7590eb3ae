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
// when it is over. Callers retry. Known gap: a connection lost during COMMIT leaves the
// outcome unknown, and a retried batch could then insert its new task instances twice.
//
// Thread-safe. SOCI exceptions are caught here and returned as Status.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/sql/db_options.h"
#include "storage/stores.h"

namespace soci {
class session;
}

namespace dsched {

enum class SchemaMode {
  // Creates the schema in an empty database and upgrades an older one: the embedded SQLite
  // default, and tests.
  kCreateOrUpgrade,
  // Refuses a database without the current schema, naming the script to run: shared servers,
  // where creating and upgrading is the operator's step (script/*-dolphinscheduler.sh).
  kRequireCurrent,
};

class SqlStore final : public DefinitionStore, public InstanceStore, public UserStore {
 public:
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
  SqlStore(const DbOptions& opts, const Clock& clock);
  StatusOr<WorkflowDefinition> LoadDag(soci::session& sql, WorkflowDefinition def);
  Status WriteVersion(soci::session& sql, WorkflowDefinition& def,
                      const WorkflowDefinition* previous);
  // Turns a SOCI exception into a Status; when the connection is gone, re-opens it (see the
  // file comment) and returns Unavailable.
  Status Fail(soci::session& sql, const std::exception& e, const std::string& what);

  const DbOptions opts_;
  const Clock& clock_;
  std::atomic<bool> outage_{false};
  std::mutex write_mu_;
  std::unique_ptr<soci::session> writer_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<soci::session>> readers_;  // idle ones
};

}  // namespace dsched
