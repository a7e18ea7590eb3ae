// The cluster routers over real gRPC on loopback (servers in this process) and the in-process
// registry: which worker a dispatch reaches, that it waits (never fails) while no worker of its
// group is there, that a re-attach goes back to the worker that ran the attempt, and that a
// worker's events reach the master named in them, and that a task's log is read through the
// logger of the task's host. No timing assertions.
#include "cluster/routing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "api/api_test_support.h"
#include "common/wait_until.h"
#include "logger/log_reader.h"
#include "rpc/grpc/grpc_servers.h"

namespace dsched::cluster {
namespace {

// A worker behind a real gRPC server: records what reaches it.
class RecordingWorker final : public WorkerClient {
 public:
  Status Dispatch(const TaskDispatch& d) override {
    if (refuse) return Unavailable("worker is shutting down");
    return Record("dispatch", d.task_instance_id);
  }
  std::atomic<bool> refuse{false};  // every dispatch answered Unavailable
  Status Kill(int64_t id, int, int64_t) override { return Record("kill", id); }
  Status Reattach(const TaskDispatch& d) override {
    if (d.only_if_known && !knows.count(d.task_instance_id))
      return NotFound("never had it");
    return Record("reattach", d.task_instance_id);
  }
  std::set<int64_t> knows;  // attempts an only_if_known re-attach finds here (set before use)
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  Status Record(const char* what, int64_t id) {
    std::lock_guard<std::mutex> l(mu_);
    calls_.push_back(std::string(what) + " " + std::to_string(id));
    return Status::Ok();
  }
  std::mutex mu_;
  std::vector<std::string> calls_;
};

struct ServedWorker {
  RecordingWorker worker;
  WorkerServiceImpl service{worker};
  std::unique_ptr<GrpcServer> server;
  std::string address;
  void Serve() {
    auto s = GrpcServer::Start("127.0.0.1:0", {&service});
    ASSERT_TRUE(s.ok()) << s.status().message();
    server = std::move(*s);
    address = "127.0.0.1:" + std::to_string(server->port());
  }
};

std::string WorkerHeartbeat(const std::string& group, const std::string& status = "NORMAL") {
  return R"({"workerGroups":[")" + group + R"("],"serverStatus":")" + status + R"("})";
}

TaskDispatch Dispatch(int64_t id, const std::string& group = "default") {
  TaskDispatch d;
  d.task_instance_id = id;
  d.attempt = 0;
  d.master_epoch = 3;
  d.workflow_instance_id = 9;
  d.task_type = "SHELL";
  d.worker_group = group;
  return d;
}

TEST(WorkerHeartbeatTest, GroupsAndStatusAreRead) {
  NodeInfo n;
  n.address = "10.0.0.1:1234";
  n.heartbeat = R"({"workerGroups":["default","gpu"],"serverStatus":"BUSY"})";
  WorkerView w = ParseWorkerHeartbeat(n);
  EXPECT_EQ(w.address, "10.0.0.1:1234");
  EXPECT_EQ(w.groups, (std::vector<std::string>{"default", "gpu"}));
  EXPECT_FALSE(w.normal);
  n.heartbeat = "not json";
  EXPECT_TRUE(ParseWorkerHeartbeat(n).groups.empty());
}

TEST(WorkerHeartbeatTest, OnlyNormalWorkersOfTheGroupAreEligible) {
  std::vector<WorkerView> ws = {{"b:1", {"default"}, true},
                                {"a:1", {"default", "gpu"}, true},
                                {"c:1", {"gpu"}, false}};
  EXPECT_EQ(EligibleWorkers(ws, "default"), (std::vector<std::string>{"a:1", "b:1"}));
  EXPECT_EQ(EligibleWorkers(ws, ""), (std::vector<std::string>{"a:1", "b:1"}));
  EXPECT_EQ(EligibleWorkers(ws, "gpu"), (std::vector<std::string>{"a:1"}));
  EXPECT_TRUE(EligibleWorkers(ws, "none").empty());
}

TEST(ByLoadTest, LeastLoadedFirstNearTiesInTheGivenOrder) {
  auto view = [](std::string address, double cpu, double pool, int weight = 100) {
    WorkerView w;
    w.address = std::move(address);
    w.cpu = cpu;
    w.thread_pool = pool;
    w.weight = weight;
    return w;
  };
  // Scores: a 0.3 x 0.5 = 0.15, b 0.3 x 0.1 = 0.03, c 0.03 + 0.4 x 0.02 = 0.038 (within the tie
  // of b), d 0.4 x 0.5 = 0.2 at weight 200: 0.1.
  const std::vector<WorkerView> ws = {view("a:1", 0.5, 0), view("b:1", 0.1, 0),
                                      view("c:1", 0.1, 0.02), view("d:1", 0, 0.5, 200)};
  using V = std::vector<std::string>;
  EXPECT_EQ(ByLoad({"a:1", "b:1", "c:1", "d:1"}, ws, {}), (V{"b:1", "c:1", "d:1", "a:1"}));
  // Tied workers keep the caller's (rotated) order: turns, not the lower score every time.
  EXPECT_EQ(ByLoad({"c:1", "d:1", "a:1", "b:1"}, ws, {}), (V{"c:1", "b:1", "d:1", "a:1"}));
  // Tasks sent since b's heartbeat count as load: 10 of 100 threads add 0.04 to its 0.03.
  EXPECT_EQ(ByLoad({"b:1", "c:1"}, ws, {{"b:1", 10}}), (V{"c:1", "b:1"}));
  // Only the eligible are ordered.
  EXPECT_EQ(ByLoad({"a:1", "d:1"}, ws, {}), (V{"d:1", "a:1"}));
}

TEST(WorkerRouterTest, SpreadsDispatchesOverTheGroupsWorkersAndSkipsOtherGroups) {
  InMemoryRegistry reg;
  ServedWorker w1, w2, gpu;
  w1.Serve();
  w2.Serve();
  gpu.Serve();
  ASSERT_TRUE(reg.Register(NodeType::kWorker, w1.address, WorkerHeartbeat("default")).ok());
  ASSERT_TRUE(reg.Register(NodeType::kWorker, w2.address, WorkerHeartbeat("default")).ok());
  ASSERT_TRUE(reg.Register(NodeType::kWorker, gpu.address, WorkerHeartbeat("gpu")).ok());
  WorkerRouter router(reg);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(router.Dispatch(Dispatch(i)).ok());
  ASSERT_TRUE(router.Dispatch(Dispatch(11, "gpu")).ok());
  ASSERT_TRUE(WaitUntil([&] {
    return w1.worker.calls().size() + w2.worker.calls().size() == 10 &&
           gpu.worker.calls().size() == 1;
  }));
  EXPECT_EQ(w1.worker.calls().size(), 5u);
  EXPECT_EQ(w2.worker.calls().size(), 5u);
  EXPECT_EQ(gpu.worker.calls(), std::vector<std::string>{"dispatch 11"});

  // Kill goes to the worker the attempt went to, and only there (once the router has seen the
  // dispatch's answer and noted where it went).
  ASSERT_TRUE(WaitUntil([&] { return router.queued() == 0; }));
  ASSERT_TRUE(router.Kill(11, 0, 3).ok());
  EXPECT_EQ(gpu.worker.calls().back(), "kill 11");
  EXPECT_EQ(w1.worker.calls().size() + w2.worker.calls().size(), 10u);
}

TEST(WorkerRouterTest, WhatAWorkerRefusesGoesToAnotherAndNothingTwice) {
  InMemoryRegistry reg;
  ServedWorker closing, open;
  closing.Serve();
  open.Serve();
  closing.worker.refuse = true;
  ASSERT_TRUE(reg.Register(NodeType::kWorker, closing.address, WorkerHeartbeat("default")).ok());
  ASSERT_TRUE(reg.Register(NodeType::kWorker, open.address, WorkerHeartbeat("default")).ok());
  WorkerRouter router(reg);
  // Queued together, so that they go out in one round: the refused share is placed again.
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(router.Dispatch(Dispatch(i)).ok());
  ASSERT_TRUE(WaitUntil([&] { return router.queued() == 0; }));
  std::vector<std::string> calls = open.worker.calls();
  std::sort(calls.begin(), calls.end());
  std::vector<std::string> want;
  for (int i = 1; i <= 20; ++i) want.push_back("dispatch " + std::to_string(i));
  std::sort(want.begin(), want.end());
  EXPECT_EQ(calls, want);
  EXPECT_TRUE(closing.worker.calls().empty());
  EXPECT_EQ(router.dispatched(), 20u);
}

TEST(WorkerRouterTest, WaitsWhileNoWorkerIsThereAndDeliversWhenOneRegisters) {
  InMemoryRegistry reg;
  WorkerRouterOptions o;
  o.retry_ms = 20;
  o.registry_refresh_ms = 10;
  WorkerRouter router(reg, o);
  ServedWorker busy, late;
  busy.Serve();
  late.Serve();
  ASSERT_TRUE(reg.Register(NodeType::kWorker, busy.address, WorkerHeartbeat("default", "BUSY")).ok());
  ASSERT_TRUE(router.Dispatch(Dispatch(1)).ok());  // accepted: it waits, never fails
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(router.queued(), 1u);
  EXPECT_TRUE(busy.worker.calls().empty());
  ASSERT_TRUE(reg.Register(NodeType::kWorker, late.address, WorkerHeartbeat("default")).ok());
  ASSERT_TRUE(WaitUntil([&] { return late.worker.calls().size() == 1; }));
  EXPECT_EQ(late.worker.calls().front(), "dispatch 1");
  EXPECT_TRUE(busy.worker.calls().empty());
}

TEST(WorkerRouterTest, ReattachGoesToTheWorkerThatRanTheAttempt) {
  InMemoryRegistry reg;
  ServedWorker w1, w2;
  w1.Serve();
  w2.Serve();
  ASSERT_TRUE(reg.Register(NodeType::kWorker, w1.address, WorkerHeartbeat("default")).ok());
  ASSERT_TRUE(reg.Register(NodeType::kWorker, w2.address, WorkerHeartbeat("default")).ok());
  WorkerRouter router(reg);
  TaskDispatch d = Dispatch(5);
  d.worker_host = w2.address;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(router.Reattach(d).ok());
  ASSERT_TRUE(WaitUntil([&] { return w2.worker.calls().size() == 3; }));
  EXPECT_EQ(w2.worker.calls(), std::vector<std::string>(3, "reattach 5"));
  EXPECT_TRUE(w1.worker.calls().empty());

  // Start never recorded (no worker host): each worker is asked to adopt it if it has it; the
  // first that has it keeps it, nothing is dispatched.
  w1.worker.knows = {};
  w2.worker.knows = {6};
  TaskDispatch fresh = Dispatch(6);
  ASSERT_TRUE(router.Reattach(fresh).ok());
  ASSERT_TRUE(WaitUntil([&] { return router.queued() == 0; }));
  auto c1 = w1.worker.calls(), c2 = w2.worker.calls();
  EXPECT_EQ(std::count(c1.begin(), c1.end(), "dispatch 6") +
                std::count(c2.begin(), c2.end(), "dispatch 6"),
            0);
  EXPECT_EQ(std::count(c2.begin(), c2.end(), "reattach 6"), 1);

  // No worker has it: dispatched once, afresh.
  ASSERT_TRUE(router.Reattach(Dispatch(7)).ok());
  ASSERT_TRUE(WaitUntil([&] { return router.queued() == 0; }));
  c1 = w1.worker.calls(), c2 = w2.worker.calls();
  EXPECT_EQ(std::count(c1.begin(), c1.end(), "dispatch 7") +
                std::count(c2.begin(), c2.end(), "dispatch 7"),
            1);
}

TEST(LiveMasterFenceTest, TakesWorkOnlyFromARegisteredMasterAtItsEpoch) {
  InMemoryRegistry reg;
  RecordingWorker local;
  LiveMasterFence fence(reg, local);
  auto epoch = reg.Register(NodeType::kMaster, "10.0.0.1:5678", "{}");
  ASSERT_TRUE(epoch.ok());
  TaskDispatch d = Dispatch(1);
  d.master_host = "10.0.0.1:5678";
  d.master_epoch = *epoch;
  EXPECT_TRUE(fence.Dispatch(d).ok());
  EXPECT_TRUE(fence.Kill(1, 0, *epoch).ok());

  TaskDispatch stale = d;  // same address, an older registration
  stale.task_instance_id = 2;
  stale.master_epoch = *epoch - 1;
  Status s = fence.Dispatch(stale);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("10.0.0.1:5678"), std::string::npos) << s.message();
  TaskDispatch elsewhere = d;  // the right epoch from another address
  elsewhere.task_instance_id = 3;
  elsewhere.master_host = "10.0.0.2:5678";
  EXPECT_EQ(fence.Reattach(elsewhere).code(), StatusCode::kFailedPrecondition);

  // Registered after the fence cached the list: found by reading the registry again.
  auto later = reg.Register(NodeType::kMaster, "10.0.0.3:5678", "{}");
  ASSERT_TRUE(later.ok());
  TaskDispatch fresh = Dispatch(4);
  fresh.master_host = "10.0.0.3:5678";
  fresh.master_epoch = *later;
  EXPECT_TRUE(fresh.master_epoch > 0 && fence.Reattach(fresh).ok());

  // The master's session ended (a takeover follows): what it still sends is refused.
  reg.ExpireSession(NodeType::kMaster, "10.0.0.1:5678");
  TaskDispatch late = d;
  late.task_instance_id = 5;
  EXPECT_EQ(fence.Dispatch(late).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(local.calls(), (std::vector<std::string>{"dispatch 1", "kill 1", "reattach 4"}));
}

// A master behind a real gRPC server: records the events it gets.
class RecordingMaster final : public api::apitest::NoMaster, public TaskEventSink {
 public:
  void OnTaskEvent(const TaskEvent& e) override {
    std::lock_guard<std::mutex> l(mu_);
    ids.push_back(e.task_instance_id);
  }
  std::vector<int64_t> got() {
    std::lock_guard<std::mutex> l(mu_);
    return ids;
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> ids;
};

TEST(EventRouterTest, EachEventReachesTheMasterNamedInIt) {
  RecordingMaster m1, m2;
  MasterServiceImpl s1(m1, m1), s2(m2, m2);
  auto g1 = GrpcServer::Start("127.0.0.1:0", {&s1});
  auto g2 = GrpcServer::Start("127.0.0.1:0", {&s2});
  ASSERT_TRUE(g1.ok() && g2.ok());
  const std::string a1 = "127.0.0.1:" + std::to_string((*g1)->port());
  const std::string a2 = "127.0.0.1:" + std::to_string((*g2)->port());
  EventRouter router;
  for (int64_t id = 1; id <= 6; ++id) {
    TaskEvent e;
    e.task_instance_id = id;
    e.master_epoch = 1;
    e.workflow_instance_id = 1;
    e.master_host = id % 2 ? a1 : a2;
    router.OnTaskEvent(e);
  }
  TaskEvent orphan;
  orphan.task_instance_id = 99;
  router.OnTaskEvent(orphan);  // names no master: dropped, not sent anywhere
  ASSERT_TRUE(WaitUntil([&] { return m1.got().size() == 3 && m2.got().size() == 3; }));
  EXPECT_EQ(m1.got(), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(m2.got(), (std::vector<int64_t>{2, 4, 6}));
}

TEST(LoggerAddressTest, TheTaskHostWithTheLoggerPort) {
  EXPECT_EQ(*LoggerAddress("10.0.0.5:1234", 50051), "10.0.0.5:50051");
  EXPECT_EQ(*LoggerAddress("worker-1", 50051), "worker-1:50051");
  EXPECT_EQ(*LoggerAddress("[::1]:1234", 7), "[::1]:7");
  EXPECT_EQ(*LoggerAddress("[::1]", 7), "[::1]:7");
  EXPECT_EQ(LoggerAddress("", 7).status().code(), StatusCode::kInvalidArgument);
}

// A real logger service on a loopback port: the router reaches it from the task's host
// (its worker port replaced by the logger's) and hands back what it says.
TEST(LoggerRouterTest, ReadsThroughTheLoggerOfTheTaskHost) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("routing_logger_" + std::to_string(getpid()));
  fs::create_directories(root / "1");
  const std::string log = (root / "1" / "2.log").string();
  std::ofstream(log) << "x\ny\n";
  LocalLogReader local(root);
  LoggerServiceImpl service(local);
  auto server = GrpcServer::Start("127.0.0.1:0", {&service});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  LoggerRouter router((*server)->port());
  for (int round = 0; round < 2; ++round) {
    auto page = router.RollView("127.0.0.1:1234", log, 1, 5);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->text, "y\n");
    auto bytes = router.Bytes("127.0.0.1:1234", log);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, "x\ny\n");
    EXPECT_EQ(router.View("127.0.0.1:1234", "/etc/passwd").status().code(),
              StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(router.RollView("", log, 0, 1).status().code(), StatusCode::kNotFound);

  const int port = (*server)->port();
  (*server)->Shutdown();
  LoggerRouter gone(port, RpcCallOptions{2000});
  auto down = gone.Bytes("127.0.0.1:1234", log);
  ASSERT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("logger 127.0.0.1:" + std::to_string(port)),
            std::string::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace dsched::cluster
