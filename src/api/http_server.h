// The HTTP/1.1 layer of the REST API: an asynchronous Boost.Beast server, the request and
// response values handlers see, and a router by method + path pattern. It knows HTTP and the
// encodings DolphinScheduler's clients use (query strings and form-urlencoded bodies, on every
// method, with Spring's leniency: empty values count as absent, unknown parameters are
// ignored, a trailing slash matches). It knows nothing about the API's routes, envelope or
// authentication; those are api_server.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dsched::api {

// Decodes %XY escapes (and '+' as a space when plus_as_space, as form encoding wants).
// Malformed escapes are kept as they are: a lenient reading beats refusing a whole request.
std::string PercentDecode(std::string_view s, bool plus_as_space);

// Ordered name/value pairs of a query string or a form body, decoded.
using ParamList = std::vector<std::pair<std::string, std::string>>;
// Appends the pairs of "a=1&b=x%20y" to *out.
void ParseUrlEncoded(std::string_view s, ParamList* out);

// One request as handlers see it. A value type.
struct HttpRequest {
  std::string method;                              // "GET", "POST", ...
  std::string path;                                // without the query string, not decoded
  ParamList params;                                // query string first, then the form body
  std::map<std::string, std::string> path_params;  // from the route pattern, decoded
  std::map<std::string, std::string> headers;      // names lower-cased
  std::map<std::string, std::string> cookies;
  std::string content_type;
  std::string body;
  std::string remote_ip;

  // The parameter's value, or nullopt when absent or empty (Spring treats `key=` as absent).
  // A repeated parameter gives its non-empty values joined by ',', as Spring binds it to a
  // String.
  std::optional<std::string> Param(std::string_view name) const;
  // "" when absent.
  std::string Header(std::string_view lower_name) const;
  std::string Cookie(std::string_view name) const;
  std::string PathParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json;charset=UTF-8";
  std::string body;
  // Extra headers; a name may repeat (Set-Cookie).
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Routes by method and path pattern ("/projects/{projectCode}/process-definition/{code}").
// When several patterns match a path, the one with a literal segment where the others have a
// parameter wins, leftmost first ("/projects/list" beats "/projects/{code}"), whatever the
// order they were added in. Built before the server starts, then read-only: thread-safe to
// dispatch from many threads.
class Router {
 public:
  void Add(std::string method, std::string_view pattern, HttpHandler handler);
  // Fills req->path_params and calls the handler; 404 for an unknown path, 405 for a known
  // path with another method (both with an empty body).
  HttpResponse Dispatch(HttpRequest* req) const;
  // Every route as (method, pattern), in the order added: what openapi.json describes.
  std::vector<std::pair<std::string, std::string>> List() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

// Asynchronous HTTP/1.1 server with keep-alive. Handlers run on the io threads, so a handler
// blocks one of `threads` while it waits for the database; the thread count bounds the number
// of requests served at once. Thread-safe; Stop() may be called from any thread but a handler.
class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;  // 0 = ephemeral, see port()
    int threads = 4;
    int64_t max_body_bytes = 16 << 20;
    std::chrono::milliseconds read_timeout{30000};  // per request, headers and body
  };

  // Binds and starts serving. Unavailable when the address cannot be bound.
  static StatusOr<std::unique_ptr<HttpServer>> Create(const Options& options, Router router);
  ~HttpServer();

  int port() const;
  // Stops accepting, drops open connections and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsched::api
