// Cron firing under load (issue 5's target): N online schedules `* * * * * ? *` all due in the
// same second, fired by the real Scheduler on the SystemClock into a real SQLite store, for a
// few slots after it is up. Prints the lateness from each slot to its committed SCHEDULER command
// (p50, p99, max; target p99 <= 100 ms), the lateness to the command's start_time (when the
// firing transaction began: the wake-up's share), each slot's own figures, and the number of
// commands per (schedule, slot), which must be exactly 1. A slot that fell due while the
// scheduler was starting (reading 10,000 schedules) is listed but kept out of the percentiles.
// No engine runs: the commands stay in t_ds_command to be counted.
//
//   schedule_lateness [--schedules N] [--slots K] [--work-dir DIR]
//
// Prints figures; never fails on a missed target (exit 1 only when something broke).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "master/scheduler.h"
#include "storage/sql/sql_store.h"

namespace {

using namespace dsched;

struct Stats {
  double p50 = 0, p99 = 0, max = 0;
};

Stats Percentiles(std::vector<int64_t> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]);
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.max = static_cast<double>(v.back());
  return s;
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "schedule_lateness: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int schedules = 10000, slots = 3;
  std::string work;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--schedules" && i + 1 < argc) {
      schedules = std::atoi(argv[++i]);
    } else if (a == "--slots" && i + 1 < argc) {
      slots = std::atoi(argv[++i]);
    } else if (a == "--work-dir" && i + 1 < argc) {
      work = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: schedule_lateness [--schedules N] [--slots K] [--work-dir DIR]\n");
      return 2;
    }
  }
  if (schedules < 1 || slots < 1) {
    std::fprintf(stderr, "schedule_lateness: --schedules and --slots must be positive\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  std::string base = work.empty() ? std::filesystem::temp_directory_path().string() : work;
  std::string tmpl = base + "/schedule-lateness-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    std::perror("schedule_lateness: mkdtemp");
    return 1;
  }
  std::string dir = buf.data();
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};

  SystemClock clock;
  DbOptions o;
  o.type = DbType::kSqlite;
  o.sqlite_path = dir + "/dsched.db";
  auto opened = SqlStore::Open(o, clock);
  if (!opened.ok()) return Fail("open", opened.status());
  SqlStore& store = **opened;

  // Setup: N one-task workflows, each online with an online per-second schedule.
  auto setup_start = std::chrono::steady_clock::now();
  Project p;
  p.code = 1;
  p.name = "bench";
  p.user_id = 1;
  if (auto r = store.CreateProject(p); !r.ok()) return Fail("project", r.status());
  for (int i = 0; i < schedules; ++i) {
    WorkflowDefinition d;
    d.code = 100000 + i;
    d.name = "wf" + std::to_string(i);
    d.project_code = 1;
    d.user_id = 1;
    TaskDefinition t;
    t.code = 10000000 + i;
    t.name = "t";
    t.task_type = "SHELL";
    t.task_params = {{"rawScript", "true"}};
    d.tasks.push_back(t);
    d.relations.push_back({"", 0, 0, t.code, 0});
    if (auto r = store.CreateWorkflow(d); !r.ok()) return Fail("workflow", r.status());
    if (Status s = store.SetReleaseState(d.code, ReleaseState::kOnline); !s.ok())
      return Fail("release", s);
    Schedule s;
    s.definition_code = d.code;
    s.project_code = 1;
    s.start_time = 0;
    s.end_time = clock.NowMs() + 86400000LL;
    s.crontab = "* * * * * ? *";
    s.timezone_id = "UTC";
    s.user_id = 1;
    auto created = store.CreateSchedule(s);
    if (!created.ok()) return Fail("schedule", created.status());
    if (Status st = store.SetScheduleReleaseState(created->id, ReleaseState::kOnline); !st.ok())
      return Fail("online", st);
  }
  double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();

  // The store alone: one Fire of every schedule at a slot long past (kept apart from the
  // scheduler's slots below), to tell the database's share of the lateness from the rest.
  std::vector<FireSlot> past;
  {
    auto online = store.ListOnlineSchedules();
    if (!online.ok()) return Fail("online", online.status());
    for (const Schedule& s : *online) past.push_back({s.id, 1000});
  }
  auto fire_start = std::chrono::steady_clock::now();
  if (auto r = store.Fire(past); !r.ok()) return Fail("fire", r.status());
  double fire_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fire_start)
          .count();

  // Fire for `slots` slots after the scheduler is up, recording each commit. Start() reads every
  // schedule and its last fire; a slot that falls due while it does fires late for that
  // reason, and is reported apart from the others.
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, int64_t> committed_at;  // slot -> commit wall time of its (last) Fire
  std::map<int64_t, std::vector<int64_t>> commit_lateness;  // slot -> one per command
  int64_t fire_calls = 0;
  SchedulerOptions so;
  so.on_fired = [&](const std::vector<FireSlot>& fired, const FireResult& r, int64_t committed) {
    std::lock_guard<std::mutex> l(mu);
    ++fire_calls;
    for (const FireSlot& f : fired) {
      commit_lateness[f.fire_time].push_back(committed - f.fire_time);
      committed_at[f.fire_time] = committed;
    }
    cv.notify_all();
  };
  Scheduler scheduler(so, clock, store, nullptr);
  const int64_t start_called = clock.NowMs();
  if (Status s = scheduler.Start(); !s.ok()) return Fail("start", s);
  const int64_t started = clock.NowMs();
  auto steady_slots = [&] {
    return std::count_if(committed_at.begin(), committed_at.end(),
                         [&](const auto& e) { return e.first > started; });
  };
  {
    std::unique_lock<std::mutex> l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(slots + 30),
                     [&] { return static_cast<int>(steady_slots()) >= slots; })) {
      std::fprintf(stderr, "schedule_lateness: only %zu slots fired in %d s\n", committed_at.size(),
                   slots + 30);
      return 1;
    }
  }
  scheduler.Stop();

  // What the database holds: one command per (schedule, slot), and its start_time.
  auto cmds = store.ListCommands(std::numeric_limits<int>::max());
  if (!cmds.ok()) return Fail("commands", cmds.status());
  std::map<std::pair<int64_t, int64_t>, int> per_slot;
  std::map<int64_t, std::vector<int64_t>> start_lateness;  // slot -> one per command
  std::map<int64_t, int> slot_set;
  for (const Command& c : *cmds) {
    if (c.schedule_time == 1000) continue;  // the store-alone round
    ++per_slot[{c.definition_code, c.schedule_time}];
    start_lateness[c.schedule_time].push_back(c.start_time - c.schedule_time);
    ++slot_set[c.schedule_time];
  }
  int min_count = per_slot.empty() ? 0 : INT32_MAX, max_count = 0;
  for (const auto& [k, n] : per_slot) {
    min_count = std::min(min_count, n);
    max_count = std::max(max_count, n);
  }
  // Every schedule in every fired slot: schedules x slots pairs.
  int64_t expected = static_cast<int64_t>(schedules) * static_cast<int64_t>(slot_set.size());
  int64_t missing = expected - static_cast<int64_t>(per_slot.size());

  // The headline: the slots that fell due once the scheduler was up.
  std::vector<int64_t> commit_all, start_all;
  for (const auto& [slot, v] : commit_lateness)
    if (slot > started) commit_all.insert(commit_all.end(), v.begin(), v.end());
  for (const auto& [slot, v] : start_lateness)
    if (slot > started) start_all.insert(start_all.end(), v.begin(), v.end());
  Stats commit = Percentiles(commit_all);
  Stats start = Percentiles(start_all);
  std::printf(
      "schedule lateness: %d schedules '* * * * * ? *' on SQLite, %zu slots, %lld Fire "
      "calls (setup %.1f s, scheduler start-up %lld ms)\n",
      schedules, slot_set.size(), static_cast<long long>(fire_calls), setup_s,
      static_cast<long long>(started - start_called));
  std::printf(
      "  slot -> committed command:  p50 %.0f ms  p99 %.0f ms  max %.0f ms   (target p99 <= "
      "100 ms: %s)\n",
      commit.p50, commit.p99, commit.max, commit.p99 <= 100 ? "met" : "MISSED");
  std::printf("  slot -> Fire began (command start_time): p50 %.0f ms  p99 %.0f ms  max %.0f ms\n",
              start.p50, start.p99, start.max);
  std::printf("  one store Fire of %d slots alone: %.0f ms\n", schedules, fire_ms);
  // Each slot: when its Fire began and when it committed (all its commands share both).
  for (const auto& [slot, committed] : committed_at) {
    const auto& st = start_lateness[slot];
    int64_t began = st.empty() ? 0 : *std::max_element(st.begin(), st.end());
    std::printf("    slot %+.3f s after start-up: Fire began +%lld ms, committed +%lld ms (%zu commands)%s\n",
                static_cast<double>(slot - started) / 1000.0, static_cast<long long>(began),
                static_cast<long long>(committed - slot), st.size(),
                slot > started ? "" : "  [due during start-up: not in the figures above]");
  }
  std::printf(
      "  commands per (schedule, slot): min %d  max %d  (must be exactly 1: %s); "
      "pairs missing %lld\n",
      min_count, max_count, min_count == 1 && max_count == 1 ? "ok" : "WRONG",
      static_cast<long long>(missing));
  return 0;
}
