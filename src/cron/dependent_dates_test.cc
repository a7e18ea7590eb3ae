#include "cron/dependent_dates.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/time_format.h"

namespace dsched::cron {
namespace {

// "start..end" of each interval.
std::vector<std::string> Show(const std::string& value, const std::string& business) {
  setenv("TZ", "UTC", 1);
  tzset();
  auto r = DependentIntervals(value, *ParseDateTime(business));
  EXPECT_TRUE(r.ok()) << value << ": " << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok())
    for (const auto& i : *r) out.push_back(FormatDateTime(i.start_ms) + ".." + FormatDateTime(i.end_ms));
  return out;
}

TEST(DependentDatesTest, HoursAndDays) {
  EXPECT_EQ(Show("currentHour", "2026-03-04 10:30:00"),
            (std::vector<std::string>{"2026-03-04 10:00:00..2026-03-04 10:59:59"}));
  EXPECT_EQ(Show("last2Hours", "2026-03-04 00:30:00"),
            (std::vector<std::string>{"2026-03-03 22:00:00..2026-03-03 22:59:59",
                                      "2026-03-03 23:00:00..2026-03-03 23:59:59"}));
  EXPECT_EQ(Show("last24Hours", "2026-03-04 10:30:00").size(), 24u);
  EXPECT_EQ(Show("today", "2026-03-04 10:30:00"),
            (std::vector<std::string>{"2026-03-04 00:00:00..2026-03-04 23:59:59"}));
  EXPECT_EQ(Show("last1Days", "2026-03-01 10:30:00"),
            (std::vector<std::string>{"2026-02-28 00:00:00..2026-02-28 23:59:59"}));
  EXPECT_EQ(Show("last7Days", "2026-03-04 10:30:00").front(),
            "2026-02-25 00:00:00..2026-02-25 23:59:59");
}

TEST(DependentDatesTest, WeeksStartOnMonday) {
  // 2026-03-04 is a Wednesday.
  auto this_week = Show("thisWeek", "2026-03-04 10:00:00");
  ASSERT_EQ(this_week.size(), 3u);
  EXPECT_EQ(this_week.front(), "2026-03-02 00:00:00..2026-03-02 23:59:59");
  auto last_week = Show("lastWeek", "2026-03-04 10:00:00");
  ASSERT_EQ(last_week.size(), 7u);
  EXPECT_EQ(last_week.front(), "2026-02-23 00:00:00..2026-02-23 23:59:59");
  EXPECT_EQ(last_week.back(), "2026-03-01 00:00:00..2026-03-01 23:59:59");
  EXPECT_EQ(Show("lastWednesday", "2026-03-04 10:00:00"),
            (std::vector<std::string>{"2026-02-25 00:00:00..2026-02-25 23:59:59"}));
  // On a Sunday, "last week" is the week before the one that Sunday ends.
  EXPECT_EQ(Show("lastSunday", "2026-03-08 10:00:00"),
            (std::vector<std::string>{"2026-03-01 00:00:00..2026-03-01 23:59:59"}));
}

TEST(DependentDatesTest, MonthsAndErrors) {
  EXPECT_EQ(Show("lastMonthEnd", "2024-03-15 10:00:00"),
            (std::vector<std::string>{"2024-02-29 00:00:00..2024-02-29 23:59:59"}));
  EXPECT_EQ(Show("lastMonthBegin", "2026-01-15 10:00:00"),
            (std::vector<std::string>{"2025-12-01 00:00:00..2025-12-01 23:59:59"}));
  EXPECT_EQ(Show("lastMonth", "2026-03-15 10:00:00").size(), 28u);
  EXPECT_EQ(Show("thisMonth", "2026-03-15 10:00:00").size(), 15u);
  auto bad = DependentIntervals("yesterdayish", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "dateValue: unknown value 'yesterdayish'");
}

}  // namespace
}  // namespace dsched::cron
