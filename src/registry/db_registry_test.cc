// The database registry against each database of TestDatabases(): SQLite here, PostgreSQL and
// MariaDB under tests/db/run_db_tests.sh registry. Sessions of 1 s refreshed every 100 ms; a dead
// client is a forked process killed with SIGKILL.
#include "registry/db_registry.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <soci/soci.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/wait_until.h"
#include "storage/sql/store_test_fixture.h"

namespace dsched {
namespace {

using std::chrono::milliseconds;

class DbRegistryTest : public StoreTest {
 protected:
  std::unique_ptr<DbRegistry> Client(int64_t min_epoch = 0) {
    DbRegistryOptions o;
    o.db = opts_;
    o.session_timeout_ms = 1000;
    o.heartbeat_refresh_ms = 100;
    o.client_name = "test";
    o.min_epoch = min_epoch;
    auto r = DbRegistry::Create(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // A client in a child process that registers `address` as a worker and takes lock `lock`,
  // then waits to be killed. Returns its pid once both are done.
  pid_t DeadToBe(const std::string& address, const std::string& lock) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      auto c = Client();
      bool ok = c && c->Register(NodeType::kWorker, address, "{}").ok();
      auto l = ok ? c->Lock(lock, milliseconds(0)) : Unavailable("no client");
      char b = ok && l.ok() ? 'y' : 'n';
      (void)!write(fds[1], &b, 1);
      while (true) pause();
    }
    close(fds[1]);
    char b = 0;
    EXPECT_EQ(read(fds[0], &b, 1), 1);
    close(fds[0]);
    EXPECT_EQ(b, 'y');
    return pid;
  }

  static void Kill(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  static std::vector<std::string> Addresses(Registry& r, NodeType t) {
    std::vector<std::string> out;
    for (const auto& n : r.List(t)) out.push_back(n.address);
    return out;
  }
};

TEST_P(DbRegistryTest, RegisterHeartbeatListUnregister) {
  auto a = Client(), b = Client();
  ASSERT_TRUE(a && b);
  auto e1 = a->Register(NodeType::kMaster, "10.0.0.1:5678", R"({"host":"10.0.0.1"})");
  ASSERT_TRUE(e1.ok()) << e1.status().ToString();
  auto e2 = b->Register(NodeType::kWorker, "10.0.0.2:1234", "{}");
  ASSERT_TRUE(e2.ok()) << e2.status().ToString();
  EXPECT_GT(*e2, *e1);
  // The address is taken while its client lives, also for the same client.
  EXPECT_EQ(b->Register(NodeType::kMaster, "10.0.0.1:5678", "{}").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(a->Register(NodeType::kMaster, "10.0.0.1:5678", "{}").status().code(),
            StatusCode::kAlreadyExists);

  auto masters = b->List(NodeType::kMaster);
  ASSERT_EQ(masters.size(), 1u);
  EXPECT_EQ(masters[0].address, "10.0.0.1:5678");
  EXPECT_EQ(masters[0].epoch, *e1);
  EXPECT_EQ(masters[0].heartbeat, R"({"host":"10.0.0.1"})");
  EXPECT_EQ(Addresses(*a, NodeType::kWorker), std::vector<std::string>{"10.0.0.2:1234"});

  // Heartbeat twice: same answer, the newest data, epoch kept.
  for (int i = 0; i < 2; ++i) {
    Status s = a->Heartbeat(NodeType::kMaster, "10.0.0.1:5678", R"({"serverStatus":"BUSY"})");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  masters = b->List(NodeType::kMaster);
  ASSERT_EQ(masters.size(), 1u);
  EXPECT_EQ(masters[0].heartbeat, R"({"serverStatus":"BUSY"})");
  EXPECT_EQ(masters[0].epoch, *e1);
  // Only the owner beats for a node.
  EXPECT_EQ(b->Heartbeat(NodeType::kMaster, "10.0.0.1:5678", "{}").code(), StatusCode::kNotFound);

  // Unregister is idempotent, and leaves another client's node alone.
  EXPECT_TRUE(b->Unregister(NodeType::kMaster, "10.0.0.1:5678").ok());
  EXPECT_EQ(b->List(NodeType::kMaster).size(), 1u);
  EXPECT_TRUE(a->Unregister(NodeType::kMaster, "10.0.0.1:5678").ok());
  EXPECT_TRUE(a->Unregister(NodeType::kMaster, "10.0.0.1:5678").ok());
  EXPECT_TRUE(b->List(NodeType::kMaster).empty());
  EXPECT_EQ(a->Heartbeat(NodeType::kMaster, "10.0.0.1:5678", "{}").code(), StatusCode::kNotFound);
  // Registered again: a new, greater epoch.
  auto e3 = b->Register(NodeType::kMaster, "10.0.0.1:5678", "{}");
  ASSERT_TRUE(e3.ok());
  EXPECT_GT(*e3, *e2);
}

TEST_P(DbRegistryTest, RejectsBadInput) {
  auto a = Client();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->Register(NodeType::kMaster, "no-port", "{}").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Register(NodeType::kMaster, "h:1", "[1]").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Register(NodeType::kMaster, "h:1", R"({"registryEpoch":3})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Lock("a/b", milliseconds(0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(a->List(NodeType::kMaster).empty());

  Config cfg;
  ASSERT_TRUE(cfg.Set("registry.session-timeout", "500ms").ok());
  auto bad = DbRegistryOptionsFromConfig(cfg);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("registry.session-timeout"), std::string::npos);
  ASSERT_TRUE(cfg.Set("registry.session-timeout", "4s").ok());
  ASSERT_TRUE(cfg.Set("registry.heartbeat-refresh-interval", "3s").ok());
  bad = DbRegistryOptionsFromConfig(cfg);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("registry.heartbeat-refresh-interval"), std::string::npos);
  ASSERT_TRUE(cfg.Set("registry.heartbeat-refresh-interval", "1s").ok());
  auto good = DbRegistryOptionsFromConfig(cfg);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->session_timeout_ms, 4000);
  EXPECT_EQ(good->heartbeat_refresh_ms, 1000);
}

TEST_P(DbRegistryTest, EpochsContinueAfterTheNewestInTheDatabase) {
  auto a = Client(/*min_epoch=*/500);
  ASSERT_TRUE(a);
  auto e = a->Register(NodeType::kMaster, "h:1", "{}");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, 501);
}

// A client that dies without a word: after its session timeout the others stop listing it, hear
// of its removal, may take its address (new epoch) and its lock.
TEST_P(DbRegistryTest, DeadClientsNodesAndLocksGoAfterTheSessionTimeout) {
  auto b = Client();
  ASSERT_TRUE(b);
  std::atomic<int> removed{0};
  int64_t removed_epoch = 0;
  pid_t pid = DeadToBe("10.0.0.9:1234", "alert-sender");
  auto listed = b->List(NodeType::kWorker);
  ASSERT_EQ(listed.size(), 1u);
  b->OnNodeRemoved(NodeType::kWorker, [&](const NodeInfo& n) {
    if (n.address == "10.0.0.9:1234") {
      removed_epoch = n.epoch;
      ++removed;
    }
  });
  EXPECT_EQ(b->Lock("alert-sender", milliseconds(0)).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(b->Register(NodeType::kWorker, "10.0.0.9:1234", "{}").status().code(),
            StatusCode::kAlreadyExists);
  auto t0 = std::chrono::steady_clock::now();
  Kill(pid);
  // Still there within the session timeout: a client that only paused must not lose it.
  EXPECT_EQ(b->List(NodeType::kWorker).size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return removed.load() == 1; }, milliseconds(10000)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(900));
  EXPECT_EQ(removed_epoch, listed[0].epoch);
  EXPECT_TRUE(b->List(NodeType::kWorker).empty());
  auto lock = b->Lock("alert-sender", milliseconds(2000));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  auto e = b->Register(NodeType::kWorker, "10.0.0.9:1234", "{}");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_GT(*e, listed[0].epoch);
  // Reported once, not at every refresh.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(removed.load(), 1);
}

TEST_P(DbRegistryTest, LockIsExclusiveAndReleasedByHandleOrClose) {
  auto a = Client(), b = Client();
  ASSERT_TRUE(a && b);
  auto la = a->Lock("master-failover", milliseconds(0));
  ASSERT_TRUE(la.ok()) << la.status().ToString();
  // Not re-entrant: the same client waits like any other.
  EXPECT_EQ(a->Lock("master-failover", milliseconds(0)).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(b->Lock("master-failover", milliseconds(150)).status().code(),
            StatusCode::kFailedPrecondition);
  // Another name is free.
  EXPECT_TRUE(b->Lock("other", milliseconds(0)).ok());
  // A waiter gets it when the holder releases (twice: idempotent).
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(200));
    EXPECT_TRUE((*la)->Release().ok());
    EXPECT_TRUE((*la)->Release().ok());
  });
  auto lb = b->Lock("master-failover", milliseconds(3000));
  release.join();
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  // The old handle's release must not free the new holder's lock.
  EXPECT_TRUE((*la)->Release().ok());
  EXPECT_EQ(a->Lock("master-failover", milliseconds(0)).status().code(),
            StatusCode::kFailedPrecondition);
  // Closing a client frees what it holds at once.
  lb->reset();
  auto la2 = a->Lock("master-failover", milliseconds(0));
  ASSERT_TRUE(la2.ok());
  la2->release();  // the handle outlives nothing: the client's close deletes the row
  a.reset();
  EXPECT_TRUE(b->Lock("master-failover", milliseconds(0)).ok());
}

// A client whose session the others ended (its row deleted, as after a long freeze) calls it
// expired, says so once, and refuses to act.
TEST_P(DbRegistryTest, SessionEndedByOthersIsExpired) {
  auto a = Client();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->Register(NodeType::kMaster, "h:1", "{}").ok());
  std::atomic<int> expired{0};
  a->OnSessionState([&](SessionState s) {
    if (s == SessionState::kExpired) ++expired;
  });
  EXPECT_EQ(a->session_state(), SessionState::kConnected);
  EXPECT_EQ(a->session_timeout_ms(), 1000);
  {
    auto sql = Connect(opts_, false);
    ASSERT_TRUE(sql.ok());
    long long id = a->client_id();
    **sql << "DELETE FROM t_ds_jdbc_registry_client_heartbeat WHERE id = :i", soci::use(id);
  }
  ASSERT_TRUE(WaitUntil([&] { return expired.load() == 1; }, milliseconds(10000)));
  EXPECT_EQ(a->session_state(), SessionState::kExpired);
  EXPECT_EQ(a->Register(NodeType::kMaster, "h:2", "{}").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Lock("x", milliseconds(0)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->TryList(NodeType::kMaster).status().code(), StatusCode::kUnavailable);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(expired.load(), 1);
  // Its node is gone for the others.
  auto b = Client();
  ASSERT_TRUE(b);
  ASSERT_TRUE(WaitUntil([&] { return b->List(NodeType::kMaster).empty(); }, milliseconds(10000)));
}

INSTANTIATE_TEST_SUITE_P(Databases, DbRegistryTest, testing::ValuesIn(TestDatabases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dsched
