#include "rpc/grpc/grpc_servers.h"

#include <chrono>
#include <utility>

#include "rpc/grpc/convert.h"

namespace dsched {
namespace {

grpc::Status Refuse(const Status& s) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, s.message());
}

}  // namespace

// ---- WorkerServiceImpl --------------------------------------------------------------------

grpc::Status WorkerServiceImpl::Dispatch(grpc::ServerContext*, const rpc::TaskDispatch* req,
                                         rpc::StatusReply* reply) {
  StatusOr<TaskDispatch> d = FromProto(*req);
  if (!d.ok()) return Refuse(d.status());
  ToProto(local_.Dispatch(*d), reply);
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::DispatchBatch(grpc::ServerContext*,
                                              const rpc::TaskDispatchBatch* req,
                                              rpc::StatusReplies* reply) {
  for (const rpc::TaskDispatch& m : req->dispatches()) {
    StatusOr<TaskDispatch> d = FromProto(m);
    ToProto(d.ok() ? local_.Dispatch(*d) : d.status(), reply->add_replies());
  }
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::Kill(grpc::ServerContext*, const rpc::KillRequest* req,
                                     rpc::StatusReply* reply) {
  StatusOr<KillArgs> k = FromProto(*req);
  if (!k.ok()) return Refuse(k.status());
  ToProto(local_.Kill(k->task_instance_id, k->attempt, k->master_epoch), reply);
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::Reattach(grpc::ServerContext*, const rpc::TaskDispatch* req,
                                         rpc::StatusReply* reply) {
  StatusOr<TaskDispatch> d = FromProto(*req);
  if (!d.ok()) return Refuse(d.status());
  ToProto(local_.Reattach(*d), reply);
  return grpc::Status::OK;
}

// ---- MasterServiceImpl --------------------------------------------------------------------

grpc::Status MasterServiceImpl::WakeCommands(grpc::ServerContext*,
                                             const rpc::WakeCommandsRequest* req,
                                             rpc::WakeCommandsReply*) {
  if (req->schedules_changed() && schedules_changed_) schedules_changed_();
  control_.WakeCommands();
  return grpc::Status::OK;
}

grpc::Status MasterServiceImpl::Execute(grpc::ServerContext*, const rpc::ExecuteRequest* req,
                                        rpc::StatusReply* reply) {
  StatusOr<ExecuteArgs> a = FromProto(*req);
  if (!a.ok()) return Refuse(a.status());
  ToProto(control_.Execute(a->workflow_instance_id, a->type), reply);
  return grpc::Status::OK;
}

grpc::Status MasterServiceImpl::ForceTaskSuccess(grpc::ServerContext*,
                                                 const rpc::ForceTaskSuccessRequest* req,
                                                 rpc::StatusReply* reply) {
  StatusOr<int64_t> id = FromProto(*req);
  if (!id.ok()) return Refuse(id.status());
  ToProto(control_.ForceTaskSuccess(*id), reply);
  return grpc::Status::OK;
}

grpc::Status MasterServiceImpl::ExecuteTask(grpc::ServerContext*,
                                            const rpc::ExecuteTaskRequest* req,
                                            rpc::StatusReply* reply) {
  StatusOr<ExecuteTaskArgs> a = FromProto(*req);
  if (!a.ok()) return Refuse(a.status());
  ToProto(control_.ExecuteTask(a->workflow_instance_id, a->start_nodes, a->mode), reply);
  return grpc::Status::OK;
}

grpc::Status MasterServiceImpl::ReportTaskEvents(grpc::ServerContext*,
                                                 const rpc::TaskEventBatch* req,
                                                 rpc::TaskEventAck* ack) {
  StatusOr<std::vector<TaskEvent>> events = FromProto(*req);
  if (!events.ok()) return Refuse(events.status());
  for (const TaskEvent& e : *events) sink_.OnTaskEvent(e);
  ack->set_accepted(static_cast<int32_t>(events->size()));
  return grpc::Status::OK;
}

// ---- LoggerServiceImpl --------------------------------------------------------------------
// The reader is local: the host argument names no one.

grpc::Status LoggerServiceImpl::RollViewLog(grpc::ServerContext*,
                                            const rpc::RollViewLogRequest* req,
                                            rpc::LogLinesReply* reply) {
  StatusOr<RollViewArgs> a = FromProto(*req);
  if (!a.ok()) return Refuse(a.status());
  ToProto(local_.RollView("", a->path, a->skip, a->limit), reply);
  return grpc::Status::OK;
}

grpc::Status LoggerServiceImpl::ViewLog(grpc::ServerContext*, const rpc::LogPathRequest* req,
                                        rpc::LogLinesReply* reply) {
  StatusOr<std::string> path = FromProto(*req, "view_log");
  if (!path.ok()) return Refuse(path.status());
  ToProto(local_.View("", *path), reply);
  return grpc::Status::OK;
}

grpc::Status LoggerServiceImpl::GetLogBytes(grpc::ServerContext*, const rpc::LogPathRequest* req,
                                            rpc::LogBytesReply* reply) {
  StatusOr<std::string> path = FromProto(*req, "get_log_bytes");
  if (!path.ok()) return Refuse(path.status());
  ToProto(local_.Bytes("", *path), reply);
  return grpc::Status::OK;
}

// ---- GrpcServer ---------------------------------------------------------------------------

StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const std::string& address, const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  // gRPC binds with SO_REUSEPORT by default: a second dsched on the same port would then share
  // the calls silently instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kRpcMaxMessageBytes);
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  for (grpc::Service* s : services) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Unavailable("cannot serve gRPC on " + address + " (address in use or invalid)");
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(server), port));
}

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::Shutdown(int grace_ms) {
  std::call_once(shut_down_, [&] {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
    server_->Wait();
  });
}

}  // namespace dsched
