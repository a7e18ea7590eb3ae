#include "storage/sql/sql_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/clock.h"

namespace dsched {
namespace {

class SqlStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = SqlStore::Open({dir_ + "/db.sqlite", "NORMAL", 2}, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  WorkflowDefinition TwoTasks() {
    WorkflowDefinition d;
    d.code = 100;
    d.name = "wf";
    d.project_code = 1;
    d.user_id = 1;
    for (int i = 1; i <= 2; ++i) {
      TaskDefinition t;
      t.code = 100 + i;
      t.name = "t" + std::to_string(i);
      t.task_type = "SHELL";
      t.task_params = {{"rawScript", "echo " + std::to_string(i)}, {"localParams", nlohmann::json::array()}};
      d.tasks.push_back(t);
    }
    d.relations.push_back({"", 0, 0, 101, 0});
    d.relations.push_back({"", 101, 0, 102, 0});
    return d;
  }
  FakeClock clock_;
  std::string dir_;
  std::unique_ptr<SqlStore> store_;
};

TEST_F(SqlStoreTest, WorkflowVersionsKeepUnchangedTaskVersions) {
  auto created = store_->CreateWorkflow(TwoTasks());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->version, 1);
  EXPECT_FALSE(store_->CreateWorkflow(TwoTasks()).ok()) << "same name twice";

  WorkflowDefinition next = TwoTasks();
  next.tasks[1].task_params["rawScript"] = "echo changed";
  auto updated = store_->UpdateWorkflow(next);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->version, 2);

  auto v2 = store_->GetWorkflow(100);
  ASSERT_TRUE(v2.ok());
  ASSERT_EQ(v2->tasks.size(), 2u);
  std::map<std::string, int> versions;
  for (const auto& t : v2->tasks) versions[t.name] = t.version;
  EXPECT_EQ(versions["t1"], 1);
  EXPECT_EQ(versions["t2"], 2);
  auto v1 = store_->GetWorkflowVersion(100, 1);
  ASSERT_TRUE(v1.ok());
  for (const auto& t : v1->tasks)
    if (t.name == "t2") EXPECT_EQ(t.task_params["rawScript"], "echo 2");
  EXPECT_EQ(v1->relations.size(), 2u);
}

TEST_F(SqlStoreTest, ClaimCommandOnceAndFencedCommit) {
  Command c;
  c.definition_code = 100;
  c.definition_version = 1;
  c.project_code = 1;
  auto id = store_->InsertCommand(c);
  ASSERT_TRUE(id.ok());
  WorkflowInstance wi;
  wi.name = "wf-1";
  wi.definition_code = 100;
  wi.owner_epoch = 5;
  ASSERT_TRUE(store_->ClaimCommand(*id, &wi, 0, {}).ok());
  EXPECT_GT(wi.id, 0);
  WorkflowInstance again;
  EXPECT_EQ(store_->ClaimCommand(*id, &again, 0, {}).code(), StatusCode::kAlreadyExists);

  TaskInstance ti;
  ti.workflow_instance_id = wi.id;
  ti.name = "t1";
  ti.task_type = "SHELL";
  WriteBatch b;
  b.InsertTask(5, &ti);
  ASSERT_TRUE(store_->Commit(b).ok());
  EXPECT_GT(ti.id, 0);
  EXPECT_FALSE(b.groups()[wi.id].lost);

  // Another master takes over: the old owner's writes are refused and nothing changes.
  ASSERT_TRUE(store_->TakeOwnership(wi.id, 5, "other:5678", 6).ok());
  ti.state = TaskState::kSuccess;
  WriteBatch stale;
  stale.UpdateTask(5, ti);
  ASSERT_TRUE(store_->Commit(stale).ok());
  EXPECT_TRUE(stale.groups()[wi.id].lost);
  auto back = store_->GetTaskInstance(ti.id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->state, TaskState::kSubmittedSuccess);
  // Committing the same change twice under the right epoch is harmless (idempotent).
  for (int i = 0; i < 2; ++i) {
    WriteBatch good;
    good.UpdateTask(6, ti);
    ASSERT_TRUE(store_->Commit(good).ok());
  }
  EXPECT_EQ(store_->GetTaskInstance(ti.id)->state, TaskState::kSuccess);
  EXPECT_EQ(*store_->MaxOwnerEpoch(), 6);
}

}  // namespace
}  // namespace dsched

namespace dsched {
namespace {
TEST_F(SqlStoreTest, SessionsAreVisibleToReadersAtOnce) {
  // Readers must never keep an old snapshot: a session created now is found now.
  for (int i = 0; i < 6; ++i) {
    Session s{"sid-" + std::to_string(i), 1, clock_.NowMs(), "127.0.0.1"};
    ASSERT_TRUE(store_->CreateSession(s).ok());
    auto got = store_->GetSession(s.id);
    ASSERT_TRUE(got.ok()) << i << ": " << got.status().ToString();
    EXPECT_EQ(got->user_id, 1);
  }
}
}  // namespace
}  // namespace dsched
