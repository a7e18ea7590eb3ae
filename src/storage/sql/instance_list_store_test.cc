// The workflow instance list page's reads on every database: its rows, read by column position
// through statements a SQLite reader connection keeps prepared (sql_util.h StatementCache),
// carry every column as the single-instance read does, and never show an old snapshot.
#include <gtest/gtest.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cstdlib>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

class InstanceListStoreTest : public StoreTest {
 protected:
  // Stores an instance of project 1 through `store` (a claimed command), with `seed` making
  // every column's value distinct from the others'.
  WorkflowInstance Stored(SqlStore& store, int64_t seed, WorkflowState state) {
    Command c;
    c.definition_code = 100;
    c.project_code = 1;
    auto id = store.InsertCommand(c);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    WorkflowInstance w;
    w.name = "wf-" + std::to_string(seed);
    w.definition_code = 100;
    w.definition_version = 3;
    w.project_code = 1;
    w.state = state;
    w.state_history = "[{\"s\":" + std::to_string(seed) + "}]";
    w.recovery = 1;
    w.start_time = seed * 1000 + 11;
    w.end_time = seed * 1000 + 12;
    w.run_times = 4;
    w.host = "10.0.0." + std::to_string(seed % 250) + ":5678";
    w.owner_epoch = seed + 13;
    w.command_type = static_cast<CommandType>(5);
    w.command_param = "{\"p\":" + std::to_string(seed) + "}";
    w.task_depend_type = static_cast<TaskDependType>(1);
    w.failure_strategy = static_cast<FailureStrategy>(1);
    w.warning_type = static_cast<WarningType>(2);
    w.warning_group_id = seed + 14;
    w.schedule_time = seed * 1000 + 15;
    w.command_start_time = seed * 1000 + 16;
    w.global_params = "[{\"prop\":\"g" + std::to_string(seed) + "\"}]";
    w.executor_id = seed + 17;
    w.executor_name = "user-" + std::to_string(seed);
    w.is_sub_process = 1;
    w.history_cmd = "START_PROCESS," + std::to_string(seed);
    w.priority = static_cast<Priority>(4);
    w.worker_group = "group-" + std::to_string(seed);
    w.timeout = 18;
    w.var_pool = "[{\"v\":" + std::to_string(seed) + "}]";
    w.dry_run = 1;
    w.restart_time = seed * 1000 + 19;
    w.trigger_code = seed + 20;
    Status s = store.ClaimCommand(*id, &w, 0, {});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return w;
  }
  std::vector<WorkflowInstance> Page1(SqlStore& store, InstanceFilter f = {}) {
    f.project_code = 1;
    auto page = store.ListWorkflowInstances(f, Page{0, 20});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->rows : std::vector<WorkflowInstance>{};
  }
};

TEST_P(InstanceListStoreTest, ListRowsCarryEveryColumnAsTheSingleReadDoes) {
  WorkflowInstance w = Stored(*store_, 7, WorkflowState::kFailure);
  auto rows = Page1(*store_);
  ASSERT_EQ(rows.size(), 1u);
  const WorkflowInstance& l = rows[0];
  auto one = store_->GetWorkflowInstance(w.id);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  const WorkflowInstance& g = *one;
  EXPECT_EQ(l.id, w.id);
  EXPECT_EQ(l.id, g.id);
  EXPECT_EQ(l.name, g.name);
  EXPECT_EQ(l.name, "wf-7");
  EXPECT_EQ(l.definition_code, g.definition_code);
  EXPECT_EQ(l.definition_version, g.definition_version);
  EXPECT_EQ(l.project_code, g.project_code);
  EXPECT_EQ(l.state, g.state);
  EXPECT_EQ(l.state, WorkflowState::kFailure);
  EXPECT_EQ(l.state_history, g.state_history);
  EXPECT_EQ(l.recovery, g.recovery);
  EXPECT_EQ(l.start_time, g.start_time);
  EXPECT_EQ(l.start_time, 7011);
  EXPECT_EQ(l.end_time, g.end_time);
  EXPECT_EQ(l.run_times, g.run_times);
  EXPECT_EQ(l.host, g.host);
  EXPECT_EQ(l.owner_epoch, g.owner_epoch);
  EXPECT_EQ(l.command_type, g.command_type);
  EXPECT_EQ(l.command_param, g.command_param);
  EXPECT_EQ(l.task_depend_type, g.task_depend_type);
  EXPECT_EQ(l.failure_strategy, g.failure_strategy);
  EXPECT_EQ(l.warning_type, g.warning_type);
  EXPECT_EQ(l.warning_group_id, g.warning_group_id);
  EXPECT_EQ(l.schedule_time, g.schedule_time);
  EXPECT_EQ(l.command_start_time, g.command_start_time);
  EXPECT_EQ(l.global_params, g.global_params);
  EXPECT_EQ(l.executor_id, g.executor_id);
  EXPECT_EQ(l.executor_name, g.executor_name);
  EXPECT_EQ(l.is_sub_process, g.is_sub_process);
  EXPECT_EQ(l.history_cmd, g.history_cmd);
  EXPECT_EQ(l.priority, g.priority);
  EXPECT_EQ(l.worker_group, g.worker_group);
  EXPECT_EQ(l.timeout, g.timeout);
  EXPECT_EQ(l.var_pool, g.var_pool);
  EXPECT_EQ(l.dry_run, g.dry_run);
  EXPECT_EQ(l.restart_time, g.restart_time);
  EXPECT_EQ(l.trigger_code, g.trigger_code);
  EXPECT_EQ(l.trigger_code, 27);
}

TEST_P(InstanceListStoreTest, RepeatedListsSeeEveryNewRowAndEachFilter) {
  // The same statements run again and again (kept on SQLite): each run binds its own values
  // and reads the newest data, also data another process (another store on the same database)
  // wrote.
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  for (int i = 1; i <= 5; ++i) {
    WorkflowState state = i % 2 ? WorkflowState::kSuccess : WorkflowState::kFailure;
    WorkflowInstance w = Stored(i % 2 ? *store_ : *other, i, state);
    auto all = Page1(*store_);
    ASSERT_EQ(all.size(), static_cast<size_t>(i));
    EXPECT_EQ(all.front().id, w.id);  // newest first
    EXPECT_EQ(all.front().name, "wf-" + std::to_string(i));
    InstanceFilter failed;
    failed.state = WorkflowState::kFailure;
    EXPECT_EQ(Page1(*store_, failed).size(), static_cast<size_t>(i / 2));
    InstanceFilter by_host;
    by_host.host = w.host;
    auto hosts = Page1(*store_, by_host);
    ASSERT_EQ(hosts.size(), 1u);
    EXPECT_EQ(hosts[0].id, w.id);
  }
  InstanceFilter none;
  none.host = "nowhere";
  EXPECT_TRUE(Page1(*store_, none).empty());
  InstanceFilter other_project;
  other_project.project_code = 2;
  auto page = store_->ListWorkflowInstances(other_project, Page{0, 20});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->rows.empty());
  EXPECT_EQ(page->total, 0);
}

TEST_P(InstanceListStoreTest, AListLeavesNoReadTransactionOpen) {
  // A reader that kept its statement mid-result would hold its snapshot: a full checkpoint
  // could not finish, and the WAL would grow without bound.
  if (opts_.type != DbType::kSqlite) GTEST_SKIP() << "a SQLite WAL property";
  for (int i = 1; i <= 3; ++i) Stored(*store_, i, WorkflowState::kSuccess);
  ASSERT_EQ(Page1(*store_).size(), 3u);
  InstanceFilter f;
  f.state = WorkflowState::kSuccess;
  ASSERT_EQ(Page1(*store_, f).size(), 3u);
  Stored(*store_, 4, WorkflowState::kSuccess);  // a write after the reads
  soci::session sql("sqlite3", "db=" + opts_.sqlite_path);
  int busy = -1, log = -1, done = -1;
  sql << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(log), soci::into(done);
  EXPECT_EQ(busy, 0);
  ASSERT_EQ(Page1(*store_).size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Db, InstanceListStoreTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
