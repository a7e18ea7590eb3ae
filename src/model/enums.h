// DolphinScheduler's enums with their stable numeric codes (the database stores the code, the
// REST API the name). Each enum has one name table; Name()/Parse() read it. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsched {

enum class WorkflowState : int {
  kSubmittedSuccess = 0,
  kRunningExecution = 1,
  kReadyPause = 2,
  kPause = 3,
  kReadyStop = 4,
  kStop = 5,
  kFailure = 6,
  kSuccess = 7,
  kSerialWait = 14,
  kWaitToRun = 17,
  kFailover = 18,
};

enum class TaskState : int {
  kSubmittedSuccess = 0,
  kRunningExecution = 1,
  kPause = 3,
  kFailure = 6,
  kSuccess = 7,
  kNeedFaultTolerance = 8,
  kKill = 9,
  kDelayExecution = 12,
  kForcedSuccess = 13,
  kDispatch = 17,
};

enum class CommandType : int {
  kStartProcess = 0,
  kStartCurrentTaskProcess = 1,
  kRecoverToleranceFaultProcess = 2,
  kRecoverSuspendedProcess = 3,
  kStartFailureTaskProcess = 4,
  kComplementData = 5,
  kScheduler = 6,
  kRepeatRunning = 7,
  kPause = 8,
  kStop = 9,
  kRecoverSerialWait = 11,
  kExecuteTask = 12,
};

enum class FailureStrategy : int { kEnd = 0, kContinue = 1 };
enum class TaskDependType : int { kTaskOnly = 0, kTaskPre = 1, kTaskPost = 2 };
enum class Priority : int { kHighest = 0, kHigh = 1, kMedium = 2, kLow = 3, kLowest = 4 };
enum class TimeoutStrategy : int { kWarn = 0, kFailed = 1, kWarnFailed = 2 };
enum class Flag : int { kNo = 0, kYes = 1 };
enum class ReleaseState : int { kOffline = 0, kOnline = 1 };
enum class ExecutionType : int { kParallel = 0, kSerialWait = 1, kSerialDiscard = 2, kSerialPriority = 3 };
enum class WarningType : int { kNone = 0, kSuccess = 1, kFailure = 2, kAll = 3 };

template <typename E>
struct EnumNames;  // specialised below: static const std::vector<std::pair<E, const char*>> kNames

#define DSCHED_ENUM_NAMES(E, ...)                                        \
  template <>                                                            \
  struct EnumNames<E> {                                                  \
    static const std::vector<std::pair<E, const char*>>& Get() {        \
      static const std::vector<std::pair<E, const char*>> k{__VA_ARGS__}; \
      return k;                                                          \
    }                                                                    \
  };

DSCHED_ENUM_NAMES(WorkflowState, {WorkflowState::kSubmittedSuccess, "SUBMITTED_SUCCESS"},
                  {WorkflowState::kRunningExecution, "RUNNING_EXECUTION"},
                  {WorkflowState::kReadyPause, "READY_PAUSE"}, {WorkflowState::kPause, "PAUSE"},
                  {WorkflowState::kReadyStop, "READY_STOP"}, {WorkflowState::kStop, "STOP"},
                  {WorkflowState::kFailure, "FAILURE"}, {WorkflowState::kSuccess, "SUCCESS"},
                  {WorkflowState::kSerialWait, "SERIAL_WAIT"},
                  {WorkflowState::kWaitToRun, "WAIT_TO_RUN"}, {WorkflowState::kFailover, "FAILOVER"})
DSCHED_ENUM_NAMES(TaskState, {TaskState::kSubmittedSuccess, "SUBMITTED_SUCCESS"},
                  {TaskState::kRunningExecution, "RUNNING_EXECUTION"}, {TaskState::kPause, "PAUSE"},
                  {TaskState::kFailure, "FAILURE"}, {TaskState::kSuccess, "SUCCESS"},
                  {TaskState::kNeedFaultTolerance, "NEED_FAULT_TOLERANCE"},
                  {TaskState::kKill, "KILL"}, {TaskState::kDelayExecution, "DELAY_EXECUTION"},
                  {TaskState::kForcedSuccess, "FORCED_SUCCESS"}, {TaskState::kDispatch, "DISPATCH"})
DSCHED_ENUM_NAMES(CommandType, {CommandType::kStartProcess, "START_PROCESS"},
                  {CommandType::kStartCurrentTaskProcess, "START_CURRENT_TASK_PROCESS"},
                  {CommandType::kRecoverToleranceFaultProcess, "RECOVER_TOLERANCE_FAULT_PROCESS"},
                  {CommandType::kRecoverSuspendedProcess, "RECOVER_SUSPENDED_PROCESS"},
                  {CommandType::kStartFailureTaskProcess, "START_FAILURE_TASK_PROCESS"},
                  {CommandType::kComplementData, "COMPLEMENT_DATA"},
                  {CommandType::kScheduler, "SCHEDULER"},
                  {CommandType::kRepeatRunning, "REPEAT_RUNNING"}, {CommandType::kPause, "PAUSE"},
                  {CommandType::kStop, "STOP"},
                  {CommandType::kRecoverSerialWait, "RECOVER_SERIAL_WAIT"},
                  {CommandType::kExecuteTask, "EXECUTE_TASK"})
DSCHED_ENUM_NAMES(FailureStrategy, {FailureStrategy::kEnd, "END"},
                  {FailureStrategy::kContinue, "CONTINUE"})
DSCHED_ENUM_NAMES(TaskDependType, {TaskDependType::kTaskOnly, "TASK_ONLY"},
                  {TaskDependType::kTaskPre, "TASK_PRE"}, {TaskDependType::kTaskPost, "TASK_POST"})
DSCHED_ENUM_NAMES(Priority, {Priority::kHighest, "HIGHEST"}, {Priority::kHigh, "HIGH"},
                  {Priority::kMedium, "MEDIUM"}, {Priority::kLow, "LOW"},
                  {Priority::kLowest, "LOWEST"})
DSCHED_ENUM_NAMES(TimeoutStrategy, {TimeoutStrategy::kWarn, "WARN"},
                  {TimeoutStrategy::kFailed, "FAILED"},
                  {TimeoutStrategy::kWarnFailed, "WARNFAILED"})
DSCHED_ENUM_NAMES(Flag, {Flag::kNo, "NO"}, {Flag::kYes, "YES"})
DSCHED_ENUM_NAMES(ReleaseState, {ReleaseState::kOffline, "OFFLINE"},
                  {ReleaseState::kOnline, "ONLINE"})
DSCHED_ENUM_NAMES(ExecutionType, {ExecutionType::kParallel, "PARALLEL"},
                  {ExecutionType::kSerialWait, "SERIAL_WAIT"},
                  {ExecutionType::kSerialDiscard, "SERIAL_DISCARD"},
                  {ExecutionType::kSerialPriority, "SERIAL_PRIORITY"})
DSCHED_ENUM_NAMES(WarningType, {WarningType::kNone, "NONE"}, {WarningType::kSuccess, "SUCCESS"},
                  {WarningType::kFailure, "FAILURE"}, {WarningType::kAll, "ALL"})

template <typename E>
const char* Name(E e) {
  for (const auto& [v, n] : EnumNames<E>::Get())
    if (v == e) return n;
  return "UNKNOWN";
}

template <typename E>
std::optional<E> Parse(std::string_view name) {
  for (const auto& [v, n] : EnumNames<E>::Get())
    if (name == n) return v;
  return std::nullopt;
}

template <typename E>
std::optional<E> FromCode(int code) {
  for (const auto& [v, n] : EnumNames<E>::Get())
    if (static_cast<int>(v) == code) return v;
  return std::nullopt;
}

template <typename E>
int Code(E e) {
  return static_cast<int>(e);
}

// "A|B|C" for error messages that list the accepted names.
template <typename E>
std::string AcceptedNames() {
  std::string s;
  for (const auto& [v, n] : EnumNames<E>::Get()) {
    if (!s.empty()) s += "|";
    s += n;
  }
  return s;
}

}  // namespace dsched
