#include "rpc/grpc/grpc_clients.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "rpc/grpc/convert.h"

namespace dsched {
namespace {

const char* GrpcCodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "gRPC error";
  }
}

void SetDeadline(grpc::ClientContext* ctx, int timeout_ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeRpcChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxSendMessageSize(kRpcMaxMessageBytes);
  args.SetMaxReceiveMessageSize(kRpcMaxMessageBytes);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

Status FromGrpc(const grpc::Status& s, const std::string& role, const std::string& target,
                const char* method, int timeout_ms) {
  const std::string peer = role + " " + target;
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Unavailable(peer + " did not answer " + method + " within " +
                         std::to_string(timeout_ms) + " ms");
    case grpc::StatusCode::UNAVAILABLE:
      return Unavailable(peer + " unreachable for " + method + ": " + s.error_message());
    case grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidArgument(peer + " refused " + method + ": " + s.error_message());
    default:
      return Internal(peer + " failed " + method + ": " + GrpcCodeName(s.error_code()) + " " +
                      s.error_message());
  }
}

// ---- GrpcWorkerClient ---------------------------------------------------------------------

GrpcWorkerClient::GrpcWorkerClient(std::string target, RpcCallOptions opts)
    : target_(std::move(target)),
      opts_(opts),
      stub_(rpc::WorkerService::NewStub(MakeRpcChannel(target_))) {}

Status GrpcWorkerClient::Dispatch(const TaskDispatch& d) {
  rpc::TaskDispatch req;
  ToProto(d, &req);
  rpc::StatusReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  DSCHED_RETURN_IF_ERROR(FromGrpc(stub_->Dispatch(&ctx, req, &reply), "worker", target_, "Dispatch",
                                  opts_.timeout_ms));
  return FromProto(reply);
}

std::vector<Status> GrpcWorkerClient::DispatchBatch(const std::vector<TaskDispatch>& ds) {
  std::vector<Status> out;
  out.reserve(ds.size());
  size_t i = 0;
  while (i < ds.size()) {
    rpc::TaskDispatchBatch req;
    size_t bytes = 0;
    const size_t first = i;
    for (; i < ds.size(); ++i) {
      rpc::TaskDispatch m;
      ToProto(ds[i], &m);
      const size_t size = m.ByteSizeLong() + 8;  // + the repeated field's tag and length
      // Half the limit: room for the framing, and never a call the worker would refuse whole.
      if (i > first && bytes + size > kRpcMaxMessageBytes / 2) break;
      bytes += size;
      *req.add_dispatches() = std::move(m);
    }
    rpc::StatusReplies reply;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, opts_.timeout_ms);
    Status call = FromGrpc(stub_->DispatchBatch(&ctx, req, &reply), "worker", target_,
                           "DispatchBatch", opts_.timeout_ms);
    if (call.ok() && reply.replies_size() != req.dispatches_size())
      call = Internal("worker " + target_ + " answered " + std::to_string(reply.replies_size()) +
                      " of " + std::to_string(req.dispatches_size()) + " dispatches");
    for (int k = 0; k < req.dispatches_size(); ++k)
      out.push_back(call.ok() ? FromProto(reply.replies(k)) : call);
  }
  return out;
}

Status GrpcWorkerClient::Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) {
  rpc::KillRequest req;
  ToProto(KillArgs{task_instance_id, attempt, master_epoch}, &req);
  rpc::StatusReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  DSCHED_RETURN_IF_ERROR(
      FromGrpc(stub_->Kill(&ctx, req, &reply), "worker", target_, "Kill", opts_.timeout_ms));
  return FromProto(reply);
}

Status GrpcWorkerClient::Reattach(const TaskDispatch& d) {
  rpc::TaskDispatch req;
  ToProto(d, &req);
  rpc::StatusReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  DSCHED_RETURN_IF_ERROR(FromGrpc(stub_->Reattach(&ctx, req, &reply), "worker", target_, "Reattach",
                                  opts_.timeout_ms));
  return FromProto(reply);
}

// ---- GrpcMasterControl --------------------------------------------------------------------

GrpcMasterControl::GrpcMasterControl(std::string target, RpcCallOptions opts)
    : target_(std::move(target)),
      opts_(opts),
      stub_(rpc::MasterService::NewStub(MakeRpcChannel(target_))),
      waker_([this] { WakeLoop(); }) {}

GrpcMasterControl::~GrpcMasterControl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (wake_in_flight_ != nullptr) wake_in_flight_->TryCancel();
  }
  cv_.notify_all();
  waker_.join();
}

void GrpcMasterControl::WakeCommands() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_due_ = true;
  }
  cv_.notify_all();
}

void GrpcMasterControl::SchedulesChanged() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_due_ = schedules_due_ = true;
  }
  cv_.notify_all();
}

void GrpcMasterControl::WakeLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || wake_due_; });
    if (stop_) return;
    wake_due_ = false;
    rpc::WakeCommandsRequest req;
    req.set_schedules_changed(schedules_due_);
    schedules_due_ = false;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, opts_.timeout_ms);
    wake_in_flight_ = &ctx;
    lock.unlock();
    rpc::WakeCommandsReply reply;
    const grpc::Status s = stub_->WakeCommands(&ctx, req, &reply);
    lock.lock();
    wake_in_flight_ = nullptr;
    if (!s.ok() && !stop_) {
      spdlog::warn("{} (the master's command scan picks the command up later)",
                   FromGrpc(s, "master", target_, "WakeCommands", opts_.timeout_ms).message());
    }
  }
}

Status GrpcMasterControl::Execute(int64_t workflow_instance_id, ExecuteType type) {
  rpc::ExecuteRequest req;
  ToProto(ExecuteArgs{workflow_instance_id, type}, &req);
  rpc::StatusReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  DSCHED_RETURN_IF_ERROR(
      FromGrpc(stub_->Execute(&ctx, req, &reply), "master", target_, "Execute", opts_.timeout_ms));
  return FromProto(reply);
}

Status GrpcMasterControl::ForceTaskSuccess(int64_t task_instance_id) {
  rpc::ForceTaskSuccessRequest req;
  ToProto(task_instance_id, &req);
  rpc::StatusReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  DSCHED_RETURN_IF_ERROR(FromGrpc(stub_->ForceTaskSuccess(&ctx, req, &reply), "master", target_,
                                  "ForceTaskSuccess", opts_.timeout_ms));
  return FromProto(reply);
}

Status GrpcMasterControl::ExecuteTask(int64_t workflow_instance_id,
                                      const std::vector<int64_t>& start_nodes,
                                      TaskDependType mode) {
  rpc::ExecuteTaskRequest req;
  ToProto(ExecuteTaskArgs{workflow_instance_id, start_nodes, mode}, &req);
  rpc::StatusReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  DSCHED_RETURN_IF_ERROR(FromGrpc(stub_->ExecuteTask(&ctx, req, &reply), "master", target_,
                                  "ExecuteTask", opts_.timeout_ms));
  return FromProto(reply);
}

// ---- GrpcLogReader ------------------------------------------------------------------------

GrpcLogReader::GrpcLogReader(std::string target, RpcCallOptions opts)
    : target_(std::move(target)),
      opts_(opts),
      stub_(rpc::LoggerService::NewStub(MakeRpcChannel(target_))) {}

template <typename Send>
Status GrpcLogReader::Call(const char* method, Send send) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, opts_.timeout_ms);
  return FromGrpc(send(&ctx), "logger", target_, method, opts_.timeout_ms);
}

StatusOr<LogPage> GrpcLogReader::RollView(const std::string&, const std::string& path, int64_t skip,
                                          int64_t limit) {
  rpc::RollViewLogRequest req;
  ToProto(RollViewArgs{path, skip, limit}, &req);
  rpc::LogLinesReply reply;
  DSCHED_RETURN_IF_ERROR(Call("RollViewLog", [&](grpc::ClientContext* ctx) {
    return stub_->RollViewLog(ctx, req, &reply);
  }));
  return FromProto(reply);
}

StatusOr<LogPage> GrpcLogReader::View(const std::string&, const std::string& path) {
  rpc::LogPathRequest req;
  ToProto(path, &req);
  rpc::LogLinesReply reply;
  DSCHED_RETURN_IF_ERROR(
      Call("ViewLog", [&](grpc::ClientContext* ctx) { return stub_->ViewLog(ctx, req, &reply); }));
  return FromProto(reply);
}

StatusOr<std::string> GrpcLogReader::Bytes(const std::string&, const std::string& path) {
  rpc::LogPathRequest req;
  ToProto(path, &req);
  rpc::LogBytesReply reply;
  DSCHED_RETURN_IF_ERROR(Call("GetLogBytes", [&](grpc::ClientContext* ctx) {
    return stub_->GetLogBytes(ctx, req, &reply);
  }));
  return FromProto(reply);
}

// ---- GrpcTaskEventSink --------------------------------------------------------------------

GrpcTaskEventSink::GrpcTaskEventSink(std::string master_target, EventSenderOptions opts)
    : target_(std::move(master_target)),
      opts_(opts),
      stub_(rpc::MasterService::NewStub(MakeRpcChannel(target_))),
      sender_([this] { Loop(); }) {}

GrpcTaskEventSink::~GrpcTaskEventSink() { Stop(); }

void GrpcTaskEventSink::OnTaskEvent(const TaskEvent& e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    queue_.push_back(e);
  }
  cv_.notify_all();
}

void GrpcTaskEventSink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
}

size_t GrpcTaskEventSink::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

int64_t GrpcTaskEventSink::failed_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_calls_;
}

int64_t GrpcTaskEventSink::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

int64_t EventLingerUs(int tasks_under_way) {
  return std::clamp<int64_t>(300 * static_cast<int64_t>(tasks_under_way), 0, 15000);
}

void GrpcTaskEventSink::Loop() {
  // A call with this many events costs little per event: no reason to wait for more.
  constexpr size_t kLingerEnough = 32;
  int backoff_ms = opts_.initial_backoff_ms;
  size_t solo_left = 0;  // after a refused batch: events still to send one at a time
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    if (solo_left == 0 && queue_.size() < kLingerEnough && opts_.tasks_under_way) {
      lock.unlock();  // the worker's count takes the worker's lock
      const int64_t linger_us = EventLingerUs(opts_.tasks_under_way());
      lock.lock();
      if (linger_us > 0)
        cv_.wait_for(lock, std::chrono::microseconds(linger_us),
                     [this] { return stop_ || queue_.size() >= kLingerEnough; });
      if (stop_) return;
    }
    // Only this thread removes from the queue, so its first n events stay the ones sent.
    const size_t limit =
        solo_left > 0 ? 1 : std::min(queue_.size(), static_cast<size_t>(opts_.max_batch));
    rpc::TaskEventBatch req;
    size_t n = 0;
    size_t bytes = 0;
    for (; n < limit; ++n) {
      rpc::TaskEvent m;
      ToProto(queue_[n], &m);
      const size_t size = m.ByteSizeLong() + 8;  // + the repeated field's tag and length
      if (n > 0 && bytes + size > opts_.max_call_bytes) break;
      bytes += size;
      *req.add_events() = std::move(m);
    }
    if (bytes > opts_.max_call_bytes) {
      const TaskEvent& e = queue_.front();
      spdlog::error(
          "dropping event of task instance {} attempt {}: {} bytes, more than {} a call "
          "to master {} may carry",
          e.task_instance_id, e.attempt, bytes, opts_.max_call_bytes, target_);
      queue_.pop_front();
      ++dropped_;
      if (solo_left > 0) --solo_left;
      continue;
    }
    grpc::ClientContext ctx;
    SetDeadline(&ctx, opts_.timeout_ms);
    // Waits for the channel to connect (up to the deadline) instead of failing at once while
    // the master is down or restarting.
    ctx.set_wait_for_ready(true);
    in_flight_ = &ctx;
    lock.unlock();
    rpc::TaskEventAck ack;
    const grpc::Status s = stub_->ReportTaskEvents(&ctx, req, &ack);
    lock.lock();
    in_flight_ = nullptr;
    if (s.ok()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      if (solo_left > 0) --solo_left;
      backoff_ms = opts_.initial_backoff_ms;
      continue;
    }
    if (stop_) return;
    const Status st = FromGrpc(s, "master", target_, "ReportTaskEvents", opts_.timeout_ms);
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      if (n > 1) {
        solo_left = n;  // find the bad one without dropping the good ones
      } else {
        const TaskEvent& e = queue_.front();
        spdlog::error("dropping event of task instance {} attempt {}: {}", e.task_instance_id,
                      e.attempt, st.message());
        queue_.pop_front();
        ++dropped_;
        if (solo_left > 0) --solo_left;
      }
      continue;
    }
    ++failed_calls_;
    // One line per outage, not per retry.
    if (backoff_ms == opts_.initial_backoff_ms) {
      spdlog::warn("{}; {} events wait, retrying", st.message(), queue_.size());
    }
    cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stop_; });
    if (stop_) return;
    backoff_ms = std::min(backoff_ms * 2, opts_.max_backoff_ms);
  }
}

}  // namespace dsched
