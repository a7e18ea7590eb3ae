#include "cron/dependent_dates.h"

#include <ctime>
#include <map>

namespace dsched::cron {

namespace {

struct tm Local(int64_t ms) {
  time_t s = static_cast<time_t>(ms / 1000);
  struct tm t {};
  localtime_r(&s, &t);
  return t;
}

int64_t Make(struct tm t) {
  t.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&t)) * 1000;
}

// The whole local day `offset` days after the day of t.
Interval Day(const struct tm& t, int offset) {
  struct tm a = t;
  a.tm_hour = a.tm_min = a.tm_sec = 0;
  a.tm_mday += offset;
  struct tm b = a;
  b.tm_mday += 1;
  return {Make(a), Make(b) - 1};
}

// The whole hour `offset` hours after the hour of t.
Interval Hour(const struct tm& t, int offset) {
  struct tm a = t;
  a.tm_min = a.tm_sec = 0;
  a.tm_hour += offset;
  struct tm b = a;
  b.tm_hour += 1;
  return {Make(a), Make(b) - 1};
}

int DaysInMonth(int year, int mon0) {
  struct tm t {};
  t.tm_year = year;
  t.tm_mon = mon0 + 1;
  t.tm_mday = 0;  // the last day of mon0
  t.tm_hour = 12;
  t.tm_isdst = -1;
  mktime(&t);
  return t.tm_mday;
}

}  // namespace

StatusOr<std::vector<Interval>> DependentIntervals(const std::string& v, int64_t business_ms) {
  struct tm b = Local(business_ms);
  std::vector<Interval> out;
  auto days_back = [&](int n) {
    for (int i = n; i >= 1; --i) out.push_back(Day(b, -i));
  };
  auto hours_back = [&](int n) {
    for (int i = n; i >= 1; --i) out.push_back(Hour(b, -i));
  };
  // Monday-based weeks, as DolphinScheduler's week_begin.
  int since_monday = (b.tm_wday + 6) % 7;
  static const std::map<std::string, int> kLastWeekday = {
      {"lastMonday", 0}, {"lastTuesday", 1}, {"lastWednesday", 2}, {"lastThursday", 3},
      {"lastFriday", 4}, {"lastSaturday", 5}, {"lastSunday", 6}};
  if (v == "currentHour") {
    out.push_back(Hour(b, 0));
  } else if (v == "last1Hour") {
    hours_back(1);
  } else if (v == "last2Hours") {
    hours_back(2);
  } else if (v == "last3Hours") {
    hours_back(3);
  } else if (v == "last24Hours") {
    hours_back(24);
  } else if (v == "today") {
    out.push_back(Day(b, 0));
  } else if (v == "last1Days") {
    days_back(1);
  } else if (v == "last2Days") {
    days_back(2);
  } else if (v == "last3Days") {
    days_back(3);
  } else if (v == "last7Days") {
    days_back(7);
  } else if (v == "thisWeek") {
    for (int i = -since_monday; i <= 0; ++i) out.push_back(Day(b, i));
  } else if (v == "lastWeek") {
    for (int i = 0; i < 7; ++i) out.push_back(Day(b, -since_monday - 7 + i));
  } else if (auto it = kLastWeekday.find(v); it != kLastWeekday.end()) {
    out.push_back(Day(b, -since_monday - 7 + it->second));
  } else if (v == "thisMonth") {
    for (int d = 1; d <= b.tm_mday; ++d) out.push_back(Day(b, d - b.tm_mday));
  } else if (v == "thisMonthBegin") {
    out.push_back(Day(b, 1 - b.tm_mday));
  } else if (v == "lastMonth" || v == "lastMonthBegin" || v == "lastMonthEnd") {
    int year = b.tm_mon == 0 ? b.tm_year - 1 : b.tm_year;
    int mon = b.tm_mon == 0 ? 11 : b.tm_mon - 1;
    int n = DaysInMonth(year, mon);
    struct tm first = b;
    first.tm_year = year;
    first.tm_mon = mon;
    first.tm_mday = 1;
    if (v == "lastMonthBegin") {
      out.push_back(Day(first, 0));
    } else if (v == "lastMonthEnd") {
      out.push_back(Day(first, n - 1));
    } else {
      for (int d = 0; d < n; ++d) out.push_back(Day(first, d));
    }
  } else {
    return InvalidArgument("dateValue: unknown value '" + v + "'");
  }
  return out;
}

}  // namespace dsched::cron
