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

TEST(ComplementTest, CronDatesAreTheScheduleFireTimesInItsZoneInsideTheRange) {
  auto cron = CronExpression::Parse("0 0 6,18 * * ? *");
  ASSERT_TRUE(cron.ok()) << cron.status().ToString();
  auto zone = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  // 2026-01-01 10:00 UTC is 18:00 in Shanghai; the range is UTC instants, both ends inclusive.
  const int64_t from = 1767261600000, day = 86400000, half = day / 2;
  auto d = CronDates(*cron, *zone, from, from + day, 100);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, (std::vector<int64_t>{from, from + half, from + day}));
  auto inner = CronDates(*cron, *zone, from + 1000, from + day - 1000, 100);
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(*inner, (std::vector<int64_t>{from + half}));

  auto none = CronDates(*cron, *zone, from + 1000, from + 2000, 100);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no fire time"), std::string::npos);
  auto backwards = CronDates(*cron, *zone, from + day, from, 100);
  ASSERT_FALSE(backwards.ok());
  EXPECT_NE(backwards.status().message().find("before complementStartDate"), std::string::npos);
  auto many = CronDates(*cron, *zone, from, from + 30 * day, 10);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("more than 10 fire times"), std::string::npos);
}

}  // namespace
}  // namespace dsched::cron
