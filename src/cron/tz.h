// IANA time zones for cron: the rules of one zone read from the system tzdata (TZif files,
// RFC 8536), and the conversions between UTC instants and local wall-clock time that the cron
// search needs, including what happens to local times skipped or repeated by a DST change.
//
// Written by hand: libstdc++ 12 has no std::chrono::tzdb / zoned_time, and glibc's
// localtime_r/mktime only work through the process-global TZ variable, which a scheduler serving
// many zones at once cannot use. The TZif format is small: the 64-bit transition table of a
// version 2+ file, and the POSIX TZ footer ("EST5EDT,M3.2.0,M11.1.0") for instants after the
// last transition (all three POSIX date forms Mm.w.d, Jn and n are handled). Leap-second
// records ("right/" zones) are ignored.
//
// Not here: cron matching (cron.h) and formatting dates for people (common/time_format.h).
//
// Instants are whole seconds since the epoch. A *local* time is counted the same way but on the
// wall clock of the zone: seconds since 1970-01-01 00:00:00 local, so civil-date arithmetic
// works on it unchanged.
//
// Only TimeZone::Load, ValidateTimeZone and TimeZoneCache::Get read files; everything else is
// pure.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dsched::cron {

// Debian's tzdata package installs the zone files here.
inline constexpr char kDefaultZoneinfoDir[] = "/usr/share/zoneinfo";

// Bounds standing in for "since forever" and "for ever" in ZonePeriod; far enough out that
// adding an offset or a day to them cannot overflow.
inline constexpr int64_t kTimeMin = -(int64_t{1} << 60);
inline constexpr int64_t kTimeMax = int64_t{1} << 60;

// A stretch of UTC time during which the zone's offset does not change.
struct ZonePeriod {
  int64_t begin = kTimeMin;  // first second (UTC) of the stretch
  int64_t end = kTimeMax;    // first second after it
  int32_t offset = 0;        // seconds east of UTC inside the stretch
  int32_t prev_offset = 0;   // the offset just before `begin` (== offset when unbounded)
};

// Where one local wall-clock time lands in UTC.
struct LocalTimeMapping {
  enum class Kind {
    kUnique,    // the usual case
    kSkipped,   // inside a spring-forward gap: the wall clock never shows it
    kRepeated,  // inside a fall-back overlap: the wall clock shows it twice
  };
  Kind kind = Kind::kUnique;
  // kUnique: the instant. kRepeated: the first (earlier) of the two. kSkipped: the local time
  // read with the offset in force before the gap, i.e. the time after the gap that is as far past
  // the gap's end as T is past its start (02:30 on a one-hour New York gap -> 03:30 EDT). This
  // is what Java's lenient Calendar, and therefore Quartz, does.
  int64_t utc = 0;
  int64_t later_utc = 0;  // kRepeated: the second instant; otherwise equal to utc
};

// A POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0"); defined in tz.cc.
struct PosixTzRule;

// The rules of one zone. Immutable once built, so a const TimeZone is safe to share between
// threads. Cheap to copy (shared tables).
class TimeZone {
 public:
  // The UTC zone, without touching the file system.
  static TimeZone Utc();

  // Reads <zoneinfo_dir>/<name>. "" and "UTC" give Utc() without reading a file. Errors:
  // InvalidArgument "unknown time zone 'X'" when the name is malformed (absolute, "..", odd
  // characters) or has no file; InvalidArgument "time zone 'X': <reason>" when the file is not
  // valid TZif. Idempotent; reads the file each call (use TimeZoneCache to keep zones).
  static StatusOr<TimeZone> Load(const std::string& name,
                                 const std::string& zoneinfo_dir = kDefaultZoneinfoDir);

  // Builds a zone from the bytes of a TZif file. Pure; errors as Load's.
  static StatusOr<TimeZone> FromTzif(const std::string& name, std::string_view tzif);

  // Builds a zone from a POSIX TZ string alone, e.g. "CET-1CEST,M3.5.0,M10.5.0/3" (the same
  // grammar as a TZif footer). InvalidArgument when it does not parse.
  static StatusOr<TimeZone> FromPosixTz(std::string_view spec);

  const std::string& name() const { return name_; }

  // The stretch of constant offset containing the instant.
  ZonePeriod PeriodAt(int64_t utc) const;
  int32_t OffsetAt(int64_t utc) const { return PeriodAt(utc).offset; }
  int64_t UtcToLocal(int64_t utc) const { return utc + OffsetAt(utc); }
  LocalTimeMapping LocalToUtc(int64_t local) const;

 private:
  TimeZone() = default;

  // The transitions of a TZif file: at times[i] the offset becomes offsets[i].
  struct Table {
    std::vector<int64_t> times;
    std::vector<int32_t> offsets;
    int32_t initial_offset = 0;  // before the first transition
  };

  std::string name_;
  std::shared_ptr<const Table> table_ = std::make_shared<const Table>();
  std::shared_ptr<const PosixTzRule> rule_;  // null: the last offset holds for ever
};

// Ok when Load(name, zoneinfo_dir) would succeed; the same errors otherwise.
Status ValidateTimeZone(const std::string& name,
                        const std::string& zoneinfo_dir = kDefaultZoneinfoDir);

// Loaded zones by name, so that each file is read once. Owned by its caller (one per process is
// typical, made at the composition root). Thread-safe: Get may be called concurrently.
class TimeZoneCache {
 public:
  explicit TimeZoneCache(std::string zoneinfo_dir = kDefaultZoneinfoDir);

  // The zone, loaded on first use; Load's errors (which are not cached, so a zone installed
  // later is found).
  StatusOr<std::shared_ptr<const TimeZone>> Get(const std::string& name);

 private:
  const std::string zoneinfo_dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TimeZone>> zones_;  // guarded by mu_
};

}  // namespace dsched::cron
