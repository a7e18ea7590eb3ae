#include "common/status.h"

namespace dsched {

std::string Status::ToString() const {
  static const char* kNames[] = {"OK",          "INVALID_ARGUMENT",    "NOT_FOUND",
                                 "ALREADY_EXISTS", "FAILED_PRECONDITION", "PERMISSION_DENIED",
                                 "UNAUTHENTICATED", "ABORTED",           "UNAVAILABLE",
                                 "INTERNAL"};
  if (ok()) return "OK";
  return std::string(kNames[static_cast<int>(code_)]) + ": " + message_;
}

void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
  std::abort();
}

}  // namespace dsched
