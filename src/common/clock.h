// Clock: the one source of "now" and of timers in dsched (DESIGN.md §3b).
// Services take a Clock& in their constructor; tests pass a FakeClock and advance it by hand
// instead of sleeping. Not for measuring benchmark durations (use std::chrono::steady_clock).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace dsched {

using TimerId = uint64_t;

// Thread-safe. Timer callbacks run on a clock-owned thread (SystemClock) or on the thread that
// calls FakeClock::Advance; they must be short and post real work to their owner's loop.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall time: instance timestamps are wall times).
  virtual int64_t NowMs() const = 0;
  // Runs fn once at or after at_ms. Returns an id for Cancel.
  virtual TimerId RunAt(int64_t at_ms, std::function<void()> fn) = 0;
  // Cancels a timer that has not fired yet; a no-op otherwise. Idempotent.
  virtual void Cancel(TimerId id) = 0;
  TimerId RunAfter(int64_t delay_ms, std::function<void()> fn) {
    return RunAt(NowMs() + delay_ms, std::move(fn));
  }
};

// Shared timer bookkeeping of both clocks.
class TimerTable {
 public:
  TimerId Add(int64_t at_ms, std::function<void()> fn);
  void Remove(TimerId id);
  // Pops every timer due at or before now_ms, earliest first.
  std::multimap<int64_t, std::function<void()>> TakeDue(int64_t now_ms);
  // Earliest deadline, or INT64_MAX when none.
  int64_t NextDeadline() const;

 private:
  TimerId next_id_ = 1;
  std::multimap<int64_t, TimerId> by_time_;
  std::map<TimerId, std::pair<int64_t, std::function<void()>>> by_id_;
};

class SystemClock final : public Clock {
 public:
  SystemClock();
  ~SystemClock() override;
  int64_t NowMs() const override;
  TimerId RunAt(int64_t at_ms, std::function<void()> fn) override;
  void Cancel(TimerId id) override;

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  TimerTable timers_;
  bool stop_ = false;
  std::thread thread_;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1767225600000 /* 2026-01-01 00:00:00 UTC */)
      : now_ms_(start_ms) {}
  int64_t NowMs() const override;
  TimerId RunAt(int64_t at_ms, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  // Moves time forward and runs every timer that became due, in deadline order.
  void Advance(int64_t ms);

 private:
  mutable std::mutex mu_;
  int64_t now_ms_;
  TimerTable timers_;
};

}  // namespace dsched
