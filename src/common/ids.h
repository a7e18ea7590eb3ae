// 64-bit codes for projects, workflow and task definitions, as DolphinScheduler hands out
// (a ~13-digit long that fits a JS double). Time-ordered: milliseconds since a custom epoch in
// the high bits, a per-process sequence in the low bits. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace dsched {

class CodeGenerator {
 public:
  explicit CodeGenerator(const Clock& clock) : clock_(clock) {}
  // Unique within this process and, given a moving clock, across restarts.
  int64_t Next();

 private:
  const Clock& clock_;
  std::atomic<int64_t> last_{0};
};

}  // namespace dsched
