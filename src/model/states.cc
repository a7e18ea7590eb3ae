#include "model/states.h"

#include <set>
#include <utility>

namespace dsched {

bool IsFinal(WorkflowState s) {
  return s == WorkflowState::kSuccess || s == WorkflowState::kFailure ||
         s == WorkflowState::kStop || s == WorkflowState::kPause;
}

bool IsFinal(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailure || s == TaskState::kKill ||
         s == TaskState::kPause || s == TaskState::kForcedSuccess ||
         s == TaskState::kNeedFaultTolerance;
}

bool IsSuccess(TaskState s) { return s == TaskState::kSuccess || s == TaskState::kForcedSuccess; }

bool IsRunning(WorkflowState s) { return !IsFinal(s); }

namespace {
using W = WorkflowState;
using T = TaskState;

// Workflow: a running instance may be asked to pause or stop, may finish, and a finished one is
// brought back to life only by a recover / rerun command (SUBMITTED or RUNNING again).
const std::set<std::pair<W, W>>& WorkflowEdges() {
  static const std::set<std::pair<W, W>> k = {
      {W::kSubmittedSuccess, W::kRunningExecution}, {W::kSubmittedSuccess, W::kReadyStop},
      {W::kSubmittedSuccess, W::kReadyPause},       {W::kSubmittedSuccess, W::kStop},
      {W::kSubmittedSuccess, W::kFailure},          {W::kSubmittedSuccess, W::kSuccess},
      {W::kSubmittedSuccess, W::kSerialWait},       {W::kSerialWait, W::kSubmittedSuccess},
      {W::kSerialWait, W::kRunningExecution},
      {W::kWaitToRun, W::kRunningExecution},        {W::kWaitToRun, W::kStop},
      {W::kSerialWait, W::kStop},                   {W::kRunningExecution, W::kReadyPause},
      {W::kRunningExecution, W::kReadyStop},        {W::kRunningExecution, W::kSuccess},
      {W::kRunningExecution, W::kFailure},          {W::kRunningExecution, W::kFailover},
      {W::kReadyPause, W::kPause},                  {W::kReadyPause, W::kSuccess},
      {W::kReadyPause, W::kFailure},                {W::kReadyPause, W::kReadyStop},
      {W::kReadyPause, W::kFailover},               {W::kReadyStop, W::kStop},
      {W::kReadyStop, W::kSuccess},                 {W::kReadyStop, W::kFailure},
      {W::kReadyStop, W::kFailover},                {W::kFailover, W::kRunningExecution},
      {W::kFailover, W::kReadyPause},               {W::kFailover, W::kReadyStop},
      // recover / rerun of a finished instance
      {W::kPause, W::kRunningExecution},            {W::kStop, W::kRunningExecution},
      {W::kFailure, W::kRunningExecution},          {W::kSuccess, W::kRunningExecution},
      // force success of the last failed task of a finished instance
      {W::kFailure, W::kSuccess},                   {W::kStop, W::kSuccess},
  };
  return k;
}

const std::set<std::pair<T, T>>& TaskEdges() {
  static const std::set<std::pair<T, T>> k = {
      {T::kSubmittedSuccess, T::kDispatch},
      {T::kSubmittedSuccess, T::kDelayExecution},
      {T::kSubmittedSuccess, T::kRunningExecution},
      {T::kSubmittedSuccess, T::kSuccess},  // logic and dry-run tasks
      {T::kSubmittedSuccess, T::kFailure},
      {T::kSubmittedSuccess, T::kKill},
      {T::kSubmittedSuccess, T::kPause},
      {T::kDelayExecution, T::kDispatch},
      {T::kDelayExecution, T::kKill},
      {T::kDelayExecution, T::kPause},
      {T::kDispatch, T::kRunningExecution},
      {T::kDispatch, T::kSuccess},  // a fast task may report its end before its start
      {T::kDispatch, T::kFailure},
      {T::kDispatch, T::kKill},
      {T::kDispatch, T::kNeedFaultTolerance},
      {T::kRunningExecution, T::kSuccess},
      {T::kRunningExecution, T::kFailure},
      {T::kRunningExecution, T::kKill},
      {T::kRunningExecution, T::kNeedFaultTolerance},
      {T::kRunningExecution, T::kPause},  // a SUB_PROCESS task whose child instance paused
      {T::kFailure, T::kForcedSuccess},
      {T::kKill, T::kForcedSuccess},
      {T::kNeedFaultTolerance, T::kForcedSuccess},
      // a paused row is resumed in place by RECOVER_SUSPENDED_PROCESS
      {T::kPause, T::kSubmittedSuccess},
  };
  return k;
}
}  // namespace

bool IsLegal(WorkflowState from, WorkflowState to) {
  return from == to || WorkflowEdges().count({from, to}) > 0;
}

bool IsLegal(TaskState from, TaskState to) {
  return from == to || TaskEdges().count({from, to}) > 0;
}

}  // namespace dsched
