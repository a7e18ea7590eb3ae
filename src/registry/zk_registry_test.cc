// ZkRegistry against a real ZooKeeper server: tests/registry/run_zk_tests.sh starts one on
// loopback and passes its address in DSCHED_TEST_ZK (without it every test skips). Dead
// clients are real processes: this binary run as `zk_registry_test hold ...` registers a node,
// optionally takes a lock, reports on stdout and waits to be killed or frozen.
#include "registry/zk_registry.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

extern char** environ;

namespace dsched {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Every wait in these tests is for an event, with a deadline far beyond any expected delay.
constexpr auto kDeadline = seconds(60);

std::string ZkAddress() {
  const char* v = std::getenv("DSCHED_TEST_ZK");
  return v ? v : "";
}

ZkRegistryOptions Options(const std::string& root) {
  ZkRegistryOptions o;
  o.connect_string = ZkAddress();
  o.root = root;
  o.session_timeout_ms = 4000;  // the server's least with tickTime 2000
  o.connect_timeout_ms = 30000;
  return o;
}

// A namespace of its own for each test.
std::string FreshRoot() {
  static std::atomic<int> n{0};
  return "/dsched-test-" + std::to_string(getpid()) + "-" + std::to_string(++n) + "-" +
         testing::UnitTest::GetInstance()->current_test_info()->name();
}

std::unique_ptr<ZkRegistry> Connect(const std::string& root, int64_t min_epoch = 0) {
  auto o = Options(root);
  o.min_epoch = min_epoch;
  auto r = ZkRegistry::Create(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

// Collects events from callbacks and waits for them.
template <typename T>
class Inbox {
 public:
  void Put(T v) {
    std::lock_guard<std::mutex> l(mu_);
    items_.push_back(std::move(v));
    cv_.notify_all();
  }
  // True once `pred` holds for some item received, false at the deadline.
  bool WaitFor(const std::function<bool(const T&)>& pred) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, kDeadline, [&] {
      for (const auto& i : items_)
        if (pred(i)) return true;
      return false;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

// A child process holding a registration (and maybe a lock) with its own session.
class Holder {
 public:
  Holder(const std::string& root, const std::string& address, const std::string& lock = "") {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<std::string> args = {"/proc/self/exe", "hold", ZkAddress(), root, address, lock};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, "/proc/self/exe", &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    out_ = fds[0];
  }
  ~Holder() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }
  // The next line the child prints starting with `prefix` (its rest); nullopt at the deadline
  // or when the child is gone.
  std::optional<std::string> Expect(const std::string& prefix) {
    auto end = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < end) {
      size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
      }
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 1000) <= 0) continue;
      char b[512];
      ssize_t n = read(out_, b, sizeof b);
      if (n <= 0) return std::nullopt;
      buf_.append(b, n);
    }
    return std::nullopt;
  }
  void Signal(int sig) { kill(pid_, sig); }
  void KillNow() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

// The child side of Holder.
int HoldMain(int argc, char** argv) {
  if (argc < 6) return 2;
  auto o = Options(argv[3]);
  o.connect_string = argv[2];
  auto r = ZkRegistry::Create(o);
  if (!r.ok()) {
    std::cout << "error " << r.status().ToString() << std::endl;
    return 1;
  }
  auto& reg = *r;
  std::mutex mu;
  std::condition_variable cv;
  bool expired = false;
  reg->OnSessionState([&](SessionState s) {
    std::cout << "state " << SessionStateName(s) << std::endl;
    std::lock_guard<std::mutex> l(mu);
    if (s == SessionState::kExpired) expired = true;
    cv.notify_all();
  });
  auto e = reg->Register(NodeType::kWorker, argv[4], R"({"host":"child"})");
  if (!e.ok()) {
    std::cout << "error " << e.status().ToString() << std::endl;
    return 1;
  }
  std::cout << "epoch " << *e << std::endl;
  std::unique_ptr<RegistryLock> lock;
  if (argc > 5 && argv[5][0]) {
    auto l = reg->Lock(argv[5], milliseconds(0));
    if (!l.ok()) {
      std::cout << "error " << l.status().ToString() << std::endl;
      return 1;
    }
    lock = std::move(*l);
    std::cout << "locked" << std::endl;
  }
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return expired; });
  l.unlock();
  Status hb = reg->Heartbeat(NodeType::kWorker, argv[4], "{}");
  std::cout << "heartbeat " << (hb.ok() ? "ok" : hb.ToString()) << std::endl;
  while (true) pause();
}

class ZkRegistryTest : public testing::Test {
 protected:
  void SetUp() override {
    if (ZkAddress().empty())
      GTEST_SKIP() << "DSCHED_TEST_ZK not set (tests/registry/run_zk_tests.sh sets it)";
    root_ = FreshRoot();
  }
  std::string root_;
};

TEST_F(ZkRegistryTest, RegisterListHeartbeatUnregister) {
  auto reg = Connect(root_);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->session_state(), SessionState::kConnected);
  auto e = reg->Register(NodeType::kMaster, "10.0.0.1:5678", R"({"host":"10.0.0.1","port":5678})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_GT(*e, 0);
  auto masters = reg->TryList(NodeType::kMaster);
  ASSERT_TRUE(masters.ok()) << masters.status().ToString();
  ASSERT_EQ(masters->size(), 1u);
  EXPECT_EQ((*masters)[0].address, "10.0.0.1:5678");
  EXPECT_EQ((*masters)[0].epoch, *e);
  EXPECT_EQ((*masters)[0].type, NodeType::kMaster);
  EXPECT_EQ((*masters)[0].heartbeat, R"({"host":"10.0.0.1","port":5678})");
  EXPECT_TRUE(reg->List(NodeType::kWorker).empty());

  ASSERT_TRUE(
      reg->Heartbeat(NodeType::kMaster, "10.0.0.1:5678", R"({"serverStatus":"BUSY"})").ok());
  ASSERT_TRUE(
      reg->Heartbeat(NodeType::kMaster, "10.0.0.1:5678", R"({"serverStatus":"BUSY"})").ok());
  EXPECT_EQ(reg->List(NodeType::kMaster).at(0).heartbeat, R"({"serverStatus":"BUSY"})");
  EXPECT_EQ(reg->List(NodeType::kMaster).at(0).epoch, *e) << "a heartbeat keeps the epoch";

  ASSERT_TRUE(reg->Unregister(NodeType::kMaster, "10.0.0.1:5678").ok());
  EXPECT_TRUE(reg->Unregister(NodeType::kMaster, "10.0.0.1:5678").ok()) << "idempotent";
  EXPECT_TRUE(reg->List(NodeType::kMaster).empty());
  EXPECT_EQ(reg->Heartbeat(NodeType::kMaster, "10.0.0.1:5678", "{}").code(), StatusCode::kNotFound);
  auto again = reg->Register(NodeType::kMaster, "10.0.0.1:5678", "{}");
  ASSERT_TRUE(again.ok());
  EXPECT_GT(*again, *e);
}

TEST_F(ZkRegistryTest, BadInputIsRefusedWithTheFieldNamed) {
  auto reg = Connect(root_);
  ASSERT_TRUE(reg);
  for (std::string bad : {"nohostport", "h:0", "h:99999", "a/b:1", ":1", "h:"}) {
    auto r = reg->Register(NodeType::kWorker, bad, "{}");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("address"), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(reg->Register(NodeType::kWorker, "h:1", "not json").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg->Register(NodeType::kWorker, "h:1", "[1]").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(reg->List(NodeType::kWorker).empty()) << "nothing stored";
  EXPECT_EQ(reg->Lock("a/b", milliseconds(0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg->Lock("..", milliseconds(0)).status().code(), StatusCode::kInvalidArgument);

  for (std::string cs : {"", "h", "h:1/chroot", "h:1,,h:2", "h:abc"}) {
    auto o = Options(root_);
    o.connect_string = cs;
    auto r = ZkRegistry::Create(o);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << cs;
    EXPECT_NE(r.status().message().find("connect-string"), std::string::npos)
        << r.status().ToString();
  }
  for (std::string ns : {"", "/", "a//b", "/zookeeper", "a/../b", "x y"}) {
    auto o = Options(ns);
    auto r = ZkRegistry::Create(o);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << ns;
  }
}

TEST_F(ZkRegistryTest, NoServerIsUnavailableNamingTheServer) {
  auto o = Options(root_);
  o.connect_string = "127.0.0.1:1";
  o.connect_timeout_ms = 500;
  auto r = ZkRegistry::Create(o);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:1"), std::string::npos) << r.status().ToString();
}

TEST_F(ZkRegistryTest, EpochsStrictlyIncreaseAcrossClientsAndRestarts) {
  auto a = Connect(root_);
  auto b = Connect(root_);
  ASSERT_TRUE(a && b);
  int64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    for (auto* reg : {a.get(), b.get()}) {
      std::string addr = "h:" + std::to_string(100 + i * 2 + (reg == b.get()));
      auto e = reg->Register(NodeType::kMaster, addr, "{}");
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      EXPECT_GT(*e, last);
      last = *e;
    }
  }
  // Both clients at once: every epoch is handed out once.
  std::vector<int64_t> ea, eb;
  std::thread ta([&] {
    for (int i = 0; i < 20; ++i)
      ea.push_back(*a->Register(NodeType::kWorker, "a:" + std::to_string(i + 1), "{}"));
  });
  std::thread tb([&] {
    for (int i = 0; i < 20; ++i)
      eb.push_back(*b->Register(NodeType::kWorker, "b:" + std::to_string(i + 1), "{}"));
  });
  ta.join();
  tb.join();
  std::set<int64_t> all(ea.begin(), ea.end());
  all.insert(eb.begin(), eb.end());
  EXPECT_EQ(all.size(), 40u);
  EXPECT_GT(*all.begin(), last);
  EXPECT_TRUE(std::is_sorted(ea.begin(), ea.end()));
  EXPECT_TRUE(std::is_sorted(eb.begin(), eb.end()));
  last = *all.rbegin();

  // A restarted client (new session) continues above everything handed out before.
  a.reset();
  a = Connect(root_);
  ASSERT_TRUE(a);
  auto after = a->Register(NodeType::kMaster, "h:100", "{}");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_GT(*after, last);
  // The database's newest epoch is a floor too (a wiped ZooKeeper must not go back).
  auto c = Connect(root_, /*min_epoch=*/*after + 1000);
  ASSERT_TRUE(c);
  auto floor = c->Register(NodeType::kMaster, "h:200", "{}");
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ(*floor, *after + 1001);
  auto next = a->Register(NodeType::kMaster, "h:201", "{}");
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, *floor);
}

TEST_F(ZkRegistryTest, AlreadyExistsWhileTheAddressIsLive) {
  auto a = Connect(root_);
  auto b = Connect(root_);
  ASSERT_TRUE(a && b);
  auto e = a->Register(NodeType::kWorker, "w:1", "{}");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(b->Register(NodeType::kWorker, "w:1", "{}").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(a->Register(NodeType::kWorker, "w:1", "{}").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(b->Heartbeat(NodeType::kWorker, "w:1", "{}").code(), StatusCode::kNotFound)
      << "a heartbeat only for one's own registration";
  EXPECT_EQ(b->Unregister(NodeType::kWorker, "w:1").code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(a->List(NodeType::kWorker).size(), 1u);
  EXPECT_EQ(a->List(NodeType::kWorker)[0].epoch, *e);
  // The same address under another type is another node.
  EXPECT_TRUE(b->Register(NodeType::kMaster, "w:1", "{}").ok());
  ASSERT_TRUE(a->Unregister(NodeType::kWorker, "w:1").ok());
  auto eb = b->Register(NodeType::kWorker, "w:1", "{}");
  ASSERT_TRUE(eb.ok()) << eb.status().ToString();
  EXPECT_GT(*eb, *e);
}

TEST_F(ZkRegistryTest, ClosedClientsNodeVanishesAndWatchersHear) {
  Inbox<NodeInfo> removed;  // outlives the registries that call into it
  auto watcher = Connect(root_);
  auto a = Connect(root_);
  ASSERT_TRUE(watcher && a);
  auto e = a->Register(NodeType::kMaster, "m:1", R"({"n":1})");
  ASSERT_TRUE(e.ok());
  watcher->OnNodeRemoved(NodeType::kMaster, [&](const NodeInfo& n) { removed.Put(n); });
  a.reset();  // the process ends its session without unregistering
  ASSERT_TRUE(removed.WaitFor([&](const NodeInfo& n) { return n.address == "m:1"; }));
  EXPECT_TRUE(removed.WaitFor(
      [&](const NodeInfo& n) { return n.epoch == *e && n.type == NodeType::kMaster; }));
  EXPECT_TRUE(watcher->List(NodeType::kMaster).empty());
}

TEST_F(ZkRegistryTest, ARegistrationReplacedAtOnceIsStillReportedRemoved) {
  Inbox<NodeInfo> removed;  // outlives the registries that call into it
  auto watcher = Connect(root_);
  auto a = Connect(root_);
  ASSERT_TRUE(watcher && a);
  auto first = a->Register(NodeType::kWorker, "w:2", "{}");
  ASSERT_TRUE(first.ok());
  watcher->OnNodeRemoved(NodeType::kWorker, [&](const NodeInfo& n) { removed.Put(n); });
  ASSERT_TRUE(a->Unregister(NodeType::kWorker, "w:2").ok());
  auto second = a->Register(NodeType::kWorker, "w:2", "{}");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(removed.WaitFor([&](const NodeInfo& n) { return n.epoch == *first; }))
      << "the first registration's end went unreported";
  ASSERT_EQ(watcher->List(NodeType::kWorker).size(), 1u);
  EXPECT_EQ(watcher->List(NodeType::kWorker)[0].epoch, *second);
}

TEST_F(ZkRegistryTest, KilledProcessesNodeVanishesAfterItsSessionAndWatchersHear) {
  Inbox<NodeInfo> removed;  // outlives the registry that calls into it
  auto watcher = Connect(root_);
  ASSERT_TRUE(watcher);
  watcher->OnNodeRemoved(NodeType::kWorker, [&](const NodeInfo& n) { removed.Put(n); });
  Holder child(root_, "w:9");
  auto got = child.Expect("epoch ");
  ASSERT_TRUE(got) << "the child did not register";
  std::string epoch = *got;
  // Registered before the watch saw it? The watch re-lists on every change, so it has it.
  auto listed = watcher->List(NodeType::kWorker);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(std::to_string(listed[0].epoch), epoch);
  child.KillNow();
  ASSERT_TRUE(removed.WaitFor([&](const NodeInfo& n) {
    return n.address == "w:9" && std::to_string(n.epoch) == epoch;
  })) << "no removal within the deadline";
  EXPECT_TRUE(watcher->List(NodeType::kWorker).empty());
  // The address is free again, with a newer epoch.
  auto again = watcher->Register(NodeType::kWorker, "w:9", "{}");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT(*again, std::stoll(epoch));
}

TEST_F(ZkRegistryTest, FrozenProcessLearnsItsSessionExpiredAndHoldsNothing) {
  Inbox<NodeInfo> removed;  // outlives the registry that calls into it
  auto watcher = Connect(root_);
  ASSERT_TRUE(watcher);
  watcher->OnNodeRemoved(NodeType::kWorker, [&](const NodeInfo& n) { removed.Put(n); });
  Holder child(root_, "w:7", "frozen");
  ASSERT_TRUE(child.Expect("epoch "));
  ASSERT_TRUE(child.Expect("locked"));
  child.Signal(SIGSTOP);
  ASSERT_TRUE(removed.WaitFor([](const NodeInfo& n) { return n.address == "w:7"; }))
      << "the frozen child's session never ended";
  auto lock = watcher->Lock("frozen", kDeadline);
  EXPECT_TRUE(lock.ok()) << "the frozen child's lock went with its session: "
                         << lock.status().ToString();
  child.Signal(SIGCONT);
  EXPECT_EQ(child.Expect("state expired"), "");
  std::string hb = child.Expect("heartbeat ").value_or("(child said nothing)");
  EXPECT_NE(hb.find("UNAVAILABLE"), std::string::npos) << hb;
  EXPECT_NE(hb.find("expired"), std::string::npos) << hb;
}

// The server stops and comes back within the session timeout: the client reports the
// suspension and the reconnection, keeps its session (same node, same epoch), refuses calls
// while cut off, and a lock released during the outage is freed at reconnection.
TEST_F(ZkRegistryTest, ServerOutageSuspendsThenTheSameSessionResumes) {
  const char* stop = std::getenv("DSCHED_TEST_ZK_STOP");
  const char* start = std::getenv("DSCHED_TEST_ZK_START");
  if (!stop || !start) GTEST_SKIP() << "DSCHED_TEST_ZK_STOP/START not set";
  Inbox<SessionState> states;  // outlives the registry that calls into it
  auto o = Options(root_);
  o.session_timeout_ms = 40000;  // the outage must not end the session
  auto r = ZkRegistry::Create(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto& a = *r;
  a->OnSessionState([&](SessionState s) { states.Put(s); });
  auto epoch = a->Register(NodeType::kWorker, "w:5", "{}");
  ASSERT_TRUE(epoch.ok());
  auto lock = a->Lock("outage", milliseconds(0));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();

  ASSERT_EQ(std::system(stop), 0);
  ASSERT_TRUE(states.WaitFor([](SessionState s) { return s == SessionState::kSuspended; }));
  Status hb = a->Heartbeat(NodeType::kWorker, "w:5", "{}");
  EXPECT_EQ(hb.code(), StatusCode::kUnavailable) << hb.ToString();
  EXPECT_EQ(a->TryList(NodeType::kWorker).status().code(), StatusCode::kUnavailable);
  Status rel = (*lock)->Release();
  EXPECT_EQ(rel.code(), StatusCode::kUnavailable) << rel.ToString();

  ASSERT_EQ(std::system(start), 0);
  ASSERT_TRUE(states.WaitFor([](SessionState s) { return s == SessionState::kConnected; }));
  EXPECT_TRUE(a->Heartbeat(NodeType::kWorker, "w:5", R"({"back":true})").ok());
  auto nodes = a->List(NodeType::kWorker);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].epoch, *epoch);
  auto b = Connect(root_);
  ASSERT_TRUE(b);
  auto lb = b->Lock("outage", kDeadline);
  EXPECT_TRUE(lb.ok()) << "the release made during the outage was finished: "
                       << lb.status().ToString();
}

TEST_F(ZkRegistryTest, LockIsHeldByOneClientUntilReleasedOrItsSessionEnds) {
  auto a = Connect(root_);
  auto b = Connect(root_);
  ASSERT_TRUE(a && b);
  auto la = a->Lock("alert", milliseconds(0));
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  auto lb = b->Lock("alert", milliseconds(0));
  EXPECT_EQ(lb.status().code(), StatusCode::kFailedPrecondition);
  lb = b->Lock("alert", milliseconds(300));
  EXPECT_EQ(lb.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(a->Lock("alert", milliseconds(0)).status().code(), StatusCode::kFailedPrecondition)
      << "not re-entrant";
  EXPECT_TRUE(b->Lock("other", milliseconds(0)).ok()) << "locks are per name";

  // A waiter gets the lock when the holder releases it.
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto l = b->Lock("alert", kDeadline);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    got = l.ok();
    if (l.ok()) {
      EXPECT_EQ(a->Lock("alert", milliseconds(0)).status().code(), StatusCode::kFailedPrecondition);
      EXPECT_TRUE((*l)->Release().ok());
      EXPECT_TRUE((*l)->Release().ok()) << "idempotent";
    }
  });
  EXPECT_FALSE(got);
  ASSERT_TRUE((*la)->Release().ok());
  waiter.join();
  EXPECT_TRUE(got);

  // ... and when the holder's session ends.
  la = a->Lock("alert", milliseconds(0));
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  EXPECT_EQ(b->Lock("alert", milliseconds(0)).status().code(), StatusCode::kFailedPrecondition);
  a.reset();
  EXPECT_TRUE((*la)->Release().ok()) << "a handle may outlive its registry";
  auto after = b->Lock("alert", kDeadline);
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

TEST(ZkRegistryConfigTest, KeysFromTheConfigFileAreCheckedAndNamed) {
  Config c;
  ASSERT_TRUE(c.Set("registry.zookeeper.connect-string", "zk1:2181,zk2:2182").ok());
  ASSERT_TRUE(c.Set("registry.zookeeper.namespace", "ds").ok());
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "30s").ok());
  ASSERT_TRUE(c.Set("registry.zookeeper.retry-policy.max-sleep", "500").ok());
  auto o = ZkRegistryOptionsFromConfig(c);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->connect_string, "zk1:2181,zk2:2182");
  EXPECT_EQ(o->root, "/ds");
  EXPECT_EQ(o->session_timeout_ms, 30000);
  EXPECT_EQ(o->connect_timeout_ms, 15000);
  EXPECT_EQ(o->retry_base_sleep_ms, 60);
  EXPECT_EQ(o->retry_max_sleep_ms, 500);
  EXPECT_EQ(o->max_retries, 5);
  EXPECT_EQ(*RegistryTypeFromConfig(c), "zookeeper");

  EXPECT_NE(c.Set("registry.zookeeper.session-timeout", "soon").message().find("session-timeout"),
            std::string::npos);
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "0s").ok());
  auto bad = ZkRegistryOptionsFromConfig(c);
  EXPECT_NE(bad.status().message().find("session-timeout"), std::string::npos);
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "60s").ok());
  ASSERT_TRUE(c.Set("registry.zookeeper.connect-string", "zk1").ok());
  EXPECT_NE(ZkRegistryOptionsFromConfig(c).status().message().find("connect-string"),
            std::string::npos);
  ASSERT_TRUE(c.Set("registry.type", "etcd").ok());
  EXPECT_NE(RegistryTypeFromConfig(c).status().message().find("registry.type"), std::string::npos);
}

TEST(ZkRegistryConfigTest, DurationsTakeMillisecondsSecondsOrMinutes) {
  Config c;
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "2m").ok());
  EXPECT_EQ(c.GetDurationMs("registry.zookeeper.session-timeout"), 120000);
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "45s").ok());
  EXPECT_EQ(c.GetDurationMs("registry.zookeeper.session-timeout"), 45000);
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "300ms").ok());
  EXPECT_EQ(c.GetDurationMs("registry.zookeeper.session-timeout"), 300);
  ASSERT_TRUE(c.Set("registry.zookeeper.session-timeout", "250").ok());
  EXPECT_EQ(c.GetDurationMs("registry.zookeeper.session-timeout"), 250) << "bare = ms";
  EXPECT_EQ(Config().GetDurationMs("registry.zookeeper.session-timeout"), 60000);
  for (std::string bad : {"", "s", "10h", "-1s", "1.5s", "10 s"}) {
    Status s = c.Set("registry.zookeeper.session-timeout", bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("registry.zookeeper.session-timeout"), std::string::npos);
  }
  EXPECT_EQ(c.GetDurationMs("registry.zookeeper.session-timeout"), 250)
      << "a refused value changes nothing";
}

}  // namespace
}  // namespace dsched

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "hold") return dsched::HoldMain(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
