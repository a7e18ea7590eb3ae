// Test-only scaffolding shared by the REST API tests: a form encoder, a small synchronous Beast
// client for 127.0.0.1, and a fixture serving the API from a real SqlStore on a temp SQLite
// file. Each test file keeps its own deps, doubles and helpers.
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "api/api_server.h"
#include "logger/log_reader.h"
#include "storage/sql/sql_store.h"

namespace dsched::api::apitest {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded: unreserved characters as they are, every other byte %XX.
std::string Encode(const Pairs& params);

struct Reply {
  int status = 0;
  std::string body;
  nlohmann::json j;  // the parsed body, null when it is not JSON
  std::vector<std::string> set_cookies;
  std::string content_type;
  std::string disposition;  // Content-Disposition
  int code() const { return j.is_object() ? j.value("code", -1) : -1; }
  std::string msg() const { return j.is_object() ? j.value("msg", "") : ""; }
  const nlohmann::json& data() const { return j.at("data"); }
};

// Sends `req` (Host and Content-Length are set here) on a new connection to 127.0.0.1:port
// and reads the answer, past an interim 100 Continue.
Reply Exchange(int port, boost::beast::http::request<boost::beast::http::string_body> req);

// A form request to /dolphinscheduler<path>: GET and DELETE carry `params` in the query, the
// other methods in a form body; a non-empty `session` goes in the sessionId header.
Reply Send(int port, const std::string& session, const std::string& method,
           const std::string& path, const Pairs& params = {}, const Pairs& headers = {});

// The session id of a login, or "" (and a test failure) when it is refused.
std::string Login(int port, const std::string& name, const std::string& password);

// A master that accepts everything and does nothing: for routes that only need one present.
class NoMaster : public MasterControl {
 public:
  void WakeCommands() override {}
  Status Execute(int64_t, ExecuteType) override { return Status::Ok(); }
  Status ForceTaskSuccess(int64_t) override { return Status::Ok(); }
  Status ExecuteTask(int64_t, const std::vector<int64_t>&, TaskDependType) override {
    return Status::Ok();
  }
};

// The API on an ephemeral port over a real SqlStore in a fresh temp dir, with the default
// admin logged in (session_). The stores, clock, code generator and a log reader confined to
// the temp dir are set in the deps; a test adds its own (master, schedules, ...) in AddDeps.
class SqliteApiTest : public ::testing::Test {
 protected:
  // The temp dir is /tmp/<dir_prefix>-XXXXXX.
  explicit SqliteApiTest(std::string dir_prefix) : dir_prefix_(std::move(dir_prefix)) {}
  void SetUp() override;
  void TearDown() override;
  // Runs after the store opened and before the server starts; may ASSERT.
  virtual void AddDeps(ApiDeps& deps) {}

  Reply Send(const std::string& method, const std::string& path, const Pairs& params = {}) {
    return apitest::Send(server_->port(), session_, method, path, params);
  }

  FakeClock clock_;  // 2026-01-01 00:00:00 UTC
  CodeGenerator codes_{clock_};
  Config cfg_;
  std::string dir_;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<LocalLogReader> logs_;  // task logs: files under dir_
  std::unique_ptr<ApiServer> server_;
  std::string session_;

 private:
  std::string dir_prefix_;
};

}  // namespace dsched::api::apitest
