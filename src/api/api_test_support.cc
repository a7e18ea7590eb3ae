#include "api/api_test_support.h"

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <cctype>
#include <filesystem>

namespace dsched::api::apitest {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string Encode(const Pairs& params) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    for (const std::string* s : {&k, &v}) {
      for (unsigned char c : *s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
      }
      if (s == &k) out += '=';
    }
  }
  return out;
}

Reply Exchange(int port, http::request<http::string_body> req) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  if (res.result() == http::status::continue_) {
    res = {};
    http::read(stream, buf, res);
  }
  Reply r;
  r.status = static_cast<int>(res.result_int());
  r.body = res.body();
  r.j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.j.is_discarded()) r.j = nullptr;
  for (const auto& f : res)
    if (f.name() == http::field::set_cookie) r.set_cookies.emplace_back(f.value());
  r.content_type = std::string(res[http::field::content_type]);
  r.disposition = std::string(res["Content-Disposition"]);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

Reply Send(int port, const std::string& session, const std::string& method,
           const std::string& path, const Pairs& params, const Pairs& headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.version(11);
  std::string target = "/dolphinscheduler" + path;
  if (method == "GET" || method == "DELETE") {
    if (!params.empty()) target += "?" + Encode(params);
  } else if (!params.empty()) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = Encode(params);
  }
  req.target(target);
  if (!session.empty()) req.set("sessionId", session);
  for (const auto& [k, v] : headers) req.set(k, v);
  return Exchange(port, std::move(req));
}

std::string Login(int port, const std::string& name, const std::string& password) {
  Reply r = Send(port, "", "POST", "/login", {{"userName", name}, {"userPassword", password}});
  EXPECT_EQ(r.code(), 0) << r.body;
  return r.code() == 0 ? r.data().at("sessionId").get<std::string>() : "";
}

void SqliteApiTest::SetUp() {
  std::string tmpl = "/tmp/" + dir_prefix_ + "-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
  DbOptions o;
  o.type = DbType::kSqlite;
  o.sqlite_path = dir_ + "/db.sqlite";
  o.pool_size = 2;
  auto s = SqlStore::Open(o, clock_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(*s);
  ASSERT_TRUE(EnsureAdminUser(*store_, clock_).ok());
  ASSERT_TRUE(cfg_.Set("api.port", "0").ok());
  ApiDeps deps;
  deps.defs = store_.get();
  deps.instances = store_.get();
  deps.users = store_.get();
  deps.clock = &clock_;
  deps.codes = &codes_;
  logs_ = std::make_unique<LocalLogReader>(dir_);
  deps.logs = logs_.get();
  ASSERT_NO_FATAL_FAILURE(AddDeps(deps));
  auto server = ApiServer::Create(cfg_, deps);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  server_ = std::move(*server);
  session_ = Login(server_->port(), "admin", "dolphinscheduler123");
  ASSERT_FALSE(session_.empty());
}

void SqliteApiTest::TearDown() {
  server_.reset();
  store_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace dsched::api::apitest
