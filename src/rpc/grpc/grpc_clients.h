// The calling side of the gRPC transport: rpc/interfaces.h implemented by calls to a remote
// dsched process (proto/dsched.proto). Servers are in grpc_servers.h, the message conversions
// in convert.h. Nothing here decides which peer to call: the caller passes the target.
//
// Errors: a transport failure becomes one Status line naming the peer and the call, e.g.
// "worker 10.0.0.5:1234 did not answer Dispatch within 10000 ms" (Unavailable) or
// "worker 10.0.0.5:1234 refused Dispatch: dispatch.task_type is missing" (InvalidArgument).
// An answer from the callee (FailedPrecondition, NotFound, ...) comes back as it was.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "proto/dsched.grpc.pb.h"
#include "rpc/interfaces.h"

namespace dsched {

// An insecure channel to "host:port" whose reconnect backoff is short (100 ms .. 1 s), so a
// peer that restarts is found again quickly; gRPC's default waits up to 2 minutes.
std::shared_ptr<grpc::Channel> MakeRpcChannel(const std::string& target);

// A gRPC status as a dsched Status naming `role` ("worker", "master"), `target` and `method`.
// OK maps to OK. Pure.
Status FromGrpc(const grpc::Status& s, const std::string& role, const std::string& target,
                const char* method, int timeout_ms);

struct RpcCallOptions {
  int timeout_ms = 10000;  // deadline of each call
};

// WorkerClient over gRPC to one worker. Thread-safe. Calls fail fast (Unavailable) when the
// worker is unreachable, so the dispatcher can choose another; every call is idempotent, so the
// caller may repeat one whose answer was lost.
class GrpcWorkerClient final : public WorkerClient {
 public:
  explicit GrpcWorkerClient(std::string target, RpcCallOptions opts = {});
  Status Dispatch(const TaskDispatch& d) override;
  Status Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) override;
  Status Reattach(const TaskDispatch& d) override;
  // Dispatch of each of `ds` in as few calls as the message size allows: one Status per
  // dispatch, in order (a call that failed gives its error to each dispatch it carried).
  std::vector<Status> DispatchBatch(const std::vector<TaskDispatch>& ds);
  const std::string& target() const { return target_; }

 private:
  const std::string target_;
  const RpcCallOptions opts_;
  std::unique_ptr<rpc::WorkerService::Stub> stub_;
};

// MasterControl over gRPC to one master. Thread-safe. WakeCommands does not wait: it marks a
// wake-up due and a waker thread sends it, so wake-ups made during one call coalesce into the
// next; a lost wake-up only delays the command until the master's next scan. (A thread rather
// than gRPC's callback API: with libgrpc 1.51 the latter crashed in its completion-queue thread
// when a process created and dropped gRPC objects repeatedly.)
class GrpcMasterControl final : public MasterControl {
 public:
  explicit GrpcMasterControl(std::string target, RpcCallOptions opts = {});
  ~GrpcMasterControl() override;  // cancels a wake-up in flight and joins the waker
  void WakeCommands() override;
  // Asks the master to re-read the online schedules, with the next wake-up (never blocks).
  void SchedulesChanged();
  Status Execute(int64_t workflow_instance_id, ExecuteType type) override;
  Status ForceTaskSuccess(int64_t task_instance_id) override;
  Status ExecuteTask(int64_t workflow_instance_id, const std::vector<int64_t>& start_nodes,
                     TaskDependType mode) override;

 private:
  void WakeLoop();

  const std::string target_;
  const RpcCallOptions opts_;
  std::unique_ptr<rpc::MasterService::Stub> stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_due_ = false;
  bool schedules_due_ = false;
  bool stop_ = false;
  grpc::ClientContext* wake_in_flight_ = nullptr;
  std::thread waker_;
};

// LogReader over gRPC to the logger at one target ("host:port"); the host argument of each call
// is ignored (cluster/routing.h LoggerRouter picks the target from it). Thread-safe. Errors name
// the logger, e.g. "logger 10.0.0.5:50051 unreachable for RollViewLog: ..." (Unavailable); the
// logger's own answers (NotFound, PermissionDenied, ...) come back as they were.
class GrpcLogReader final : public LogReader {
 public:
  explicit GrpcLogReader(std::string target, RpcCallOptions opts = {});
  StatusOr<LogPage> RollView(const std::string& host, const std::string& path, int64_t skip,
                             int64_t limit) override;
  StatusOr<LogPage> View(const std::string& host, const std::string& path) override;
  StatusOr<std::string> Bytes(const std::string& host, const std::string& path) override;
  const std::string& target() const { return target_; }

 private:
  // One call with this client's deadline; `send` makes it on the context given.
  template <typename Send>
  Status Call(const char* method, Send send);

  const std::string target_;
  const RpcCallOptions opts_;
  std::unique_ptr<rpc::LoggerService::Stub> stub_;
};

struct EventSenderOptions {
  int timeout_ms = 5000;        // deadline of one ReportTaskEvents call
  int initial_backoff_ms = 50;  // after a failed call; doubles up to max_backoff_ms
  int max_backoff_ms = 2000;
  int max_batch = 256;  // events per call
  // Bytes per call: a batch stops before it would pass this; a single event larger than this
  // can never be delivered and is dropped (logged). The master refuses larger messages.
  size_t max_call_bytes = 64u << 20;  // kRpcMaxMessageBytes
  // The number of tasks running on the worker; unset: the sender never waits for company
  // (EventLingerUs).
  std::function<int()> tasks_under_way;
};

// How long the sender waits, before a call that would carry few events, for more to join it:
// 300 us for each task under way, at most 15 ms; none when no other task is under way (a lone
// task's end goes at once). Each call costs both ends more CPU than its events do: a worker
// busy with 50 tasks of a few ms ends ~400 of them a second, so a shorter wait (it was 60 us a
// task, at most 3 ms) still sent a call per 6 events, and the master and the worker spent a
// tenth of their time in RPC. With this one a 10,000-task DAG on 1 master + 2 workers makes
// ~40 % fewer event calls and the services use ~8 % less CPU; an event waits at most 15 ms,
// and only while its worker is that busy.
int64_t EventLingerUs(int tasks_under_way);

// TaskEventSink that delivers events to one master with ack and retry. OnTaskEvent only queues
// (it never waits on the network); one sender thread sends the queue front in batches, in the
// order received, and drops events only once the master acked them, so the events of a task
// instance arrive in order. A failed call is retried with backoff until acked or Stop(); the
// master may therefore see an event twice (answer lost after delivery), always with the same
// (task instance, attempt, epoch, state), which its idempotent handling absorbs. A batch the
// master refuses as invalid is resent one event at a time and only the refused event is dropped
// (logged): no retry can make it valid; so is an event larger than a call may carry.
// Thread-safe.
class GrpcTaskEventSink final : public TaskEventSink {
 public:
  explicit GrpcTaskEventSink(std::string master_target, EventSenderOptions opts = {});
  ~GrpcTaskEventSink() override;  // Stop()

  void OnTaskEvent(const TaskEvent& e) override;
  // Stops sending and joins the sender; events not yet acked are dropped (a worker restarted
  // later reports them again through Reattach). Idempotent.
  void Stop();

  size_t pending() const;        // queued and not yet acked
  int64_t failed_calls() const;  // calls that got no ack, since construction
  int64_t dropped() const;       // events refused as invalid or too large

 private:
  void Loop();

  const std::string target_;
  const EventSenderOptions opts_;
  std::unique_ptr<rpc::MasterService::Stub> stub_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TaskEvent> queue_;  // front = oldest not yet acked
  bool stop_ = false;
  grpc::ClientContext* in_flight_ = nullptr;  // cancelled by Stop()
  int64_t failed_calls_ = 0;
  int64_t dropped_ = 0;
  std::thread sender_;
};

}  // namespace dsched
