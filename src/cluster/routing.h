// Who to call, in cluster mode: the rpc/interfaces.h roles implemented by choosing a peer from
// the registry and calling it over gRPC (rpc/grpc). Standalone needs none of this: its master,
// worker and API are one process.
//   WorkerRouter         master -> the workers of a task's group
//   EventRouter          worker -> the master that dispatched each attempt
//   ClusterMasterControl API    -> the master that owns an instance (or every master)
//   LoggerRouter         API    -> the logger on the host a task ran on
#pragma once

#include <condition_variable>
#include <deque>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "registry/registry.h"
#include "rpc/grpc/grpc_clients.h"
#include "rpc/interfaces.h"
#include "storage/stores.h"

namespace dsched::cluster {

// What a worker's heartbeat says of it: the worker groups it serves ("workerGroups"), whether it
// takes work (serverStatus NORMAL), and its load. Pure.
struct WorkerView {
  std::string address;
  std::vector<std::string> groups;
  bool normal = true;
  double cpu = 0;          // 1-minute load average per core, capped at 1
  double memory = 0;       // memoryUsage, 0..1
  double thread_pool = 0;  // threadPoolUsage: tasks running or queued per exec thread
  int exec_threads = 100;  // workerExecThreads
  int weight = 100;        // workerHostWeight
  int64_t report_time = 0;
};
WorkerView ParseWorkerHeartbeat(const NodeInfo& n);
// Of `workers`, those that serve `group` and are NORMAL, in a stable order. Pure.
std::vector<std::string> EligibleWorkers(const std::vector<WorkerView>& workers,
                                         const std::string& group);
// The least loaded first: memory 30 %, cpu 30 %, thread pool 40 %, divided by the weight (a
// score of 0..1 at weight 100); the thread pool counts `sent_since_report[address]` tasks sent
// to it since its heartbeat. The workers within kLoadTie of the lowest score count as equally
// loaded and come first in the order of `eligible` (the caller rotates it, so they take turns);
// the others follow by score. Without the tie a burst of tasks all went to whichever worker
// reported a hair less cpu or memory (workers on one host report the same figures taken
// moments apart), until the burst itself outweighed the difference. Pure.
inline constexpr double kLoadTie = 0.02;  // five tasks' worth of a 100-thread pool
std::vector<std::string> ByLoad(const std::vector<std::string>& eligible,
                                const std::vector<WorkerView>& workers,
                                const std::map<std::string, int>& sent_since_report);

// Overload protection (the max cpu load average and reserved memory keys): true when the
// 1-minute load average is above max_load (max_load <= 0: twice `cores`) or the available
// memory is below reserved_gb. Pure.
bool Overloaded(double load_average, double available_memory_gb, int cores, double max_load,
                double reserved_gb);

struct WorkerRouterOptions {
  int retry_ms = 500;            // pause before trying again when no worker took a dispatch
  int registry_refresh_ms = 1000;  // how old the cached worker list may get
  RpcCallOptions rpc;
};

// WorkerClient over the registry's live workers. Dispatch and Reattach only queue (the engine
// never waits on a worker); one sender thread delivers what is queued in rounds, each worker's
// share of a round in one call (a layer of a DAG is one round trip per worker, not one per
// task), and a job no worker takes now goes to the back so that it holds up no other. A
// dispatch goes to the least loaded NORMAL worker of its group (ByLoad, counting the round's
// own placements), equals in turn; while none is there or none answers it waits and tries
// again: it never fails (the task stays SUBMITTED_SUCCESS meanwhile, as the
// DolphinScheduler user expects of a group with no free worker). A Reattach goes to the worker
// that ran the attempt; for one whose start was never recorded every live worker is asked to
// adopt it if it has it (queued or running), and only when none has is it dispatched afresh,
// so no second copy starts beside the first.
// Thread-safe.
class WorkerRouter final : public WorkerClient {
 public:
  WorkerRouter(Registry& registry, WorkerRouterOptions opts = {});
  ~WorkerRouter() override;  // Stop()

  Status Dispatch(const TaskDispatch& d) override;
  Status Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) override;
  Status Reattach(const TaskDispatch& d) override;
  void Stop();

  size_t queued() const;  // not yet delivered, the one being delivered included
  uint64_t dispatched() const { return dispatched_; }  // delivered dispatches, since start
  // Whether this router placed the attempt on `worker` (for worker failover).
  bool PlacedOn(int64_t task_instance_id, int attempt, const std::string& worker) const;

 private:
  struct Job {
    TaskDispatch d;
    bool reattach = false;
  };
  static constexpr size_t kMaxRound = 1000;  // jobs taken off the queue per round
  enum class Reattached { kDone, kRetry, kDispatch };
  void Loop();
  // Delivers `jobs`; returns those no worker took now (delivered includes never deliverable:
  // logged).
  std::vector<Job> DeliverAll(std::vector<Job> jobs);
  // kDispatch: no worker has the attempt; it is dispatched afresh.
  Reattached DeliverReattach(const TaskDispatch& d);
  std::vector<WorkerView> Workers(bool refresh);
  GrpcWorkerClient& Client(const std::string& address);

  Registry& registry_;
  const WorkerRouterOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  size_t in_flight_ = 0;  // jobs taken off the queue, being delivered
  bool stop_ = false;
  std::map<std::string, std::unique_ptr<GrpcWorkerClient>> clients_;
  std::map<std::pair<int64_t, int>, std::string> placed_;  // attempt -> worker address
  std::vector<WorkerView> workers_;
  int64_t workers_read_ms_ = -1;
  size_t next_ = 0;
  std::map<std::string, int> sent_since_report_;  // by worker, since its last heartbeat
  std::atomic<uint64_t> dispatched_{0};
  std::thread sender_;
};

// TaskEventSink of a worker: each event goes to the master named in it (the dispatch's
// master_host), through one acked, retrying sender per master. Thread-safe.
class EventRouter final : public TaskEventSink {
 public:
  explicit EventRouter(EventSenderOptions opts = {}) : opts_(opts) {}
  ~EventRouter() override;  // Stop()
  void OnTaskEvent(const TaskEvent& e) override;
  void Stop();

 private:
  const EventSenderOptions opts_;
  std::mutex mu_;
  bool stopped_ = false;
  std::map<std::string, std::unique_ptr<GrpcTaskEventSink>> sinks_;
};

// The worker side's fence: a WorkerClient in front of the local worker that takes Dispatch,
// Reattach and Kill only from a master registered at that address under that epoch. A master
// that was frozen past its session timeout has lost its registration (and its instances, to a
// takeover); when it resumes, a dispatch it still had queued must not start a second copy of a
// task beside the one its successor started. The registry's masters are cached, dropped from
// the cache when they leave, and read again when a caller is not among them.
// FailedPrecondition, naming master and epoch, otherwise.
// Thread-safe.
class LiveMasterFence final : public WorkerClient {
 public:
  // Watches the registry's masters: one that leaves is refused at once. `registry` must
  // outlive this (it keeps the watch).
  LiveMasterFence(Registry& registry, WorkerClient& local);
  Status Dispatch(const TaskDispatch& d) override;
  Status Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) override;
  Status Reattach(const TaskDispatch& d) override;

 private:
  // `host` empty: any master registered under `epoch`.
  Status Check(const std::string& host, int64_t epoch);

  Registry& registry_;
  WorkerClient& local_;
  std::mutex mu_;
  std::vector<NodeInfo> masters_;
};

// MasterControl of an API server: an action on an instance goes to the master that owns it
// (the instance row's host); a wake-up to every live master. Unavailable, naming the master,
// when the owner is not alive (its instances are being taken over: try again shortly).
// Thread-safe.
class ClusterMasterControl final : public MasterControl {
 public:
  ClusterMasterControl(Registry& registry, InstanceStore& instances, RpcCallOptions opts = {});
  void WakeCommands() override;
  // Tells every live master that the online schedules changed (never blocks).
  void SchedulesChanged();
  Status Execute(int64_t workflow_instance_id, ExecuteType type) override;
  Status ForceTaskSuccess(int64_t task_instance_id) override;
  Status ExecuteTask(int64_t workflow_instance_id, const std::vector<int64_t>& start_nodes,
                     TaskDependType mode) override;

 private:
  StatusOr<GrpcMasterControl*> OwnerOf(int64_t workflow_instance_id);
  GrpcMasterControl& Client(const std::string& address);

  Registry& registry_;
  InstanceStore& instances_;
  const RpcCallOptions opts_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<GrpcMasterControl>> clients_;
};

// The logger address of a task instance's host: its host part ("10.0.0.5:1234" -> "10.0.0.5",
// "[::1]:1234" -> "[::1]") with `logger_port`. InvalidArgument for an empty host. Pure.
StatusOr<std::string> LoggerAddress(const std::string& task_host, int logger_port);

// LogReader of an API server: a task's log is read through the logger (`dsched logger`) of the
// host it ran on, at that host's logger.listen-port (one port for the whole cluster, as
// DolphinScheduler has it). One gRPC client per logger, kept. NotFound for a task with no
// host yet (it has not started, so it has no log); a logger that does not answer within the
// deadline is Unavailable naming it. Thread-safe.
class LoggerRouter final : public LogReader {
 public:
  explicit LoggerRouter(int logger_port, RpcCallOptions opts = {.timeout_ms = 5000});
  StatusOr<LogPage> RollView(const std::string& host, const std::string& path, int64_t skip,
                             int64_t limit) override;
  StatusOr<LogPage> View(const std::string& host, const std::string& path) override;
  StatusOr<std::string> Bytes(const std::string& host, const std::string& path) override;

 private:
  StatusOr<GrpcLogReader*> Client(const std::string& host);

  const int logger_port_;
  const RpcCallOptions opts_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<GrpcLogReader>> clients_;
};

}  // namespace dsched::cluster
