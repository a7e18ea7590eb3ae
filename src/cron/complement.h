// Which business dates a backfill (complement) runs: the days of a date range (or, for a
// workflow with a schedule, the schedule's fire times inside it), or a given list, in the order
// the user asked for. Pure; local times are in the process time zone, as the
// REST API's dates are.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "cron/cron.h"
#include "cron/tz.h"

namespace dsched::cron {

// Every day from start_ms to end_ms inclusive, at start's time of day (stepping the local
// calendar, so a DST change does not shift the hour). InvalidArgument when end is before
// start or the range holds more than max_dates days.
StatusOr<std::vector<int64_t>> DailyDates(int64_t start_ms, int64_t end_ms, size_t max_dates);

// The fire times of `cron` read in `zone` from start_ms to end_ms inclusive, oldest first: the
// dates of a backfill of a workflow that has a schedule. InvalidArgument when end is before
// start, when none falls inside, or when more than max_dates do.
StatusOr<std::vector<int64_t>> CronDates(const CronExpression& cron, const TimeZone& zone,
                                         int64_t start_ms, int64_t end_ms, size_t max_dates);

// Sorts and de-duplicates dates, newest first when descending.
std::vector<int64_t> OrderDates(std::vector<int64_t> dates, bool descending);

}  // namespace dsched::cron
