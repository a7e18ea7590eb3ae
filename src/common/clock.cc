#include "common/clock.h"

#include <chrono>
#include <climits>

namespace dsched {

TimerId TimerTable::Add(int64_t at_ms, std::function<void()> fn) {
  TimerId id = next_id_++;
  by_time_.emplace(at_ms, id);
  by_id_.emplace(id, std::make_pair(at_ms, std::move(fn)));
  return id;
}

void TimerTable::Remove(TimerId id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto range = by_time_.equal_range(it->second.first);
  for (auto t = range.first; t != range.second; ++t) {
    if (t->second == id) {
      by_time_.erase(t);
      break;
    }
  }
  by_id_.erase(it);
}

std::multimap<int64_t, std::function<void()>> TimerTable::TakeDue(int64_t now_ms) {
  std::multimap<int64_t, std::function<void()>> due;
  while (!by_time_.empty() && by_time_.begin()->first <= now_ms) {
    auto [at, id] = *by_time_.begin();
    by_time_.erase(by_time_.begin());
    auto it = by_id_.find(id);
    due.emplace(at, std::move(it->second.second));
    by_id_.erase(it);
  }
  return due;
}

int64_t TimerTable::NextDeadline() const {
  return by_time_.empty() ? INT64_MAX : by_time_.begin()->first;
}

SystemClock::SystemClock() : thread_([this] { Loop(); }) {}

SystemClock::~SystemClock() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t SystemClock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TimerId SystemClock::RunAt(int64_t at_ms, std::function<void()> fn) {
  TimerId id;
  {
    std::lock_guard<std::mutex> l(mu_);
    id = timers_.Add(at_ms, std::move(fn));
  }
  cv_.notify_all();
  return id;
}

void SystemClock::Cancel(TimerId id) {
  std::lock_guard<std::mutex> l(mu_);
  timers_.Remove(id);
}

void SystemClock::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    int64_t next = timers_.NextDeadline();
    int64_t now = NowMs();
    if (next > now) {
      if (next == INT64_MAX) {
        cv_.wait(l);
      } else {
        cv_.wait_for(l, std::chrono::milliseconds(next - now));
      }
      continue;
    }
    auto due = timers_.TakeDue(now);
    l.unlock();
    for (auto& [at, fn] : due) fn();
    l.lock();
  }
}

int64_t FakeClock::NowMs() const {
  std::lock_guard<std::mutex> l(mu_);
  return now_ms_;
}

TimerId FakeClock::RunAt(int64_t at_ms, std::function<void()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  return timers_.Add(at_ms, std::move(fn));
}

void FakeClock::Cancel(TimerId id) {
  std::lock_guard<std::mutex> l(mu_);
  timers_.Remove(id);
}

void FakeClock::Advance(int64_t ms) {
  int64_t target;
  {
    std::lock_guard<std::mutex> l(mu_);
    target = now_ms_ + ms;
  }
  // Fire timers one deadline at a time so that a callback scheduling a new timer inside the
  // advanced window sees it fire too, as it would in real time.
  for (;;) {
    std::multimap<int64_t, std::function<void()>> due;
    {
      std::lock_guard<std::mutex> l(mu_);
      int64_t next = timers_.NextDeadline();
      if (next > target) {
        now_ms_ = target;
        return;
      }
      now_ms_ = std::max(now_ms_, next);
      due = timers_.TakeDue(now_ms_);
    }
    for (auto& [at, fn] : due) fn();
  }
}

}  // namespace dsched
