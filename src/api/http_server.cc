#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <mutex>
#include <thread>

namespace dsched::api {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kLinger{2};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Path segments; empty ones are dropped, which is what makes "/a/b/" match "/a/b".
std::vector<std::string> SplitPath(std::string_view path, bool decode) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (!seg.empty()) out.push_back(decode ? PercentDecode(seg, false) : std::string(seg));
    start = end + 1;
  }
  return out;
}

bool IsParamSegment(const std::string& s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

void ParseCookies(std::string_view header, std::map<std::string, std::string>* out) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    // The first cookie of a name wins: browsers send the most specific path first.
    out->emplace(std::string(Trim(pair.substr(0, eq))), std::string(value));
  }
}

HttpResponse EmptyResponse(int status) {
  HttpResponse r;
  r.status = status;
  r.content_type.clear();
  return r;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void ParseUrlEncoded(std::string_view s, ParamList* out) {
  while (!s.empty()) {
    size_t amp = s.find('&');
    std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (name.empty()) continue;
    out->emplace_back(PercentDecode(name, true), PercentDecode(value, true));
  }
}

std::optional<std::string> HttpRequest::Param(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [n, v] : params) {
    if (n != name || v.empty()) continue;
    if (out) {
      *out += ',';
      *out += v;
    } else {
      out = v;
    }
  }
  return out;
}

std::string HttpRequest::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::Cookie(std::string_view name) const {
  auto it = cookies.find(std::string(name));
  return it == cookies.end() ? std::string() : it->second;
}

std::string HttpRequest::PathParam(std::string_view name) const {
  auto it = path_params.find(std::string(name));
  return it == path_params.end() ? std::string() : it->second;
}

// ---------------------------------------------------------------------------------------------
// Router

void Router::Add(std::string method, std::string_view pattern, HttpHandler handler) {
  routes_.push_back(Route{std::move(method), SplitPath(pattern, false), std::move(handler)});
}

std::vector<std::pair<std::string, std::string>> Router::List() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : routes_) {
    std::string path;
    for (const auto& seg : r.segments) path += "/" + seg;
    out.emplace_back(r.method, path.empty() ? "/" : path);
  }
  return out;
}

HttpResponse Router::Dispatch(HttpRequest* req) const {
  std::vector<std::string> segs = SplitPath(req->path, true);
  const Route* best = nullptr;
  bool path_known = false;
  // True when a has a literal where b has a parameter at the first place they differ.
  auto more_literal = [](const Route& a, const Route& b) {
    for (size_t i = 0; i < a.segments.size(); ++i) {
      bool la = !IsParamSegment(a.segments[i]), lb = !IsParamSegment(b.segments[i]);
      if (la != lb) return la;
    }
    return false;
  };
  for (const Route& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool match = true;
    for (size_t i = 0; i < segs.size() && match; ++i)
      match = IsParamSegment(r.segments[i]) || r.segments[i] == segs[i];
    if (!match) continue;
    if (r.method != req->method) {
      path_known = true;
      continue;
    }
    if (!best || more_literal(r, *best)) best = &r;
  }
  // 405 only when no route of this method matches at all.
  if (!best) return EmptyResponse(path_known ? 405 : 404);
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& s = best->segments[i];
    if (IsParamSegment(s)) req->path_params[s.substr(1, s.size() - 2)] = segs[i];
  }
  return best->handler(*req);
}

// ---------------------------------------------------------------------------------------------
// Connection: one TCP connection, requests served one after another (keep-alive). All its
// handlers run on its strand, so its members need no lock.

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const Router& router, const HttpServer::Options& options)
      : stream_(std::move(socket)), router_(router), options_(options) {
    // Once per connection: a getpeername() per request showed in the profile.
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ip_ = ep.address().to_string();
  }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Connection::ReadHeader, shared_from_this()));
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(options_.max_body_bytes));
    parser_->header_limit(64 * 1024);
    stream_.expires_after(options_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    // curl and other clients wait up to a second for "100 Continue" before sending a large
    // body; answering at once saves that second on every workflow save from the command line.
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto len = parser_->content_length();
      if (len && *len > static_cast<uint64_t>(options_.max_body_bytes)) return ReplyAndClose(413);
      continue_.emplace(http::status::continue_, req.version());
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Connection::OnContinue, shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinue(beast::error_code ec, size_t) {
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRead({}, 0);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::OnRead, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) return ReplyAndClose(413);
    if (ec == http::error::header_limit) return ReplyAndClose(431);
    if (ec.category() == beast::http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return ReplyAndClose(400);
    Close();  // end of stream, timeout, reset: nobody to answer
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    http::request<http::string_body> req = parser_->release();
    HttpRequest r = Convert(req);
    HttpResponse out;
    try {
      out = router_.Dispatch(&r);
    } catch (const std::exception& e) {
      // Handlers catch their own; this is the last line so one bad request cannot kill a thread.
      spdlog::error("api: {} {}: {}", r.method, r.path, e.what());
      out = EmptyResponse(500);
    } catch (...) {
      spdlog::error("api: {} {}: unknown exception", r.method, r.path);
      out = EmptyResponse(500);
    }
    Write(std::move(out), req.version(), req.keep_alive());
  }

  HttpRequest Convert(http::request<http::string_body>& req) {
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string_view target = req.target();
    size_t q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) ParseUrlEncoded(target.substr(q + 1), &r.params);
    for (const auto& f : req) {
      std::string name = Lower(f.name_string());
      auto [it, inserted] = r.headers.emplace(name, std::string(f.value()));
      if (!inserted) it->second += (name == "cookie" ? "; " : ", ") + std::string(f.value());
    }
    ParseCookies(r.Header("cookie"), &r.cookies);
    r.content_type = std::string(req[http::field::content_type]);
    r.body = std::move(req.body());
    // Spring reads form bodies on PUT and DELETE too (FormContentFilter); so do we.
    if (Lower(r.content_type).rfind("application/x-www-form-urlencoded", 0) == 0)
      ParseUrlEncoded(r.body, &r.params);
    r.remote_ip = remote_ip_;
    return r;
  }

  void Write(HttpResponse out, unsigned version, bool keep_alive) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(out.status));
    res_.set(http::field::server, "dsched");
    if (!out.content_type.empty()) res_.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res_.insert(name, value);
    res_.body() = std::move(out.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    stream_.expires_after(options_.read_timeout);
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Connection::OnWrite, shared_from_this()));
  }

  void ReplyAndClose(int status) { Write(EmptyResponse(status), 11, false); }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) return Close();
    if (!res_.keep_alive()) return Close();
    ReadHeader();
  }

  // Lingering close: stop sending, then read and drop whatever the client still sends until it
  // closes (or kLinger passes). Closing with unread bytes would make the kernel send a reset,
  // which can destroy our last answer (a 413, say) before the client has read it.
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    stream_.expires_after(kLinger);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Drain();
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::array<char, 4096> drain_;
  http::response<http::string_body> res_;
  std::string remote_ip_;
  const Router& router_;
  const HttpServer::Options& options_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpServer

struct HttpServer::Impl {
  // Declared before the io_context: connections refer to them until the context drops them.
  HttpServer::Options options;
  Router router;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::vector<std::thread> threads;
  int port = 0;
  bool stopped = false;
  std::mutex stop_mu;

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (!acceptor.is_open()) return;
      if (!ec) {
        beast::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Connection>(std::move(s), router, options)->Start();
        return Accept();
      }
      // Out of file descriptors and the like: retrying at once would spin and flood the log.
      spdlog::warn("api: accept failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code) {
        if (acceptor.is_open()) Accept();
      });
    });
  }

  void Run() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("api: io thread: {}", e.what());
      }
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options, Router router) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->router = std::move(router);
  std::string where = options.host + ":" + std::to_string(options.port);
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto results = resolver.resolve(options.host, std::to_string(options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return Unavailable("api: cannot resolve " + where + ": " + ec.message());
  tcp::endpoint ep = results.begin()->endpoint();
  auto& acc = impl->acceptor;
  if (acc.open(ep.protocol(), ec); ec)
    return Unavailable("api: open " + where + ": " + ec.message());
  acc.set_option(net::socket_base::reuse_address(true), ec);
  if (acc.bind(ep, ec); ec) return Unavailable("api: cannot bind " + where + ": " + ec.message());
  if (acc.listen(net::socket_base::max_listen_connections, ec); ec)
    return Unavailable("api: cannot listen on " + where + ": " + ec.message());
  impl->port = acc.local_endpoint().port();
  impl->Accept();
  int n = options.threads > 0 ? options.threads : 1;
  for (int i = 0; i < n; ++i) impl->threads.emplace_back([p = impl.get()] { p->Run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // No thread runs the context any more, so the acceptor can be closed without a race.
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace dsched::api
