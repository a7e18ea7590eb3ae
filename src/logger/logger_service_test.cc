// The logger's gRPC service for real: LoggerServiceImpl over a LocalLogReader on a temp log
// directory, served on a free loopback port, called through GrpcLogReader. Pages, whole view,
// bytes, refusals (outside the directory, malformed requests), repeats, and a logger that is
// not there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "logger/log_reader.h"
#include "rpc/grpc/grpc_clients.h"
#include "rpc/grpc/grpc_servers.h"

namespace dsched {
namespace {

namespace fs = std::filesystem;

class LoggerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("logger_service_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "logs" / "3");
    log_ = (base_ / "logs" / "3" / "9.log").string();
    std::ofstream(log_, std::ios::binary) << "a\nb\xff\xfe\nc\n";  // not UTF-8: bytes on the wire
    std::ofstream(base_ / "outside.txt") << "secret\n";
    reader_ = std::make_unique<LocalLogReader>(base_ / "logs");
    service_ = std::make_unique<LoggerServiceImpl>(*reader_);
    auto server = GrpcServer::Start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    target_ = "127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<GrpcLogReader>(target_, RpcCallOptions{5000});
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown();
    fs::remove_all(base_);
  }

  fs::path base_;
  std::string log_, target_;
  std::unique_ptr<LocalLogReader> reader_;
  std::unique_ptr<LoggerServiceImpl> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<GrpcLogReader> client_;
};

TEST_F(LoggerServiceTest, RollViewWholeViewAndBytesAnswerTheSameTwice) {
  for (int round = 0; round < 2; ++round) {
    auto page = client_->RollView("ignored:1234", log_, 1, 1);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->text, "b\xff\xfe\n");
    EXPECT_EQ(page->lines, 1);
    auto past_end = client_->RollView("", log_, 10, 5);
    ASSERT_TRUE(past_end.ok());
    EXPECT_EQ(past_end->lines, 0);
    EXPECT_EQ(past_end->text, "");

    auto whole = client_->View("", log_);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_EQ(whole->lines, 3);
    EXPECT_EQ(whole->text, "a\nb\xff\xfe\nc\n");

    auto bytes = client_->Bytes("", log_);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(*bytes, "a\nb\xff\xfe\nc\n");
  }
}

TEST_F(LoggerServiceTest, PathsOutsideTheLogDirectoryAreRefusedEveryTime) {
  const std::string escape = (base_ / "logs" / "3" / ".." / ".." / "outside.txt").string();
  fs::create_symlink(base_ / "outside.txt", base_ / "logs" / "3" / "link.log");
  for (int round = 0; round < 2; ++round) {
    for (const std::string& p :
         {escape, (base_ / "outside.txt").string(), (base_ / "logs" / "3" / "link.log").string()}) {
      auto page = client_->RollView("", p, 0, 10);
      EXPECT_EQ(page.status().code(), StatusCode::kPermissionDenied) << p;
      EXPECT_NE(page.status().message().find("outside the log directory"), std::string::npos);
      EXPECT_EQ(client_->View("", p).status().code(), StatusCode::kPermissionDenied) << p;
      EXPECT_EQ(client_->Bytes("", p).status().code(), StatusCode::kPermissionDenied) << p;
    }
    auto missing = client_->Bytes("", (base_ / "logs" / "3" / "10.log").string());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  }
}

TEST_F(LoggerServiceTest, MalformedRequestsAreRefusedNamingTheField) {
  auto relative = client_->RollView("", "logs/3/9.log", 0, 1);
  ASSERT_EQ(relative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(relative.status().message().find("roll_view_log.path"), std::string::npos);
  EXPECT_NE(relative.status().message().find(target_), std::string::npos);  // names the logger
  auto skip = client_->RollView("", log_, -1, 1);
  ASSERT_EQ(skip.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(skip.status().message().find("roll_view_log.skip_line_num"), std::string::npos);
  auto limit = client_->RollView("", log_, 0, -1);
  EXPECT_NE(limit.status().message().find("roll_view_log.limit"), std::string::npos);
  auto empty = client_->View("", "");
  ASSERT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("view_log.path is missing"), std::string::npos);
  auto bytes = client_->Bytes("", "x");
  EXPECT_NE(bytes.status().message().find("get_log_bytes.path"), std::string::npos);
}

TEST_F(LoggerServiceTest, ALoggerThatIsNotThereIsUnavailableNamingIt) {
  const std::string gone = "127.0.0.1:" + std::to_string(server_->port());
  server_->Shutdown();
  server_.reset();
  GrpcLogReader client(gone, RpcCallOptions{2000});
  auto page = client.RollView("", log_, 0, 1);
  ASSERT_EQ(page.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(page.status().message().find("logger " + gone), std::string::npos);
}

}  // namespace
}  // namespace dsched
