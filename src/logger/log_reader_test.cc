// The log reader against real files in a temp dir: pages, whole view, bytes, and every way a
// path might leave the log directory.
#include "logger/log_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <limits>

namespace dsched {
namespace {

namespace fs = std::filesystem;

class LogReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("log_reader_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "logs";
    fs::create_directories(root_ / "7");
    Write(root_ / "7" / "12.log", "l1\nl2\nl3\nl4\nl5");  // the last line without '\n'
    Write(base_ / "secret.txt", "not a task log\n");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  std::string Log() const { return (root_ / "7" / "12.log").string(); }
  StatusCode CodeOf(const std::string& path) const {
    return ReadLogLines(root_, path, 0, 10).status().code();
  }

  fs::path base_, root_;
};

TEST_F(LogReaderTest, RollViewReturnsTheAskedLinesAndTheirCount) {
  auto page = ReadLogLines(root_, Log(), 1, 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->text, "l2\nl3\n");
  EXPECT_EQ(page->lines, 2);

  page = ReadLogLines(root_, Log(), 3, 10);  // the last line gets its '\n'
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->text, "l4\nl5\n");
  EXPECT_EQ(page->lines, 2);

  for (int64_t skip : {int64_t{5}, int64_t{6}, std::numeric_limits<int64_t>::max()}) {
    page = ReadLogLines(root_, Log(), skip, std::numeric_limits<int64_t>::max());
    ASSERT_TRUE(page.ok()) << skip;
    EXPECT_EQ(page->text, "") << skip;
    EXPECT_EQ(page->lines, 0) << skip;
  }
  page = ReadLogLines(root_, Log(), 0, 0);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->lines, 0);

  EXPECT_EQ(ReadLogLines(root_, Log(), -1, 2).status().code(), StatusCode::kInvalidArgument);
  auto bad_limit = ReadLogLines(root_, Log(), 0, -2);
  EXPECT_EQ(bad_limit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_limit.status().message().find("limit"), std::string::npos);
}

TEST_F(LogReaderTest, WholeViewAndBytes) {
  auto whole = ReadWholeLog(root_, Log());
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->text, "l1\nl2\nl3\nl4\nl5\n");
  EXPECT_EQ(whole->lines, 5);
  auto paged = ReadLogLines(root_, Log(), 0, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(paged.ok());
  EXPECT_EQ(*paged, *whole);

  auto bytes = ReadLogBytes(root_, Log());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "l1\nl2\nl3\nl4\nl5");  // as on disk

  Write(root_ / "7" / "empty.log", "");
  auto empty = ReadWholeLog(root_, (root_ / "7" / "empty.log").string());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->lines, 0);
  EXPECT_EQ(empty->text, "");
}

TEST_F(LogReaderTest, LargeLogsArePagedOrRefusedNotLoadedWhole) {
  auto page = ReadLogLines(root_, Log(), 0, 10, /*max_bytes=*/7);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->text, "l1\nl2\n");  // l3 would pass 7 bytes: the caller asks from line 2
  EXPECT_EQ(page->lines, 2);
  page = ReadLogLines(root_, Log(), 0, 10, /*max_bytes=*/2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->text, "l\n");  // one line longer than a page is cut, never an endless loop
  EXPECT_EQ(page->lines, 1);

  auto bytes = ReadLogBytes(root_, Log(), /*max_bytes=*/4);
  EXPECT_EQ(bytes.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadWholeLog(root_, Log(), 4).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LogReaderTest, PathsOutsideTheLogDirectoryAreRefused) {
  const std::string secret = (base_ / "secret.txt").string();
  // ../ escapes, from the root and from a subdirectory, existing or not.
  EXPECT_EQ(CodeOf((root_ / ".." / "secret.txt").string()), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf((root_ / "7" / ".." / ".." / "secret.txt").string()),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf((root_ / "nope" / ".." / ".." / "secret.txt").string()),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf((root_ / ".." / "missing.txt").string()), StatusCode::kPermissionDenied);
  // Absolute paths elsewhere, and a sibling whose name starts like the root.
  EXPECT_EQ(CodeOf(secret), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf("/etc/passwd"), StatusCode::kPermissionDenied);
  fs::create_directories(base_ / "logs2");
  Write(base_ / "logs2" / "a.log", "x\n");
  EXPECT_EQ(CodeOf((base_ / "logs2" / "a.log").string()), StatusCode::kPermissionDenied);
  // The root itself is no log.
  EXPECT_EQ(CodeOf(root_.string()), StatusCode::kPermissionDenied);

  auto refused = ReadLogBytes(root_, secret);
  ASSERT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find(secret), std::string::npos);
  EXPECT_NE(refused.status().message().find("outside the log directory"), std::string::npos);
}

TEST_F(LogReaderTest, SymlinksPointingOutAreRefusedAndInsideFollowed) {
  fs::create_symlink(base_ / "secret.txt", root_ / "7" / "link.log");
  fs::create_directory_symlink(base_, root_ / "up");
  fs::create_symlink(root_ / "7" / "12.log", root_ / "7" / "alias.log");
  EXPECT_EQ(CodeOf((root_ / "7" / "link.log").string()), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf((root_ / "up" / "secret.txt").string()), StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadLogBytes(root_, (root_ / "up" / "secret.txt").string()).status().code(),
            StatusCode::kPermissionDenied);
  auto alias = ReadLogLines(root_, (root_ / "7" / "alias.log").string(), 0, 1);
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->text, "l1\n");

  // A log directory that is itself a symlink (e.g. /var/log/ds -> /data/logs): the paths the
  // worker wrote through the link read as well as the real ones.
  fs::create_directory_symlink(root_, base_ / "linked-logs");
  const fs::path linked = base_ / "linked-logs";
  EXPECT_TRUE(ReadLogBytes(linked, (linked / "7" / "12.log").string()).ok());
  EXPECT_TRUE(ReadLogBytes(linked, Log()).ok());
  EXPECT_EQ(ReadLogBytes(linked, (base_ / "secret.txt").string()).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(LogReaderTest, BadAndMissingPaths) {
  EXPECT_EQ(CodeOf((root_ / "7" / "missing.log").string()), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf((root_ / "8" / "1.log").string()), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf((root_ / "7" / "12.log" / "x").string()), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(""), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("7/12.log"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(std::string("/a\0b", 4)), StatusCode::kInvalidArgument);
  auto dir = ReadLogBytes(root_, (root_ / "7").string());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string::npos);
  // A log directory that does not exist yet (no task ran on this host): NotFound inside it.
  EXPECT_EQ(ReadLogLines(base_ / "none", (base_ / "none" / "1.log").string(), 0, 1).status().code(),
            StatusCode::kNotFound);
}

TEST_F(LogReaderTest, LocalReaderIgnoresTheHostAndAnswersTheSameTwice) {
  LocalLogReader reader(root_);
  for (int i = 0; i < 2; ++i) {
    auto page = reader.RollView("any-host:1234", Log(), 4, 5);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->text, "l5\n");
    auto whole = reader.View("", Log());
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(whole->lines, 5);
    auto bytes = reader.Bytes("other:1", Log());
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes->size(), 14u);
    EXPECT_EQ(reader.Bytes("", "/etc/passwd").status().code(), StatusCode::kPermissionDenied);
  }
}

}  // namespace
}  // namespace dsched
