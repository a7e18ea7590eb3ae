// The channels' parameter checks and message building (pure), and HttpChannel against a real
// HTTP server on loopback (a one-request server in this file): what arrives, and which answers
// are final or worth a retry. SMTP against a real server is tests/e2e/alert_test.sh.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "alert/email_channel.h"
#include "alert/http_channel.h"
#include "common/free_port.h"

namespace dsched::alert {
namespace {

using nlohmann::json;

json MailParams() {
  return json{{"receivers", "ops@example.com, dev@example.com"},
              {"receiverCcs", "lead@example.com"},
              {"serverHost", "127.0.0.1"},
              {"serverPort", "2525"},
              {"sender", "dsched@example.com"},
              {"enableSmtpAuth", "false"},
              {"starttlsEnable", "false"},
              {"sslEnable", "false"},
              {"showType", "table"}};
}

AlertMessage Msg() {
  AlertMessage m;
  m.alert_id = 9;
  m.title = "start process failed";
  m.content = R"([{"processName":"etl <daily>","processState":"FAILURE"}])";
  m.now_ms = 1767225600000;
  return m;
}

TEST(EmailParamsTest, BadParamsNameTheField) {
  auto expect_bad = [](json p, const std::string& field) {
    auto r = ParseEmailParams(p);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(field + ":", 0), 0u) << r.status().message();
  };
  json p = MailParams();
  p.erase("receivers");
  expect_bad(p, "receivers");
  p = MailParams();
  p["receivers"] = "ops@example.com\r\nRCPT TO:<x@y.z>";
  expect_bad(p, "receivers");
  p = MailParams();
  p["receiverCcs"] = "not-an-address";
  expect_bad(p, "receiverCcs");
  p = MailParams();
  p["serverHost"] = "";
  expect_bad(p, "serverHost");
  p = MailParams();
  p["serverPort"] = "70000";
  expect_bad(p, "serverPort");
  p = MailParams();
  p["sender"] = "a@b.c,d@e.f";
  expect_bad(p, "sender");
  p = MailParams();
  p["enableSmtpAuth"] = "true";
  expect_bad(p, "User");
  p = MailParams();
  p["sslEnable"] = "maybe";
  expect_bad(p, "sslEnable");
  p = MailParams();
  p["showType"] = "pdf";
  expect_bad(p, "showType");

  auto ok = ParseEmailParams(MailParams());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->receivers, (std::vector<std::string>{"ops@example.com", "dev@example.com"}));
  EXPECT_EQ(ok->server_port, 2525);
  EXPECT_FALSE(ok->auth);
}

std::string Unbase64(const std::string& b64) {
  std::string bin(b64.size(), '\0');
  size_t len = 0;
  EXPECT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), b64.data(),
                              b64.size(), "\r\n", &len, nullptr, sodium_base64_VARIANT_ORIGINAL),
            0);
  bin.resize(len);
  return bin;
}

TEST(EmailParamsTest, MailHasHeadersAndAnEscapedTable) {
  auto p = ParseEmailParams(MailParams());
  ASSERT_TRUE(p.ok());
  AlertMessage m = Msg();
  m.title = "fin\r\nBcc: evil@x.y";  // a title can never add a header
  std::string mail = BuildMail(*p, m);
  EXPECT_NE(mail.find("From: dsched@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("To: ops@example.com, dev@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Cc: lead@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Subject: fin  Bcc: evil@x.y\r\n"), std::string::npos);
  EXPECT_EQ(mail.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(mail.find("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"), std::string::npos);
  std::string html = Unbase64(mail.substr(mail.find("\r\n\r\n") + 4));
  EXPECT_NE(html.find("<th>processName</th>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>etl &lt;daily&gt;</td>"), std::string::npos) << html;

  m.title = "échec";
  EXPECT_NE(BuildMail(*p, m).find("Subject: =?UTF-8?B?"), std::string::npos);
}

TEST(WebhookTest, RequestFromParams) {
  json p{{"WebHook", "http://127.0.0.1:9/hook"},
         {"requestType", "POST"},
         {"headerParams", R"({"X-Token":"abc"})"},
         {"bodyParams", R"({"channel":"ops"})"}};
  auto r = BuildWebhookRequest(p, Msg());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "POST");
  json body = json::parse(r->body);
  EXPECT_EQ(body["channel"], "ops");
  EXPECT_EQ(body["title"], "start process failed");
  EXPECT_EQ(body["content"], Msg().content);
  EXPECT_EQ(r->headers[0], (std::pair<std::string, std::string>{"X-Token", "abc"}));

  p["requestType"] = "GET";
  r = BuildWebhookRequest(p, Msg());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url.rfind("http://127.0.0.1:9/hook?title=start%20process%20failed&content=", 0), 0u)
      << r->url;

  auto expect_bad = [](json q, const std::string& field) {
    auto b = BuildWebhookRequest(q, Msg());
    ASSERT_FALSE(b.ok()) << field;
    EXPECT_EQ(b.status().message().rfind(field + ":", 0), 0u) << b.status().message();
  };
  expect_bad(json{{"requestType", "POST"}}, "WebHook");
  expect_bad(json{{"WebHook", "file:///etc/passwd"}}, "WebHook");
  expect_bad(json{{"WebHook", "http://x/"}, {"requestType", "DELETE"}}, "requestType");
  expect_bad(json{{"WebHook", "http://x/"}, {"headerParams", "[1]"}}, "headerParams");
  expect_bad(json{{"WebHook", "http://x/"}, {"headerParams", R"({"A\r\nB":"x"})"}}, "headerParams");
  expect_bad(json{{"WebHook", "http://x/"}, {"bodyParams", "not json"}}, "bodyParams");
}

// Accepts one connection on a loopback port, reads one request, answers with `status`.
class OneShotServer {
 public:
  explicit OneShotServer(int status) {
    fd_ = BoundLoopbackSocket(&port_);
    listen(fd_, 1);
    request_ = std::async(std::launch::async, [this, status] {
      int c = accept(fd_, nullptr, nullptr);
      std::string req;
      char buf[4096];
      for (;;) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, n);
        size_t end = req.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        size_t cl = req.find("Content-Length: ");
        size_t want = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
        if (req.size() >= end + 4 + want) break;
      }
      std::string reply = "HTTP/1.1 " + std::to_string(status) +
                          " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      write(c, reply.data(), reply.size());
      close(c);
      return req;
    });
  }
  ~OneShotServer() { close(fd_); }
  int port() const { return port_; }
  std::string Request() { return request_.get(); }

 private:
  int fd_, port_ = 0;
  std::future<std::string> request_;
};

TEST(WebhookTest, SendsToARealServerAndClassifiesAnswers) {
  HttpChannel ch;
  {
    OneShotServer srv(200);
    json p{{"WebHook", "http://127.0.0.1:" + std::to_string(srv.port()) + "/hook"},
           {"requestType", "PUT"},
           {"headerParams", R"({"X-Token":"abc"})"}};
    SendResult r = ch.Send(p, Msg());
    EXPECT_TRUE(r.ok) << r.message;
    std::string req = srv.Request();
    EXPECT_EQ(req.rfind("PUT /hook HTTP/1.1", 0), 0u) << req;
    EXPECT_NE(req.find("X-Token: abc"), std::string::npos);
    EXPECT_NE(req.find("\"title\":\"start process failed\""), std::string::npos) << req;
  }
  {
    OneShotServer srv(503);
    SendResult r =
        ch.Send(json{{"WebHook", "http://127.0.0.1:" + std::to_string(srv.port())}}, Msg());
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.retryable) << r.message;
    EXPECT_NE(r.message.find("HTTP 503"), std::string::npos) << r.message;
  }
  {
    OneShotServer srv(404);
    SendResult r =
        ch.Send(json{{"WebHook", "http://127.0.0.1:" + std::to_string(srv.port())}}, Msg());
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.retryable) << r.message;
  }
  int closed_port = UnusedLoopbackPort();
  SendResult refused =
      ch.Send(json{{"WebHook", "http://127.0.0.1:" + std::to_string(closed_port)}}, Msg());
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(refused.retryable) << refused.message;
  SendResult bad = ch.Send(json{{"requestType", "POST"}}, Msg());
  EXPECT_FALSE(bad.ok);
  EXPECT_FALSE(bad.retryable);
  EXPECT_EQ(bad.message.rfind("WebHook:", 0), 0u);
}

TEST(EmailChannelTest, UnreachableServerIsRetryable) {
  int port = UnusedLoopbackPort();
  json p = MailParams();
  p["serverPort"] = std::to_string(port);
  SendResult r = EmailChannel().Send(p, Msg());
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.retryable) << r.message;
  p.erase("sender");
  r = EmailChannel().Send(p, Msg());
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(r.message.rfind("sender:", 0), 0u) << r.message;
}

}  // namespace
}  // namespace dsched::alert
