// Engine tests with a FakeClock and a scripted worker: retry intervals, delays and timeouts
// happen when the clock is advanced, never by sleeping; events are repeated and reordered to
// show that their handling is idempotent; a fenced-out owner drops its instance.
#include "master/engine.h"

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>

#include "model/states.h"
#include "storage/sql/sql_store.h"

namespace dsched {
namespace {

// Records dispatches and kills; the test answers with events.
class ScriptedWorker : public WorkerClient {
 public:
  Status Dispatch(const TaskDispatch& d) override {
    std::lock_guard<std::mutex> l(mu_);
    dispatched.push_back(d);
    return Status::Ok();
  }
  Status Kill(int64_t id, int attempt, int64_t epoch) override {
    std::lock_guard<std::mutex> l(mu_);
    killed.push_back(id);
    return Status::Ok();
  }
  Status Reattach(const TaskDispatch& d) override { return Dispatch(d); }
  std::vector<TaskDispatch> Dispatched() {
    std::lock_guard<std::mutex> l(mu_);
    return dispatched;
  }
  std::mutex mu_;
  std::vector<TaskDispatch> dispatched;
  std::vector<int64_t> killed;
};

class EngineTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-engine-XXXXXX";
    dir_ = mkdtemp(tmpl);
    DbOptions db;
    db.sqlite_path = dir_ + "/dsched.db";
    db.pool_size = 2;
    auto s = SqlStore::Open(db, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    EngineOptions eo;
    eo.epoch = 1;
    engine_ = std::make_unique<Engine>(eo, clock_, *store_, *store_);
    engine_->SetWorker(&worker_);
    ASSERT_TRUE(engine_->Start().ok());
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  // Workflow 10 of one SHELL task "A" (code 11), configured by `tune`, and a command to start it.
  void OneTaskCommand(const std::function<void(TaskDefinition&)>& tune) {
    WorkflowDefinition d;
    d.code = 10;
    d.name = "wf";
    d.project_code = 1;
    TaskDefinition t;
    t.code = 11;
    t.name = "A";
    t.task_type = "SHELL";
    t.task_params = {{"rawScript", "true"}};
    tune(t);
    d.tasks.push_back(t);
    d.relations.push_back({"", 0, 0, 11, 0});
    EXPECT_TRUE(store_->CreateWorkflow(d).ok());
    Command c;
    c.definition_code = 10;
    c.project_code = 1;
    EXPECT_TRUE(store_->InsertCommand(c).ok());
  }

  // One SHELL task "A", configured by `tune`, started at once.
  int64_t StartOneTask(const std::function<void(TaskDefinition&)>& tune) {
    OneTaskCommand(tune);
    engine_->WakeCommands();
    engine_->Sync();
    auto page = store_->ListWorkflowInstances({}, {0, 10});
    EXPECT_TRUE(page.ok() && page->rows.size() == 1);
    return page->rows.front().id;
  }

  void Send(const TaskDispatch& d, TaskEventType type, TaskState state) {
    TaskEvent e;
    e.type = type;
    e.task_instance_id = d.task_instance_id;
    e.attempt = d.attempt;
    e.master_epoch = d.master_epoch;
    e.workflow_instance_id = d.workflow_instance_id;
    e.state = state;
    e.time_ms = clock_.NowMs();
    engine_->OnTaskEvent(e);
    engine_->Sync();
  }

  std::vector<TaskInstance> Rows(int64_t wi) { return *store_->ListTaskInstances(wi); }
  WorkflowState StateOf(int64_t wi) { return store_->GetWorkflowInstance(wi)->state; }

  FakeClock clock_;
  ScriptedWorker worker_;
  std::string dir_;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, RetryWaitsExactlyItsInterval) {
  int64_t wi = StartOneTask([](TaskDefinition& t) {
    t.fail_retry_times = 1;
    t.fail_retry_interval = 2;  // minutes
  });
  ASSERT_EQ(worker_.Dispatched().size(), 1u);
  TaskDispatch first = worker_.Dispatched()[0];
  Send(first, TaskEventType::kRunning, TaskState::kRunningExecution);
  Send(first, TaskEventType::kFinished, TaskState::kFailure);
  clock_.Advance(2 * 60000 - 1);
  engine_->Sync();
  EXPECT_EQ(worker_.Dispatched().size(), 1u) << "retried before the interval";
  clock_.Advance(1);
  engine_->Sync();
  ASSERT_EQ(worker_.Dispatched().size(), 2u);
  TaskDispatch second = worker_.Dispatched()[1];
  EXPECT_EQ(second.attempt, 1);
  EXPECT_NE(second.task_instance_id, first.task_instance_id) << "a retry is a new row";
  Send(second, TaskEventType::kFinished, TaskState::kSuccess);
  EXPECT_EQ(StateOf(wi), WorkflowState::kSuccess);
  auto rows = Rows(wi);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].flag, Flag::kNo);
  EXPECT_EQ(rows[1].first_submit_time, rows[0].first_submit_time);
  EXPECT_EQ(rows[1].submit_time - rows[0].submit_time, 2 * 60000);
  EXPECT_EQ(engine_->RunnerCount(), 0u);
}

TEST_F(EngineTest, DelayHoldsTheDispatchAndTimeoutTravelsWithIt) {
  int64_t wi = StartOneTask([](TaskDefinition& t) {
    t.delay_time = 3;
    t.timeout_enabled = true;
    t.timeout = 5;
    t.timeout_strategy = TimeoutStrategy::kWarnFailed;
  });
  EXPECT_EQ(worker_.Dispatched().size(), 0u);
  EXPECT_EQ(Rows(wi)[0].state, TaskState::kDelayExecution);
  clock_.Advance(3 * 60000);
  engine_->Sync();
  ASSERT_EQ(worker_.Dispatched().size(), 1u);
  EXPECT_EQ(worker_.Dispatched()[0].timeout_ms, 5 * 60000);
  EXPECT_TRUE(worker_.Dispatched()[0].timeout_kills);
}

TEST_F(EngineTest, RepeatedStaleAndForeignEventsChangeNothing) {
  int64_t wi = StartOneTask([](TaskDefinition&) {});
  TaskDispatch d = worker_.Dispatched()[0];
  Send(d, TaskEventType::kRunning, TaskState::kRunningExecution);
  int64_t started = Rows(wi)[0].start_time;
  clock_.Advance(5000);
  Send(d, TaskEventType::kRunning, TaskState::kRunningExecution);  // repeated
  EXPECT_EQ(Rows(wi)[0].start_time, started);
  TaskDispatch wrong_attempt = d;
  wrong_attempt.attempt = 3;
  Send(wrong_attempt, TaskEventType::kFinished, TaskState::kFailure);
  TaskDispatch old_epoch = d;
  old_epoch.master_epoch = 0;
  Send(old_epoch, TaskEventType::kFinished, TaskState::kFailure);
  EXPECT_EQ(Rows(wi)[0].state, TaskState::kRunningExecution);
  Send(d, TaskEventType::kFinished, TaskState::kSuccess);
  Send(d, TaskEventType::kFinished, TaskState::kFailure);  // after the end: ignored
  EXPECT_EQ(Rows(wi)[0].state, TaskState::kSuccess);
  EXPECT_EQ(StateOf(wi), WorkflowState::kSuccess);
  EXPECT_EQ(worker_.Dispatched().size(), 1u);
}

TEST_F(EngineTest, AnOwnerFencedOutDropsTheInstance) {
  int64_t wi = StartOneTask([](TaskDefinition&) {});
  TaskDispatch d = worker_.Dispatched()[0];
  // Another master takes the instance over (compare-and-set on owner_epoch).
  ASSERT_TRUE(store_->TakeOwnership(wi, 1, "other:5678", 2).ok());
  Send(d, TaskEventType::kFinished, TaskState::kSuccess);
  EXPECT_EQ(engine_->RunnerCount(), 0u) << "the old owner must let go";
  EXPECT_EQ(Rows(wi)[0].state, TaskState::kSubmittedSuccess) << "a fenced write landed";
  EXPECT_EQ(StateOf(wi), WorkflowState::kRunningExecution);
}

// The outbox rows of alert type FAULT_TOLERANCE_WARNING (4).
std::vector<Alert> FaultToleranceAlerts(SqlStore& store) {
  std::vector<Alert> out;
  auto rows = store.ListWaitingAlerts(100);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return out;
  for (const Alert& a : *rows)
    if (a.alert_type == 4) out.push_back(a);
  return out;
}

// A worker lost twice (a repeated registry notification, or a second watch) fails its task over
// once and writes one fault-tolerance alert naming the worker, the instance and the task, to the
// default alert group, in the commit that ends the lost attempt.
TEST_F(EngineTest, WorkerLostTwiceWritesOneFaultToleranceAlert) {
  int64_t wi = StartOneTask([](TaskDefinition&) {});
  TaskDispatch d = worker_.Dispatched()[0];
  TaskEvent running;
  running.type = TaskEventType::kRunning;
  running.task_instance_id = d.task_instance_id;
  running.attempt = d.attempt;
  running.master_epoch = d.master_epoch;
  running.workflow_instance_id = wi;
  running.state = TaskState::kRunningExecution;
  running.host = "10.0.0.7:1234";
  running.time_ms = clock_.NowMs();
  engine_->OnTaskEvent(running);
  engine_->Sync();
  EXPECT_TRUE(FaultToleranceAlerts(*store_).empty());

  engine_->WorkerLost("10.0.0.7:1234", nullptr);
  engine_->Sync();
  engine_->WorkerLost("10.0.0.7:1234", nullptr);
  engine_->Sync();

  ASSERT_EQ(worker_.Dispatched().size(), 2u) << "the lost attempt runs again once";
  EXPECT_EQ(Rows(wi)[0].state, TaskState::kNeedFaultTolerance);
  auto alerts = FaultToleranceAlerts(*store_);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].title, "Fault tolerance warning");
  EXPECT_EQ(alerts[0].alertgroup_id, 1);
  auto content = nlohmann::json::parse(alerts[0].content);
  ASSERT_EQ(content.size(), 1u);
  EXPECT_EQ(content[0]["type"], "WORKER");
  EXPECT_EQ(content[0]["host"], "10.0.0.7:1234");
  EXPECT_EQ(content[0]["processId"], wi);
  EXPECT_EQ(content[0]["processName"], store_->GetWorkflowInstance(wi)->name);
  EXPECT_EQ(content[0]["taskNames"], nlohmann::json::array({"A"}));
}

// A master dies; two masters hear of it, one of them twice. Each instance goes to one of them
// (compare-and-set on owner_epoch), and only the one that took it writes the alert: one alert.
TEST_F(EngineTest, MasterLostHeardByTwoMastersWritesOneFaultToleranceAlert) {
  int64_t wi = StartOneTask([](TaskDefinition&) {});
  const std::string dead = store_->GetWorkflowInstance(wi)->host;
  engine_.reset();  // kill -9: the instance stays RUNNING_EXECUTION, owned by `dead`
  ScriptedWorker other_worker;
  auto master = [&](const std::string& host, int64_t epoch) {
    EngineOptions eo;
    eo.host = host;
    eo.epoch = epoch;
    eo.master_alive = [](const std::string&) { return true; };  // start-up takes nothing
    auto e = std::make_unique<Engine>(eo, clock_, *store_, *store_);
    e->SetWorker(&other_worker);
    EXPECT_TRUE(e->Start().ok());
    return e;
  };
  auto b = master("10.0.0.2:5678", 2), c = master("10.0.0.3:5678", 3);
  b->TakeOver(dead);
  c->TakeOver(dead);
  b->TakeOver(dead);
  b->Sync();
  c->Sync();

  EXPECT_EQ(b->RunnerCount() + c->RunnerCount(), 1u);
  auto alerts = FaultToleranceAlerts(*store_);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alertgroup_id, 1);
  auto content = nlohmann::json::parse(alerts[0].content);
  ASSERT_EQ(content.size(), 1u);
  EXPECT_EQ(content[0]["type"], "MASTER");
  EXPECT_EQ(content[0]["host"], dead);
  EXPECT_EQ(content[0]["processId"], wi);
  EXPECT_EQ(content[0]["processHost"], store_->GetWorkflowInstance(wi)->host)
      << "the row names the master that has the instance now";
}

// Task groups across a master restart: the task that held the slot keeps it (re-attached, no
// second slot taken), the waiter still waits, and the slot passes on when the holder ends.
TEST_F(EngineTest, TaskGroupSlotsSurviveARestart) {
  engine_->Stop();
  engine_ = std::make_unique<Engine>(EngineOptions{}, clock_, *store_, *store_);
  engine_->SetWorker(&worker_);
  engine_->SetTaskGroupStore(store_.get());
  ASSERT_TRUE(engine_->Start().ok());
  TaskGroup g;
  g.name = "single";
  g.group_size = 1;
  auto group = store_->CreateTaskGroup(g);
  ASSERT_TRUE(group.ok());
  WorkflowDefinition d;
  d.code = 10;
  d.name = "wf";
  d.project_code = 1;
  for (int64_t code : {11, 12}) {
    TaskDefinition t;
    t.code = code;
    t.name = code == 11 ? "A" : "B";
    t.task_type = "SHELL";
    t.task_params = {{"rawScript", "true"}};
    t.task_group_id = group->id;
    d.tasks.push_back(t);
    d.relations.push_back({"", 0, 0, code, 0});
  }
  ASSERT_TRUE(store_->CreateWorkflow(d).ok());
  Command c;
  c.definition_code = 10;
  c.project_code = 1;
  ASSERT_TRUE(store_->InsertCommand(c).ok());
  engine_->WakeCommands();
  engine_->Sync();
  ASSERT_EQ(worker_.Dispatched().size(), 1u) << "only the slot holder is dispatched";
  TaskDispatch holder = worker_.Dispatched()[0];
  Send(holder, TaskEventType::kRunning, TaskState::kRunningExecution);
  int64_t wi = holder.workflow_instance_id;
  auto waiter_state = [&] {
    for (const auto& t : Rows(wi))
      if (t.id != holder.task_instance_id) return t.state;
    return TaskState::kFailure;
  };
  EXPECT_EQ(waiter_state(), TaskState::kSubmittedSuccess);
  EXPECT_EQ(store_->GetTaskGroup(group->id)->use_size, 1);

  // Restart: a new engine (next epoch) takes the instance over.
  engine_->Stop();
  EngineOptions eo;
  eo.epoch = 2;
  engine_ = std::make_unique<Engine>(eo, clock_, *store_, *store_);
  engine_->SetWorker(&worker_);
  engine_->SetTaskGroupStore(store_.get());
  ASSERT_TRUE(engine_->Start().ok());
  engine_->Sync();
  ASSERT_EQ(worker_.Dispatched().size(), 2u) << "the holder is re-attached, the waiter waits";
  TaskDispatch reattached = worker_.Dispatched()[1];
  EXPECT_EQ(reattached.task_instance_id, holder.task_instance_id);
  EXPECT_EQ(store_->GetTaskGroup(group->id)->use_size, 1);
  EXPECT_EQ(waiter_state(), TaskState::kSubmittedSuccess);

  Send(reattached, TaskEventType::kFinished, TaskState::kSuccess);
  engine_->Sync();
  ASSERT_EQ(worker_.Dispatched().size(), 3u) << "the waiter got the slot";
  TaskDispatch second = worker_.Dispatched()[2];
  EXPECT_NE(second.task_instance_id, holder.task_instance_id);
  EXPECT_EQ(store_->GetTaskGroup(group->id)->use_size, 1);
  Send(second, TaskEventType::kFinished, TaskState::kSuccess);
  engine_->Sync();
  EXPECT_EQ(StateOf(wi), WorkflowState::kSuccess);
  EXPECT_EQ(store_->GetTaskGroup(group->id)->use_size, 0);
}

}  // namespace
}  // namespace dsched

namespace dsched {
namespace {

// The real store, except that the first claim commits and then answers as if the connection
// broke before the answer came back: the outcome the engine cannot know.
class ClaimAnswerLost : public InstanceStore {
 public:
  explicit ClaimAnswerLost(InstanceStore& s) : s_(s) {}
  std::atomic<int> lost{0};
  Status ClaimCommand(int64_t command_id, WorkflowInstance* instance, int64_t expected_epoch,
                      const std::vector<TaskInstance>& supersede) override {
    Status st = s_.ClaimCommand(command_id, instance, expected_epoch, supersede);
    if (st.ok() && lost.fetch_add(1) == 0)
      return Unavailable("claim command: the database is unreachable: connection lost");
    return st;
  }
  StatusOr<int64_t> InsertCommand(Command c) override { return s_.InsertCommand(c); }
  StatusOr<std::vector<Command>> ListCommands(int limit) override { return s_.ListCommands(limit); }
  Status FailCommand(const Command& c, const std::string& m) override { return s_.FailCommand(c, m); }
  StatusOr<WorkflowInstance> GetWorkflowInstance(int64_t id) override {
    return s_.GetWorkflowInstance(id);
  }
  StatusOr<PageResult<WorkflowInstance>> ListWorkflowInstances(const InstanceFilter& f,
                                                               Page p) override {
    return s_.ListWorkflowInstances(f, p);
  }
  StatusOr<std::vector<WorkflowInstance>> ListByTrigger(int64_t t) override {
    return s_.ListByTrigger(t);
  }
  StatusOr<std::vector<WorkflowInstance>> ListUnfinished() override { return s_.ListUnfinished(); }
  Status TakeOwnership(int64_t id, int64_t e, const std::string& h, int64_t n) override {
    return s_.TakeOwnership(id, e, h, n);
  }
  StatusOr<int64_t> MaxOwnerEpoch() override { return s_.MaxOwnerEpoch(); }
  StatusOr<TaskInstance> GetTaskInstance(int64_t id) override { return s_.GetTaskInstance(id); }
  StatusOr<std::vector<TaskInstance>> ListTaskInstances(int64_t id) override {
    return s_.ListTaskInstances(id);
  }
  StatusOr<PageResult<TaskInstance>> ListTaskInstancesPaged(const TaskInstanceFilter& f,
                                                            Page p) override {
    return s_.ListTaskInstancesPaged(f, p);
  }
  Status Commit(WriteBatch& b) override { return s_.Commit(b); }
  StatusOr<std::vector<std::string>> DeleteWorkflowInstance(int64_t id) override {
    return s_.DeleteWorkflowInstance(id);
  }
  Status UpdateFinishedInstance(const WorkflowInstance& wi) override {
    return s_.UpdateFinishedInstance(wi);
  }

 private:
  InstanceStore& s_;
};

// A claim whose answer was lost: the command is gone and the instance exists, owned by this
// master. The engine must neither move the command to the error table nor leave the instance
// unrun: it adopts it on its next scan and runs each task once.
TEST_F(EngineTest, InstanceOfAClaimWhoseAnswerWasLostIsAdoptedAndRunsOnce) {
  engine_.reset();
  ClaimAnswerLost flaky(*store_);
  EngineOptions eo;
  eo.epoch = 1;
  engine_ = std::make_unique<Engine>(eo, clock_, *store_, flaky);
  engine_->SetWorker(&worker_);
  ASSERT_TRUE(engine_->Start().ok());
  int64_t wi = StartOneTask([](TaskDefinition&) {});
  EXPECT_EQ(flaky.lost.load(), 1);
  // The next scan adopts it (that may already have been the engine's own start-up scan).
  engine_->WakeCommands();
  engine_->Sync();
  ASSERT_EQ(worker_.Dispatched().size(), 1u);
  TaskDispatch d = worker_.Dispatched()[0];
  EXPECT_EQ(d.workflow_instance_id, wi);
  Send(d, TaskEventType::kRunning, TaskState::kRunningExecution);
  Send(d, TaskEventType::kFinished, TaskState::kSuccess);
  EXPECT_EQ(StateOf(wi), WorkflowState::kSuccess);
  EXPECT_EQ(Rows(wi).size(), 1u);
  EXPECT_EQ(store_->ListWorkflowInstances({}, {0, 10})->rows.size(), 1u);
  soci::session probe(soci::sqlite3, dir_ + "/dsched.db");
  int errors = -1;
  probe << "SELECT COUNT(*) FROM t_ds_error_command", soci::into(errors);
  EXPECT_EQ(errors, 0) << "the command went to the error table";
}

// Overload protection: while the master is overloaded a command waits in the table; the first
// scan after the load drops takes it.
TEST_F(EngineTest, OverloadedMasterLeavesCommandsWaiting) {
  engine_.reset();
  std::atomic<bool> overloaded{true};
  EngineOptions eo;
  eo.epoch = 1;
  eo.accept_commands = [&overloaded] { return !overloaded.load(); };
  engine_ = std::make_unique<Engine>(eo, clock_, *store_, *store_);
  engine_->SetWorker(&worker_);
  ASSERT_TRUE(engine_->Start().ok());
  OneTaskCommand([](TaskDefinition&) {});
  for (int i = 0; i < 2; ++i) {
    engine_->WakeCommands();
    engine_->Sync();
  }
  EXPECT_EQ(store_->ListCommands(10)->size(), 1u);
  EXPECT_TRUE(store_->ListWorkflowInstances({}, {0, 10})->rows.empty());
  EXPECT_TRUE(worker_.Dispatched().empty());
  overloaded = false;
  engine_->WakeCommands();
  engine_->Sync();
  EXPECT_TRUE(store_->ListCommands(10)->empty());
  EXPECT_EQ(store_->ListWorkflowInstances({}, {0, 10})->rows.size(), 1u);
  EXPECT_EQ(worker_.Dispatched().size(), 1u);
}

TEST(CommitWaitTest, ConfiguredWaitIsKeptAndTheAdaptiveOneGrowsWithTasksUnderWayUpToACap) {
  EXPECT_EQ(CommitWaitUs(0, 500), 0);  // standalone: never waits
  EXPECT_EQ(CommitWaitUs(2000, 0), 2000);
  EXPECT_EQ(CommitWaitUs(-1, 0), 0);  // nothing else under way: nothing to wait for
  EXPECT_EQ(CommitWaitUs(-1, 1), 100);
  EXPECT_EQ(CommitWaitUs(-1, 40), 4000);
  EXPECT_EQ(CommitWaitUs(-1, 100), 10000);
  EXPECT_EQ(CommitWaitUs(-1, 5000), 10000);
}

}  // namespace
}  // namespace dsched
