// The CLI's way to talk to a dsched (or DolphinScheduler) server: a small synchronous HTTP/1.1
// client (HttpClient, BeastHttpClient) and, on top of it, ApiClient, which adds the REST API's
// rules: the /dolphinscheduler prefix, form-encoded bodies, login and the session/token headers,
// and unwrapping the {code,msg,data} envelope into StatusOr<data>.
// Nothing about particular endpoints belongs here; that is client_commands.cc.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dsched::cli {

// Ordered name/value pairs: a query string or a form body.
using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes everything but RFC 3986 unreserved characters (space becomes %20).
std::string UrlEncode(std::string_view s);
// "a=1&b=x%20y"; the encoding of both query strings and application/x-www-form-urlencoded bodies.
std::string EncodeParams(const Params& params);

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string target;  // path and query, e.g. "/dolphinscheduler/projects?pageNo=1"
  Params headers;
  std::string content_type;  // empty = no body
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// One server, one request at a time. Not thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends req and reads the whole answer. Any HTTP status is a successful exchange;
  // Unavailable when the server cannot be reached or does not answer in time.
  virtual StatusOr<HttpResponse> Send(const HttpRequest& req) = 0;
};

// HTTP/1.1 over TCP with Boost.Beast; keeps the connection open between requests and reconnects
// (once, transparently) when the server closed an idle connection. Plain http only.
class BeastHttpClient final : public HttpClient {
 public:
  // base_url: "http://host[:port][/prefix]"; the prefix is put in front of every target.
  // InvalidArgument for a URL that is not of that form.
  static StatusOr<std::unique_ptr<BeastHttpClient>> Create(const std::string& base_url,
                                                           std::chrono::milliseconds timeout);
  ~BeastHttpClient() override;

  StatusOr<HttpResponse> Send(const HttpRequest& req) override;

 private:
  struct Impl;
  explicit BeastHttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct Credentials {
  std::string user;
  std::string password;
  std::string token;  // when set, sent as header `token` and no login happens
};

// The answer of one REST call, before its code is judged.
struct Envelope {
  int code = 0;
  std::string msg;
  nlohmann::json data;
};

// DolphinScheduler REST calls with the envelope unwrapped. Logs in lazily on the first call
// (POST /login) unless a token is given. Not thread-safe.
class ApiClient {
 public:
  // http sends to the server root; every path here is relative to /dolphinscheduler.
  ApiClient(std::unique_ptr<HttpClient> http, Credentials credentials);

  // The envelope as is, for calls where a non-zero code is an answer (e.g. "no such workflow").
  // Errors: Unavailable (unreachable), Unauthenticated (HTTP 401), Internal (not an envelope).
  StatusOr<Envelope> Call(const std::string& method, const std::string& path, const Params& params);
  // Call, plus a non-zero code becomes an error with the message "<msg> (code N)".
  StatusOr<nlohmann::json> Get(const std::string& path, const Params& query = {});
  StatusOr<nlohmann::json> Post(const std::string& path, const Params& form = {});
  StatusOr<nlohmann::json> Put(const std::string& path, const Params& form = {});

 private:
  Status EnsureLoggedIn();
  StatusOr<Envelope> CallNoLogin(const std::string& method, const std::string& path,
                                 const Params& params);
  StatusOr<nlohmann::json> CallData(const std::string& method, const std::string& path,
                                    const Params& params);

  std::unique_ptr<HttpClient> http_;
  Credentials credentials_;
  std::string session_id_;
};

// Reads a JSON number or numeric string as a 64-bit integer (codes and ids arrive both ways).
// nullopt when neither.
std::optional<int64_t> JsonToInt(const nlohmann::json& j);
// A JSON string as is, a number or bool as its text, null as "".
std::string JsonToText(const nlohmann::json& j);

}  // namespace dsched::cli
