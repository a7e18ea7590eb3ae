#include "cron/complement.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/time_format.h"

namespace dsched::cron {
namespace {

std::vector<std::string> Show(const std::vector<int64_t>& v) {
  std::vector<std::string> out;
  for (int64_t ms : v) out.push_back(FormatDateTime(ms));
  return out;
}

TEST(ComplementTest, DailyRangeKeepsTheTimeOfDayAcrossDst) {
  setenv("TZ", "America/New_York", 1);
  tzset();
  auto d = DailyDates(*ParseDateTime("2026-03-07 02:30:00"), *ParseDateTime("2026-03-10 02:30:00"), 100);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  // 2026-03-08 02:30 does not exist in New York: mktime moves it to 03:30.
  EXPECT_EQ(Show(*d), (std::vector<std::string>{"2026-03-07 02:30:00", "2026-03-08 03:30:00",
                                                "2026-03-09 02:30:00", "2026-03-10 02:30:00"}));
  setenv("TZ", "UTC", 1);
  tzset();
}

TEST(ComplementTest, OrderAndLimits) {
  setenv("TZ", "UTC", 1);
  tzset();
  auto d = DailyDates(*ParseDateTime("2026-01-30"), *ParseDateTime("2026-02-02"), 100);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Show(OrderDates(*d, true)),
            (std::vector<std::string>{"2026-02-02 00:00:00", "2026-02-01 00:00:00",
                                      "2026-01-31 00:00:00", "2026-01-30 00:00:00"}));
  EXPECT_FALSE(DailyDates(*ParseDateTime("2026-02-02"), *ParseDateTime("2026-01-30"), 100).ok());
  auto big = DailyDates(*ParseDateTime("2026-01-01"), *ParseDateTime("2026-12-31"), 30);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("more than 30 days"), std::string::npos);
  EXPECT_EQ(OrderDates({3, 1, 2, 1}, false), (std::vector<int64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace dsched::cron
