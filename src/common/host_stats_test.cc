#include "common/host_stats.h"

#include <gtest/gtest.h>

#include <fstream>

namespace dsched {
namespace {

// Read against this machine's own /proc: MemTotal and MemAvailable are among the lines parsed,
// and the lines after them (some without a unit) must not stop or shift the parse.
TEST(HostStatsTest, ReadsThisHostsMemoryAndLoad) {
  if (!std::ifstream("/proc/meminfo")) GTEST_SKIP() << "no /proc/meminfo here";
  const HostMemory m = ReadHostMemory();
  EXPECT_GT(m.total_kb, 0);
  EXPECT_GT(m.available_kb, 0);
  EXPECT_LE(m.available_kb, m.total_kb);
  EXPECT_GT(m.usage(), 0.0);
  EXPECT_LT(m.usage(), 1.0);
  EXPECT_GE(ReadLoadAverage(), 0.0);
}

TEST(HostStatsTest, UnknownTotalReadsAsUnused) {
  HostMemory m;
  EXPECT_EQ(m.usage(), 0.0);
  m.total_kb = 1000;
  m.available_kb = 250;
  EXPECT_DOUBLE_EQ(m.usage(), 0.75);
}

}  // namespace
}  // namespace dsched
