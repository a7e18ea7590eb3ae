// The metrics endpoint over real HTTP on a free port: the text format Prometheus scrapes, values
// read at each scrape, both paths, and the errors of Start.
#include "cluster/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "common/free_port.h"

namespace dsched::cluster {
namespace {

// GET path on 127.0.0.1:port; the whole answer, headers included ("" when it cannot connect).
std::string Get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  close(fd);
  return out;
}

TEST(MetricsEndpointTest, ServesValuesReadAtEachScrape) {
  std::atomic<int> running{3};
  int port = UnusedLoopbackPort();
  auto ep = MetricsEndpoint::Start(
      port, "master.metrics-port",
      {{"dsched_master_running_workflows", "workflow instances this master runs", false,
        [&] { return static_cast<double>(running.load()); }},
       {"dsched_master_dispatched_total", "tasks dispatched", true, [] { return 42.0; }}});
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  std::string first = Get(port, "/metrics");
  EXPECT_NE(first.find("200 OK"), std::string::npos) << first;
  EXPECT_NE(first.find("# TYPE dsched_master_running_workflows gauge"), std::string::npos);
  EXPECT_NE(first.find("\ndsched_master_running_workflows 3"), std::string::npos) << first;
  EXPECT_NE(first.find("# TYPE dsched_master_dispatched_total counter"), std::string::npos);
  EXPECT_NE(first.find("\ndsched_master_dispatched_total 42"), std::string::npos) << first;
  running = 5;
  std::string second = Get(port, "/actuator/prometheus");
  EXPECT_NE(second.find("\ndsched_master_running_workflows 5"), std::string::npos) << second;

  // The port is taken while the endpoint lives; free again after.
  auto clash = MetricsEndpoint::Start(port, "worker.metrics-port", {});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(clash.status().message().find("worker.metrics-port"), std::string::npos);
  ep->reset();
  EXPECT_EQ(Get(port, "/metrics"), "");
}

TEST(MetricsEndpointTest, RefusesBadPortsAndNames) {
  auto bad_port = MetricsEndpoint::Start(70000, "alert.metrics-port", {});
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("alert.metrics-port"), std::string::npos);
  auto bad_name =
      MetricsEndpoint::Start(UnusedLoopbackPort(), "x",
                             {{"9lives", "h", false, [] { return 0.0; }}});
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.status().message().find("9lives"), std::string::npos);
  auto no_value =
      MetricsEndpoint::Start(UnusedLoopbackPort(), "x", {{"ok_name", "h", false, nullptr}});
  EXPECT_FALSE(no_value.ok());
}

}  // namespace
}  // namespace dsched::cluster
