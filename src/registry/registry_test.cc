#include "registry/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace dsched {
namespace {

TEST(InMemoryRegistryTest, EpochsGrowAcrossRestartsAndRegistrations) {
  InMemoryRegistry reg(41);  // the newest epoch a previous run left in the database
  auto a = reg.Register(NodeType::kMaster, "h:1", "{}");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 42);
  EXPECT_EQ(reg.Register(NodeType::kMaster, "h:1", "{}").status().code(),
            StatusCode::kAlreadyExists);
  auto b = reg.Register(NodeType::kWorker, "h:2", "{}");
  EXPECT_EQ(*b, 43);
}

TEST(InMemoryRegistryTest, ExpiryNotifiesWatchersOnceAndFreesTheAddress) {
  InMemoryRegistry reg;
  std::vector<std::string> removed;
  reg.OnNodeRemoved(NodeType::kWorker, [&](const NodeInfo& n) { removed.push_back(n.address); });
  ASSERT_TRUE(reg.Register(NodeType::kWorker, "w:1", "{}").ok());
  ASSERT_TRUE(reg.Heartbeat(NodeType::kWorker, "w:1", R"({"state":"BUSY"})").ok());
  EXPECT_EQ(reg.List(NodeType::kWorker).front().heartbeat, R"({"state":"BUSY"})");
  reg.ExpireSession(NodeType::kWorker, "w:1");
  reg.ExpireSession(NodeType::kWorker, "w:1");  // idempotent
  EXPECT_EQ(removed, std::vector<std::string>{"w:1"});
  EXPECT_TRUE(reg.List(NodeType::kWorker).empty());
  EXPECT_FALSE(reg.Heartbeat(NodeType::kWorker, "w:1", "{}").ok());
  auto again = reg.Register(NodeType::kWorker, "w:1", "{}");
  EXPECT_TRUE(again.ok());
}

TEST(InMemoryRegistryTest, LockIsHeldByOneTakerUntilReleased) {
  using std::chrono::milliseconds;
  InMemoryRegistry reg;
  EXPECT_EQ(reg.Lock("a/b", milliseconds(0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.Lock("", milliseconds(0)).status().code(), StatusCode::kInvalidArgument);
  auto a = reg.Lock("alert", milliseconds(0));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(reg.Lock("alert", milliseconds(0)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg.Lock("alert", milliseconds(50)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(reg.Lock("other", milliseconds(0)).ok()) << "locks are per name";

  // A waiter gets it once the holder releases (the deadline is only a bound, never reached).
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto b = reg.Lock("alert", std::chrono::minutes(1));
    EXPECT_TRUE(b.ok());
    got = b.ok();
  });
  EXPECT_FALSE(got);
  ASSERT_TRUE((*a)->Release().ok());
  EXPECT_TRUE((*a)->Release().ok()) << "idempotent";
  waiter.join();
  EXPECT_TRUE(got);
  // The waiter's handle died with its thread: released.
  auto again = reg.Lock("alert", milliseconds(0));
  EXPECT_TRUE(again.ok());

  // A handle may outlive its registry.
  auto outliving = std::make_unique<InMemoryRegistry>();
  auto h = outliving->Lock("x", milliseconds(0));
  ASSERT_TRUE(h.ok());
  outliving.reset();
  EXPECT_TRUE((*h)->Release().ok());
}

TEST(InMemoryRegistryTest, TryListIsList) {
  InMemoryRegistry reg;
  ASSERT_TRUE(reg.Register(NodeType::kAlertServer, "a:1", "{}").ok());
  auto l = reg.TryList(NodeType::kAlertServer);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].address, "a:1");
}

}  // namespace
}  // namespace dsched
