// Which business dates a backfill (complement) runs: the days of a date range, or a given list,
// in the order the user asked for. Pure; local times are in the process time zone, as the
// REST API's dates are.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace dsched::cron {

// Every day from start_ms to end_ms inclusive, at start's time of day (stepping the local
// calendar, so a DST change does not shift the hour). InvalidArgument when end is before
// start or the range holds more than max_dates days.
StatusOr<std::vector<int64_t>> DailyDates(int64_t start_ms, int64_t end_ms, size_t max_dates);

// Sorts and de-duplicates dates, newest first when descending.
std::vector<int64_t> OrderDates(std::vector<int64_t> dates, bool descending);

}  // namespace dsched::cron
