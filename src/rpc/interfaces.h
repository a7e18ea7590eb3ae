// The RPC seam (DESIGN.md §3b): what crosses between master, worker, logger and API, as plain
// structs and role interfaces. Standalone wires them in-process (inproc.h); cluster mode will
// carry the same calls over gRPC. Every call is idempotent and carries its identity: (task
// instance id, attempt, master epoch).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/entities.h"

namespace dsched {

// The actions of POST /executors/execute.
enum class ExecuteType { kPause, kStop, kRecoverSuspended, kRepeatRunning, kStartFailureTask };

// API -> master. Thread-safe.
class MasterControl {
 public:
  virtual ~MasterControl() = default;
  // A command row was committed: look at the command table now rather than at the next scan.
  virtual void WakeCommands() = 0;
  // Applies an action to an instance. FailedPrecondition (with the state in the message) when
  // the instance's state does not allow it; NotFound for an unknown id. Idempotent: pausing a
  // pausing instance is OK.
  virtual Status Execute(int64_t workflow_instance_id, ExecuteType type) = 0;
  // Marks a FAILURE / NEED_FAULT_TOLERANCE / KILL task instance of a finished workflow instance
  // FORCED_SUCCESS; when it was the instance's only failed task and every enabled task of the
  // instance's definition version has run, a FAILURE or STOP instance becomes SUCCESS.
  // Durable when it returns. FailedPrecondition (the message names the state) when the
  // instance runs or the task is in another state; NotFound for an unknown task instance.
  virtual Status ForceTaskSuccess(int64_t task_instance_id) = 0;
  // Runs start_nodes of a finished instance again inside that instance, alone (TASK_ONLY), with
  // their ancestors (TASK_PRE) or their descendants (TASK_POST): an EXECUTE_TASK command. The
  // other tasks keep their last run. FailedPrecondition when the instance is not finished or
  // already has a pending command; InvalidArgument naming unknown start nodes; NotFound.
  virtual Status ExecuteTask(int64_t workflow_instance_id, const std::vector<int64_t>& start_nodes,
                             TaskDependType mode) = 0;
};

// Everything a worker needs to run one attempt of one task.
struct TaskDispatch {
  int64_t task_instance_id = 0;
  int attempt = 0;            // retry_times of the row
  int64_t master_epoch = 0;
  int64_t workflow_instance_id = 0;
  int64_t project_code = 0;
  int64_t definition_code = 0;
  std::string task_name;
  std::string task_type;
  std::string task_params;    // JSON, the definition's taskParams
  std::map<std::string, std::string> vars;  // resolved parameters (params::ResolveTaskParams)
  std::vector<Property> local_params;       // to build the var pool from setValue
  int64_t base_time_ms = 0;   // business time for $[...]
  Priority workflow_priority = Priority::kMedium;
  Priority task_priority = Priority::kMedium;
  int64_t timeout_ms = 0;     // 0 = none; enforced by the worker when the strategy fails the task
  bool timeout_kills = false; // FAILED or WARNFAILED
  bool dry_run = false;
  std::string worker_group = "default";
  // Cluster mode: the dispatching master's RPC address (host:port), where the worker sends the
  // attempt's events; and for Reattach, the worker that ran the attempt (the task row's host;
  // empty when it never started).
  std::string master_host;
  std::string worker_host;
  // Reattach only: NotFound (and nothing started) when this worker never had the attempt. A
  // master that took over an attempt whose start it never heard of asks every worker so.
  bool only_if_known = false;
  bool operator==(const TaskDispatch&) const = default;  // the RPC round-trip tests use it
};

enum class TaskEventType { kRunning, kFinished };

// Worker -> master.
struct TaskEvent {
  TaskEventType type = TaskEventType::kRunning;
  int64_t task_instance_id = 0;
  int attempt = 0;
  int64_t master_epoch = 0;
  int64_t workflow_instance_id = 0;
  TaskState state = TaskState::kRunningExecution;
  int64_t time_ms = 0;           // start time for kRunning, end time for kFinished
  std::string host;
  int pid = 0;
  std::string execute_path;
  std::string log_path;
  std::vector<Property> var_pool;  // kFinished: OUT params set by the task
  bool timed_out = false;
  std::string master_host;  // the dispatch's: which master the event is for
  bool operator==(const TaskEvent&) const = default;  // the RPC round-trip tests use it
};

// Master -> worker. Thread-safe.
class WorkerClient {
 public:
  virtual ~WorkerClient() = default;
  // Queues the attempt. Idempotent by (task_instance_id, attempt): a repeat is ignored.
  virtual Status Dispatch(const TaskDispatch& d) = 0;
  // Kills the attempt's whole process group; a kFinished(KILL) event follows. Refused for an
  // epoch older than the one the attempt was dispatched with. Killing a finished or unknown
  // attempt is OK.
  virtual Status Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) = 0;
  // After a master restart or takeover: find the attempt (still running, finished while no
  // master listened, or never started: then it starts, unless d.only_if_known) and report its
  // events to the new epoch and master. Idempotent.
  virtual Status Reattach(const TaskDispatch& d) = 0;
};

// Worker -> master events land here. Thread-safe.
class TaskEventSink {
 public:
  virtual ~TaskEventSink() = default;
  virtual void OnTaskEvent(const TaskEvent& e) = 0;
};

// Lines of a task log: `text` holds `lines` lines, each ending in '\n' (one is added to a last
// line that has none).
struct LogPage {
  std::string text;
  int64_t lines = 0;
  bool operator==(const LogPage&) const = default;
};

// API -> the logger of the host a task ran on (the seed's LoggerServer). Thread-safe.
// `host` is the task instance's host ("host:port" of the worker or master that wrote the log);
// a reader bound to one machine ignores it. `path` is the log's absolute path on that host and
// must lie inside that host's log directory once `..` and symlinks are resolved.
// Errors: NotFound (no such log: not written yet, or removed), PermissionDenied (outside the
// log directory), InvalidArgument (a relative path, a negative skip or limit, not a file),
// FailedPrecondition (larger than one answer may carry), Unavailable naming the host (its
// logger did not answer). Reads only, so every call is idempotent.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // Lines [skip, skip + limit) of the log; past its end, none.
  virtual StatusOr<LogPage> RollView(const std::string& host, const std::string& path, int64_t skip,
                                     int64_t limit) = 0;
  // Every line of the log.
  virtual StatusOr<LogPage> View(const std::string& host, const std::string& path) = 0;
  // The file's bytes as they are (for download).
  virtual StatusOr<std::string> Bytes(const std::string& host, const std::string& path) = 0;
};

}  // namespace dsched
