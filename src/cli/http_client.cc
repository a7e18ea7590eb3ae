#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <optional>

namespace dsched::cli {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string EncodeParams(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += UrlEncode(name);
    out.push_back('=');
    out += UrlEncode(value);
  }
  return out;
}

std::optional<int64_t> JsonToInt(const nlohmann::json& j) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) return static_cast<int64_t>(j.get<double>());
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return v;
  }
  return std::nullopt;
}

std::string JsonToText(const nlohmann::json& j) {
  if (j.is_null()) return "";
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

// ---------------------------------------------------------------------------------------------
// BeastHttpClient

struct BeastHttpClient::Impl {
  std::string url;  // as the user wrote it, for messages
  std::string host;
  std::string port;
  std::string prefix;
  std::chrono::milliseconds timeout{};
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the queued asynchronous operation to completion. The stream's expiry bounds it.
  void RunIo() {
    ioc.restart();
    ioc.run();
  }

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    stream.reset();
    buffer.clear();
  }

  std::string Reason(const beast::error_code& ec) const {
    if (ec == net::error::connection_refused) return "connection refused";
    if (ec == beast::error::timeout) {
      return "no answer within " + std::to_string(timeout.count() / 1000) + " s";
    }
    if (ec == net::error::host_not_found || ec == net::error::host_not_found_try_again) {
      return "unknown host '" + host + "'";
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof) {
      return "the server closed the connection";
    }
    if (ec == net::error::connection_reset) return "connection reset by the server";
    std::string m = ec.message();
    if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
    return m;
  }

  Status Unreachable(const beast::error_code& ec) const {
    return Unavailable("cannot reach dsched at " + url + ": " + Reason(ec));
  }

  beast::error_code Connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return ec;
    stream.emplace(ioc);
    stream->expires_after(timeout);
    stream->async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunIo();
    if (ec) stream.reset();
    return ec;
  }

  // One request/response on the open stream. *received tells whether any answer byte came back.
  beast::error_code Exchange(const http::request<http::string_body>& req,
                             http::response<http::string_body>* res, bool* received) {
    beast::error_code ec;
    *received = false;
    stream->expires_after(timeout);
    http::async_write(*stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    RunIo();
    if (ec) return ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u * 1024 * 1024);
    stream->expires_after(timeout);
    http::async_read(*stream, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    RunIo();
    *received = parser.got_some();
    if (!ec) *res = parser.release();
    return ec;
  }
};

BeastHttpClient::BeastHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BeastHttpClient::~BeastHttpClient() { impl_->Close(); }

StatusOr<std::unique_ptr<BeastHttpClient>> BeastHttpClient::Create(
    const std::string& base_url, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->url = base_url;
  impl->timeout = timeout;
  std::string lower;
  for (char c : base_url) lower.push_back(static_cast<char>(std::tolower(c)));
  if (lower.rfind("https://", 0) == 0) {
    return InvalidArgument("server URL '" + base_url + "': https is not supported, use http://");
  }
  if (lower.rfind("http://", 0) != 0) {
    return InvalidArgument("server URL '" + base_url + "': expected http://HOST[:PORT]");
  }
  std::string rest = base_url.substr(7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  impl->prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!impl->prefix.empty() && impl->prefix.back() == '/') impl->prefix.pop_back();
  impl->port = "80";
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      return InvalidArgument("server URL '" + base_url + "': unterminated [IPv6 address]");
    }
    impl->host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      impl->port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    impl->host = authority.substr(0, colon);
    if (colon != std::string::npos) impl->port = authority.substr(colon + 1);
  }
  int port_number = 0;
  auto [end, ec] =
      std::from_chars(impl->port.data(), impl->port.data() + impl->port.size(), port_number);
  if (impl->host.empty() || ec != std::errc() || end != impl->port.data() + impl->port.size() ||
      port_number <= 0 || port_number > 65535) {
    return InvalidArgument("server URL '" + base_url + "': expected http://HOST[:PORT]");
  }
  return std::unique_ptr<BeastHttpClient>(new BeastHttpClient(std::move(impl)));
}

StatusOr<HttpResponse> BeastHttpClient::Send(const HttpRequest& r) {
  Impl& s = *impl_;
  http::verb verb = http::string_to_verb(r.method);
  if (verb == http::verb::unknown) return InvalidArgument("unknown HTTP method " + r.method);
  http::request<http::string_body> req{verb, s.prefix + r.target, 11};
  req.set(http::field::host, s.host + ":" + s.port);
  req.set(http::field::user_agent, "dsched-cli");
  req.keep_alive(true);
  for (const auto& [name, value] : r.headers) req.set(name, value);
  if (!r.content_type.empty()) {
    req.set(http::field::content_type, r.content_type);
    req.body() = r.body;
  }
  req.prepare_payload();

  http::response<http::string_body> res;
  bool reused = s.stream.has_value();
  if (!reused) {
    if (auto ec = s.Connect()) return s.Unreachable(ec);
  }
  bool received = false;
  beast::error_code ec = s.Exchange(req, &res, &received);
  // A kept-alive connection the server has meanwhile closed fails before any answer arrives;
  // only then is it safe to send again.
  if (ec && reused && !received && ec != beast::error::timeout) {
    s.Close();
    if (auto cec = s.Connect()) return s.Unreachable(cec);
    ec = s.Exchange(req, &res, &received);
  }
  if (ec) {
    s.Close();
    return s.Unreachable(ec);
  }
  if (!res.keep_alive()) s.Close();
  return HttpResponse{static_cast<int>(res.result_int()), std::move(res.body())};
}

// ---------------------------------------------------------------------------------------------
// ApiClient

ApiClient::ApiClient(std::unique_ptr<HttpClient> http, Credentials credentials)
    : http_(std::move(http)), credentials_(std::move(credentials)) {}

StatusOr<Envelope> ApiClient::CallNoLogin(const std::string& method, const std::string& path,
                                          const Params& params) {
  HttpRequest req;
  req.method = method;
  req.target = "/dolphinscheduler" + path;
  if (method == "GET" || method == "DELETE") {
    if (!params.empty()) {
      req.target += (path.find('?') == std::string::npos ? "?" : "&") + EncodeParams(params);
    }
  } else {
    req.content_type = "application/x-www-form-urlencoded";
    req.body = EncodeParams(params);
  }
  req.headers.emplace_back("Accept", "application/json");
  if (!credentials_.token.empty()) {
    req.headers.emplace_back("token", credentials_.token);
  } else if (!session_id_.empty()) {
    req.headers.emplace_back("sessionId", session_id_);
  }
  DSCHED_ASSIGN_OR_RETURN(HttpResponse res, http_->Send(req));
  if (res.status == 401) return Unauthenticated("not logged in (HTTP 401)");
  auto excerpt = [&res] {
    return res.body.size() > 200 ? res.body.substr(0, 200) + "..." : res.body;
  };
  if (res.status != 200) {
    return Internal("HTTP " + std::to_string(res.status) + " from " + method + " " + path + ": " +
                    excerpt());
  }
  nlohmann::json body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("code")) {
    return Internal("the answer to " + method + " " + path +
                    " is not a DolphinScheduler result: " + excerpt());
  }
  Envelope env;
  env.code = static_cast<int>(JsonToInt(body["code"]).value_or(-1));
  env.msg = JsonToText(body.value("msg", nlohmann::json()));
  env.data = body.value("data", nlohmann::json());
  return env;
}

Status ApiClient::EnsureLoggedIn() {
  if (!credentials_.token.empty() || !session_id_.empty()) return Status::Ok();
  DSCHED_ASSIGN_OR_RETURN(Envelope env, CallNoLogin("POST", "/login",
                                                    {{"userName", credentials_.user},
                                                     {"userPassword", credentials_.password}}));
  if (env.code != 0) {
    return Unauthenticated("login as '" + credentials_.user + "' failed: " + env.msg + " (code " +
                           std::to_string(env.code) + ")");
  }
  if (!env.data.is_object() || !env.data.contains("sessionId")) {
    return Internal("login answer has no data.sessionId");
  }
  session_id_ = JsonToText(env.data["sessionId"]);
  return Status::Ok();
}

StatusOr<Envelope> ApiClient::Call(const std::string& method, const std::string& path,
                                   const Params& params) {
  DSCHED_RETURN_IF_ERROR(EnsureLoggedIn());
  return CallNoLogin(method, path, params);
}

StatusOr<nlohmann::json> ApiClient::CallData(const std::string& method, const std::string& path,
                                             const Params& params) {
  DSCHED_ASSIGN_OR_RETURN(Envelope env, Call(method, path, params));
  if (env.code != 0) {
    return FailedPrecondition(env.msg + " (code " + std::to_string(env.code) + ")");
  }
  return std::move(env.data);
}

StatusOr<nlohmann::json> ApiClient::Get(const std::string& path, const Params& query) {
  return CallData("GET", path, query);
}
StatusOr<nlohmann::json> ApiClient::Post(const std::string& path, const Params& form) {
  return CallData("POST", path, form);
}
StatusOr<nlohmann::json> ApiClient::Put(const std::string& path, const Params& form) {
  return CallData("PUT", path, form);
}

}  // namespace dsched::cli
