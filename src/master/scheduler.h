// The cron firer of a master (DESIGN.md §3, "Cron, exactly once"): turns the slots of online
// schedules into SCHEDULER commands, each (schedule, slot) exactly once, and wakes the engine
// so that it picks them up at once.
//
// Two parts. The pure one (ScheduleTimes, PlanStart) says which slots a schedule has and what a
// start-up does with the slots missed while no master ran: DO_NOTHING skips them (the default,
// as DolphinScheduler), FIRE_ONCE fires the latest one now, FIRE_ALL fires every one (at most
// SchedulerOptions::max_catch_up, the newest). The Scheduler class is the effect: it keeps the
// next slot of every online schedule in a time-ordered queue, sleeps on the injected Clock until
// the earliest, hands every slot due at that instant to ONE ScheduleStore::Fire call (one
// transaction, whose fire ledger makes a repeat harmless), then calls
// MasterControl::WakeCommands.
//
// Cluster: every master keeps every schedule, but a slot is fired first by one master, chosen by
// FirstFirer over the live masters; the others fire it again backup_delay_ms later, which the fire
// ledger turns into a no-op unless the first one died before its commit. So the work is spread
// and no slot is lost to a dead master.
//
// Not here: the command's execution (the engine), cron syntax (src/cron).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "cron/cron.h"
#include "cron/tz.h"
#include "model/entities.h"
#include "rpc/interfaces.h"
#include "storage/stores.h"

namespace dsched {

// The slots of one schedule: its cron expression read in its zone, inside [start, end].
// Immutable value; const methods are thread-safe. Pure.
class ScheduleTimes {
 public:
  // InvalidArgument naming the problem when the crontab does not parse or the zone is unknown
  // (the zone file is read through `zones` on first use).
  static StatusOr<ScheduleTimes> Of(const Schedule& s, cron::TimeZoneCache& zones);

  // The first slot strictly after after_ms that is >= start and <= end; nullopt when none is
  // left.
  std::optional<int64_t> NextAfter(int64_t after_ms) const;

 private:
  ScheduleTimes(cron::CronExpression cron, std::shared_ptr<const cron::TimeZone> zone,
                int64_t start, int64_t end)
      : cron_(std::move(cron)), zone_(std::move(zone)), start_(start), end_(end) {}
  cron::CronExpression cron_;
  std::shared_ptr<const cron::TimeZone> zone_;
  int64_t start_, end_;
};

// What a start-up does with one schedule.
struct StartPlan {
  std::vector<int64_t> fire_now;  // missed slots to fire at once, oldest first
  std::optional<int64_t> next;    // the first slot after now, if any
};

// The slots in (since, now) were missed; one at `now` is due (in `next`). `since` is the schedule's
// last slot in the fire ledger, or, when it never fired, the moment it went online. FIRE_ALL keeps
// the newest max_catch_up of them. Pure.
StartPlan PlanStart(const ScheduleTimes& times, MisfirePolicy policy, int64_t since, int64_t now,
                    size_t max_catch_up);

// Whether `me` fires schedule_id's slots first among `live` masters (host:port; `me` counts as
// live whether listed or not): the one with the highest hash of (address, id), so that a master
// joining or leaving moves only its share of the schedules. Pure.
bool FirstFirer(int64_t schedule_id, const std::string& me, const std::vector<std::string>& live);

struct SchedulerOptions {
  // Fallback re-read of the online schedules (config scheduler.refresh_s); the schedule routes
  // also call Refresh() at once.
  int64_t refresh_ms = 60000;
  // Wait before retrying a Fire the database refused (busy, unreachable).
  int64_t retry_ms = 1000;
  // FIRE_ALL at start-up: at most this many missed slots per schedule, the newest.
  size_t max_catch_up = 1000;
  // Called on the scheduler's thread after each committed Fire with the slots it carried, its
  // result and the wall time the commit returned. For benchmarks and tests; may be empty.
  std::function<void(const std::vector<FireSlot>&, const FireResult&, int64_t committed_ms)>
      on_fired;
  // Cluster: whether this master fires a schedule's slots at once (FirstFirer over the live
  // masters); when it returns false the slot is fired backup_delay_ms late, as a safety net.
  // Empty: every slot at once (standalone). Called on the scheduler's thread.
  std::function<bool(int64_t schedule_id)> fires_first;
  int64_t backup_delay_ms = 0;
};

// Thread-safe. One thread of its own does every read, fire and wake, so that a slow database
// never holds up the Clock's timer thread; timers and Refresh() only signal it.
class Scheduler {
 public:
  // `master` may be null (then nothing is woken; the engine's fallback scan finds the commands).
  Scheduler(SchedulerOptions opts, Clock& clock, ScheduleStore& store, MasterControl* master);
  ~Scheduler();

  // Reads the online schedules and each one's last fire, plans the missed slots by each
  // schedule's misfire policy, and starts the thread, which fires them at once. Returns the
  // store's error when it cannot read the schedules (nothing started).
  Status Start();
  // Stops the thread; slots not fired yet are left to the next start. Idempotent.
  void Stop();
  // The online set may have changed: re-read it soon. Never blocks.
  void Refresh();
  // Returns once the scheduler has handled everything signalled before the call and fired what
  // was due at the clock's current time. For tests driving a FakeClock.
  void Sync();

 private:
  // What the timers share with the thread, kept alive by them: a timer that fires while the
  // scheduler is being destroyed only touches this.
  struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    bool wake = false;
    bool refresh = false;
    bool stop = false;
    uint64_t requested = 0;  // Sync() turns asked for
    uint64_t done = 0;       // turns finished
  };
  struct Entry {
    Schedule schedule;  // as last read; its timing fields tell a change apart
    ScheduleTimes times;
    std::optional<int64_t> next;
  };

  void Loop();
  // Re-reads the online schedules; at start-up also plans the missed slots.
  Status Reload(bool startup);
  void FireDue();
  void Arm();

  const SchedulerOptions opts_;
  Clock& clock_;
  ScheduleStore& store_;
  MasterControl* master_;
  cron::TimeZoneCache zones_;
  std::shared_ptr<Mailbox> box_ = std::make_shared<Mailbox>();
  std::thread thread_;

  // Scheduler thread only (and Start before the thread runs).
  std::map<int64_t, Entry> entries_;             // by schedule id
  std::set<std::pair<int64_t, int64_t>> queue_;  // (next slot, schedule id), earliest first
  std::vector<FireSlot> pending_;                // due but not yet committed
  // Slots another master fires first: (when to fire them anyway, schedule id, slot), and the
  // same slots by schedule.
  std::set<std::tuple<int64_t, int64_t, int64_t>> backup_;
  std::map<int64_t, std::set<int64_t>> backup_slots_;
  int64_t retry_at_ = 0;                         // 0 = no retry waiting
  int64_t next_refresh_at_ = 0;
  std::optional<TimerId> timer_;
  int64_t timer_at_ = 0;
  bool failing_ = false;  // one log line per outage
};

}  // namespace dsched
