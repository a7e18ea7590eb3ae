// The fixture every storage conformance test shares: an empty database of the test parameter's
// kind (SQLite in a temp dir, or a server tests/db/run_db_tests.sh started), opened as a
// SqlStore on a FakeClock. A test that needs more set-up overrides SetUp, calls
// StoreTest::SetUp() first and returns on a fatal failure. Not for production code.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/test_databases.h"

namespace dsched {

class StoreTest : public testing::TestWithParam<TestDb> {
 protected:
  explicit StoreTest(int64_t start_ms = 1767225600000 /* 2026-01-01 00:00:00 UTC */)
      : clock_(start_ms) {}

  void SetUp() override {
    char tmpl[] = "/tmp/dsched-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    opts_ = GetParam().opts;
    if (opts_.type == DbType::kSqlite) {
      opts_.sqlite_path = dir_ + "/db.sqlite";
      opts_.pool_size = 2;
    }
    Status reset = ResetDatabase(opts_);
    ASSERT_TRUE(reset.ok()) << reset.ToString();
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  // Another store on the same database (a second process's view, or a restart).
  std::unique_ptr<SqlStore> OpenStore() {
    auto s = SqlStore::Open(opts_, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  FakeClock clock_;
  std::string dir_;
  DbOptions opts_;
  std::unique_ptr<SqlStore> store_;
};

}  // namespace dsched
