#include "api/reply.h"

#include <charconv>
#include <limits>

#include "common/time_format.h"

namespace dsched::api {

using nlohmann::json;

namespace {

std::optional<int64_t> ToInt(const std::string& s) {
  int64_t v = 0;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  auto [end, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || end != e) return std::nullopt;
  return v;
}

}  // namespace

ApiError FromStatus(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument)
    return {DsStatus::kRequestParamsNotValid, s.message()};
  return {DsStatus::kInternalServerError, "Internal Server Error: " + s.message()};
}

json Envelope(DsStatus code, const std::string& msg, json data) {
  bool ok = code == DsStatus::kSuccess;
  return {{"code", static_cast<int>(code)},
          {"msg", msg},
          {"data", std::move(data)},
          {"success", ok},
          {"failed", !ok}};
}

HttpResponse Ok(json data, const std::string& msg) {
  HttpResponse r;
  r.body = Envelope(DsStatus::kSuccess, msg, std::move(data)).dump();
  return r;
}

HttpResponse Fail(DsStatus code, const std::string& msg) {
  HttpResponse r;
  r.body = Envelope(code, msg, nullptr).dump();
  return r;
}

HttpResponse Fail(const ApiError& e) { return Fail(e.code, e.msg); }

ApiError BadParam(const std::string& name, const std::string& why) {
  if (why.empty())
    return {DsStatus::kRequestParamsNotValid, "request parameter " + name + " is not valid"};
  return {DsStatus::kRequestParamsNotValid, name + ": " + why};
}

ApiOr<std::string> RequiredParam(const HttpRequest& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v) return BadParam(name, "it is required");
  return *v;
}

ApiOr<int64_t> IntParam(const HttpRequest& req, const std::string& name, int64_t dflt) {
  auto v = req.Param(name);
  if (!v) return dflt;
  auto n = ToInt(*v);
  if (!n) return BadParam(name, "expected an integer, got '" + *v + "'");
  return *n;
}

ApiOr<int64_t> RequiredIntParam(const HttpRequest& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v) return BadParam(name, "it is required");
  auto n = ToInt(*v);
  if (!n) return BadParam(name, "expected an integer, got '" + *v + "'");
  return *n;
}

ApiOr<std::optional<int64_t>> OptionalIntParam(const HttpRequest& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v) return std::optional<int64_t>();
  auto n = ToInt(*v);
  if (!n) return BadParam(name, "expected an integer, got '" + *v + "'");
  return std::optional<int64_t>(*n);
}

ApiOr<int64_t> PathIntParam(const HttpRequest& req, const std::string& name) {
  std::string raw = req.PathParam(name);
  auto n = ToInt(raw);
  if (!n) return BadParam(name, "expected a number, got '" + raw + "'");
  return *n;
}

ApiOr<int64_t> DateParam(const HttpRequest& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v) return int64_t{0};
  auto t = ParseDateTime(*v);
  if (!t) return BadParam(name, "expected yyyy-MM-dd HH:mm:ss, got '" + *v + "'");
  return *t;
}

ApiOr<PageArgs> PageParams(const HttpRequest& req) {
  PageArgs p;
  // DolphinScheduler binds both to Integer, so values past 2^31-1 are refused there too; the
  // bound also keeps offset() far from overflow.
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  auto no = IntParam(req, "pageNo", 1);
  if (!no.ok()) return no.error();
  if (no.value() <= 0 || no.value() > kMax) return BadParam("pageNo", "must be a positive number");
  auto size = IntParam(req, "pageSize", 10);
  if (!size.ok()) return size.error();
  if (size.value() <= 0 || size.value() > kMax)
    return BadParam("pageSize", "must be a positive number");
  p.page_no = no.value();
  p.page_size = size.value();
  return p;
}

json PageInfo(json list, int64_t total, const PageArgs& page) {
  int64_t pages = (total + page.page_size - 1) / page.page_size;
  return {{"totalList", std::move(list)},       {"total", total},
          {"totalPage", pages < 1 ? 1 : pages}, {"pageSize", page.page_size},
          {"currentPage", page.page_no},        {"pageNo", page.offset()}};
}

}  // namespace dsched::api
