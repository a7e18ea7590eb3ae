// Conversions between the structs of rpc/interfaces.h and the wire messages of
// proto/dsched.proto, with the validation of every incoming message. Pure functions: no I/O, no
// gRPC calls (those are in grpc_clients.h / grpc_servers.h).
//
// FromProto functions validate as they convert: an id <= 0, an unknown or missing enum value, an
// over-long string or list gives InvalidArgument whose message names the field (e.g.
// "dispatch.task_instance_id must be > 0, got 0"), and no partial value. ToProto never fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/dsched.pb.h"
#include "rpc/interfaces.h"

namespace dsched {

// Limits of incoming messages. Large free text (task_params, parameter values) is bounded by the
// message size limit (gRPC's default is 4 MiB; a script or var pool can be larger) rather than
// here.
inline constexpr int kRpcMaxMessageBytes = 64 << 20;
inline constexpr size_t kRpcMaxNameBytes = 1024;  // names, types, hosts, groups, keys
inline constexpr size_t kRpcMaxPathBytes = 4096;  // execute and log paths
inline constexpr size_t kRpcMaxEntries = 10000;   // vars, params, var pool, start nodes, batch

// Kill's arguments, as one value.
struct KillArgs {
  int64_t task_instance_id = 0;
  int attempt = 0;
  int64_t master_epoch = 0;
  bool operator==(const KillArgs&) const = default;
};

struct ExecuteArgs {
  int64_t workflow_instance_id = 0;
  ExecuteType type = ExecuteType::kPause;
  bool operator==(const ExecuteArgs&) const = default;
};

struct ExecuteTaskArgs {
  int64_t workflow_instance_id = 0;
  std::vector<int64_t> start_nodes;
  TaskDependType mode = TaskDependType::kTaskOnly;
  bool operator==(const ExecuteTaskArgs&) const = default;
};

// RollViewLog's arguments, as one value.
struct RollViewArgs {
  std::string path;
  int64_t skip = 0;
  int64_t limit = 0;
  bool operator==(const RollViewArgs&) const = default;
};

// Enums. The proto enums have an UNSPECIFIED zero; FromProto refuses it and unknown numbers,
// naming `field`.
rpc::Priority ToProto(Priority p);
StatusOr<Priority> FromProto(rpc::Priority p, const char* field);
rpc::TaskState ToProto(TaskState s);
StatusOr<TaskState> FromProto(rpc::TaskState s, const char* field);
rpc::TaskEventType ToProto(TaskEventType t);
StatusOr<TaskEventType> FromProto(rpc::TaskEventType t, const char* field);
rpc::ExecuteType ToProto(ExecuteType t);
StatusOr<ExecuteType> FromProto(rpc::ExecuteType t, const char* field);
rpc::TaskDependType ToProto(TaskDependType t);
StatusOr<TaskDependType> FromProto(rpc::TaskDependType t, const char* field);

// Application statuses. An unknown code from a newer peer becomes Internal with the number.
void ToProto(const Status& s, rpc::StatusReply* out);
Status FromProto(const rpc::StatusReply& r);

void ToProto(const TaskDispatch& d, rpc::TaskDispatch* out);
StatusOr<TaskDispatch> FromProto(const rpc::TaskDispatch& m);

void ToProto(const TaskEvent& e, rpc::TaskEvent* out);
// `field` prefixes the names in errors, e.g. "events[3]".
StatusOr<TaskEvent> FromProto(const rpc::TaskEvent& m, const std::string& field = "event");
// All or nothing: one bad event refuses the batch.
StatusOr<std::vector<TaskEvent>> FromProto(const rpc::TaskEventBatch& m);

void ToProto(const KillArgs& k, rpc::KillRequest* out);
StatusOr<KillArgs> FromProto(const rpc::KillRequest& m);

void ToProto(const ExecuteArgs& a, rpc::ExecuteRequest* out);
StatusOr<ExecuteArgs> FromProto(const rpc::ExecuteRequest& m);

void ToProto(int64_t task_instance_id, rpc::ForceTaskSuccessRequest* out);
StatusOr<int64_t> FromProto(const rpc::ForceTaskSuccessRequest& m);

void ToProto(const ExecuteTaskArgs& a, rpc::ExecuteTaskRequest* out);
StatusOr<ExecuteTaskArgs> FromProto(const rpc::ExecuteTaskRequest& m);

// Logger calls. A path must be absolute and at most kRpcMaxPathBytes; whether it lies inside
// the log directory is the logger's to decide (logger/log_reader.h), not the wire's.
void ToProto(const RollViewArgs& a, rpc::RollViewLogRequest* out);
StatusOr<RollViewArgs> FromProto(const rpc::RollViewLogRequest& m);
void ToProto(const std::string& path, rpc::LogPathRequest* out);
// `call` prefixes the field in errors ("view_log", "get_log_bytes").
StatusOr<std::string> FromProto(const rpc::LogPathRequest& m, const std::string& call);
// A reply holds the logger's application status and, when OK, the value.
void ToProto(const StatusOr<LogPage>& r, rpc::LogLinesReply* out);
StatusOr<LogPage> FromProto(const rpc::LogLinesReply& m);
void ToProto(const StatusOr<std::string>& r, rpc::LogBytesReply* out);
StatusOr<std::string> FromProto(const rpc::LogBytesReply& m);

}  // namespace dsched
