// TZif reading, POSIX TZ rules and UTC <-> local conversion (see tz.h).
#include "cron/tz.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <utility>

#include "cron/civil.h"

namespace dsched::cron {

// One end of daylight time in a POSIX TZ rule: "Mm.w.d", "Jn" or "n", plus the local time of day
// (in the offset in force just before the change) at which it happens.
struct PosixDate {
  enum class Kind { kMonthWeekDay, kJulianNoLeap, kZeroBased };
  Kind kind = Kind::kMonthWeekDay;
  int month = 0;        // kMonthWeekDay: 1-12
  int week = 0;         // kMonthWeekDay: 1-5, 5 = the last
  int weekday = 0;      // kMonthWeekDay: 0 = Sunday
  int day = 0;          // kJulianNoLeap: 1-365 (Feb 29 never counted); kZeroBased: 0-365
  int32_t time = 7200;  // seconds after local midnight, may be negative or past 24h
};

struct PosixTzRule {
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  PosixDate start;  // daylight time begins (read in standard time)
  PosixDate end;    // daylight time ends (read in daylight time)
};

namespace {

constexpr int64_t kSecondsPerDay = 86400;
// Rule arithmetic is done on instants clamped to about years 0..9999, far beyond any cron search.
constexpr int64_t kRuleMin = -62000000000;
constexpr int64_t kRuleMax = 253000000000;

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings (the TZif footer), e.g. "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0330>-3:30".

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  bool Parse(PosixTzRule* rule) {
    int32_t off = 0;
    if (!Name() || !Offset(/*max_hours=*/24, &off)) return false;
    rule->std_offset = -off;  // POSIX counts west of Greenwich as positive
    if (AtEnd()) return true;
    if (!Name()) return false;
    rule->has_dst = true;
    rule->dst_offset = rule->std_offset + 3600;
    if (!AtEnd() && Peek() != ',') {
      if (!Offset(24, &off)) return false;
      rule->dst_offset = -off;
    }
    if (AtEnd()) {  // no rule given: the POSIX default is the US one
      rule->start = {PosixDate::Kind::kMonthWeekDay, 3, 2, 0, 0, 7200};
      rule->end = {PosixDate::Kind::kMonthWeekDay, 11, 1, 0, 0, 7200};
      return true;
    }
    return Eat(',') && Date(&rule->start) && Eat(',') && Date(&rule->end) && AtEnd();
  }

 private:
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }

  bool Name() {
    if (Eat('<')) {
      size_t close = s_.find('>', i_);
      if (close == std::string_view::npos || close == i_) return false;
      i_ = close + 1;
      return true;
    }
    size_t start = i_;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(Peek()))) ++i_;
    return i_ - start >= 3;
  }

  bool Number(int max, int* out) {
    size_t start = i_;
    int v = 0;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(Peek())) && i_ - start < 3) {
      v = v * 10 + (Peek() - '0');
      ++i_;
    }
    if (i_ == start || v > max) return false;
    *out = v;
    return true;
  }

  // [+-]hh[:mm[:ss]] -> seconds, sign applied.
  bool Offset(int max_hours, int32_t* out) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    int h = 0, m = 0, sec = 0;
    if (!Number(max_hours, &h)) return false;
    if (Eat(':')) {
      if (!Number(59, &m)) return false;
      if (Eat(':') && !Number(59, &sec)) return false;
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  bool Date(PosixDate* d) {
    if (Eat('M')) {
      d->kind = PosixDate::Kind::kMonthWeekDay;
      if (!Number(12, &d->month) || d->month < 1 || !Eat('.') || !Number(5, &d->week) ||
          d->week < 1 || !Eat('.') || !Number(6, &d->weekday)) {
        return false;
      }
    } else if (Eat('J')) {
      d->kind = PosixDate::Kind::kJulianNoLeap;
      if (!Number(365, &d->day) || d->day < 1) return false;
    } else {
      d->kind = PosixDate::Kind::kZeroBased;
      if (!Number(365, &d->day)) return false;
    }
    d->time = 7200;
    if (Eat('/')) return Offset(/*max_hours=*/167, &d->time);  // RFC 8536 allows -167..167 h
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// The local day (days since epoch) on which `d` falls in `year`.
int64_t RuleDay(const PosixDate& d, int64_t year) {
  switch (d.kind) {
    case PosixDate::Kind::kMonthWeekDay: {
      int64_t first = civil::DaysFromCivil(year, d.month, 1);
      int64_t day = first + (d.weekday - civil::WeekdayFromDays(first) + 7) % 7 + 7 * (d.week - 1);
      while (day >= first + civil::DaysInMonth(year, d.month)) day -= 7;  // week 5 = the last
      return day;
    }
    case PosixDate::Kind::kJulianNoLeap:
      return civil::DaysFromCivil(year, 1, 1) + d.day - 1 +
             (civil::IsLeap(year) && d.day >= 60 ? 1 : 0);
    case PosixDate::Kind::kZeroBased:
      return civil::DaysFromCivil(year, 1, 1) + d.day;
  }
  return 0;
}

struct Change {
  int64_t at;
  int32_t offset;  // in force from `at` on
};

// The rule's changes in years [first_year, last_year], in time order. When an end and a start
// fall on the same instant (all-year daylight time, e.g. "EST5EDT4,0/0,J365/25") the start wins.
std::vector<Change> RuleChanges(const PosixTzRule& r, int64_t first_year, int64_t last_year) {
  struct Ordered {
    int64_t at;
    int order;  // ends sort before starts at the same instant
    int32_t offset;
  };
  std::vector<Ordered> all;
  for (int64_t y = first_year; y <= last_year; ++y) {
    all.push_back(
        {RuleDay(r.start, y) * kSecondsPerDay + r.start.time - r.std_offset, 1, r.dst_offset});
    all.push_back(
        {RuleDay(r.end, y) * kSecondsPerDay + r.end.time - r.dst_offset, 0, r.std_offset});
  }
  std::sort(all.begin(), all.end(), [](const Ordered& a, const Ordered& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  std::vector<Change> out;
  for (const Ordered& o : all) {
    if (!out.empty() && out.back().at == o.at) {
      out.back().offset = o.offset;
    } else {
      out.push_back({o.at, o.offset});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// TZif (RFC 8536).

class ByteReader {
 public:
  explicit ByteReader(std::string_view d) : d_(d) {}
  bool Has(size_t n) const { return d_.size() - pos_ >= n; }
  bool Skip(size_t n) {
    if (!Has(n)) return false;
    pos_ += n;
    return true;
  }
  uint8_t U8() { return static_cast<uint8_t>(d_[pos_++]); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | U8();
    return v;
  }
  int64_t I64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | U8();
    return static_cast<int64_t>(v);
  }
  std::string_view Rest() const { return d_.substr(pos_); }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

struct TzifCounts {
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

bool ReadHeader(ByteReader* r, char* version, TzifCounts* c) {
  if (!r->Has(44) || r->Rest().substr(0, 4) != "TZif") return false;
  r->Skip(4);
  *version = static_cast<char>(r->U8());
  r->Skip(15);
  c->isutcnt = r->U32();
  c->isstdcnt = r->U32();
  c->leapcnt = r->U32();
  c->timecnt = r->U32();
  c->typecnt = r->U32();
  c->charcnt = r->U32();
  // Generous sanity bounds so the size arithmetic below cannot overflow.
  return c->typecnt >= 1 && c->typecnt <= 256 && c->timecnt <= 100000 && c->leapcnt <= 100000 &&
         c->charcnt <= 100000 && c->isutcnt <= 256 && c->isstdcnt <= 256;
}

size_t BlockSize(const TzifCounts& c, size_t time_size) {
  return c.timecnt * time_size + c.timecnt + c.typecnt * 6 + c.charcnt +
         c.leapcnt * (time_size + 4) + c.isstdcnt + c.isutcnt;
}

bool ValidZoneName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '/' && ch != '_' && ch != '-' &&
        ch != '+' && ch != '.') {
      return false;
    }
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    std::string_view part(name.data() + start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

Status UnknownZone(const std::string& name) {
  return InvalidArgument("unknown time zone '" + name + "'");
}

}  // namespace

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  return tz;
}

StatusOr<TimeZone> TimeZone::FromPosixTz(std::string_view spec) {
  auto rule = std::make_shared<PosixTzRule>();
  if (!PosixParser(spec).Parse(rule.get())) {
    return InvalidArgument("bad POSIX TZ string '" + std::string(spec) + "'");
  }
  TimeZone tz;
  tz.name_ = std::string(spec);
  tz.rule_ = std::move(rule);
  return tz;
}

StatusOr<TimeZone> TimeZone::FromTzif(const std::string& name, std::string_view tzif) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("time zone '" + name + "': " + why);
  };
  ByteReader r(tzif);
  char version = 0;
  TzifCounts c{};
  if (!ReadHeader(&r, &version, &c)) return bad("not a TZif file");
  size_t time_size = 4;
  if (version >= '2') {  // skip the 32-bit block; the 64-bit one follows with its own header
    if (!r.Skip(BlockSize(c, 4)) || !ReadHeader(&r, &version, &c)) return bad("truncated");
    time_size = 8;
  }
  if (!r.Has(BlockSize(c, time_size))) return bad("truncated");

  auto table = std::make_shared<Table>();
  for (uint32_t k = 0; k < c.timecnt; ++k) {
    int64_t t = time_size == 8 ? r.I64() : static_cast<int32_t>(r.U32());
    if (!table->times.empty() && t <= table->times.back()) return bad("transitions out of order");
    table->times.push_back(t);
  }
  std::vector<uint8_t> type_of(c.timecnt);
  for (uint32_t k = 0; k < c.timecnt; ++k) {
    type_of[k] = r.U8();
    if (type_of[k] >= c.typecnt) return bad("bad type index");
  }
  std::vector<int32_t> utoff(c.typecnt);
  for (uint32_t k = 0; k < c.typecnt; ++k) {
    utoff[k] = static_cast<int32_t>(r.U32());
    r.Skip(2);  // isdst, abbreviation index: cron does not need them
    if (utoff[k] < -89999 || utoff[k] > 93599) return bad("offset out of range");
  }
  r.Skip(c.charcnt + c.leapcnt * (time_size + 4) + c.isstdcnt + c.isutcnt);

  std::shared_ptr<PosixTzRule> rule;
  if (time_size == 8) {
    std::string_view rest = r.Rest();
    if (rest.empty() || rest.front() != '\n') return bad("missing footer");
    size_t close = rest.find('\n', 1);
    if (close == std::string_view::npos) return bad("unterminated footer");
    std::string_view footer = rest.substr(1, close - 1);
    if (!footer.empty()) {
      rule = std::make_shared<PosixTzRule>();
      if (!PosixParser(footer).Parse(rule.get())) {
        return bad("bad footer '" + std::string(footer) + "'");
      }
    }
  }

  for (uint8_t t : type_of) table->offsets.push_back(utoff[t]);
  table->initial_offset = utoff[0];  // RFC 8536: type 0 applies before the first transition
  TimeZone tz;
  tz.name_ = name;
  tz.table_ = std::move(table);
  tz.rule_ = std::move(rule);
  return tz;
}

StatusOr<TimeZone> TimeZone::Load(const std::string& name, const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC") return Utc();
  if (!ValidZoneName(name)) return UnknownZone(name);
  std::filesystem::path path = std::filesystem::path(zoneinfo_dir) / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return UnknownZone(name);
  auto size = std::filesystem::file_size(path, ec);
  if (ec || size > (1 << 20)) return UnknownZone(name);
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return UnknownZone(name);
  return FromTzif(name, data);
}

ZonePeriod TimeZone::PeriodAt(int64_t utc) const {
  const std::vector<int64_t>& times = table_->times;
  const std::vector<int32_t>& offsets = table_->offsets;
  const int32_t initial_offset = table_->initial_offset;
  size_t k = std::upper_bound(times.begin(), times.end(), utc) - times.begin();
  if (k < times.size() || !rule_) {
    ZonePeriod p;
    p.begin = k == 0 ? kTimeMin : times[k - 1];
    p.end = k < times.size() ? times[k] : kTimeMax;
    p.offset = k == 0 ? initial_offset : offsets[k - 1];
    p.prev_offset = k >= 2 ? offsets[k - 2] : initial_offset;
    return p;
  }

  // Past the table: the POSIX rule, joined to the table's last transition.
  const PosixTzRule& rule = *rule_;
  int64_t u = std::clamp(utc, kRuleMin, kRuleMax);
  int64_t year = civil::CivilFromDays(civil::FloorDiv(u + rule.std_offset, kSecondsPerDay)).year;
  std::vector<Change> rule_changes;
  if (rule.has_dst) rule_changes = RuleChanges(rule, year - 2, year + 1);
  std::vector<Change> changes;
  if (!times.empty()) {
    changes.push_back({times.back(), offsets.back()});
  } else {
    int32_t before_first = rule.std_offset;
    if (!rule_changes.empty() && rule_changes.front().offset == rule.std_offset) {
      before_first = rule.dst_offset;
    }
    changes.push_back({kTimeMin, before_first});
  }
  for (const Change& ch : rule_changes) {
    if (ch.at <= changes.back().at || ch.offset == changes.back().offset) continue;
    changes.push_back(ch);
  }
  size_t j = std::upper_bound(changes.begin(), changes.end(), u,
                              [](int64_t v, const Change& ch) { return v < ch.at; }) -
             changes.begin();
  j = j == 0 ? 0 : j - 1;
  ZonePeriod p;
  p.begin = changes[j].at;
  p.offset = changes[j].offset;
  if (j > 0) {
    p.prev_offset = changes[j - 1].offset;
  } else if (!times.empty()) {
    p.prev_offset = times.size() >= 2 ? offsets[times.size() - 2] : initial_offset;
  } else {
    p.prev_offset = p.offset;
  }
  p.end = j + 1 < changes.size() ? changes[j + 1].at : kTimeMax;
  if (p.end <= utc) p.end = kTimeMax;  // only past the clamp, far beyond any use
  return p;
}

LocalTimeMapping TimeZone::LocalToUtc(int64_t local) const {
  // The instant is within one offset of `local`, so it lies in the period found by a first guess
  // or in one of its neighbours (periods are far longer than offset changes).
  ZonePeriod guess = PeriodAt(local - OffsetAt(local));
  std::vector<ZonePeriod> around = {guess};
  if (guess.begin > kTimeMin) around.push_back(PeriodAt(guess.begin - 1));
  if (guess.end < kTimeMax) around.push_back(PeriodAt(guess.end));
  std::set<int64_t> hits;
  for (const ZonePeriod& p : around) {
    int64_t u = local - p.offset;
    if (u >= p.begin && u < p.end) hits.insert(u);
  }
  LocalTimeMapping m;
  if (!hits.empty()) {
    m.kind = hits.size() == 1 ? LocalTimeMapping::Kind::kUnique : LocalTimeMapping::Kind::kRepeated;
    m.utc = *hits.begin();
    m.later_utc = *hits.rbegin();
    return m;
  }
  // A gap: find the forward jump whose skipped wall-clock span holds `local`.
  m.kind = LocalTimeMapping::Kind::kSkipped;
  m.utc = local - guess.offset;
  for (const ZonePeriod& p : around) {
    if (p.begin > kTimeMin && p.prev_offset < p.offset && local >= p.begin + p.prev_offset &&
        local < p.begin + p.offset) {
      m.utc = local - p.prev_offset;
    }
  }
  m.later_utc = m.utc;
  return m;
}

Status ValidateTimeZone(const std::string& name, const std::string& zoneinfo_dir) {
  return TimeZone::Load(name, zoneinfo_dir).status();
}

TimeZoneCache::TimeZoneCache(std::string zoneinfo_dir) : zoneinfo_dir_(std::move(zoneinfo_dir)) {}

StatusOr<std::shared_ptr<const TimeZone>> TimeZoneCache::Get(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = zones_.find(name);
    if (it != zones_.end()) return it->second;
  }
  // Read the file without the lock; if two threads race, the first insert wins.
  DSCHED_ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(name, zoneinfo_dir_));
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = zones_.emplace(name, std::make_shared<const TimeZone>(std::move(tz)));
  return it->second;
}

}  // namespace dsched::cron
