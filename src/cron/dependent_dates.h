// The date intervals a DEPENDENT task checks, from DolphinScheduler's `dateValue` names and
// the business date of the instance that runs the check. Each interval must have a successful
// run of the depended-on workflow (lastNDays = N whole days, each checked). Pure; local time
// in the process time zone. Written by hand: the names and their meaning are
// DolphinScheduler's, no library knows them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace dsched::cron {

struct Interval {
  int64_t start_ms;  // inclusive
  int64_t end_ms;    // inclusive (the last millisecond of the hour or day)
};

// cycle: hour | day | week | month (informational: the dateValue decides). InvalidArgument
// naming the value when dateValue is unknown.
StatusOr<std::vector<Interval>> DependentIntervals(const std::string& date_value,
                                                   int64_t business_ms);

}  // namespace dsched::cron
