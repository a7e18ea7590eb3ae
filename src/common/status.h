// Status and StatusOr<T>: how every expected failure travels in dsched.
// Library exceptions are caught at the adapter that calls the library and become a Status here;
// programmer errors use DSCHED_CHECK instead. Value types, thread-compatible.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dsched {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from outside: the message names the field
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // e.g. an action not allowed in the current state
  kPermissionDenied,
  kUnauthenticated,
  kAborted,  // a fenced write lost its ownership (owner_epoch changed)
  kUnavailable,  // database or peer unreachable; retry may help
  kInternal,
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class StatusOr {
 public:
  StatusOr(Status s) : v_(std::move(s)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr built from OK");
  }
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<Status, T> v_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);

}  // namespace dsched

// Programmer errors only; never for input from outside.
#define DSCHED_CHECK(cond) \
  do {                     \
    if (!(cond)) ::dsched::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (0)

#define DSCHED_RETURN_IF_ERROR(expr)   \
  do {                                 \
    ::dsched::Status _st = (expr);     \
    if (!_st.ok()) return _st;         \
  } while (0)

#define DSCHED_CONCAT_INNER(a, b) a##b
#define DSCHED_CONCAT(a, b) DSCHED_CONCAT_INNER(a, b)
#define DSCHED_ASSIGN_OR_RETURN(lhs, expr)                       \
  auto DSCHED_CONCAT(_so_, __LINE__) = (expr);                   \
  if (!DSCHED_CONCAT(_so_, __LINE__).ok())                       \
    return DSCHED_CONCAT(_so_, __LINE__).status();               \
  lhs = std::move(DSCHED_CONCAT(_so_, __LINE__)).value()
