// For tests that wait on other threads or processes: polls `pred` until it holds or `patience`
// has passed, and says which. Deadlines are generous on purpose: tests never assert a timing.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace dsched {

inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds patience = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + patience;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace dsched
