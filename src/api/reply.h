// What every REST handler shares: DolphinScheduler's status codes, the {code,msg,data,success,
// failed} envelope, PageInfo, and reading typed request parameters with DolphinScheduler's
// leniency (empty = absent) and a message naming the parameter when a value is wrong.
// Route-specific rules do not belong here. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "api/http_server.h"
#include "common/status.h"
#include "model/enums.h"

namespace dsched::api {

// The DolphinScheduler 3.2.2 status codes dsched answers with (api/enums/Status.java).
enum class DsStatus : int {
  kSuccess = 0,
  kInternalServerError = 10000,
  kRequestParamsNotValid = 10001,
  kUserNameNull = 10004,
  kTaskInstanceNotFound = 10008,
  kUserNamePasswdError = 10013,
  kLoginSessionFailed = 10014,
  kMasterNotExists = 10025,
  kProjectNotFound = 10018,
  kProjectAlreadyExists = 10019,
  kQueryTaskInstanceLogError = 10103,
  kDownloadTaskInstanceLogFileError = 10104,
  kSignOutError = 10123,
  kUserDisabled = 10148,
  kDeleteProcessDefinitionExecutingFail = 10163,
  kProcessDefinitionNameExist = 10168,
  kUserNoOperationProjectPerm = 30002,
  kProcessInstanceNotExist = 50001,
  kProcessDefineNotExist = 50003,
  kProcessDefineNotRelease = 50004,
  kProcessInstanceStateOperationError = 50006,
  kProcessNodeHasCycle = 50019,
  kProcessNodeParameterInvalid = 50020,
  kProcessDefineStateOnline = 50021,
  kProcessDagIsEmpty = 50035,
};

// A failed API call: the code and the user-visible message.
struct ApiError {
  DsStatus code;
  std::string msg;
};

// The usual mapping of a Status nobody handled more specifically: InvalidArgument (bad input,
// the message names the field) -> 10001 with that message; anything else -> 10000.
ApiError FromStatus(const Status& s);

// A value or an ApiError; what helpers that can fail with a DolphinScheduler code return.
template <typename T>
class ApiOr {
 public:
  ApiOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiOr(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit by design
  ApiOr(StatusOr<T> s) {                           // NOLINT: implicit by design
    if (s.ok()) {
      v_ = std::move(s).value();
    } else {
      v_ = FromStatus(s.status());
    }
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const ApiError& error() const { return std::get<ApiError>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }

 private:
  std::variant<ApiError, T> v_;
};

template <typename T>
ApiOr<T> ToApiOr(ApiOr<T> v) {
  return v;
}
template <typename T>
ApiOr<T> ToApiOr(StatusOr<T> v) {
  return ApiOr<T>(std::move(v));
}

// Inside a handler returning HttpResponse: lhs = value of expr (an ApiOr or a StatusOr), or
// return the error envelope.
#define DSCHED_API_TRY(lhs, expr)                                       \
  auto DSCHED_CONCAT(_api_, __LINE__) = ::dsched::api::ToApiOr(expr);   \
  if (!DSCHED_CONCAT(_api_, __LINE__).ok())                             \
    return ::dsched::api::Fail(DSCHED_CONCAT(_api_, __LINE__).error()); \
  lhs = std::move(DSCHED_CONCAT(_api_, __LINE__)).value()

// Envelopes (HTTP 200 either way, as DolphinScheduler answers).
HttpResponse Ok(nlohmann::json data = nullptr, const std::string& msg = "success");
HttpResponse Fail(DsStatus code, const std::string& msg);
HttpResponse Fail(const ApiError& e);
// The body alone, for tests and for the rare route that needs to wrap it differently.
nlohmann::json Envelope(DsStatus code, const std::string& msg, nlohmann::json data);

// Code 10001. The message is "{name}: {why}", the style model/json_codec.h uses for fields
// inside JSON parameters, or DolphinScheduler's "request parameter {name} is not valid" when
// there is nothing more to say.
ApiError BadParam(const std::string& name, const std::string& why = "");

struct PageArgs {
  int64_t page_no = 1;
  int64_t page_size = 10;
  int64_t offset() const { return (page_no - 1) * page_size; }
};
// pageNo (default 1) and pageSize (default 10); each must be a positive 32-bit integer.
ApiOr<PageArgs> PageParams(const HttpRequest& req);
// DolphinScheduler's PageInfo: {totalList, total, totalPage (>= 1), pageSize, currentPage,
// pageNo = offset of the page's first row}.
nlohmann::json PageInfo(nlohmann::json list, int64_t total, const PageArgs& page);

// Typed parameters. Absent or empty -> dflt; present but malformed -> 10001 naming it.
ApiOr<std::string> RequiredParam(const HttpRequest& req, const std::string& name);
ApiOr<int64_t> IntParam(const HttpRequest& req, const std::string& name, int64_t dflt);
ApiOr<int64_t> RequiredIntParam(const HttpRequest& req, const std::string& name);
ApiOr<std::optional<int64_t>> OptionalIntParam(const HttpRequest& req, const std::string& name);
template <typename E>
ApiOr<E> EnumParam(const HttpRequest& req, const std::string& name, E dflt) {
  auto v = req.Param(name);
  if (!v) return dflt;
  if (auto e = Parse<E>(*v)) return *e;
  return BadParam(name, "unknown value '" + *v + "', expected one of " + AcceptedNames<E>());
}
template <typename E>
ApiOr<E> RequiredEnumParam(const HttpRequest& req, const std::string& name) {
  if (!req.Param(name)) return BadParam(name, "it is required");
  return EnumParam<E>(req, name, E{});
}
template <typename E>
ApiOr<std::optional<E>> OptionalEnumParam(const HttpRequest& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v) return std::optional<E>();
  if (auto e = Parse<E>(*v)) return std::optional<E>(*e);
  return BadParam(name, "unknown value '" + *v + "', expected one of " + AcceptedNames<E>());
}
// A path parameter that must be an integer (a code or an id).
ApiOr<int64_t> PathIntParam(const HttpRequest& req, const std::string& name);
// "yyyy-MM-dd HH:mm:ss" (or "yyyy-MM-dd") -> ms; 0 when absent.
ApiOr<int64_t> DateParam(const HttpRequest& req, const std::string& name);

}  // namespace dsched::api
