#include "master/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>

namespace dsched {

// ------------------------------------------------------------------------------ pure part

StatusOr<ScheduleTimes> ScheduleTimes::Of(const Schedule& s, cron::TimeZoneCache& zones) {
  auto cron = cron::CronExpression::Parse(s.crontab);
  if (!cron.ok()) return InvalidArgument("crontab '" + s.crontab + "': " + cron.status().message());
  auto zone = zones.Get(s.timezone_id);
  if (!zone.ok()) return zone.status();
  return ScheduleTimes(*std::move(cron), *std::move(zone), s.start_time, s.end_time);
}

std::optional<int64_t> ScheduleTimes::NextAfter(int64_t after_ms) const {
  // Slots are whole seconds; start_ - 1 makes a slot exactly at start count.
  auto next = cron_.NextFireAfter(std::max(after_ms, start_ - 1), *zone_);
  if (!next || *next > end_) return std::nullopt;
  return next;
}

namespace {

// Up to n of the newest slots in (since, now], oldest first. Searches windows ending at now
// that double in length, so a per-second schedule missed for a month costs about 2n steps,
// not one per missed second.
std::vector<int64_t> NewestSlots(const ScheduleTimes& t, int64_t since, int64_t now, size_t n) {
  std::deque<int64_t> found;
  for (int64_t window = 1000;; window *= 2) {
    int64_t lo = std::max(since, now - window);
    found.clear();
    for (auto s = t.NextAfter(lo); s && *s <= now; s = t.NextAfter(*s)) {
      found.push_back(*s);
      if (found.size() > n) found.pop_front();
    }
    if (found.size() >= n || lo == since) break;
  }
  return {found.begin(), found.end()};
}

}  // namespace

StartPlan PlanStart(const ScheduleTimes& times, MisfirePolicy policy, int64_t since, int64_t now,
                    size_t max_catch_up) {
  // A slot exactly at `now` is due, not missed: it fires under every policy.
  StartPlan plan;
  plan.next = times.NextAfter(now - 1);
  now -= 1;
  if (since >= now) return plan;
  switch (policy) {
    case MisfirePolicy::kDoNothing:
      break;
    case MisfirePolicy::kFireOnce:
      plan.fire_now = NewestSlots(times, since, now, 1);
      break;
    case MisfirePolicy::kFireAll:
      plan.fire_now = NewestSlots(times, since, now, max_catch_up);
      break;
  }
  return plan;
}

// ------------------------------------------------------------------------------ effects

namespace {

// The fields that decide a schedule's slots: when one differs from what was read before, the
// schedule is planned afresh. update_time changes with every update and every online.
bool SameTiming(const Schedule& a, const Schedule& b) {
  return a.crontab == b.crontab && a.timezone_id == b.timezone_id && a.start_time == b.start_time &&
         a.end_time == b.end_time && a.update_time == b.update_time;
}

}  // namespace

bool FirstFirer(int64_t schedule_id, const std::string& me, const std::vector<std::string>& live) {
  // FNV-1a over the address and the id: stable across processes and builds, unlike std::hash.
  auto score = [schedule_id](const std::string& address) {
    uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](unsigned char c) {
      h ^= c;
      h *= 1099511628211ULL;
    };
    for (char c : address) mix(static_cast<unsigned char>(c));
    for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(schedule_id >> (8 * i)));
    h ^= h >> 33;  // FNV's low bits mix poorly for short inputs
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
  };
  const uint64_t mine = score(me);
  for (const auto& other : live)
    if (other != me) {
      uint64_t theirs = score(other);
      if (theirs > mine || (theirs == mine && other > me)) return false;
    }
  return true;
}

Scheduler::Scheduler(SchedulerOptions opts, Clock& clock, ScheduleStore& store,
                     MasterControl* master)
    : opts_(std::move(opts)), clock_(clock), store_(store), master_(master) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Start() {
  DSCHED_RETURN_IF_ERROR(Reload(/*startup=*/true));
  thread_ = std::thread([this] { Loop(); });
  std::lock_guard<std::mutex> l(box_->mu);
  box_->wake = true;
  box_->cv.notify_all();
  return Status::Ok();
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> l(box_->mu);
    box_->stop = true;
    box_->cv.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (timer_) clock_.Cancel(*timer_);
  timer_.reset();
}

void Scheduler::Refresh() {
  std::lock_guard<std::mutex> l(box_->mu);
  box_->refresh = true;
  box_->cv.notify_all();
}

void Scheduler::Sync() {
  std::unique_lock<std::mutex> l(box_->mu);
  if (box_->stop || !thread_.joinable()) return;
  uint64_t want = ++box_->requested;
  box_->wake = true;
  box_->cv.notify_all();
  box_->cv.wait(l, [&] { return box_->done >= want || box_->stop; });
}

void Scheduler::Loop() {
  std::unique_lock<std::mutex> l(box_->mu);
  for (;;) {
    box_->cv.wait(l, [&] { return box_->stop || box_->wake || box_->refresh; });
    if (box_->stop) return;
    bool refresh = box_->refresh;
    box_->wake = box_->refresh = false;
    uint64_t turn = box_->requested;
    l.unlock();

    // What is due fires before a re-read, which at 10,000 schedules would delay it; a slot the
    // re-read brings in fires right after it.
    FireDue();
    int64_t now = clock_.NowMs();
    if (refresh || now >= next_refresh_at_) {
      Status s = Reload(/*startup=*/false);
      if (!s.ok()) spdlog::warn("scheduler: cannot read the online schedules: {}", s.ToString());
      FireDue();
    }
    Arm();

    l.lock();
    box_->done = std::max(box_->done, turn);
    box_->cv.notify_all();
  }
}

Status Scheduler::Reload(bool startup) {
  int64_t now = clock_.NowMs();
  // On failure the fallback timer tries again after retry_ms rather than a whole refresh_ms.
  next_refresh_at_ = now + opts_.retry_ms;
  DSCHED_ASSIGN_OR_RETURN(std::vector<Schedule> online, store_.ListOnlineSchedules());
  next_refresh_at_ = now + opts_.refresh_ms;

  std::map<int64_t, Entry> next_entries;
  for (Schedule& s : online) {
    auto old = entries_.find(s.id);
    if (old != entries_.end() && SameTiming(old->second.schedule, s)) {
      next_entries.emplace(s.id, std::move(old->second));
      continue;
    }
    auto times = ScheduleTimes::Of(s, zones_);
    if (!times.ok()) {
      // Saved through the API, which checks both, so only a hand-edited row gets here.
      spdlog::warn("scheduler: schedule {} cannot fire: {}", s.id, times.status().message());
      continue;
    }
    Entry e{s, *times, std::nullopt};
    if (startup) {
      auto last = store_.LastFire(s.id);
      if (!last.ok()) return last.status();
      // Missed: the slots after the last one fired, but none from before the schedule was last
      // put online or changed (update_time), when it may have been offline.
      int64_t since = std::max(last->value_or(INT64_MIN), s.update_time - 1);
      StartPlan plan = PlanStart(*times, s.misfire_policy, since, now, opts_.max_catch_up);
      for (int64_t slot : plan.fire_now) pending_.push_back({s.id, slot});
      e.next = plan.next;
    } else {
      // New, changed or put online since the last read: its slots count from that moment, so
      // a slot that passed between the change and this read still fires (late, not lost).
      // Bounded by one fallback period: that is how late a read can see a change.
      e.next = times->NextAfter(std::max(s.update_time, now - opts_.refresh_ms) - 1);
    }
    next_entries.emplace(s.id, std::move(e));
  }
  entries_ = std::move(next_entries);
  queue_.clear();
  for (const auto& [id, e] : entries_)
    if (e.next) queue_.emplace(*e.next, id);
  return Status::Ok();
}

void Scheduler::FireDue() {
  int64_t now = clock_.NowMs();
  if (retry_at_ > now) return;
  // Every slot due now goes into this one Fire; the schedules' next slots are computed after
  // the commit, so that their cost (10,000 cron searches) does not delay it.
  std::vector<FireSlot> taken;
  auto to_pending = [&](int64_t id, int64_t slot) {
    backup_.erase({slot + opts_.backup_delay_ms, id, slot});
    auto b = backup_slots_.find(id);
    if (b != backup_slots_.end() && b->second.erase(slot) && b->second.empty())
      backup_slots_.erase(b);
    pending_.push_back({id, slot});
  };
  while (!queue_.empty() && queue_.begin()->first <= now) {
    auto [slot, id] = *queue_.begin();
    queue_.erase(queue_.begin());
    taken.push_back({id, slot});
    if (opts_.fires_first && !opts_.fires_first(id)) {
      backup_.emplace(slot + opts_.backup_delay_ms, id, slot);
      backup_slots_[id].insert(slot);
      continue;
    }
    // This master fires the schedule first now (the one before it left): its older slots
    // held as backups go first, as the ledger drops a slot older than one fired.
    auto b = backup_slots_.find(id);
    if (b != backup_slots_.end())
      for (int64_t older : std::set<int64_t>(b->second)) to_pending(id, older);
    pending_.push_back({id, slot});
  }
  while (!backup_.empty() && std::get<0>(*backup_.begin()) <= now) {
    auto [at, id, slot] = *backup_.begin();
    to_pending(id, slot);
  }
  // Oldest first within a schedule, as the ledger requires (missed start-up slots, backups and
  // due slots meet here).
  std::stable_sort(pending_.begin(), pending_.end(), [](const FireSlot& a, const FireSlot& b) {
    return a.fire_time < b.fire_time;
  });
  auto queue_next_slots = [&] {
    for (const FireSlot& t : taken) {
      Entry& e = entries_.at(t.schedule_id);
      e.next = e.times.NextAfter(t.fire_time);
      if (e.next) queue_.emplace(*e.next, t.schedule_id);
    }
  };
  if (pending_.empty()) {
    queue_next_slots();
    return;
  }
  auto r = store_.Fire(pending_);
  // Taken before the next slots are computed: the lateness of a slot ends at its commit.
  const int64_t committed = clock_.NowMs();
  queue_next_slots();
  if (!r.ok()) {
    if (!failing_)
      spdlog::warn("scheduler: firing {} slots failed, retrying every {} ms: {}", pending_.size(),
                   opts_.retry_ms, r.status().ToString());
    failing_ = true;
    retry_at_ = now + opts_.retry_ms;
    return;
  }
  if (failing_) spdlog::info("scheduler: firing works again");
  failing_ = false;
  retry_at_ = 0;
  if (r->fired > 0 && master_) master_->WakeCommands();
  if (opts_.on_fired) opts_.on_fired(pending_, *r, committed);
  spdlog::debug("scheduler: {} slots: {} fired, {} already fired, {} offline", pending_.size(),
                r->fired, r->duplicate, r->offline);
  pending_.clear();
}

void Scheduler::Arm() {
  int64_t at = next_refresh_at_;
  if (!queue_.empty()) at = std::min(at, queue_.begin()->first);
  if (!backup_.empty()) at = std::min(at, std::get<0>(*backup_.begin()));
  if (retry_at_) at = std::min(at, retry_at_);
  // The armed timer still stands for `at` unless it has fired (then at <= now).
  if (timer_ && timer_at_ == at && at > clock_.NowMs()) return;
  if (timer_) clock_.Cancel(*timer_);
  std::weak_ptr<Mailbox> box = box_;
  timer_ = clock_.RunAt(at, [box] {
    if (auto b = box.lock()) {
      std::lock_guard<std::mutex> l(b->mu);
      b->wake = true;
      b->cv.notify_all();
    }
  });
  timer_at_ = at;
}

}  // namespace dsched
