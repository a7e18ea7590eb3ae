// The serving side of the gRPC transport: proto/dsched.proto services forwarding to the local
// implementations of rpc/interfaces.h, and the server that hosts them. Every incoming message
// is validated first (convert.h): a bad one is answered INVALID_ARGUMENT naming the field and
// reaches nothing.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proto/dsched.grpc.pb.h"
#include "rpc/interfaces.h"

namespace dsched {

// WorkerService -> a local WorkerClient (the worker). Thread-safe if `local` is; `local` must
// outlive this.
class WorkerServiceImpl final : public rpc::WorkerService::Service {
 public:
  explicit WorkerServiceImpl(WorkerClient& local) : local_(local) {}
  grpc::Status Dispatch(grpc::ServerContext* ctx, const rpc::TaskDispatch* req,
                        rpc::StatusReply* reply) override;
  // A malformed dispatch gets INVALID_ARGUMENT in its own reply; the others still run.
  grpc::Status DispatchBatch(grpc::ServerContext* ctx, const rpc::TaskDispatchBatch* req,
                             rpc::StatusReplies* reply) override;
  grpc::Status Kill(grpc::ServerContext* ctx, const rpc::KillRequest* req,
                    rpc::StatusReply* reply) override;
  grpc::Status Reattach(grpc::ServerContext* ctx, const rpc::TaskDispatch* req,
                        rpc::StatusReply* reply) override;

 private:
  WorkerClient& local_;
};

// MasterService -> the local MasterControl and TaskEventSink (the master's engine). A
// ReportTaskEvents call is acked after every event of the batch was handed to the sink, in
// order. Thread-safe if they are; both must outlive this.
class MasterServiceImpl final : public rpc::MasterService::Service {
 public:
  // `schedules_changed` (may be empty) is called for a wake-up that says the online schedules
  // changed, before the commands are woken.
  MasterServiceImpl(MasterControl& control, TaskEventSink& sink,
                    std::function<void()> schedules_changed = {})
      : control_(control), sink_(sink), schedules_changed_(std::move(schedules_changed)) {}
  grpc::Status WakeCommands(grpc::ServerContext* ctx, const rpc::WakeCommandsRequest* req,
                            rpc::WakeCommandsReply* reply) override;
  grpc::Status Execute(grpc::ServerContext* ctx, const rpc::ExecuteRequest* req,
                       rpc::StatusReply* reply) override;
  grpc::Status ForceTaskSuccess(grpc::ServerContext* ctx, const rpc::ForceTaskSuccessRequest* req,
                                rpc::StatusReply* reply) override;
  grpc::Status ExecuteTask(grpc::ServerContext* ctx, const rpc::ExecuteTaskRequest* req,
                           rpc::StatusReply* reply) override;
  grpc::Status ReportTaskEvents(grpc::ServerContext* ctx, const rpc::TaskEventBatch* req,
                                rpc::TaskEventAck* ack) override;

 private:
  MasterControl& control_;
  TaskEventSink& sink_;
  std::function<void()> schedules_changed_;
};

// LoggerService -> a local LogReader (logger/log_reader.h LocalLogReader, confined to its log
// directory). A malformed request is refused INVALID_ARGUMENT naming the field; what the reader
// says (NotFound, PermissionDenied for a path outside the directory, ...) is the reply's status.
// Thread-safe if `local` is; `local` must outlive this.
class LoggerServiceImpl final : public rpc::LoggerService::Service {
 public:
  explicit LoggerServiceImpl(LogReader& local) : local_(local) {}
  grpc::Status RollViewLog(grpc::ServerContext* ctx, const rpc::RollViewLogRequest* req,
                           rpc::LogLinesReply* reply) override;
  grpc::Status ViewLog(grpc::ServerContext* ctx, const rpc::LogPathRequest* req,
                       rpc::LogLinesReply* reply) override;
  grpc::Status GetLogBytes(grpc::ServerContext* ctx, const rpc::LogPathRequest* req,
                           rpc::LogBytesReply* reply) override;

 private:
  LogReader& local_;
};

// A gRPC server on one address hosting the given services. Thread-safe.
class GrpcServer {
 public:
  // Binds `address` ("host:port"; port 0 picks a free one) and serves `services` (not owned;
  // they must outlive the server). Unavailable naming the address when it cannot be bound.
  static StatusOr<std::unique_ptr<GrpcServer>> Start(const std::string& address,
                                                     const std::vector<grpc::Service*>& services);
  ~GrpcServer();  // Shutdown()

  int port() const { return port_; }
  // Stops accepting calls, gives calls in flight up to grace_ms, then cancels them. Handlers
  // that block in local code are still waited for. Idempotent.
  void Shutdown(int grace_ms = 1000);

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port)
      : server_(std::move(server)), port_(port) {}
  std::unique_ptr<grpc::Server> server_;
  const int port_;
  std::once_flag shut_down_;
};

}  // namespace dsched
