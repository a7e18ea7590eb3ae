// Real gRPC over loopback TCP, server and client in this process: what the clients send reaches
// the local implementation behind the server exactly as sent, answers come back unchanged, and
// transport failures become clear Statuses. No timing assertions: waits have generous deadlines.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/wait_until.h"
#include "rpc/grpc/convert.h"
#include "rpc/grpc/grpc_clients.h"
#include "rpc/grpc/grpc_servers.h"
#include "rpc/grpc/test_printers.h"

namespace dsched {
namespace {

TaskDispatch SomeDispatch(int64_t id = 101) {
  TaskDispatch d;
  d.task_instance_id = id;
  d.attempt = 1;
  d.master_epoch = 7;
  d.workflow_instance_id = 55;
  d.project_code = 12;
  d.definition_code = 34;
  d.task_name = "t" + std::to_string(id);
  d.task_type = "SHELL";
  d.task_params = R"({"rawScript":"echo hi"})";
  d.vars = {{"k", "v"}};
  d.local_params = {{"out", "OUT", "VARCHAR", ""}};
  d.base_time_ms = 1000;
  d.workflow_priority = Priority::kHigh;
  d.task_priority = Priority::kLow;
  d.timeout_ms = 5000;
  d.timeout_kills = true;
  d.dry_run = true;
  d.worker_group = "g1";
  return d;
}

TaskEvent SomeEvent(int64_t id, TaskEventType type) {
  TaskEvent e;
  e.type = type;
  e.task_instance_id = id;
  e.attempt = 0;
  e.master_epoch = 3;
  e.workflow_instance_id = 9;
  e.state = type == TaskEventType::kRunning ? TaskState::kRunningExecution : TaskState::kSuccess;
  e.time_ms = 1000 + id;
  e.host = "127.0.0.1:1234";
  e.pid = 100 + static_cast<int>(id);
  e.log_path = "/logs/" + std::to_string(id) + ".log";
  if (type == TaskEventType::kFinished) e.var_pool = {{"out", "OUT", "VARCHAR", "x"}};
  return e;
}

// The worker behind the server: records what arrives and answers what the test set.
class RecordingWorker final : public WorkerClient {
 public:
  Status Dispatch(const TaskDispatch& d) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !hold_; });
    dispatched.push_back(d);
    return answer;
  }
  Status Kill(int64_t id, int attempt, int64_t epoch) override {
    std::lock_guard<std::mutex> lock(mu_);
    killed.push_back({id, attempt, epoch});
    return answer;
  }
  Status Reattach(const TaskDispatch& d) override {
    std::lock_guard<std::mutex> lock(mu_);
    reattached.push_back(d);
    return answer;
  }
  void Hold(bool on) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_ = on;
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  Status answer;
  std::vector<TaskDispatch> dispatched;
  std::vector<KillArgs> killed;
  std::vector<TaskDispatch> reattached;
};

// The master behind the server: records calls and events.
class RecordingMaster final : public MasterControl, public TaskEventSink {
 public:
  void WakeCommands() override {
    std::lock_guard<std::mutex> lock(mu);
    ++wakes;
  }
  Status Execute(int64_t id, ExecuteType type) override {
    std::lock_guard<std::mutex> lock(mu);
    executes.push_back({id, type});
    return answer;
  }
  Status ForceTaskSuccess(int64_t id) override {
    std::lock_guard<std::mutex> lock(mu);
    forced.push_back(id);
    return answer;
  }
  Status ExecuteTask(int64_t id, const std::vector<int64_t>& nodes, TaskDependType mode) override {
    std::lock_guard<std::mutex> lock(mu);
    execute_tasks.push_back({id, nodes, mode});
    return answer;
  }
  void OnTaskEvent(const TaskEvent& e) override {
    if (before_event) before_event();
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  }
  size_t event_count() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }

  std::mutex mu;
  std::function<void()> before_event;  // set before the server starts
  Status answer;
  int wakes = 0;
  std::vector<ExecuteArgs> executes;
  std::vector<int64_t> forced;
  std::vector<ExecuteTaskArgs> execute_tasks;
  std::vector<TaskEvent> events;
};

std::unique_ptr<GrpcServer> Serve(grpc::Service* s, int port = 0) {
  auto server = GrpcServer::Start("127.0.0.1:" + std::to_string(port), {s});
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

// A loopback port nobody serves (it was free a moment ago).
int UnservedPort() {
  RecordingWorker w;
  WorkerServiceImpl svc(w);
  auto s = Serve(&svc);
  return s ? s->port() : 0;
}

std::string Target(const GrpcServer& s) { return "127.0.0.1:" + std::to_string(s.port()); }

TEST(GrpcTransportTest, WorkerCallsReachTheWorkerExactlyAsSent) {
  RecordingWorker worker;
  WorkerServiceImpl svc(worker);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  GrpcWorkerClient client(Target(*server));

  const TaskDispatch d = SomeDispatch();
  ASSERT_TRUE(client.Dispatch(d).ok());
  ASSERT_TRUE(client.Dispatch(d).ok());  // a repeat reaches the worker, which ignores it
  ASSERT_TRUE(client.Kill(101, 1, 7).ok());
  TaskDispatch r = SomeDispatch(202);
  r.master_epoch = 8;
  ASSERT_TRUE(client.Reattach(r).ok());

  std::lock_guard<std::mutex> lock(worker.mu_);
  ASSERT_EQ(worker.dispatched.size(), 2u);
  EXPECT_EQ(worker.dispatched[0], d);
  EXPECT_EQ(worker.dispatched[1], d);
  ASSERT_EQ(worker.killed.size(), 1u);
  EXPECT_EQ(worker.killed[0], (KillArgs{101, 1, 7}));
  ASSERT_EQ(worker.reattached.size(), 1u);
  EXPECT_EQ(worker.reattached[0], r);
}

TEST(GrpcTransportTest, ABatchOfDispatchesReachesTheWorkerInOrderEachWithItsAnswer) {
  RecordingWorker worker;
  WorkerServiceImpl svc(worker);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  GrpcWorkerClient client(Target(*server));

  TaskDispatch bad = SomeDispatch(302);
  bad.task_instance_id = 0;
  const std::vector<TaskDispatch> ds = {SomeDispatch(301), bad, SomeDispatch(303)};
  const std::vector<Status> replies = client.DispatchBatch(ds);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_TRUE(replies[0].ok()) << replies[0].ToString();
  // The malformed one is refused naming its field; the others still reach the worker.
  EXPECT_EQ(replies[1].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(replies[1].message(), "dispatch.task_instance_id must be > 0, got 0");
  EXPECT_TRUE(replies[2].ok()) << replies[2].ToString();
  {
    std::lock_guard<std::mutex> lock(worker.mu_);
    ASSERT_EQ(worker.dispatched.size(), 2u);
    EXPECT_EQ(worker.dispatched[0], ds[0]);
    EXPECT_EQ(worker.dispatched[1], ds[2]);
  }

  // The worker's own answer comes back for each; a worker nobody serves fails each.
  worker.answer = Unavailable("worker is shutting down");
  for (const Status& s : client.DispatchBatch({SomeDispatch(304), SomeDispatch(305)}))
    EXPECT_EQ(s.message(), "worker is shutting down");
  GrpcWorkerClient nobody("127.0.0.1:" + std::to_string(UnservedPort()), {.timeout_ms = 2000});
  const std::vector<Status> lost = nobody.DispatchBatch({SomeDispatch(306), SomeDispatch(307)});
  ASSERT_EQ(lost.size(), 2u);
  for (const Status& s : lost) EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
}

TEST(GrpcTransportTest, WorkerAnswersComeBackUnchanged) {
  RecordingWorker worker;
  worker.answer = FailedPrecondition("epoch 3 is older than 7");
  WorkerServiceImpl svc(worker);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  GrpcWorkerClient client(Target(*server));
  const Status s = client.Kill(101, 1, 3);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "epoch 3 is older than 7");
}

TEST(GrpcTransportTest, MasterCallsReachTheMaster) {
  RecordingMaster master;
  master.answer = NotFound("workflow instance 55 not found");
  MasterServiceImpl svc(master, master);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  GrpcMasterControl client(Target(*server));

  Status s = client.Execute(55, ExecuteType::kStop);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "workflow instance 55 not found");
  master.answer = Status::Ok();
  EXPECT_TRUE(client.ForceTaskSuccess(77).ok());
  EXPECT_TRUE(client.ExecuteTask(55, {3, 4}, TaskDependType::kTaskPre).ok());
  client.WakeCommands();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(master.mu);
    return master.wakes == 1;
  }));

  std::lock_guard<std::mutex> lock(master.mu);
  ASSERT_EQ(master.executes.size(), 1u);
  EXPECT_EQ(master.executes[0], (ExecuteArgs{55, ExecuteType::kStop}));
  EXPECT_EQ(master.forced, std::vector<int64_t>{77});
  ASSERT_EQ(master.execute_tasks.size(), 1u);
  EXPECT_EQ(master.execute_tasks[0], (ExecuteTaskArgs{55, {3, 4}, TaskDependType::kTaskPre}));
}

TEST(GrpcTransportTest, EventsReachTheSinkInOrder) {
  RecordingMaster master;
  MasterServiceImpl svc(master, master);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  GrpcTaskEventSink sink(Target(*server));
  std::vector<TaskEvent> sent;
  for (int64_t id = 1; id <= 300; ++id) sent.push_back(SomeEvent(id, TaskEventType::kRunning));
  for (int64_t id = 1; id <= 300; ++id) sent.push_back(SomeEvent(id, TaskEventType::kFinished));
  for (const TaskEvent& e : sent) sink.OnTaskEvent(e);
  ASSERT_TRUE(WaitUntil([&] { return sink.pending() == 0; }));
  std::lock_guard<std::mutex> lock(master.mu);
  EXPECT_EQ(master.events, sent);
}

TEST(GrpcTransportTest, EventsThatWaitForCompanyStillArriveInOrderOnce) {
  RecordingMaster master;
  MasterServiceImpl svc(master, master);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  EventSenderOptions opts;
  opts.tasks_under_way = [] { return 50; };  // the longest wait before each small call
  GrpcTaskEventSink sink(Target(*server), opts);
  std::vector<TaskEvent> sent;
  for (int64_t id = 1; id <= 100; ++id) {
    sent.push_back(SomeEvent(id, TaskEventType::kRunning));
    sent.push_back(SomeEvent(id, TaskEventType::kFinished));
  }
  // In bursts with pauses between them, as a busy worker's tasks end: some calls go after the
  // wait, some because enough events joined.
  for (size_t i = 0; i < sent.size(); ++i) {
    sink.OnTaskEvent(sent[i]);
    if (i % 40 == 39) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(WaitUntil([&] { return sink.pending() == 0; }));
  std::lock_guard<std::mutex> lock(master.mu);
  EXPECT_EQ(master.events, sent);
}

TEST(GrpcTransportTest, TheSenderWaitsLongerTheMoreTasksAreUnderWayUpToACap) {
  EXPECT_EQ(EventLingerUs(0), 0);  // a lone task's end goes at once
  EXPECT_EQ(EventLingerUs(-1), 0);
  EXPECT_EQ(EventLingerUs(1), 300);
  EXPECT_EQ(EventLingerUs(20), 6000);
  EXPECT_EQ(EventLingerUs(50), 15000);
  EXPECT_EQ(EventLingerUs(400), 15000);
}

TEST(GrpcTransportTest, EventSentWhileMasterIsDownArrivesOnceWhenItStarts) {
  const int port = UnservedPort();
  ASSERT_NE(port, 0);
  EventSenderOptions opts;
  opts.timeout_ms = 300;
  GrpcTaskEventSink sink("127.0.0.1:" + std::to_string(port), opts);
  const TaskEvent running = SomeEvent(5, TaskEventType::kRunning);
  const TaskEvent finished = SomeEvent(5, TaskEventType::kFinished);
  sink.OnTaskEvent(running);
  sink.OnTaskEvent(finished);
  ASSERT_TRUE(WaitUntil([&] { return sink.failed_calls() >= 2; }));  // really sent while down
  EXPECT_EQ(sink.pending(), 2u);

  RecordingMaster master;
  MasterServiceImpl svc(master, master);
  auto server = Serve(&svc, port);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return sink.pending() == 0; }));
  std::lock_guard<std::mutex> lock(master.mu);
  EXPECT_EQ(master.events, (std::vector<TaskEvent>{running, finished}));
}

TEST(GrpcTransportTest, LostAckRepeatsTheEventWithTheSameIdentity) {
  EventSenderOptions opts;
  opts.timeout_ms = 300;
  std::unique_ptr<GrpcTaskEventSink> sink;
  std::mutex sink_mu;
  RecordingMaster master;
  int calls = 0;
  // The first delivery outlives the worker's deadline: the master got the event, the worker
  // never got the ack.
  master.before_event = [&] {
    if (++calls > 1) return;
    WaitUntil([&] {
      std::lock_guard<std::mutex> lock(sink_mu);
      return sink->failed_calls() >= 1;
    });
  };
  MasterServiceImpl svc(master, master);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  {
    std::lock_guard<std::mutex> lock(sink_mu);
    sink = std::make_unique<GrpcTaskEventSink>(Target(*server), opts);
  }
  const TaskEvent e = SomeEvent(8, TaskEventType::kFinished);
  sink->OnTaskEvent(e);
  ASSERT_TRUE(WaitUntil([&] { return sink->pending() == 0; }));
  std::lock_guard<std::mutex> lock(master.mu);
  ASSERT_GE(master.events.size(), 2u);
  for (const TaskEvent& got : master.events) EXPECT_EQ(got, e);  // same identity every time
}

TEST(GrpcTransportTest, BadMessagesAreRefusedNamingTheFieldAndReachNothing) {
  RecordingWorker worker;
  RecordingMaster master;
  WorkerServiceImpl wsvc(worker);
  MasterServiceImpl msvc(master, master);
  auto server = GrpcServer::Start("127.0.0.1:0", {&wsvc, &msvc});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string target = Target(**server);

  GrpcWorkerClient client(target);
  TaskDispatch d = SomeDispatch();
  d.task_instance_id = 0;
  Status s = client.Dispatch(d);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "worker " + target + " refused Dispatch: dispatch.task_instance_id must be > 0, got 0");

  // A raw message with an enum value no dsched knows.
  auto stub = rpc::WorkerService::NewStub(MakeRpcChannel(target));
  rpc::TaskDispatch raw;
  ToProto(SomeDispatch(), &raw);
  raw.set_task_priority(static_cast<rpc::Priority>(42));
  grpc::ClientContext ctx;
  rpc::StatusReply reply;
  grpc::Status gs = stub->Reattach(&ctx, raw, &reply);
  EXPECT_EQ(gs.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(gs.error_message(), "dispatch.task_priority has unknown value 42");

  EXPECT_EQ(client.Kill(5, 0, 0).message(),
            "worker " + target + " refused Kill: kill.master_epoch must be > 0, got 0");

  GrpcMasterControl control(target);
  s = control.ExecuteTask(55, {1, -2}, TaskDependType::kTaskOnly);
  EXPECT_EQ(
      s.message(),
      "master " + target + " refused ExecuteTask: execute_task.start_nodes[1] must be > 0, got -2");

  // An event batch with one bad event: nothing of it reaches the sink.
  auto mstub = rpc::MasterService::NewStub(MakeRpcChannel(target));
  rpc::TaskEventBatch batch;
  ToProto(SomeEvent(1, TaskEventType::kRunning), batch.add_events());
  TaskEvent bad = SomeEvent(2, TaskEventType::kRunning);
  bad.workflow_instance_id = 0;
  ToProto(bad, batch.add_events());
  grpc::ClientContext ctx2;
  rpc::TaskEventAck ack;
  gs = mstub->ReportTaskEvents(&ctx2, batch, &ack);
  EXPECT_EQ(gs.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(gs.error_message(), "events[1].workflow_instance_id must be > 0, got 0");

  {
    std::lock_guard<std::mutex> lock(worker.mu_);
    EXPECT_TRUE(worker.dispatched.empty());
    EXPECT_TRUE(worker.reattached.empty());
    EXPECT_TRUE(worker.killed.empty());
  }
  {
    std::lock_guard<std::mutex> lock(master.mu);
    EXPECT_TRUE(master.execute_tasks.empty());
    EXPECT_TRUE(master.events.empty());
  }

  // Through the event sender, the good events around a bad one still arrive, in order.
  GrpcTaskEventSink sink(target);
  const TaskEvent a = SomeEvent(1, TaskEventType::kRunning),
                  c = SomeEvent(3, TaskEventType::kRunning);
  sink.OnTaskEvent(a);
  sink.OnTaskEvent(bad);
  sink.OnTaskEvent(c);
  ASSERT_TRUE(WaitUntil([&] { return sink.pending() == 0; }));
  EXPECT_EQ(sink.dropped(), 1);
  std::lock_guard<std::mutex> lock(master.mu);
  EXPECT_EQ(master.events, (std::vector<TaskEvent>{a, c}));
}

TEST(GrpcTransportTest, EventsTooLargeForACallAreDroppedAndTheRestSplit) {
  RecordingMaster master;
  MasterServiceImpl svc(master, master);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  EventSenderOptions opts;
  opts.max_call_bytes = 2000;
  GrpcTaskEventSink sink(Target(*server), opts);
  std::vector<TaskEvent> fits;
  for (int64_t id = 1; id <= 6; ++id) {
    TaskEvent e = SomeEvent(id, TaskEventType::kRunning);
    e.log_path = std::string(700, 'l');  // about three fit in one call
    fits.push_back(e);
  }
  TaskEvent huge = SomeEvent(99, TaskEventType::kFinished);
  huge.var_pool = {{"out", "OUT", "VARCHAR", std::string(5000, 'v')}};
  for (size_t i = 0; i < fits.size(); ++i) {
    sink.OnTaskEvent(fits[i]);
    if (i == 2) sink.OnTaskEvent(huge);
  }
  ASSERT_TRUE(WaitUntil([&] { return sink.pending() == 0; }));
  EXPECT_EQ(sink.dropped(), 1);
  std::lock_guard<std::mutex> lock(master.mu);
  EXPECT_EQ(master.events, fits);
}

TEST(GrpcTransportTest, ASilentWorkerGivesAClearDeadlineStatus) {
  RecordingWorker worker;
  worker.Hold(true);  // Dispatch blocks until released
  WorkerServiceImpl svc(worker);
  auto server = Serve(&svc);
  ASSERT_NE(server, nullptr);
  GrpcWorkerClient client(Target(*server), RpcCallOptions{200});
  const Status s = client.Dispatch(SomeDispatch());
  worker.Hold(false);  // let the handler finish before the server stops
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "worker " + Target(*server) + " did not answer Dispatch within 200 ms");
}

TEST(GrpcTransportTest, AnUnreachableWorkerGivesAClearStatus) {
  const int port = UnservedPort();
  ASSERT_NE(port, 0);
  const std::string target = "127.0.0.1:" + std::to_string(port);
  GrpcWorkerClient client(target);
  const Status s = client.Kill(1, 0, 1);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message().rfind("worker " + target + " unreachable for Kill: ", 0), 0u)
      << s.message();
}

TEST(GrpcTransportTest, AnAddressThatCannotBeBoundIsRefused) {
  RecordingWorker worker;
  WorkerServiceImpl svc(worker), svc2(worker), svc3(worker);
  auto first = Serve(&svc);
  ASSERT_NE(first, nullptr);
  const std::string taken = Target(*first);
  auto second = GrpcServer::Start(taken, {&svc2});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "cannot serve gRPC on " + taken + " (address in use or invalid)");
  auto bad = GrpcServer::Start("no-such-host.invalid:1", {&svc3});
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(bad.status().message(),
            "cannot serve gRPC on no-such-host.invalid:1 (address in use or invalid)");
}

}  // namespace
}  // namespace dsched
