// The process seam (DESIGN.md §3b): every child process dsched starts goes through here.
// PosixProcessLauncher spawns into a new process group so that a kill reaches everything the
// task started; stdout and stderr go straight to the task's log file (no pipe to drain, and
// the task keeps running if the worker dies). Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace dsched {

struct SpawnSpec {
  std::vector<std::string> argv;
  std::string cwd;
  std::string log_path;  // stdout and stderr, appended
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Returns the pid, which is also the new process group id.
  virtual StatusOr<int> Spawn(const SpawnSpec& spec) = 0;
  // Blocks until the child exits; returns its exit code (128 + signal when signalled).
  virtual StatusOr<int> Wait(int pid) = 0;
  // TERM to the whole group, KILL after grace_ms if any member is left, then verifies that
  // the group is gone. Killing a group that is already gone is OK.
  virtual Status KillGroup(int pgid, int grace_ms) = 0;
  // Whether a process with this pid exists and its command line mentions `marker`
  // (guards against pid reuse when re-attaching after a restart).
  virtual bool IsAlive(int pid, const std::string& marker) = 0;
};

class PosixProcessLauncher final : public ProcessLauncher {
 public:
  StatusOr<int> Spawn(const SpawnSpec& spec) override;
  StatusOr<int> Wait(int pid) override;
  Status KillGroup(int pgid, int grace_ms) override;
  bool IsAlive(int pid, const std::string& marker) override;
};

}  // namespace dsched
