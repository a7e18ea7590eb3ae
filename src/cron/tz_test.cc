// Tests for tz.h: known transitions, agreement with glibc's own reading of the same tzdata
// (localtime_r under TZ) from 1970 to 2099, POSIX footer rules, gap/overlap mapping, loading
// errors and the cache.
#include "cron/tz.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace dsched::cron {
namespace {

int64_t Utc(const std::string& s) {
  struct tm tm {};
  EXPECT_NE(strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm), nullptr) << s;
  return timegm(&tm);
}

TimeZone MustLoad(const std::string& name) {
  auto tz = TimeZone::Load(name);
  EXPECT_TRUE(tz.ok()) << name << ": " << tz.status().ToString();
  return tz.ok() ? *tz : TimeZone::Utc();
}

TEST(TimeZoneTest, ZoneinfoIsInstalled) {
  ASSERT_TRUE(std::filesystem::exists(std::string(kDefaultZoneinfoDir) + "/America/New_York"))
      << "install the tzdata package";
}

TEST(TimeZoneTest, KnownTransitions) {
  TimeZone ny = MustLoad("America/New_York");
  // 2024-03-10 02:00 EST = 07:00 UTC: clocks jump to 03:00 EDT.
  ZonePeriod spring = ny.PeriodAt(Utc("2024-03-10 07:00:00"));
  EXPECT_EQ(spring.begin, Utc("2024-03-10 07:00:00"));
  EXPECT_EQ(spring.end, Utc("2024-11-03 06:00:00"));
  EXPECT_EQ(spring.offset, -4 * 3600);
  EXPECT_EQ(spring.prev_offset, -5 * 3600);
  EXPECT_EQ(ny.OffsetAt(Utc("2024-03-10 06:59:59")), -5 * 3600);

  TimeZone berlin = MustLoad("Europe/Berlin");
  ZonePeriod fall = berlin.PeriodAt(Utc("2024-10-27 01:00:00"));
  EXPECT_EQ(fall.begin, Utc("2024-10-27 01:00:00"));
  EXPECT_EQ(fall.offset, 3600);
  EXPECT_EQ(fall.prev_offset, 7200);
  EXPECT_EQ(berlin.UtcToLocal(Utc("2024-07-01 12:00:00")), Utc("2024-07-01 14:00:00"));

  TimeZone shanghai = MustLoad("Asia/Shanghai");
  EXPECT_EQ(shanghai.OffsetAt(Utc("2024-07-01 00:00:00")), 8 * 3600);
  EXPECT_EQ(shanghai.PeriodAt(Utc("2024-07-01 00:00:00")).end, kTimeMax);

  TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(utc.name(), "UTC");
  EXPECT_EQ(utc.PeriodAt(0).begin, kTimeMin);
  EXPECT_EQ(utc.OffsetAt(Utc("2050-01-01 00:00:00")), 0);
}

// Footer rules: New York 2050 (2nd Sunday of March = 13th, 1st Sunday of November = 6th).
TEST(TimeZoneTest, FooterRulePastTheTable) {
  TimeZone ny = MustLoad("America/New_York");
  ZonePeriod p = ny.PeriodAt(Utc("2050-06-01 00:00:00"));
  EXPECT_EQ(p.begin, Utc("2050-03-13 07:00:00"));
  EXPECT_EQ(p.end, Utc("2050-11-06 06:00:00"));
  EXPECT_EQ(p.offset, -4 * 3600);
  EXPECT_EQ(p.prev_offset, -5 * 3600);
  ZonePeriod winter = ny.PeriodAt(Utc("2099-12-31 00:00:00"));
  EXPECT_EQ(winter.offset, -5 * 3600);
  EXPECT_EQ(winter.prev_offset, -4 * 3600);
}

// glibc reads the same files with its own code; the offsets must agree everywhere, including
// after 2037 where both follow the POSIX footer.
TEST(TimeZoneTest, AgreesWithGlibc) {
  const std::vector<std::string> zones = {
      "America/New_York",  "Europe/Berlin",     "Asia/Shanghai",    "Australia/Sydney",
      "Asia/Kolkata",      "America/St_Johns",  "Pacific/Auckland", "Europe/London",
      "America/Sao_Paulo", "Africa/Casablanca", "Asia/Tehran",      "America/Santiago",
      "Pacific/Chatham",   "Europe/Dublin",     "America/Nuuk",     "UTC"};
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  std::mt19937_64 rng(7);
  for (const std::string& name : zones) {
    TimeZone tz = MustLoad(name);
    setenv("TZ", name.c_str(), 1);
    tzset();
    const int64_t lo = 0, hi = Utc("2099-12-31 23:59:59");
    for (int i = 0; i < 4000; ++i) {
      int64_t u = lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo));
      time_t t = u;
      struct tm tm {};
      localtime_r(&t, &tm);
      ASSERT_EQ(tz.OffsetAt(u), tm.tm_gmtoff) << name << " at " << u;
      ZonePeriod p = tz.PeriodAt(u);
      ASSERT_LE(p.begin, u);
      ASSERT_GT(p.end, u);
      if (p.end < kTimeMax) {  // the period really ends where the offset changes
        time_t e = p.end, e1 = p.end - 1;
        struct tm a {
        }, b{};
        localtime_r(&e1, &a);
        localtime_r(&e, &b);
        ASSERT_EQ(a.tm_gmtoff, p.offset) << name;
        ASSERT_EQ(b.tm_gmtoff, tz.OffsetAt(p.end)) << name;
      }
    }
  }
  if (old_tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST(TimeZoneTest, LocalToUtcGapAndOverlap) {
  TimeZone ny = MustLoad("America/New_York");
  LocalTimeMapping normal = ny.LocalToUtc(Utc("2024-07-04 12:00:00"));
  EXPECT_EQ(normal.kind, LocalTimeMapping::Kind::kUnique);
  EXPECT_EQ(normal.utc, Utc("2024-07-04 16:00:00"));

  // 02:30 on 2024-03-10 does not exist: read in EST it is 07:30 UTC = 03:30 EDT.
  LocalTimeMapping gap = ny.LocalToUtc(Utc("2024-03-10 02:30:00"));
  EXPECT_EQ(gap.kind, LocalTimeMapping::Kind::kSkipped);
  EXPECT_EQ(gap.utc, Utc("2024-03-10 07:30:00"));
  EXPECT_EQ(ny.UtcToLocal(gap.utc), Utc("2024-03-10 03:30:00"));
  EXPECT_EQ(ny.LocalToUtc(Utc("2024-03-10 02:00:00")).kind, LocalTimeMapping::Kind::kSkipped);
  EXPECT_EQ(ny.LocalToUtc(Utc("2024-03-10 03:00:00")).kind, LocalTimeMapping::Kind::kUnique);
  EXPECT_EQ(ny.LocalToUtc(Utc("2024-03-10 01:59:59")).kind, LocalTimeMapping::Kind::kUnique);

  // 01:30 on 2024-11-03 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
  LocalTimeMapping twice = ny.LocalToUtc(Utc("2024-11-03 01:30:00"));
  EXPECT_EQ(twice.kind, LocalTimeMapping::Kind::kRepeated);
  EXPECT_EQ(twice.utc, Utc("2024-11-03 05:30:00"));
  EXPECT_EQ(twice.later_utc, Utc("2024-11-03 06:30:00"));
  EXPECT_EQ(ny.LocalToUtc(Utc("2024-11-03 02:00:00")).kind, LocalTimeMapping::Kind::kUnique);

  TimeZone berlin = MustLoad("Europe/Berlin");
  EXPECT_EQ(berlin.LocalToUtc(Utc("2024-03-31 02:15:00")).utc, Utc("2024-03-31 01:15:00"));
  LocalTimeMapping b2 = berlin.LocalToUtc(Utc("2024-10-27 02:15:00"));
  EXPECT_EQ(b2.kind, LocalTimeMapping::Kind::kRepeated);
  EXPECT_EQ(b2.utc, Utc("2024-10-27 00:15:00"));
  EXPECT_EQ(b2.later_utc, Utc("2024-10-27 01:15:00"));
}

// Round trips over random local times: every instant found shows that local time, and a
// skipped local time is shown by no instant near it.
TEST(TimeZoneTest, LocalToUtcRoundTrips) {
  std::mt19937_64 rng(11);
  for (const char* name : {"America/New_York", "Europe/Berlin", "Australia/Sydney",
                           "America/St_Johns", "Pacific/Chatham"}) {
    TimeZone tz = MustLoad(name);
    for (int i = 0; i < 3000; ++i) {
      int64_t year = 1990 + static_cast<int64_t>(rng() % 100);
      // Half of the samples within a few hours of a change, where it matters.
      int64_t local = Utc(std::to_string(year) + "-01-01 00:00:00") +
                      static_cast<int64_t>(rng() % (365 * 86400));
      if (rng() % 2) {
        ZonePeriod p = tz.PeriodAt(local);
        if (p.end < kTimeMax) local = p.end + p.offset + static_cast<int64_t>(rng() % 7200) - 3600;
      }
      LocalTimeMapping m = tz.LocalToUtc(local);
      switch (m.kind) {
        case LocalTimeMapping::Kind::kUnique:
          ASSERT_EQ(tz.UtcToLocal(m.utc), local) << name;
          ASSERT_EQ(m.later_utc, m.utc);
          break;
        case LocalTimeMapping::Kind::kRepeated:
          ASSERT_EQ(tz.UtcToLocal(m.utc), local) << name;
          ASSERT_EQ(tz.UtcToLocal(m.later_utc), local) << name;
          ASSERT_LT(m.utc, m.later_utc);
          break;
        case LocalTimeMapping::Kind::kSkipped: {
          for (int64_t u = m.utc - 3 * 3600; u <= m.utc + 3 * 3600; u += 60) {
            ASSERT_NE(tz.UtcToLocal(u), local) << name;
          }
          // T + gap: the instant's local time is past the gap by as much as T was into it.
          ZonePeriod p = tz.PeriodAt(m.utc);
          ASSERT_EQ(tz.UtcToLocal(m.utc), local + (p.offset - p.prev_offset)) << name;
          break;
        }
      }
    }
  }
}

TEST(TimeZoneTest, PosixRules) {
  // Southern hemisphere: Sydney's daylight time spans the new year.
  auto syd = TimeZone::FromPosixTz("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(syd.ok()) << syd.status().ToString();
  EXPECT_EQ(syd->OffsetAt(Utc("2030-01-15 00:00:00")), 11 * 3600);
  EXPECT_EQ(syd->OffsetAt(Utc("2030-07-15 00:00:00")), 10 * 3600);
  // 2030: DST ends Sunday April 7 03:00 AEDT (16:00 UTC on the 6th), starts Sunday October 6
  // 02:00 AEST (16:00 UTC on the 5th).
  ZonePeriod winter = syd->PeriodAt(Utc("2030-07-15 00:00:00"));
  EXPECT_EQ(winter.begin, Utc("2030-04-06 16:00:00"));
  EXPECT_EQ(winter.end, Utc("2030-10-05 16:00:00"));

  // Jn counts 1..365 without Feb 29; n counts 0..365 with it. 2024 is a leap year.
  auto julian = TimeZone::FromPosixTz("XST3XDT,J60/2,J300/2");  // March 1, October 27
  ASSERT_TRUE(julian.ok());
  EXPECT_EQ(julian->PeriodAt(Utc("2024-06-01 00:00:00")).begin, Utc("2024-03-01 05:00:00"));
  EXPECT_EQ(julian->PeriodAt(Utc("2024-06-01 00:00:00")).end, Utc("2024-10-27 04:00:00"));
  auto zero = TimeZone::FromPosixTz("XST3XDT,59/2,299/2");  // Feb 29 and October 26 in 2024
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->PeriodAt(Utc("2024-06-01 00:00:00")).begin, Utc("2024-02-29 05:00:00"));
  EXPECT_EQ(zero->PeriodAt(Utc("2024-06-01 00:00:00")).end, Utc("2024-10-26 04:00:00"));

  // Daylight time all year (RFC 8536 example): one offset, no changes.
  auto always = TimeZone::FromPosixTz("EST5EDT4,0/0,J365/25");
  ASSERT_TRUE(always.ok());
  for (const char* t : {"2030-01-01 04:59:59", "2030-01-01 05:00:00", "2030-06-01 00:00:00",
                        "2030-12-31 23:00:00"}) {
    EXPECT_EQ(always->OffsetAt(Utc(t)), -4 * 3600) << t;
  }

  // Negative transition times, quoted names (Greenland's rule since 2023).
  auto nuuk = TimeZone::FromPosixTz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  ASSERT_TRUE(nuuk.ok());
  // Last Sunday of March 2030 is the 31st; -1:00 on it is 23:00 on Saturday the 30th at UTC-2,
  // i.e. 01:00 UTC, the same instant as the EU change.
  EXPECT_EQ(nuuk->PeriodAt(Utc("2030-06-01 00:00:00")).begin, Utc("2030-03-31 01:00:00"));
  auto fixed = TimeZone::FromPosixTz("<+0530>-5:30");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->OffsetAt(0), 5 * 3600 + 1800);

  for (const char* bad : {"", "E5", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.1.0,M11.1.0",
                          "EST5EDT,M3.6.0,M11.1.0", "<EST5", "EST5EDT,J0,J100"}) {
    EXPECT_FALSE(TimeZone::FromPosixTz(bad).ok()) << bad;
  }
}

TEST(TimeZoneTest, LoadErrors) {
  for (const char* name : {"Mars/Olympus_Mons", "../../etc/passwd", "/etc/passwd", "America",
                           "America/../Europe/Berlin", "America//New_York", "Europe/Berlin "}) {
    auto tz = TimeZone::Load(name);
    ASSERT_FALSE(tz.ok()) << name;
    EXPECT_EQ(tz.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(tz.status().message(), "unknown time zone '" + std::string(name) + "'");
  }
  EXPECT_TRUE(ValidateTimeZone("Europe/Berlin").ok());
  EXPECT_TRUE(ValidateTimeZone("").ok());
  EXPECT_TRUE(ValidateTimeZone("UTC").ok());
  EXPECT_FALSE(ValidateTimeZone("Not/AZone").ok());
  auto empty = TimeZone::Load("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->name(), "UTC");
}

TEST(TimeZoneTest, ZoneinfoDirAndBadFiles) {
  auto dir =
      std::filesystem::temp_directory_path() / ("dsched_tz_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "Test");
  std::filesystem::copy_file(std::string(kDefaultZoneinfoDir) + "/Europe/Berlin",
                             dir / "Test" / "Berlin");
  { std::ofstream(dir / "Test" / "NotTzif") << "hello"; }
  std::string berlin;
  {
    std::ifstream in(std::string(kDefaultZoneinfoDir) + "/Europe/Berlin", std::ios::binary);
    berlin.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  { std::ofstream(dir / "Test" / "Truncated", std::ios::binary) << berlin.substr(0, 100); }

  auto ok = TimeZone::Load("Test/Berlin", dir.string());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->OffsetAt(Utc("2024-07-01 00:00:00")), 7200);
  EXPECT_FALSE(TimeZone::Load("Europe/Berlin", dir.string()).ok());

  auto not_tzif = TimeZone::Load("Test/NotTzif", dir.string());
  ASSERT_FALSE(not_tzif.ok());
  EXPECT_EQ(not_tzif.status().message(), "time zone 'Test/NotTzif': not a TZif file");
  auto truncated = TimeZone::Load("Test/Truncated", dir.string());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().message(), "time zone 'Test/Truncated': truncated");

  // Every truncation of a real file is rejected or parsed, never read out of bounds.
  for (size_t n = 0; n < berlin.size(); n += 7) {
    (void)TimeZone::FromTzif("cut", std::string_view(berlin).substr(0, n));
  }
  auto whole = TimeZone::FromTzif("Berlin", berlin);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->OffsetAt(Utc("2080-07-01 00:00:00")), 7200);
  std::filesystem::remove_all(dir);
}

TEST(TimeZoneCacheTest, LoadsOnceAndIsThreadSafe) {
  TimeZoneCache cache;
  auto a = cache.Get("Europe/Berlin");
  auto b = cache.Get("Europe/Berlin");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  auto bad = cache.Get("Nowhere/Land");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown time zone 'Nowhere/Land'");

  std::vector<std::thread> threads;
  std::vector<const TimeZone*> seen(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto z = cache.Get(i % 2 ? "Asia/Tokyo" : "America/Chicago");
      seen[i] = z.ok() ? z->get() : nullptr;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_NE(seen[i], nullptr);
    EXPECT_EQ(seen[i], seen[i % 2]);
  }
}

}  // namespace
}  // namespace dsched::cron
