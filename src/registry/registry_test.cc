#include "registry/registry.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dsched
