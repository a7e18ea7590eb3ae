#include "rpc/grpc/convert.h"

#include <string>
#include <utility>

namespace dsched {
namespace {

// Enum tables: the one place that pairs a model value with its wire value. The round-trip tests
// walk both enums and fail when a value is missing here.
template <typename M, typename P>
struct EnumPair {
  M model;
  P wire;
};

constexpr EnumPair<Priority, rpc::Priority> kPriorities[] = {
    {Priority::kHighest, rpc::PRIORITY_HIGHEST}, {Priority::kHigh, rpc::PRIORITY_HIGH},
    {Priority::kMedium, rpc::PRIORITY_MEDIUM},   {Priority::kLow, rpc::PRIORITY_LOW},
    {Priority::kLowest, rpc::PRIORITY_LOWEST},
};
constexpr EnumPair<TaskState, rpc::TaskState> kTaskStates[] = {
    {TaskState::kSubmittedSuccess, rpc::TASK_STATE_SUBMITTED_SUCCESS},
    {TaskState::kRunningExecution, rpc::TASK_STATE_RUNNING_EXECUTION},
    {TaskState::kPause, rpc::TASK_STATE_PAUSE},
    {TaskState::kFailure, rpc::TASK_STATE_FAILURE},
    {TaskState::kSuccess, rpc::TASK_STATE_SUCCESS},
    {TaskState::kNeedFaultTolerance, rpc::TASK_STATE_NEED_FAULT_TOLERANCE},
    {TaskState::kKill, rpc::TASK_STATE_KILL},
    {TaskState::kDelayExecution, rpc::TASK_STATE_DELAY_EXECUTION},
    {TaskState::kForcedSuccess, rpc::TASK_STATE_FORCED_SUCCESS},
    {TaskState::kDispatch, rpc::TASK_STATE_DISPATCH},
};
constexpr EnumPair<TaskEventType, rpc::TaskEventType> kEventTypes[] = {
    {TaskEventType::kRunning, rpc::TASK_EVENT_TYPE_RUNNING},
    {TaskEventType::kFinished, rpc::TASK_EVENT_TYPE_FINISHED},
};
constexpr EnumPair<ExecuteType, rpc::ExecuteType> kExecuteTypes[] = {
    {ExecuteType::kPause, rpc::EXECUTE_TYPE_PAUSE},
    {ExecuteType::kStop, rpc::EXECUTE_TYPE_STOP},
    {ExecuteType::kRecoverSuspended, rpc::EXECUTE_TYPE_RECOVER_SUSPENDED},
    {ExecuteType::kRepeatRunning, rpc::EXECUTE_TYPE_REPEAT_RUNNING},
    {ExecuteType::kStartFailureTask, rpc::EXECUTE_TYPE_START_FAILURE_TASK},
};
constexpr EnumPair<TaskDependType, rpc::TaskDependType> kDependTypes[] = {
    {TaskDependType::kTaskOnly, rpc::TASK_DEPEND_TYPE_TASK_ONLY},
    {TaskDependType::kTaskPre, rpc::TASK_DEPEND_TYPE_TASK_PRE},
    {TaskDependType::kTaskPost, rpc::TASK_DEPEND_TYPE_TASK_POST},
};
constexpr EnumPair<StatusCode, rpc::StatusCode> kStatusCodes[] = {
    {StatusCode::kOk, rpc::STATUS_OK},
    {StatusCode::kInvalidArgument, rpc::STATUS_INVALID_ARGUMENT},
    {StatusCode::kNotFound, rpc::STATUS_NOT_FOUND},
    {StatusCode::kAlreadyExists, rpc::STATUS_ALREADY_EXISTS},
    {StatusCode::kFailedPrecondition, rpc::STATUS_FAILED_PRECONDITION},
    {StatusCode::kPermissionDenied, rpc::STATUS_PERMISSION_DENIED},
    {StatusCode::kUnauthenticated, rpc::STATUS_UNAUTHENTICATED},
    {StatusCode::kAborted, rpc::STATUS_ABORTED},
    {StatusCode::kUnavailable, rpc::STATUS_UNAVAILABLE},
    {StatusCode::kInternal, rpc::STATUS_INTERNAL},
};

template <typename M, typename P, size_t N>
P ToWire(const EnumPair<M, P> (&table)[N], M m) {
  for (const auto& e : table) {
    if (e.model == m) return e.wire;
  }
  return static_cast<P>(0);  // unreachable for a complete table; refused by the peer
}

template <typename M, typename P, size_t N>
StatusOr<M> FromWire(const EnumPair<M, P> (&table)[N], P p, const std::string& field) {
  for (const auto& e : table) {
    if (e.wire == p) return e.model;
  }
  if (static_cast<int>(p) == 0) return InvalidArgument(field + " is missing");
  return InvalidArgument(field + " has unknown value " + std::to_string(static_cast<int>(p)));
}

Status Positive(int64_t v, const std::string& field) {
  if (v > 0) return Status::Ok();
  return InvalidArgument(field + " must be > 0, got " + std::to_string(v));
}

Status NonNegative(int64_t v, const std::string& field) {
  if (v >= 0) return Status::Ok();
  return InvalidArgument(field + " must be >= 0, got " + std::to_string(v));
}

Status MaxBytes(const std::string& v, size_t max, const std::string& field) {
  if (v.size() <= max) return Status::Ok();
  return InvalidArgument(field + " is " + std::to_string(v.size()) + " bytes, more than " +
                         std::to_string(max));
}

Status AbsolutePath(const std::string& v, const std::string& field) {
  if (v.empty()) return InvalidArgument(field + " is missing");
  DSCHED_RETURN_IF_ERROR(MaxBytes(v, kRpcMaxPathBytes, field));
  if (v.front() != '/')
    return InvalidArgument(field + " must be an absolute path, got '" + v + "'");
  return Status::Ok();
}

Status MaxEntries(int n, const std::string& field) {
  if (static_cast<size_t>(n) <= kRpcMaxEntries) return Status::Ok();
  return InvalidArgument(field + " has " + std::to_string(n) + " entries, more than " +
                         std::to_string(kRpcMaxEntries));
}

void PropsToProto(const std::vector<Property>& in,
                  google::protobuf::RepeatedPtrField<rpc::Property>* out) {
  out->Reserve(static_cast<int>(in.size()));
  for (const Property& p : in) {
    rpc::Property* m = out->Add();
    m->set_prop(p.prop);
    m->set_direct(p.direct);
    m->set_type(p.type);
    m->set_value(p.value);
  }
}

StatusOr<std::vector<Property>> PropsFromProto(
    const google::protobuf::RepeatedPtrField<rpc::Property>& in, const std::string& field) {
  DSCHED_RETURN_IF_ERROR(MaxEntries(in.size(), field));
  std::vector<Property> out;
  out.reserve(in.size());
  for (int i = 0; i < in.size(); ++i) {
    const rpc::Property& m = in[i];
    const std::string f = field + "[" + std::to_string(i) + "]";
    DSCHED_RETURN_IF_ERROR(MaxBytes(m.prop(), kRpcMaxNameBytes, f + ".prop"));
    DSCHED_RETURN_IF_ERROR(MaxBytes(m.direct(), kRpcMaxNameBytes, f + ".direct"));
    DSCHED_RETURN_IF_ERROR(MaxBytes(m.type(), kRpcMaxNameBytes, f + ".type"));
    out.push_back(Property{m.prop(), m.direct(), m.type(), m.value()});
  }
  return out;
}

}  // namespace

rpc::Priority ToProto(Priority p) { return ToWire(kPriorities, p); }
StatusOr<Priority> FromProto(rpc::Priority p, const char* field) {
  return FromWire(kPriorities, p, field);
}
rpc::TaskState ToProto(TaskState s) { return ToWire(kTaskStates, s); }
StatusOr<TaskState> FromProto(rpc::TaskState s, const char* field) {
  return FromWire(kTaskStates, s, field);
}
rpc::TaskEventType ToProto(TaskEventType t) { return ToWire(kEventTypes, t); }
StatusOr<TaskEventType> FromProto(rpc::TaskEventType t, const char* field) {
  return FromWire(kEventTypes, t, field);
}
rpc::ExecuteType ToProto(ExecuteType t) { return ToWire(kExecuteTypes, t); }
StatusOr<ExecuteType> FromProto(rpc::ExecuteType t, const char* field) {
  return FromWire(kExecuteTypes, t, field);
}
rpc::TaskDependType ToProto(TaskDependType t) { return ToWire(kDependTypes, t); }
StatusOr<TaskDependType> FromProto(rpc::TaskDependType t, const char* field) {
  return FromWire(kDependTypes, t, field);
}

void ToProto(const Status& s, rpc::StatusReply* out) {
  out->set_code(ToWire(kStatusCodes, s.code()));
  out->set_message(s.message());
}

Status FromProto(const rpc::StatusReply& r) {
  for (const auto& e : kStatusCodes) {
    if (e.wire == r.code()) {
      return e.model == StatusCode::kOk ? Status::Ok() : Status(e.model, r.message());
    }
  }
  return Internal("peer answered unknown status code " + std::to_string(r.code()) + ": " +
                  r.message());
}

// A field added to one of these structs must be carried on the wire too: update
// proto/dsched.proto, the functions below and convert_test.cc's full values, then these sizes
// (measured with libstdc++ on x86-64; other ABIs skip the check).
#if defined(__GLIBCXX__) && defined(__x86_64__)
static_assert(sizeof(TaskDispatch) == 352,
              "TaskDispatch changed: carry the new field in proto/dsched.proto and convert.cc");
static_assert(sizeof(TaskEvent) == 224,
              "TaskEvent changed: carry the new field in proto/dsched.proto and convert.cc");
#endif

void ToProto(const TaskDispatch& d, rpc::TaskDispatch* out) {
  out->set_task_instance_id(d.task_instance_id);
  out->set_attempt(d.attempt);
  out->set_master_epoch(d.master_epoch);
  out->set_workflow_instance_id(d.workflow_instance_id);
  out->set_project_code(d.project_code);
  out->set_definition_code(d.definition_code);
  out->set_task_name(d.task_name);
  out->set_task_type(d.task_type);
  out->set_task_params(d.task_params);
  auto* vars = out->mutable_vars();
  for (const auto& [k, v] : d.vars) (*vars)[k] = v;
  PropsToProto(d.local_params, out->mutable_local_params());
  out->set_base_time_ms(d.base_time_ms);
  out->set_workflow_priority(ToProto(d.workflow_priority));
  out->set_task_priority(ToProto(d.task_priority));
  out->set_timeout_ms(d.timeout_ms);
  out->set_timeout_kills(d.timeout_kills);
  out->set_dry_run(d.dry_run);
  out->set_worker_group(d.worker_group);
  out->set_master_host(d.master_host);
  out->set_worker_host(d.worker_host);
  out->set_only_if_known(d.only_if_known);
}

StatusOr<TaskDispatch> FromProto(const rpc::TaskDispatch& m) {
  TaskDispatch d;
  DSCHED_RETURN_IF_ERROR(Positive(m.task_instance_id(), "dispatch.task_instance_id"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.attempt(), "dispatch.attempt"));
  DSCHED_RETURN_IF_ERROR(Positive(m.master_epoch(), "dispatch.master_epoch"));
  DSCHED_RETURN_IF_ERROR(Positive(m.workflow_instance_id(), "dispatch.workflow_instance_id"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.project_code(), "dispatch.project_code"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.definition_code(), "dispatch.definition_code"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.task_name(), kRpcMaxNameBytes, "dispatch.task_name"));
  if (m.task_type().empty()) return InvalidArgument("dispatch.task_type is missing");
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.task_type(), kRpcMaxNameBytes, "dispatch.task_type"));
  DSCHED_RETURN_IF_ERROR(MaxEntries(m.vars_size(), "dispatch.vars"));
  for (const auto& [k, v] : m.vars()) {
    DSCHED_RETURN_IF_ERROR(MaxBytes(k, kRpcMaxNameBytes, "dispatch.vars key"));
    d.vars.emplace(k, v);
  }
  DSCHED_ASSIGN_OR_RETURN(d.local_params,
                          PropsFromProto(m.local_params(), "dispatch.local_params"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.base_time_ms(), "dispatch.base_time_ms"));
  DSCHED_ASSIGN_OR_RETURN(d.workflow_priority,
                          FromProto(m.workflow_priority(), "dispatch.workflow_priority"));
  DSCHED_ASSIGN_OR_RETURN(d.task_priority, FromProto(m.task_priority(), "dispatch.task_priority"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.timeout_ms(), "dispatch.timeout_ms"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.worker_group(), kRpcMaxNameBytes, "dispatch.worker_group"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.master_host(), kRpcMaxNameBytes, "dispatch.master_host"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.worker_host(), kRpcMaxNameBytes, "dispatch.worker_host"));
  d.task_instance_id = m.task_instance_id();
  d.attempt = m.attempt();
  d.master_epoch = m.master_epoch();
  d.workflow_instance_id = m.workflow_instance_id();
  d.project_code = m.project_code();
  d.definition_code = m.definition_code();
  d.task_name = m.task_name();
  d.task_type = m.task_type();
  d.task_params = m.task_params();
  d.base_time_ms = m.base_time_ms();
  d.timeout_ms = m.timeout_ms();
  d.timeout_kills = m.timeout_kills();
  d.dry_run = m.dry_run();
  d.worker_group = m.worker_group();
  d.master_host = m.master_host();
  d.worker_host = m.worker_host();
  d.only_if_known = m.only_if_known();
  return d;
}

void ToProto(const TaskEvent& e, rpc::TaskEvent* out) {
  out->set_type(ToProto(e.type));
  out->set_task_instance_id(e.task_instance_id);
  out->set_attempt(e.attempt);
  out->set_master_epoch(e.master_epoch);
  out->set_workflow_instance_id(e.workflow_instance_id);
  out->set_state(ToProto(e.state));
  out->set_time_ms(e.time_ms);
  out->set_host(e.host);
  out->set_pid(e.pid);
  out->set_execute_path(e.execute_path);
  out->set_log_path(e.log_path);
  PropsToProto(e.var_pool, out->mutable_var_pool());
  out->set_timed_out(e.timed_out);
  out->set_master_host(e.master_host);
}

StatusOr<TaskEvent> FromProto(const rpc::TaskEvent& m, const std::string& field) {
  TaskEvent e;
  DSCHED_ASSIGN_OR_RETURN(e.type, FromProto(m.type(), (field + ".type").c_str()));
  DSCHED_RETURN_IF_ERROR(Positive(m.task_instance_id(), field + ".task_instance_id"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.attempt(), field + ".attempt"));
  DSCHED_RETURN_IF_ERROR(Positive(m.master_epoch(), field + ".master_epoch"));
  DSCHED_RETURN_IF_ERROR(Positive(m.workflow_instance_id(), field + ".workflow_instance_id"));
  DSCHED_ASSIGN_OR_RETURN(e.state, FromProto(m.state(), (field + ".state").c_str()));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.time_ms(), field + ".time_ms"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.host(), kRpcMaxNameBytes, field + ".host"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.pid(), field + ".pid"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.execute_path(), kRpcMaxPathBytes, field + ".execute_path"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.log_path(), kRpcMaxPathBytes, field + ".log_path"));
  DSCHED_ASSIGN_OR_RETURN(e.var_pool, PropsFromProto(m.var_pool(), field + ".var_pool"));
  DSCHED_RETURN_IF_ERROR(MaxBytes(m.master_host(), kRpcMaxNameBytes, field + ".master_host"));
  e.task_instance_id = m.task_instance_id();
  e.attempt = m.attempt();
  e.master_epoch = m.master_epoch();
  e.workflow_instance_id = m.workflow_instance_id();
  e.time_ms = m.time_ms();
  e.host = m.host();
  e.pid = m.pid();
  e.execute_path = m.execute_path();
  e.log_path = m.log_path();
  e.timed_out = m.timed_out();
  e.master_host = m.master_host();
  return e;
}

StatusOr<std::vector<TaskEvent>> FromProto(const rpc::TaskEventBatch& m) {
  DSCHED_RETURN_IF_ERROR(MaxEntries(m.events_size(), "events"));
  std::vector<TaskEvent> out;
  out.reserve(m.events_size());
  for (int i = 0; i < m.events_size(); ++i) {
    DSCHED_ASSIGN_OR_RETURN(TaskEvent e,
                            FromProto(m.events(i), "events[" + std::to_string(i) + "]"));
    out.push_back(std::move(e));
  }
  return out;
}

void ToProto(const KillArgs& k, rpc::KillRequest* out) {
  out->set_task_instance_id(k.task_instance_id);
  out->set_attempt(k.attempt);
  out->set_master_epoch(k.master_epoch);
}

StatusOr<KillArgs> FromProto(const rpc::KillRequest& m) {
  DSCHED_RETURN_IF_ERROR(Positive(m.task_instance_id(), "kill.task_instance_id"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.attempt(), "kill.attempt"));
  DSCHED_RETURN_IF_ERROR(Positive(m.master_epoch(), "kill.master_epoch"));
  return KillArgs{m.task_instance_id(), m.attempt(), m.master_epoch()};
}

void ToProto(const ExecuteArgs& a, rpc::ExecuteRequest* out) {
  out->set_workflow_instance_id(a.workflow_instance_id);
  out->set_type(ToProto(a.type));
}

StatusOr<ExecuteArgs> FromProto(const rpc::ExecuteRequest& m) {
  DSCHED_RETURN_IF_ERROR(Positive(m.workflow_instance_id(), "execute.workflow_instance_id"));
  DSCHED_ASSIGN_OR_RETURN(ExecuteType t, FromProto(m.type(), "execute.type"));
  return ExecuteArgs{m.workflow_instance_id(), t};
}

void ToProto(int64_t task_instance_id, rpc::ForceTaskSuccessRequest* out) {
  out->set_task_instance_id(task_instance_id);
}

StatusOr<int64_t> FromProto(const rpc::ForceTaskSuccessRequest& m) {
  DSCHED_RETURN_IF_ERROR(Positive(m.task_instance_id(), "force_task_success.task_instance_id"));
  return m.task_instance_id();
}

void ToProto(const ExecuteTaskArgs& a, rpc::ExecuteTaskRequest* out) {
  out->set_workflow_instance_id(a.workflow_instance_id);
  out->mutable_start_nodes()->Add(a.start_nodes.begin(), a.start_nodes.end());
  out->set_mode(ToProto(a.mode));
}

StatusOr<ExecuteTaskArgs> FromProto(const rpc::ExecuteTaskRequest& m) {
  ExecuteTaskArgs a;
  DSCHED_RETURN_IF_ERROR(Positive(m.workflow_instance_id(), "execute_task.workflow_instance_id"));
  DSCHED_RETURN_IF_ERROR(MaxEntries(m.start_nodes_size(), "execute_task.start_nodes"));
  for (int i = 0; i < m.start_nodes_size(); ++i) {
    DSCHED_RETURN_IF_ERROR(
        Positive(m.start_nodes(i), "execute_task.start_nodes[" + std::to_string(i) + "]"));
  }
  DSCHED_ASSIGN_OR_RETURN(a.mode, FromProto(m.mode(), "execute_task.mode"));
  a.workflow_instance_id = m.workflow_instance_id();
  a.start_nodes.assign(m.start_nodes().begin(), m.start_nodes().end());
  return a;
}

void ToProto(const RollViewArgs& a, rpc::RollViewLogRequest* out) {
  out->set_path(a.path);
  out->set_skip_line_num(a.skip);
  out->set_limit(a.limit);
}

StatusOr<RollViewArgs> FromProto(const rpc::RollViewLogRequest& m) {
  DSCHED_RETURN_IF_ERROR(AbsolutePath(m.path(), "roll_view_log.path"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.skip_line_num(), "roll_view_log.skip_line_num"));
  DSCHED_RETURN_IF_ERROR(NonNegative(m.limit(), "roll_view_log.limit"));
  return RollViewArgs{m.path(), m.skip_line_num(), m.limit()};
}

void ToProto(const std::string& path, rpc::LogPathRequest* out) { out->set_path(path); }

StatusOr<std::string> FromProto(const rpc::LogPathRequest& m, const std::string& call) {
  DSCHED_RETURN_IF_ERROR(AbsolutePath(m.path(), call + ".path"));
  return m.path();
}

void ToProto(const StatusOr<LogPage>& r, rpc::LogLinesReply* out) {
  ToProto(r.status(), out->mutable_status());
  if (!r.ok()) return;
  out->set_message(r->text);
  out->set_line_num(r->lines);
}

StatusOr<LogPage> FromProto(const rpc::LogLinesReply& m) {
  DSCHED_RETURN_IF_ERROR(FromProto(m.status()));
  if (m.line_num() < 0) return Internal("logger answered line_num " + std::to_string(m.line_num()));
  return LogPage{m.message(), m.line_num()};
}

void ToProto(const StatusOr<std::string>& r, rpc::LogBytesReply* out) {
  ToProto(r.status(), out->mutable_status());
  if (r.ok()) out->set_data(*r);
}

StatusOr<std::string> FromProto(const rpc::LogBytesReply& m) {
  DSCHED_RETURN_IF_ERROR(FromProto(m.status()));
  return m.data();
}

}  // namespace dsched
