// Quartz cron parsing and the next-fire search (see cron.h).
//
// The search works on local wall-clock time field by field (year, month, day, hour, minute,
// second), jumping to the next allowed value of each, so sparse expressions (Feb 29, "6#5") take
// a handful of steps. The zone enters only in NextFireAfter, which walks the zone's periods of
// constant offset and maps local matches back to instants.
#include "cron/cron.h"

#include <algorithm>
#include <bit>
#include <cctype>

#include "cron/civil.h"

namespace dsched::cron {
namespace {

enum Field { kSeconds, kMinutes, kHours, kDayOfMonth, kMonth, kDayOfWeek, kYear };

struct FieldInfo {
  const char* name;
  int lo;
  int hi;
  int step_max;  // Quartz's limits on increments
};

constexpr FieldInfo kFields[7] = {
    {"seconds", 0, 59, 59},      {"minutes", 0, 59, 59}, {"hours", 0, 23, 23},
    {"day of month", 1, 31, 31}, {"month", 1, 12, 12},   {"day of week", 1, 7, 7},
    {"year", 1970, 2099, 129},
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2099;
constexpr int64_t kSecondsPerDay = 86400;

Status FieldError(int f, const std::string& what) {
  return InvalidArgument("field " + std::to_string(f + 1) + " (" + kFields[f].name + "): " + what);
}

Status InvalidValue(int f, std::string_view item) {
  return FieldError(f, "invalid value '" + std::string(item) + "'");
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits to int, saturating well above every limit so huge numbers are still "out of range".
int ToInt(std::string_view digits) {
  int64_t v = 0;
  for (char c : digits) v = std::min<int64_t>(v * 10 + (c - '0'), 1000000);
  return static_cast<int>(v);
}

// Index of the first set bit >= from, or -1.
int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  uint64_t rest = mask >> from;
  return rest == 0 ? -1 : from + std::countr_zero(rest);
}

struct Civil {
  int64_t year;
  int month, day, hour, minute, second;
};

Civil ToCivil(int64_t local) {
  int64_t days = civil::FloorDiv(local, kSecondsPerDay);
  int64_t sod = local - days * kSecondsPerDay;
  civil::Date d = civil::CivilFromDays(days);
  return {d.year,
          d.month,
          d.day,
          static_cast<int>(sod / 3600),
          static_cast<int>(sod / 60 % 60),
          static_cast<int>(sod % 60)};
}

int64_t FromCivil(const Civil& c) {
  return civil::DaysFromCivil(c.year, c.month, c.day) * kSecondsPerDay + c.hour * 3600 +
         c.minute * 60 + c.second;
}

// Carries: move to the start of the next month / day / hour / minute.
void NextMonth(Civil& c) {
  c = {c.month == 12 ? c.year + 1 : c.year, c.month == 12 ? 1 : c.month + 1, 1, 0, 0, 0};
}
void NextDay(Civil& c) {
  if (c.day >= civil::DaysInMonth(c.year, c.month)) return NextMonth(c);
  c = {c.year, c.month, c.day + 1, 0, 0, 0};
}
void NextHour(Civil& c) {
  if (c.hour == 23) return NextDay(c);
  c = {c.year, c.month, c.day, c.hour + 1, 0, 0};
}
void NextMinute(Civil& c) {
  if (c.minute == 59) return NextHour(c);
  c = {c.year, c.month, c.day, c.hour, c.minute + 1, 0};
}

}  // namespace

// Builds a CronExpression from text; a class so it can fill the private members.
class CronParser {
 public:
  static StatusOr<CronExpression> Run(std::string_view text) {
    std::vector<std::string_view> fields;
    size_t i = 0;
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (i < text.size()) {
      while (i < text.size() && is_space(text[i])) ++i;
      size_t start = i;
      while (i < text.size() && !is_space(text[i])) ++i;
      if (i > start) fields.push_back(text.substr(start, i - start));
    }
    if (fields.size() != 6 && fields.size() != 7) {
      return InvalidArgument("expected 6 or 7 fields, got " + std::to_string(fields.size()));
    }
    CronExpression e;
    e.text_ = std::string(text);
    CronParser p(&e);
    for (int f = 0; f < 7; ++f) {
      DSCHED_RETURN_IF_ERROR(
          p.ParseField(f, f < static_cast<int>(fields.size()) ? fields[f] : "*"));
    }
    if (!p.dom_unspecified_ && !p.dow_unspecified_) {
      return InvalidArgument(
          "day of month and day of week are both specified; one of them must be '?'");
    }
    if (p.dom_unspecified_ && p.dow_unspecified_) {
      return InvalidArgument(
          "day of month and day of week are both '?'; exactly one of them must be '?'");
    }
    if (p.dow_unspecified_) {
      if (!p.dom_special_) e.day_rule_ = CronExpression::DayRule::kDomSet;
    } else if (!p.dow_special_) {
      e.day_rule_ = CronExpression::DayRule::kDowSet;
    }
    return e;
  }

 private:
  explicit CronParser(CronExpression* e) : e_(e) {}

  Status ParseField(int f, std::string_view field) {
    std::string upper(field);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::vector<std::pair<std::string_view, std::string_view>> items;  // (upper, as written)
    size_t start = 0;
    while (true) {
      size_t comma = upper.find(',', start);
      size_t end = comma == std::string::npos ? upper.size() : comma;
      items.emplace_back(std::string_view(upper).substr(start, end - start),
                         field.substr(start, end - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    for (const auto& [item, written] : items) {
      if (item.empty()) return FieldError(f, "empty value in list");
      bool alone = items.size() == 1;
      if (item == "?") {
        if (f != kDayOfMonth && f != kDayOfWeek) {
          return FieldError(f, "'?' is only allowed in day of month or day of week");
        }
        if (!alone) return FieldError(f, "'?' cannot be combined with other values");
        (f == kDayOfMonth ? dom_unspecified_ : dow_unspecified_) = true;
        continue;
      }
      bool special = (f == kDayOfMonth && item.find_first_of("LW") != std::string_view::npos) ||
                     (f == kDayOfWeek && item.find_first_of("L#") != std::string_view::npos);
      if (special) {
        if (!alone) {
          return FieldError(f,
                            "'" + std::string(written) + "' cannot be combined with other values");
        }
        DSCHED_RETURN_IF_ERROR(f == kDayOfMonth ? ParseDomSpecial(item, written)
                                                : ParseDowSpecial(item, written));
        continue;
      }
      DSCHED_RETURN_IF_ERROR(ParseRange(f, item, written));
    }
    return Status::Ok();
  }

  // A number or (month, day of week) a three-letter name, checked against the field's range.
  static Status ParseValue(int f, std::string_view part, std::string_view written, int* out) {
    if (AllDigits(part)) {
      int v = ToInt(part);
      if (v < kFields[f].lo || v > kFields[f].hi) {
        return FieldError(f, std::string(part) + " is out of range " +
                                 std::to_string(kFields[f].lo) + "-" +
                                 std::to_string(kFields[f].hi));
      }
      *out = v;
      return Status::Ok();
    }
    if (f == kMonth || f == kDayOfWeek) {
      const auto* names = f == kMonth ? kMonthNames : kDayNames;
      int count = f == kMonth ? 12 : 7;
      for (int k = 0; k < count; ++k) {
        if (part == names[k]) {
          *out = k + 1;
          return Status::Ok();
        }
      }
    }
    return InvalidValue(f, written);
  }

  // "*", "v", "a-b", each optionally followed by "/step"; "/step" alone means "*/step".
  Status ParseRange(int f, std::string_view item, std::string_view written) {
    const FieldInfo& info = kFields[f];
    std::string_view base = item;
    int step = 1;
    bool has_step = false;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = item.substr(slash + 1);
      if (!AllDigits(step_text)) return InvalidValue(f, written);
      step = ToInt(step_text);
      if (step < 1 || step > info.step_max) {
        return FieldError(f, "step " + std::string(step_text) + " is out of range 1-" +
                                 std::to_string(info.step_max));
      }
      has_step = true;
      base = item.substr(0, slash);
      if (base.empty()) base = "*";
    }
    int first = info.lo, last = info.hi;
    if (base != "*") {
      if (size_t dash = base.find('-'); dash != std::string_view::npos) {
        std::string_view a = base.substr(0, dash), b = base.substr(dash + 1);
        if (a.empty() || b.empty()) return InvalidValue(f, written);
        DSCHED_RETURN_IF_ERROR(ParseValue(f, a, written, &first));
        DSCHED_RETURN_IF_ERROR(ParseValue(f, b, written, &last));
        if (f == kYear && last < first) {
          return FieldError(f, "range " + std::string(base) + " cannot wrap around");
        }
      } else {
        DSCHED_RETURN_IF_ERROR(ParseValue(f, base, written, &first));
        if (!has_step) last = first;
      }
    }
    // A range ending below its start wraps past the field's maximum (Quartz's addToSet).
    int size = info.hi - info.lo + 1;
    int stop = last < first ? last + size : last;
    for (int v = first; v <= stop; v += step) Add(f, v > info.hi ? v - size : v);
    return Status::Ok();
  }

  // L, L-n, LW, L-nW, nW.
  Status ParseDomSpecial(std::string_view item, std::string_view written) {
    dom_special_ = true;
    if (item.front() == 'L') {
      std::string_view rest = item.substr(1);
      bool weekday = !rest.empty() && rest.back() == 'W';
      if (weekday) rest.remove_suffix(1);
      int offset = 0;
      if (!rest.empty()) {
        if (rest.front() != '-' || !AllDigits(rest.substr(1))) {
          return InvalidValue(kDayOfMonth, written);
        }
        offset = ToInt(rest.substr(1));
        if (offset > 30) {
          return FieldError(kDayOfMonth, "offset " + std::string(rest.substr(1)) +
                                             " after 'L-' is out of range 0-30");
        }
      }
      e_->day_rule_ = CronExpression::DayRule::kDomLast;
      e_->day_value_ = offset;
      e_->nearest_weekday_ = weekday;
      return Status::Ok();
    }
    if (item.back() != 'W' || !AllDigits(item.substr(0, item.size() - 1))) {
      return InvalidValue(kDayOfMonth, written);
    }
    int day = 0;
    DSCHED_RETURN_IF_ERROR(ParseValue(kDayOfMonth, item.substr(0, item.size() - 1), written, &day));
    e_->day_rule_ = CronExpression::DayRule::kDomNearest;
    e_->day_value_ = day;
    return Status::Ok();
  }

  // L (= 7, Saturday), nL, n#k.
  Status ParseDowSpecial(std::string_view item, std::string_view written) {
    if (item == "L") {
      Add(kDayOfWeek, 7);
      return Status::Ok();  // a plain set, as in Quartz
    }
    dow_special_ = true;
    int weekday = 0;
    if (size_t hash = item.find('#'); hash != std::string_view::npos) {
      std::string_view nth = item.substr(hash + 1);
      if (!AllDigits(nth)) return InvalidValue(kDayOfWeek, written);
      DSCHED_RETURN_IF_ERROR(ParseValue(kDayOfWeek, item.substr(0, hash), written, &weekday));
      int k = ToInt(nth);
      if (k < 1 || k > 5) {
        return FieldError(kDayOfWeek,
                          "occurrence " + std::string(nth) + " after '#' is out of range 1-5");
      }
      e_->day_rule_ = CronExpression::DayRule::kDowNth;
      e_->day_value_ = weekday;
      e_->nth_ = k;
      return Status::Ok();
    }
    if (item.back() != 'L' || item.size() < 2) return InvalidValue(kDayOfWeek, written);
    DSCHED_RETURN_IF_ERROR(
        ParseValue(kDayOfWeek, item.substr(0, item.size() - 1), written, &weekday));
    e_->day_rule_ = CronExpression::DayRule::kDowLast;
    e_->day_value_ = weekday;
    return Status::Ok();
  }

  void Add(int f, int v) {
    if (f == kYear) {
      e_->years_.set(v - kMinYear);
      return;
    }
    uint64_t* masks[] = {&e_->seconds_, &e_->minutes_, &e_->hours_,
                         &e_->dom_,     &e_->months_,  &e_->dow_};
    *masks[f] |= uint64_t{1} << v;
  }

  CronExpression* e_;
  bool dom_unspecified_ = false;
  bool dow_unspecified_ = false;
  bool dom_special_ = false;
  bool dow_special_ = false;
};

StatusOr<CronExpression> CronExpression::Parse(std::string_view text) {
  return CronParser::Run(text);
}

uint64_t CronExpression::DaysIn(int64_t year, int month) const {
  const int dim = civil::DaysInMonth(year, month);
  const int wd1 = civil::WeekdayFromDays(civil::DaysFromCivil(year, month, 1));  // 0 = Sunday
  auto weekday = [&](int d) { return (wd1 + d - 1) % 7; };
  // Quartz's nearest weekday: Saturday -> Friday, Sunday -> Monday, but never leaving the month.
  auto nearest = [&](int d) {
    int w = weekday(d);
    if (w == 6) return d == 1 ? 3 : d - 1;
    if (w == 0) return d == dim ? d - 2 : d + 1;
    return d;
  };
  const uint64_t all_days = ((uint64_t{1} << dim) - 1) << 1;
  switch (day_rule_) {
    case DayRule::kDomSet:
      return dom_ & all_days;
    case DayRule::kDomLast: {
      int d = dim - day_value_;
      if (d < 1) return 0;
      return uint64_t{1} << (nearest_weekday_ ? nearest(d) : d);
    }
    case DayRule::kDomNearest:
      return day_value_ > dim ? 0 : uint64_t{1} << nearest(day_value_);
    case DayRule::kDowSet: {
      uint64_t mask = 0;
      for (int d = 1; d <= dim; ++d) {
        if (dow_ & (uint64_t{1} << (weekday(d) + 1))) mask |= uint64_t{1} << d;
      }
      return mask;
    }
    case DayRule::kDowLast: {
      int target = day_value_ - 1;
      return uint64_t{1} << (dim - (weekday(dim) - target + 7) % 7);
    }
    case DayRule::kDowNth: {
      int d = 1 + (day_value_ - 1 - wd1 + 7) % 7 + 7 * (nth_ - 1);
      return d > dim ? 0 : uint64_t{1} << d;
    }
  }
  return 0;
}

std::optional<int64_t> CronExpression::NextLocalMatch(int64_t local) const {
  Civil c = ToCivil(std::max<int64_t>(local, 0));  // 0 = 1970-01-01 00:00:00
  while (true) {
    int64_t year = c.year;
    while (year <= kMaxYear && !years_.test(year - kMinYear)) ++year;
    if (year > kMaxYear) return std::nullopt;
    if (year != c.year) c = {year, 1, 1, 0, 0, 0};

    int month = NextBit(months_, c.month);
    if (month < 0) {
      c = {c.year + 1, 1, 1, 0, 0, 0};
      continue;
    }
    if (month != c.month) c = {c.year, month, 1, 0, 0, 0};

    int day = NextBit(DaysIn(c.year, c.month), c.day);
    if (day < 0) {
      NextMonth(c);
      continue;
    }
    if (day != c.day) c = {c.year, c.month, day, 0, 0, 0};

    int hour = NextBit(hours_, c.hour);
    if (hour < 0) {
      NextDay(c);
      continue;
    }
    if (hour != c.hour) c = {c.year, c.month, c.day, hour, 0, 0};

    int minute = NextBit(minutes_, c.minute);
    if (minute < 0) {
      NextHour(c);
      continue;
    }
    if (minute != c.minute) c = {c.year, c.month, c.day, c.hour, minute, 0};

    int second = NextBit(seconds_, c.second);
    if (second < 0) {
      NextMinute(c);
      continue;
    }
    c.second = second;
    return FromCivil(c);
  }
}

std::optional<int64_t> CronExpression::NextFireAfter(int64_t after_ms, const TimeZone& tz) const {
  // Local 1970-01-01 is at the earliest 14 h before UTC's; local 2099-12-31 ends before 2103.
  constexpr int64_t kLowest = -2 * kSecondsPerDay;
  constexpr int64_t kHighest = 4200000000;      // 2103-02-04
  int64_t a = civil::FloorDiv(after_ms, 1000);  // a fire u qualifies when u > a
  if (a >= kHighest) return std::nullopt;
  a = std::max(a, kLowest);
  while (true) {
    const ZonePeriod p = tz.PeriodAt(a + 1);
    std::optional<int64_t> best;
    // Local times the clock shows during p, leaving out those it already showed before a
    // fall-back at p.begin (they fired at their first occurrence) and the gap of a spring-forward.
    const int64_t first_local =
        p.begin == kTimeMin ? kTimeMin : p.begin + std::max(p.offset, p.prev_offset);
    const int64_t end_local = p.end == kTimeMax ? kTimeMax : p.end + p.offset;
    const std::optional<int64_t> shown = NextLocalMatch(std::max(a + 1 + p.offset, first_local));
    if (shown && *shown < end_local) best = *shown - p.offset;
    // Local times in the gap of a spring-forward at p.begin fire at T + gap, i.e. read with the
    // old offset; they land in [p.begin, p.begin + gap) and may come before `shown`.
    if (p.begin != kTimeMin && p.prev_offset < p.offset) {
      const std::optional<int64_t> skipped =
          NextLocalMatch(std::max(a + 1 + p.prev_offset, p.begin + p.prev_offset));
      if (skipped && *skipped < p.begin + p.offset) {
        int64_t u = *skipped - p.prev_offset;
        if (!best || u < *best) best = u;
      }
    }
    if (best) return *best * 1000;
    if (!shown) return std::nullopt;  // no later local match at all
    // Nothing in p. Every later fire comes from a local time >= *shown, and an instant is never
    // more than a day before its local time, so skip ahead (p.end is finite here: *shown fell
    // past end_local).
    a = std::max(p.end - 1, *shown - kSecondsPerDay - 1);
  }
}

std::vector<int64_t> CronExpression::NextFires(int64_t after_ms, const TimeZone& tz, int n) const {
  std::vector<int64_t> out;
  for (int k = 0; k < n; ++k) {
    std::optional<int64_t> next = NextFireAfter(after_ms, tz);
    if (!next) break;
    out.push_back(*next);
    after_ms = *next;
  }
  return out;
}

StatusOr<std::optional<int64_t>> CronExpression::NextFireAfter(int64_t after_ms,
                                                               const std::string& tz,
                                                               TimeZoneCache& zones) const {
  DSCHED_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones.Get(tz));
  return NextFireAfter(after_ms, *zone);
}

StatusOr<std::vector<int64_t>> CronExpression::NextFires(int64_t after_ms, const std::string& tz,
                                                         int n, TimeZoneCache& zones) const {
  DSCHED_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones.Get(tz));
  return NextFires(after_ms, *zone, n);
}

}  // namespace dsched::cron
