// Conformance of SqlStore's AlertStore on every test database: the outbox's waiting scan, the
// once-only status change of MarkAlert, and alerts written by a group commit only when the
// group's fence held, once even when the batch is committed again.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

class AlertStoreTest : public StoreTest {
 protected:
  AlertStoreTest() : StoreTest(1700000000000) {}
  Alert Make(const std::string& title, int64_t group = 1) {
    Alert a;
    a.title = title;
    a.content = R"([{"processName":"wf"}])";
    a.warning_type = 2;
    a.alertgroup_id = group;
    a.project_code = 7;
    a.process_definition_code = 8;
    a.process_instance_id = 9;
    a.alert_type = 1;
    return a;
  }
  WorkflowInstance Claimed(int64_t epoch) {
    auto id = store_->InsertCommand(Command{});
    EXPECT_TRUE(id.ok());
    WorkflowInstance wi;
    wi.name = "wf";
    wi.definition_code = 8;
    wi.owner_epoch = epoch;
    EXPECT_TRUE(store_->ClaimCommand(*id, &wi, 0, {}).ok());
    return wi;
  }
};

TEST_P(AlertStoreTest, InsertedRowsWaitInOrderAndRoundTrip) {
  Alert a = Make("first");
  a.alert_status = 1;  // ignored: a new row always waits
  auto id1 = store_->InsertAlert(a);
  ASSERT_TRUE(id1.ok()) << id1.status().ToString();
  auto id2 = store_->InsertAlert(Make("second", 2));
  ASSERT_TRUE(id2.ok());
  auto got = store_->GetAlert(*id1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->title, "first");
  EXPECT_EQ(got->content, R"([{"processName":"wf"}])");
  EXPECT_EQ(got->alert_status, 0);
  EXPECT_EQ(got->warning_type, 2);
  EXPECT_EQ(got->alertgroup_id, 1);
  EXPECT_EQ(got->project_code, 7);
  EXPECT_EQ(got->process_definition_code, 8);
  EXPECT_EQ(got->process_instance_id, 9);
  EXPECT_EQ(got->alert_type, 1);
  EXPECT_EQ(got->create_time, 1700000000000);
  auto waiting = store_->ListWaitingAlerts(10);
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 2u);
  EXPECT_EQ((*waiting)[0].id, *id1);
  EXPECT_EQ((*waiting)[1].id, *id2);
  auto one = store_->ListWaitingAlerts(1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(store_->GetAlert(999999).status().code(), StatusCode::kNotFound);
}

TEST_P(AlertStoreTest, MarkChangesAWaitingRowOnce) {
  auto id = store_->InsertAlert(Make("a"));
  ASSERT_TRUE(id.ok());
  // Progress: the log changes, the row still waits; twice is harmless.
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(store_->MarkAlert(*id, 0, R"([{"status":"true"}])").ok()) << i;
  auto mid = store_->GetAlert(*id);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->alert_status, 0);
  EXPECT_EQ(mid->log, R"([{"status":"true"}])");

  clock_.Advance(5);
  ASSERT_TRUE(store_->MarkAlert(*id, 1, "sent").ok());
  // A second sender finishing the same row is refused and changes nothing.
  EXPECT_EQ(store_->MarkAlert(*id, 2, "failed").code(), StatusCode::kAborted);
  EXPECT_EQ(store_->MarkAlert(*id, 0, "progress").code(), StatusCode::kAborted);
  auto done = store_->GetAlert(*id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->alert_status, 1);
  EXPECT_EQ(done->log, "sent");
  EXPECT_EQ(done->update_time, 1700000000005);
  auto waiting = store_->ListWaitingAlerts(10);
  ASSERT_TRUE(waiting.ok());
  EXPECT_TRUE(waiting->empty());

  EXPECT_EQ(store_->MarkAlert(999999, 1, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->MarkAlert(*id, 7, "x").code(), StatusCode::kInvalidArgument);
}

TEST_P(AlertStoreTest, CommitWritesAlertsOnlyWhenTheFenceHolds) {
  WorkflowInstance wi = Claimed(5);
  wi.state = WorkflowState::kFailure;
  WriteBatch b;
  b.UpdateWorkflow(wi);
  b.AddAlert(wi.id, wi.owner_epoch, Make("wf failed"));
  ASSERT_TRUE(store_->Commit(b).ok());
  ASSERT_FALSE(b.groups()[wi.id].lost);
  auto waiting = store_->ListWaitingAlerts(10);
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].title, "wf failed");
  EXPECT_EQ((*waiting)[0].id, b.groups()[wi.id].alerts[0].id);

  // The same batch committed again (its earlier COMMIT's answer was lost): no second row.
  ASSERT_TRUE(store_->Commit(b).ok());
  waiting = store_->ListWaitingAlerts(10);
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->size(), 1u);

  // An alert of a master that lost the instance is not written.
  ASSERT_TRUE(store_->TakeOwnership(wi.id, 5, "other:5678", 6).ok());
  WriteBatch stale;
  stale.AddAlert(wi.id, 5, Make("stale"));
  ASSERT_TRUE(store_->Commit(stale).ok());
  EXPECT_TRUE(stale.groups()[wi.id].lost);
  waiting = store_->ListWaitingAlerts(10);
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Db, AlertStoreTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
