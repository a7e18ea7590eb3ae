#include "worker/worker.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/wait_until.h"

namespace dsched {
namespace {

class RecordingSink : public TaskEventSink {
 public:
  void OnTaskEvent(const TaskEvent& e) override {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  // Waits (bounded) for the finished event of a task instance.
  TaskEvent WaitFinished(int64_t id) {
    std::unique_lock<std::mutex> l(mu_);
    TaskEvent out;
    bool ok = cv_.wait_for(l, std::chrono::seconds(20), [&] {
      for (const auto& e : events_)
        if (e.task_instance_id == id && e.type == TaskEventType::kFinished) {
          out = e;
          return true;
        }
      return false;
    });
    EXPECT_TRUE(ok) << "no finished event for " << id;
    return out;
  }
  std::vector<int64_t> RunningOrder() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<int64_t> out;
    for (const auto& e : events_)
      if (e.type == TaskEventType::kRunning) out.push_back(e.task_instance_id);
    return out;
  }
  TaskEvent WaitRunning(int64_t id) {
    std::unique_lock<std::mutex> l(mu_);
    TaskEvent out;
    cv_.wait_for(l, std::chrono::seconds(20), [&] {
      for (const auto& e : events_)
        if (e.task_instance_id == id && e.type == TaskEventType::kRunning && e.pid > 0) {
          out = e;
          return true;
        }
      return false;
    });
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TaskEvent> events_;
};

class WorkerTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-worker-XXXXXX";
    dir_ = mkdtemp(tmpl);
    worker_ = std::make_unique<Worker>(Options("/exec", "/logs", 4), clock_, launcher_, sink_);
  }
  // A worker whose exec and log dirs are under dir_, without the watchdog.
  WorkerOptions Options(const std::string& exec, const std::string& logs, int threads,
                        const std::string& host = "127.0.0.1:1234") {
    WorkerOptions o;
    o.host = host;
    o.exec_base = dir_ + exec;
    o.log_base = dir_ + logs;
    o.exec_threads = threads;
    o.kill_grace_ms = 500;
    return o;
  }
  void TearDown() override {
    worker_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  TaskDispatch Shell(int64_t id, const std::string& script) {
    TaskDispatch d;
    d.task_instance_id = id;
    d.workflow_instance_id = 1;
    d.task_name = "t" + std::to_string(id);
    d.task_type = "SHELL";
    d.task_params = nlohmann::json{{"rawScript", script}}.dump();
    return d;
  }
  SystemClock clock_;
  PosixProcessLauncher launcher_;
  RecordingSink sink_;
  std::string dir_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, RunsAShellTaskWithParamsAndCollectsSetValue) {
  TaskDispatch d = Shell(1, "echo hello ${who}; echo '${setValue(rows=42)}'");
  d.vars = {{"who", "world"}};
  d.local_params = {{"rows", "OUT", "INTEGER", ""}};
  ASSERT_TRUE(worker_->Dispatch(d).ok());
  ASSERT_TRUE(worker_->Dispatch(d).ok()) << "a repeated dispatch is ignored";
  TaskEvent e = sink_.WaitFinished(1);
  EXPECT_EQ(e.state, TaskState::kSuccess);
  ASSERT_EQ(e.var_pool.size(), 1u);
  EXPECT_EQ(e.var_pool[0].value, "42");
  std::ifstream log(e.log_path);
  std::string all((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(all.find("hello world"), std::string::npos);
}

TEST_F(WorkerTest, ExitCodesMapToStates) {
  ASSERT_TRUE(worker_->Dispatch(Shell(2, "exit 3")).ok());
  EXPECT_EQ(sink_.WaitFinished(2).state, TaskState::kFailure);
  ASSERT_TRUE(worker_->Dispatch(Shell(3, "kill -9 $$")).ok());
  EXPECT_EQ(sink_.WaitFinished(3).state, TaskState::kKill);
}

TEST_F(WorkerTest, KillTakesTheWholeGroup) {
  // The task starts a background child that ignores TERM; the kill must still remove it.
  ASSERT_TRUE(worker_->Dispatch(Shell(4, "(trap '' TERM; sleep 60) & sleep 60")).ok());
  TaskEvent r = sink_.WaitRunning(4);
  ASSERT_GT(r.pid, 0);
  ASSERT_TRUE(worker_->Kill(4, 0, 0).ok());
  EXPECT_EQ(sink_.WaitFinished(4).state, TaskState::kKill);
  EXPECT_NE(::kill(-r.pid, 0), 0) << "process group still alive";
}

TEST_F(WorkerTest, TimeoutFailsTheTask) {
  TaskDispatch d = Shell(5, "sleep 60");
  d.timeout_ms = 200;
  d.timeout_kills = true;
  ASSERT_TRUE(worker_->Dispatch(d).ok());
  TaskEvent e = sink_.WaitFinished(5);
  EXPECT_EQ(e.state, TaskState::kFailure);
  EXPECT_TRUE(e.timed_out);
}

TEST_F(WorkerTest, QueuedAttemptsStartByWorkflowThenTaskPriority) {
  RecordingSink sink;
  WorkerOptions o = Options("/exec2", "/logs2", 1, "h");
  Worker one(o, clock_, launcher_, sink);  // one slot: the rest queue
  TaskDispatch blocker = Shell(10, "sleep 0.3");
  ASSERT_TRUE(one.Dispatch(blocker).ok());
  TaskDispatch low = Shell(11, "true"), high = Shell(12, "true"), urgent_wf = Shell(13, "true");
  low.task_priority = Priority::kLow;
  high.task_priority = Priority::kHigh;
  urgent_wf.workflow_priority = Priority::kHighest;
  urgent_wf.task_priority = Priority::kLowest;
  ASSERT_TRUE(one.Dispatch(low).ok());
  ASSERT_TRUE(one.Dispatch(high).ok());
  ASSERT_TRUE(one.Dispatch(urgent_wf).ok());
  sink.WaitFinished(11);
  sink.WaitFinished(12);
  sink.WaitFinished(13);
  EXPECT_EQ(sink.RunningOrder(), (std::vector<int64_t>{10, 13, 12, 11}));
}

TEST_F(WorkerTest, ReattachReportsAnAttemptThatFinishedWhileNoWorkerListened) {
  TaskDispatch d = Shell(6, "echo done");
  ASSERT_TRUE(worker_->Dispatch(d).ok());
  sink_.WaitFinished(6);
  RecordingSink later;
  Worker second(Options("/exec", "/logs", 4, "h"), clock_, launcher_, later);
  d.master_epoch = 2;
  ASSERT_TRUE(second.Reattach(d).ok());
  EXPECT_EQ(later.WaitFinished(6).state, TaskState::kSuccess);
}

// The task lease of cluster mode (WorkerOptions::lease_file): a task whose worker stopped
// renewing it kills its own process group; one whose lease stays fresh runs to its end, a
// `wait` in its script included (the watchdog is no job of the task's shell).
class LeaseTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    lease_ = dir_ + "/worker.lease";
    WorkerOptions o;
    o.exec_base = dir_ + "/exec-lease";
    o.log_base = dir_ + "/logs";
    o.lease_file = lease_;
    o.lease_limit_s = 1;
    leased_ = std::make_unique<Worker>(o, clock_, launcher_, sink_);
  }
  void TearDown() override {
    leased_.reset();
    WorkerTest::TearDown();
  }
  void Renew() { std::ofstream(lease_) << clock_.NowMs() / 1000 << "\n"; }
  std::string lease_;
  std::unique_ptr<Worker> leased_;
};

TEST_F(LeaseTest, AStaleLeaseKillsTheTaskAndAFreshOneLetsItEnd) {
  std::ofstream(lease_) << "0\n";  // the worker has been silent forever
  ASSERT_TRUE(leased_->Dispatch(Shell(40, "sleep 60")).ok());
  TaskEvent r = sink_.WaitRunning(40);
  ASSERT_GT(r.pid, 0);
  TaskEvent killed = sink_.WaitFinished(40);
  EXPECT_NE(killed.state, TaskState::kSuccess);
  // The watchdog KILLs what ignored the TERM a second later, itself last.
  EXPECT_TRUE(WaitUntil([&] { return ::kill(-r.pid, 0) != 0; }, std::chrono::seconds(10)))
      << "the task's process group is still alive";
  std::ifstream log(killed.log_path);
  std::string all((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(all.find("lease ran out"), std::string::npos) << all;

  std::atomic<bool> stop{false};
  Renew();
  std::thread renewer([&] {
    while (!stop) {
      Renew();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  ASSERT_TRUE(leased_->Dispatch(Shell(41, "sleep 3 & wait; echo done-waiting")).ok());
  TaskEvent ok = sink_.WaitFinished(41);
  stop = true;
  renewer.join();
  EXPECT_EQ(ok.state, TaskState::kSuccess);
}

// The pids of the task watchdogs (StartWatchdog) that watch for the lease file `lease`.
std::vector<int> WatchdogsOf(const std::string& lease) {
  std::vector<int> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    if (cmd.find("dsched-task-watchdog") != std::string::npos &&
        cmd.find(lease + '\0') != std::string::npos)
      pids.push_back(std::stoi(name));
  }
  return pids;
}

TEST_F(LeaseTest, AWorkerStartedAgainOnTheSameLeaseLeavesOnlyItsWatchdog) {
  std::vector<int> first;
  ASSERT_TRUE(WaitUntil([&] { return (first = WatchdogsOf(lease_)).size() == 1; },
                        std::chrono::seconds(10)));
  WorkerOptions o;
  o.exec_base = dir_ + "/exec-lease";
  o.log_base = dir_ + "/logs";
  o.lease_file = lease_;
  o.lease_limit_s = 1;
  Worker again(o, clock_, launcher_, sink_);  // as after a lost registry session
  // The newer watchdog takes the list over; the older one leaves within its next round.
  std::vector<int> now;
  EXPECT_TRUE(WaitUntil(
      [&] { return (now = WatchdogsOf(lease_)).size() == 1 && now[0] != first[0]; },
      std::chrono::seconds(10)))
      << "watchdogs before: " << first.size() << ", now: " << now.size();
}

}  // namespace
}  // namespace dsched
