#include "cron/complement.h"

#include <algorithm>
#include <ctime>

namespace dsched::cron {

StatusOr<std::vector<int64_t>> DailyDates(int64_t start_ms, int64_t end_ms, size_t max_dates) {
  if (end_ms < start_ms)
    return InvalidArgument("scheduleTime: complementEndDate is before complementStartDate");
  std::vector<int64_t> out;
  time_t secs = static_cast<time_t>(start_ms / 1000);
  struct tm day {};
  localtime_r(&secs, &day);
  for (;;) {
    struct tm t = day;
    t.tm_isdst = -1;
    int64_t ms = static_cast<int64_t>(mktime(&t)) * 1000;
    if (ms > end_ms) break;
    if (out.size() == max_dates)
      return InvalidArgument("scheduleTime: the range holds more than " +
                             std::to_string(max_dates) + " days");
    out.push_back(ms);
    ++day.tm_mday;  // mktime normalises the 32nd of a month and so on
  }
  return out;
}

StatusOr<std::vector<int64_t>> CronDates(const CronExpression& cron, const TimeZone& zone,
                                         int64_t start_ms, int64_t end_ms, size_t max_dates) {
  if (end_ms < start_ms)
    return InvalidArgument("scheduleTime: complementEndDate is before complementStartDate");
  std::vector<int64_t> out;
  for (auto t = cron.NextFireAfter(start_ms - 1, zone); t && *t <= end_ms;
       t = cron.NextFireAfter(*t, zone)) {
    if (out.size() == max_dates)
      return InvalidArgument("scheduleTime: the range holds more than " +
                             std::to_string(max_dates) + " fire times of the schedule '" +
                             cron.text() + "'");
    out.push_back(*t);
  }
  if (out.empty())
    return InvalidArgument("scheduleTime: the schedule '" + cron.text() +
                           "' has no fire time inside the range");
  return out;
}

std::vector<int64_t> OrderDates(std::vector<int64_t> dates, bool descending) {
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  if (descending) std::reverse(dates.begin(), dates.end());
  return dates;
}

}  // namespace dsched::cron
