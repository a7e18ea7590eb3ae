#include "logger/log_reader.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <system_error>
#include <utility>

namespace dsched {

namespace fs = std::filesystem;

namespace {

// `p` with symlinks and `..` resolved as far as it exists (the rest lexically), without a
// trailing separator.
fs::path Resolve(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(p, ec);
  if (ec) r = p.lexically_normal();
  if (!r.has_filename() && r.has_relative_path()) r = r.parent_path();
  return r;
}

// Whether `p` lies strictly below `root`, component by component (so /logs2 is not in /logs).
bool Inside(const fs::path& p, const fs::path& root) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end() && q != p.end();
}

Status Outside(const std::string& path, const fs::path& root) {
  return PermissionDenied("log path " + path + " is outside the log directory " + root.string());
}

// The confined file, opened; InvalidArgument when it is not a regular file.
StatusOr<std::ifstream> Open(const fs::path& root, const std::string& path, uintmax_t* size) {
  DSCHED_ASSIGN_OR_RETURN(fs::path real, ConfineToLogDir(root, path));
  std::error_code ec;
  if (!fs::is_regular_file(real, ec))
    return InvalidArgument("log path " + path + " is not a regular file");
  if (size != nullptr) {
    *size = fs::file_size(real, ec);
    if (ec) return Internal("cannot read the size of log " + path + ": " + ec.message());
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return NotFound("cannot open log " + path);
  return in;
}

}  // namespace

StatusOr<fs::path> ConfineToLogDir(const fs::path& root, const std::string& path) {
  if (path.empty()) return InvalidArgument("log path is empty");
  if (path.find('\0') != std::string::npos) return InvalidArgument("log path contains a NUL byte");
  const fs::path p(path);
  if (!p.is_absolute()) return InvalidArgument("log path '" + path + "' is not absolute");
  const fs::path real_root = Resolve(fs::absolute(root));
  std::error_code ec;
  fs::path real = fs::canonical(p, ec);
  if (ec) {
    // Said only of paths that would lie inside: whether a file exists elsewhere is not ours.
    if (!Inside(Resolve(p), real_root)) return Outside(path, real_root);
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory)
      return NotFound("log " + path + " does not exist");
    return Internal("cannot resolve log path " + path + ": " + ec.message());
  }
  // canonical() followed every symlink, the last component's included: a link inside the
  // directory that points out of it is refused here.
  if (!Inside(real, real_root)) return Outside(path, real_root);
  return real;
}

StatusOr<LogPage> ReadLogLines(const fs::path& root, const std::string& path, int64_t skip,
                               int64_t limit, size_t max_bytes) {
  if (skip < 0) return InvalidArgument("skip must not be negative, got " + std::to_string(skip));
  if (limit < 0) return InvalidArgument("limit must not be negative, got " + std::to_string(limit));
  DSCHED_ASSIGN_OR_RETURN(std::ifstream in, Open(root, path, nullptr));
  max_bytes = std::max<size_t>(max_bytes, 1);
  const int64_t stop = limit > std::numeric_limits<int64_t>::max() - skip
                           ? std::numeric_limits<int64_t>::max()
                           : skip + limit;
  LogPage page;
  std::string line;
  for (int64_t i = 0; i < stop && std::getline(in, line); ++i) {
    if (i < skip) continue;
    if (page.text.size() + line.size() + 1 > max_bytes) {
      if (page.lines > 0) break;  // the caller asks again from skip + lines
      line.resize(max_bytes - 1);
    }
    page.text += line;
    page.text += '\n';
    ++page.lines;
  }
  return page;
}

StatusOr<std::string> ReadLogBytes(const fs::path& root, const std::string& path,
                                   size_t max_bytes) {
  uintmax_t size = 0;
  DSCHED_ASSIGN_OR_RETURN(std::ifstream in, Open(root, path, &size));
  if (size > max_bytes)
    return FailedPrecondition("log " + path + " is " + std::to_string(size) +
                              " bytes, more than the " + std::to_string(max_bytes) +
                              " one read returns");
  // The bytes there were when the size was read: a running task may append meanwhile.
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

StatusOr<LogPage> ReadWholeLog(const fs::path& root, const std::string& path, size_t max_bytes) {
  DSCHED_ASSIGN_OR_RETURN(std::string bytes, ReadLogBytes(root, path, max_bytes));
  LogPage page;
  page.lines = std::count(bytes.begin(), bytes.end(), '\n');
  if (!bytes.empty() && bytes.back() != '\n') {
    bytes += '\n';
    ++page.lines;
  }
  page.text = std::move(bytes);
  return page;
}

StatusOr<LogPage> LocalLogReader::RollView(const std::string&, const std::string& path,
                                           int64_t skip, int64_t limit) {
  return ReadLogLines(root_, path, skip, limit);
}

StatusOr<LogPage> LocalLogReader::View(const std::string&, const std::string& path) {
  return ReadWholeLog(root_, path);
}

StatusOr<std::string> LocalLogReader::Bytes(const std::string&, const std::string& path) {
  return ReadLogBytes(root_, path);
}

}  // namespace dsched
