#include "common/clock.h"

#include <gtest/gtest.h>

#include <vector>

namespace dsched {
namespace {

TEST(FakeClockTest, FiresTimersInDeadlineOrderOnlyWhenDue) {
  FakeClock clock(1000);
  std::vector<int> fired;
  clock.RunAt(3000, [&] { fired.push_back(3); });
  clock.RunAt(2000, [&] { fired.push_back(2); });
  TimerId cancelled = clock.RunAt(2500, [&] { fired.push_back(99); });
  clock.Cancel(cancelled);
  clock.Advance(500);
  EXPECT_TRUE(fired.empty());
  clock.Advance(1000);
  EXPECT_EQ(fired, (std::vector<int>{2}));
  clock.Advance(10000);
  EXPECT_EQ(fired, (std::vector<int>{2, 3}));
  EXPECT_EQ(clock.NowMs(), 12500);
}

TEST(FakeClockTest, TimerScheduledByATimerInsideTheWindowFires) {
  FakeClock clock(0);
  int count = 0;
  clock.RunAt(10, [&] {
    ++count;
    clock.RunAfter(10, [&] { ++count; });
  });
  clock.Advance(100);
  EXPECT_EQ(count, 2);
}

TEST(SystemClockTest, RunsATimerOnItsThread) {
  SystemClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool fired = false;
  clock.RunAfter(5, [&] {
    std::lock_guard<std::mutex> l(mu);
    fired = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> l(mu);
  EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(5), [&] { return fired; }));
}

}  // namespace
}  // namespace dsched
