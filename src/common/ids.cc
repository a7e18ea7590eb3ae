#include "common/ids.h"

namespace dsched {

int64_t CodeGenerator::Next() {
  // 2024-01-01 as epoch keeps codes at 13 digits for decades (ms << 7 leaves room for 128 per ms).
  constexpr int64_t kEpochMs = 1704067200000;
  int64_t candidate = (clock_.NowMs() - kEpochMs) << 7;
  int64_t prev = last_.load();
  for (;;) {
    int64_t next = candidate > prev ? candidate : prev + 1;
    if (last_.compare_exchange_weak(prev, next)) return next;
  }
}

}  // namespace dsched
