// Conformance of the group commit's task rows on every test database: a batch with many new
// and changed task instances (more than one multi-row statement's worth on the servers), and a
// batch committed again after an attempt of unknown outcome, both checked column by column
// against what was committed. The write paths differ per database (row by row on SQLite,
// multi-row statements on PostgreSQL and MariaDB); the stored rows must not.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

class CommitBatchTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    wi_ = Claimed(4);
  }
  WorkflowInstance Claimed(int64_t epoch) {
    Command c;
    c.definition_code = 100;
    c.definition_version = 1;
    c.project_code = 1;
    auto id = store_->InsertCommand(c);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    WorkflowInstance wi;
    wi.name = "wf-1";
    wi.definition_code = 100;
    wi.project_code = 1;
    wi.owner_epoch = epoch;
    Status s = store_->ClaimCommand(*id, &wi, 0, {});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return wi;
  }
  // A task row whose every column depends on i, with text that needs quoting.
  TaskInstance Task(int i) {
    TaskInstance t;
    t.workflow_instance_id = wi_.id;
    t.workflow_instance_name = "wf-1 'it''s' \"q\" \\ ü";
    t.name = "t_" + std::to_string(i);
    t.task_type = i % 2 ? "SHELL" : "PYTHON";
    t.project_code = 1'500'000'000'000 + i;
    t.task_code = 15'000'000'000'000 + i;
    t.task_definition_version = 1 + i % 3;
    t.first_submit_time = t.submit_time = 1'900'000'000'000 + i;
    t.max_retry_times = i % 4;
    t.retry_interval = 1 + i % 5;
    t.priority = static_cast<Priority>(i % 5);
    t.worker_group = i % 3 ? "default" : "wg-" + std::to_string(i);
    t.executor_id = 7;
    t.delay_time = i % 2;
    t.task_params = "{\"rawScript\":\"echo '" + std::to_string(i) + "'; x=\\\"$y\\\"\"," +
                    "\"localParams\":[]}";
    t.dry_run = i % 2;
    return t;
  }
  // The row as the engine changes it when the task runs and ends.
  static void Finish(TaskInstance& t, int i) {
    t.state = i % 7 ? TaskState::kSuccess : TaskState::kFailure;
    t.start_time = 1'900'000'001'000 + i;
    t.end_time = 1'900'000'002'000 + i;
    t.host = "127.0.0.1:" + std::to_string(1234 + i);
    t.execute_path = "/tmp/exec/" + std::to_string(i);
    t.log_path = "/tmp/log/" + std::to_string(i) + ".log";
    t.pid = 40000 + i;
    t.app_link = i % 5 ? "" : "application_1_" + std::to_string(i);
    t.retry_times = i % 2;
    t.flag = i % 11 ? Flag::kYes : Flag::kNo;
    t.var_pool = "[{\"prop\":\"out\",\"direct\":\"OUT\",\"type\":\"VARCHAR\",\"value\":\"v'" +
                 std::to_string(i) + "\"}]";
  }
  static void ExpectRow(const TaskInstance& want, const TaskInstance& got) {
    SCOPED_TRACE(want.name);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.task_type, want.task_type);
    EXPECT_EQ(got.workflow_instance_id, want.workflow_instance_id);
    EXPECT_EQ(got.workflow_instance_name, want.workflow_instance_name);
    EXPECT_EQ(got.project_code, want.project_code);
    EXPECT_EQ(got.task_code, want.task_code);
    EXPECT_EQ(got.task_definition_version, want.task_definition_version);
    EXPECT_EQ(got.state, want.state);
    EXPECT_EQ(got.first_submit_time, want.first_submit_time);
    EXPECT_EQ(got.submit_time, want.submit_time);
    EXPECT_EQ(got.start_time, want.start_time);
    EXPECT_EQ(got.end_time, want.end_time);
    EXPECT_EQ(got.host, want.host);
    EXPECT_EQ(got.execute_path, want.execute_path);
    EXPECT_EQ(got.log_path, want.log_path);
    EXPECT_EQ(got.retry_times, want.retry_times);
    EXPECT_EQ(got.max_retry_times, want.max_retry_times);
    EXPECT_EQ(got.retry_interval, want.retry_interval);
    EXPECT_EQ(got.pid, want.pid);
    EXPECT_EQ(got.app_link, want.app_link);
    EXPECT_EQ(got.flag, want.flag);
    EXPECT_EQ(got.priority, want.priority);
    EXPECT_EQ(got.worker_group, want.worker_group);
    EXPECT_EQ(got.executor_id, want.executor_id);
    EXPECT_EQ(got.var_pool, want.var_pool);
    EXPECT_EQ(got.delay_time, want.delay_time);
    EXPECT_EQ(got.task_params, want.task_params);
    EXPECT_EQ(got.dry_run, want.dry_run);
  }
  // Every stored row of the instance equals `want` (by id), and there are no others.
  void ExpectStored(const std::vector<TaskInstance>& want) {
    auto rows = store_->ListTaskInstances(wi_.id);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), want.size());
    std::map<int64_t, const TaskInstance*> by_id;
    for (const TaskInstance& t : *rows) by_id[t.id] = &t;
    ASSERT_EQ(by_id.size(), want.size()) << "ids are not distinct";
    for (const TaskInstance& w : want) {
      auto it = by_id.find(w.id);
      ASSERT_NE(it, by_id.end()) << w.name << " (id " << w.id << ") is not stored";
      ExpectRow(w, *it->second);
    }
  }

  WorkflowInstance wi_;
};

TEST_P(CommitBatchTest, ManyInsertsAndUpdatesInOneBatchStoreEveryRowUnderItsId) {
  // 450 new rows: more than one multi-row statement's worth (200 rows) on the servers.
  const int kFirst = 450;
  std::vector<TaskInstance> tasks;
  tasks.reserve(kFirst + 50);
  for (int i = 0; i < kFirst; ++i) tasks.push_back(Task(i));
  WriteBatch b;
  for (auto& t : tasks) b.InsertTask(4, &t);
  ASSERT_TRUE(store_->Commit(b).ok());
  ASSERT_FALSE(b.groups()[wi_.id].lost);
  std::set<int64_t> ids;
  for (const auto& t : tasks) {
    EXPECT_GT(t.id, 0) << t.name;
    ids.insert(t.id);
  }
  EXPECT_EQ(ids.size(), tasks.size());
  // Ids follow the order of the inserts, as the row-by-row path gives them.
  for (size_t i = 1; i < tasks.size(); ++i) EXPECT_LT(tasks[i - 1].id, tasks[i].id);
  ExpectStored(tasks);

  // One batch that changes 300 rows (some twice: the last version counts), leaves the others
  // alone and inserts 50 more; the workflow row changes in the same batch.
  WriteBatch next;
  for (int i = 0; i < 300; ++i) {
    TaskInstance running = tasks[i];
    running.state = TaskState::kRunningExecution;
    running.host = "stale";
    if (i % 3 == 0) next.UpdateTask(4, running);
    Finish(tasks[i], i);
    next.UpdateTask(4, tasks[i]);
  }
  for (int i = kFirst; i < kFirst + 50; ++i) tasks.push_back(Task(i));
  for (int i = kFirst; i < kFirst + 50; ++i) next.InsertTask(4, &tasks[i]);
  wi_.state = WorkflowState::kRunningExecution;
  next.UpdateWorkflow(wi_);
  ASSERT_TRUE(store_->Commit(next).ok());
  ASSERT_FALSE(next.groups()[wi_.id].lost);
  for (int i = kFirst; i < kFirst + 50; ++i) EXPECT_TRUE(ids.insert(tasks[i].id).second);
  ExpectStored(tasks);
  EXPECT_EQ(store_->GetWorkflowInstance(wi_.id)->state, WorkflowState::kRunningExecution);
}

TEST_P(CommitBatchTest, LostFenceWritesNoTaskRow) {
  std::vector<TaskInstance> tasks = {Task(0), Task(1), Task(2)};
  WriteBatch b;
  for (auto& t : tasks) b.InsertTask(4, &t);
  ASSERT_TRUE(store_->Commit(b).ok());
  ASSERT_TRUE(store_->TakeOwnership(wi_.id, 4, "other:1", 5).ok());
  std::vector<TaskInstance> more = {Task(3), Task(4)};
  WriteBatch stale;
  for (auto& t : more) stale.InsertTask(4, &t);
  for (int i = 0; i < 3; ++i) {
    TaskInstance changed = tasks[i];
    Finish(changed, i);
    stale.UpdateTask(4, changed);
  }
  ASSERT_TRUE(store_->Commit(stale).ok());
  EXPECT_TRUE(stale.groups()[wi_.id].lost);
  ExpectStored(tasks);
}

// The engine commits a batch again when the outcome of its COMMIT is unknown (the connection
// broke before the answer). Rows the first attempt did commit are found by their insert keys
// and rewritten under their first ids; rows it did not reach are inserted under their keys.
TEST_P(CommitBatchTest, RetriedBatchWritesEachRowOnceUnderItsFirstId) {
  const int kRows = 230;
  std::vector<TaskInstance> tasks;
  tasks.reserve(kRows);
  for (int i = 0; i < kRows; ++i) tasks.push_back(Task(i));
  WriteBatch b;
  for (auto& t : tasks) b.InsertTask(4, &t);
  ASSERT_TRUE(store_->Commit(b).ok());
  std::vector<int64_t> first_ids;
  for (const auto& t : tasks) first_ids.push_back(t.id);
  const std::vector<std::string> keys = b.groups()[wi_.id].insert_keys;
  ASSERT_EQ(keys.size(), tasks.size());
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());

  // The same batch again, as Commit leaves it after a failed attempt (ids void), with the
  // engine's later changes to some rows in it.
  for (auto& t : tasks) t.id = 0;
  for (int i = 0; i < kRows; i += 4) Finish(tasks[i], i);
  ASSERT_TRUE(store_->Commit(b).ok());
  for (int i = 0; i < kRows; ++i) EXPECT_EQ(tasks[i].id, first_ids[i]) << tasks[i].name;
  ExpectStored(tasks);
  EXPECT_EQ(b.groups()[wi_.id].insert_keys, keys) << "a retry keeps the keys it had";

  // A retried batch of which the first attempt committed only some rows: keys from that
  // attempt that are not in the database are inserted now, under those keys; the committed
  // ones are found. Here rows 0..1 were committed above, the two after them never were.
  std::vector<TaskInstance> mixed = {tasks[0], tasks[1], Task(kRows), Task(kRows + 1)};
  for (auto& t : mixed) t.id = 0;
  Finish(mixed[1], 1001);
  WriteBatch retried;
  for (auto& t : mixed) retried.InsertTask(4, &t);
  retried.groups()[wi_.id].insert_keys = {keys[0], keys[1], "never-committed-a",
                                          "never-committed-b"};
  ASSERT_TRUE(store_->Commit(retried).ok());
  EXPECT_EQ(mixed[0].id, first_ids[0]);
  EXPECT_EQ(mixed[1].id, first_ids[1]);
  EXPECT_GT(mixed[2].id, 0);
  EXPECT_GT(mixed[3].id, 0);
  EXPECT_NE(mixed[2].id, mixed[3].id);
  tasks[1] = mixed[1];
  tasks.push_back(mixed[2]);
  tasks.push_back(mixed[3]);
  ExpectStored(tasks);
  // Committed a third time: still each row once.
  for (auto& t : mixed) t.id = 0;
  ASSERT_TRUE(store_->Commit(retried).ok());
  EXPECT_EQ(mixed[2].id, tasks[kRows].id);
  EXPECT_EQ(mixed[3].id, tasks[kRows + 1].id);
  ExpectStored(tasks);
}

INSTANTIATE_TEST_SUITE_P(Db, CommitBatchTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
