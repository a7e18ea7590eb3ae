// Reading task logs, confined to a log directory: a page of lines (the UI's roll view), every
// line, or the file's bytes. Used by `dsched logger` behind its gRPC service and by standalone's
// API directly. No RPC here (the service is rpc/grpc/grpc_servers.h; which reader the API gets
// is decided by its composition root), and nothing that writes logs (that is the worker's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"
#include "rpc/interfaces.h"

namespace dsched {

// The most one read returns: a page stops early (with fewer lines; the caller asks again from
// where it stopped) and a whole view or bytes of a larger log is refused. Below the gRPC message
// limit (rpc/grpc/convert.h kRpcMaxMessageBytes, 64 MiB) with room for the envelope.
inline constexpr size_t kMaxLogReadBytes = 60u << 20;

// `path` resolved (`..` and symlinks) when it names something inside `root` (itself resolved
// the same way). InvalidArgument for an empty or relative path; PermissionDenied, naming both,
// when it resolves outside root; NotFound when it is inside but does not exist. Existence is
// only reported for paths inside root, so the answer says nothing about the rest of the disk.
// Reads the file system only.
StatusOr<std::filesystem::path> ConfineToLogDir(const std::filesystem::path& root,
                                                const std::string& path);

// Lines [skip, skip + limit) of the log at `path` (confined to `root`), at most max_bytes of
// them: the page ends before the line that would pass it (a single longer line is cut to
// max_bytes). InvalidArgument for skip or limit < 0 or a path that is not a regular file;
// the errors of ConfineToLogDir. Reads the file from its start on each call.
StatusOr<LogPage> ReadLogLines(const std::filesystem::path& root, const std::string& path,
                               int64_t skip, int64_t limit, size_t max_bytes = kMaxLogReadBytes);

// Every byte of the log at `path` (confined to `root`). FailedPrecondition when it is larger
// than max_bytes; otherwise as ReadLogLines.
StatusOr<std::string> ReadLogBytes(const std::filesystem::path& root, const std::string& path,
                                   size_t max_bytes = kMaxLogReadBytes);

// Every line of the log: its bytes, with a '\n' added to a last line that has none, and the
// number of lines (what ReadLogLines from 0 without limit gives). Errors as ReadLogBytes.
StatusOr<LogPage> ReadWholeLog(const std::filesystem::path& root, const std::string& path,
                               size_t max_bytes = kMaxLogReadBytes);

// LogReader over this machine's files under one log directory; the host argument is ignored.
// Thread-safe (no state but the root).
class LocalLogReader final : public LogReader {
 public:
  explicit LocalLogReader(std::filesystem::path root) : root_(std::move(root)) {}
  StatusOr<LogPage> RollView(const std::string& host, const std::string& path, int64_t skip,
                             int64_t limit) override;
  StatusOr<LogPage> View(const std::string& host, const std::string& path) override;
  StatusOr<std::string> Bytes(const std::string& host, const std::string& path) override;
  const std::filesystem::path& root() const { return root_; }

 private:
  const std::filesystem::path root_;
};

}  // namespace dsched
