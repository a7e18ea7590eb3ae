// Quartz cron expressions (DolphinScheduler schedules, reference §5): parsing, and the search for
// the next fire times in an IANA time zone.
//
// Written by hand: Debian packages no C or C++ cron library at all (apt-cache search cron finds
// only Go and Perl ones), and none of those speaks Quartz syntax (seconds and year fields, '?',
// 'L', 'W', '#', day-of-week 1 = Sunday).
//
// Pure: no I/O, no clock, no global state; callers pass the instants and the TimeZone (tz.h,
// which is where zone files are read). Not here: when a fire is acted upon, misfire policy,
// start/end windows of a schedule (the master's scheduler owns those).
//
// Syntax (Quartz CronExpression; case-insensitive; fields separated by spaces or tabs):
//   seconds minutes hours day-of-month month day-of-week [year]
//   ranges:  0-59    0-59    0-23  1-31        1-12   1-7 (1 = SUN)   1970-2099
//   every field: *, n, a-b, lists a,b,c, steps */s a/s a-b/s (and "/s" meaning "*/s").
//   A range whose end is below its start wraps around (hours 22-2, day-of-week FRI-MON),
//   except in the year field.
//   month: JAN-DEC; day-of-week: SUN-SAT, usable wherever a number is.
//   Exactly one of day-of-month and day-of-week is '?' (Quartz has no "either day" mode).
//   day-of-month also: L (last day), L-n (n days before the last, n <= 30), LW (last weekday),
//     L-nW, nW (the weekday nearest day n, staying inside the month: 1W on a Saturday is
//     Monday the 3rd, 31W on a Sunday is Friday the 29th).
//   day-of-week also: L alone (= 7, Saturday, as in Quartz), nL (last weekday n of the month),
//     n#k (k-th weekday n, k 1-5; months without one are skipped).
//   The L, W and # forms must stand alone in their field, as Quartz requires.
// Deliberate differences from Quartz: a step of 0 is rejected (Quartz reads "5/0" as "5");
// nW and L-n when the day does not exist that month (31W in April) fire nowhere that month
// (Quartz rolls into the next month); names may be followed by steps ("MON-FRI/2").
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cron/tz.h"

namespace dsched::cron {

// A parsed expression. Immutable value type; const methods are safe to call from many threads.
class CronExpression {
 public:
  // Parses Quartz syntax (above). Errors are InvalidArgument with one line naming the field,
  // e.g. "field 4 (day of month): 32 is out of range 1-31", "expected 6 or 7 fields, got 5",
  // "day of month and day of week are both specified; one of them must be '?'".
  static StatusOr<CronExpression> Parse(std::string_view text);

  // The text given to Parse.
  const std::string& text() const { return text_; }

  // The first fire strictly after `after_ms` (ms since the epoch), in ms (always whole
  // seconds), or nullopt when there is none (the year field is exhausted, or past 2099).
  //
  // The expression is matched against wall-clock time in `tz`. Around DST changes:
  //  - a matching local time skipped by a spring-forward fires at T + the gap length (02:30 on
  //    a one-hour gap fires at 03:30 of the new offset), as Quartz's lenient Calendar does; if
  //    that instant is also matched by a real local time, it fires once;
  //  - a matching local time repeated by a fall-back fires once, at its first occurrence.
  // So the fire times are the set {first instant of each matching local time}, and this returns
  // the smallest element above `after_ms`; chaining calls never skips or repeats a fire.
  std::optional<int64_t> NextFireAfter(int64_t after_ms, const TimeZone& tz) const;

  // Up to n successive fires after `after_ms` (fewer when the expression runs out).
  std::vector<int64_t> NextFires(int64_t after_ms, const TimeZone& tz, int n) const;

  // The same with the zone given by IANA name ("" = UTC), resolved through the caller's cache
  // (which reads the zone file on first use). InvalidArgument "unknown time zone 'X'" otherwise.
  StatusOr<std::optional<int64_t>> NextFireAfter(int64_t after_ms, const std::string& tz,
                                                 TimeZoneCache& zones) const;
  StatusOr<std::vector<int64_t>> NextFires(int64_t after_ms, const std::string& tz, int n,
                                           TimeZoneCache& zones) const;

  // The first local time (seconds since 1970-01-01 00:00:00 local, see tz.h) at or after
  // `local` that matches every field, or nullopt past 2099. Times before 1970 start the search
  // at 1970-01-01. The zone-free core of NextFireAfter.
  std::optional<int64_t> NextLocalMatch(int64_t local) const;

 private:
  friend class CronParser;

  // How days are chosen: exactly one of day-of-month and day-of-week is active.
  enum class DayRule {
    kDomSet,      // dom_ bits
    kDomLast,     // L / L-n / LW / L-nW: day_value_ = n, nearest_weekday_
    kDomNearest,  // nW: day_value_ = n
    kDowSet,      // dow_ bits (1 = Sunday)
    kDowLast,     // nL: day_value_ = weekday
    kDowNth,      // n#k: day_value_ = weekday, nth_ = k
  };

  CronExpression() = default;
  // Bit d set for each matching day d (1..days in month).
  uint64_t DaysIn(int64_t year, int month) const;

  std::string text_;
  uint64_t seconds_ = 0;  // bit v set when value v matches
  uint64_t minutes_ = 0;
  uint64_t hours_ = 0;
  uint64_t dom_ = 0;
  uint64_t months_ = 0;
  uint64_t dow_ = 0;
  std::bitset<130> years_;  // bit y - 1970
  DayRule day_rule_ = DayRule::kDomSet;
  int day_value_ = 0;
  bool nearest_weekday_ = false;
  int nth_ = 0;
};

}  // namespace dsched::cron
