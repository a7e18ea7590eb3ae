#include "worker/process_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace dsched {

StatusOr<int> PosixProcessLauncher::Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return InvalidArgument("spawn: empty argv");
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, spec.log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  // A task must not inherit the server's sockets or database files: a task that outlives a
  // killed server would otherwise keep its port bound and block the restart.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Internal("spawn " + spec.argv[0] + ": " + std::strerror(rc));
  return static_cast<int>(pid);
}

StatusOr<int> PosixProcessLauncher::Wait(int pid) {
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, 0);
    if (r == pid) break;
    if (r < 0 && errno == EINTR) continue;
    return Internal("waitpid " + std::to_string(pid) + ": " + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

Status PosixProcessLauncher::KillGroup(int pgid, int grace_ms) {
  if (pgid <= 1) return InvalidArgument("refusing to kill process group " + std::to_string(pgid));
  if (::kill(-pgid, SIGTERM) != 0 && errno == ESRCH) return Status::Ok();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pgid, SIGKILL);
  // SIGKILL cannot be ignored; the group disappears once its members are reaped.
  for (int i = 0; i < 250; ++i) {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Internal("process group " + std::to_string(pgid) + " survived SIGKILL");
}

bool PosixProcessLauncher::IsAlive(int pid, const std::string& marker) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string cmd = ss.str();
  for (char& c : cmd)
    if (c == '\0') c = ' ';
  // A zombie has an empty cmdline: it has exited.
  return !cmd.empty() && cmd.find(marker) != std::string::npos;
}

}  // namespace dsched
