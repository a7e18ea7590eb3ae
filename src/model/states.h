// State predicates and the legal transitions of workflow and task instances, as data
// (DESIGN.md §4). Every state write in dsched is checked against these tables. Pure.
#pragma once

#include "model/enums.h"

namespace dsched {

bool IsFinal(WorkflowState s);  // SUCCESS, FAILURE, STOP, PAUSE
bool IsFinal(TaskState s);      // SUCCESS, FAILURE, KILL, PAUSE, FORCED_SUCCESS, NEED_FAULT_TOLERANCE
bool IsSuccess(TaskState s);    // SUCCESS or FORCED_SUCCESS
bool IsRunning(WorkflowState s);

bool IsLegal(WorkflowState from, WorkflowState to);
bool IsLegal(TaskState from, TaskState to);

}  // namespace dsched
