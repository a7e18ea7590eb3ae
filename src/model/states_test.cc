#include "model/states.h"

#include <gtest/gtest.h>

namespace dsched {
namespace {

TEST(StatesTest, CodesAreDolphinSchedulers) {
  EXPECT_EQ(Code(WorkflowState::kSerialWait), 14);
  EXPECT_EQ(Code(WorkflowState::kFailover), 18);
  EXPECT_EQ(Code(TaskState::kForcedSuccess), 13);
  EXPECT_EQ(Code(TaskState::kDispatch), 17);
  EXPECT_EQ(*Parse<TaskState>("NEED_FAULT_TOLERANCE"), TaskState::kNeedFaultTolerance);
  EXPECT_FALSE(Parse<TaskState>("RUNNING").has_value());
}

TEST(StatesTest, TransitionsAreChecked) {
  EXPECT_TRUE(IsLegal(TaskState::kSubmittedSuccess, TaskState::kDispatch));
  EXPECT_TRUE(IsLegal(TaskState::kRunningExecution, TaskState::kSuccess));
  EXPECT_FALSE(IsLegal(TaskState::kSuccess, TaskState::kRunningExecution));
  EXPECT_FALSE(IsLegal(TaskState::kKill, TaskState::kSuccess));
  EXPECT_TRUE(IsLegal(WorkflowState::kReadyPause, WorkflowState::kPause));
  EXPECT_FALSE(IsLegal(WorkflowState::kSuccess, WorkflowState::kPause));
  EXPECT_TRUE(IsFinal(WorkflowState::kPause));
  EXPECT_FALSE(IsFinal(WorkflowState::kReadyStop));
}

}  // namespace
}  // namespace dsched
