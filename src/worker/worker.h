// The worker: runs dispatched task attempts as processes and reports their events
// (DESIGN.md §3, hot path steps 4-5). In standalone it lives in the server process and is
// reached through the WorkerClient interface; the cluster issue puts gRPC in front of it.
//
// Per attempt: an exec dir <exec>/<project>/<definition>/<instance>/<task instance>, the task's
// script, and a wrapper that records its own pid, sources the env file, runs the script and
// records the exit code in the exec dir. Those two files are what lets a restarted worker
// re-attach to an attempt that outlived it, or report one that finished while it was down.
//
// Thread-safe. Each running attempt has one waiter thread; at most exec_threads run at once,
// the rest wait in a queue ordered by workflow priority, task priority, then arrival.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "rpc/interfaces.h"
#include "worker/process_launcher.h"

namespace dsched {

struct WorkerOptions {
  std::string host = "127.0.0.1:1234";
  std::string exec_base;  // exec dirs
  std::string log_base;   // task logs
  std::string env_file;   // sourced by the wrapper when it exists
  int exec_threads = 100;
  int kill_grace_ms = 3000;
  // Cluster mode: a file the worker's service rewrites every second with the time (epoch
  // seconds) while its registry session is up. The worker then starts a watchdog process
  // that kills the process group of each of its tasks once the lease is older than
  // lease_limit_s: a worker that died, froze or lost the registry takes its tasks down with
  // it before a master runs them again elsewhere. Its tasks are listed (as links to their
  // state files) in the directory lease_file + ".tasks"; its own errors go to
  // lease_file + ".watchdog.log". Empty: no
  // watchdog (standalone, where nobody runs them elsewhere).
  std::string lease_file;
  int lease_limit_s = 0;
};

class Worker final : public WorkerClient {
 public:
  Worker(WorkerOptions opts, Clock& clock, ProcessLauncher& launcher, TaskEventSink& sink);
  ~Worker() override;  // kills nothing: tasks outlive a stopping worker on purpose

  Status Dispatch(const TaskDispatch& d) override;
  Status Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) override;
  Status Reattach(const TaskDispatch& d) override;

  // Stops accepting work and joins the waiter threads of tasks that have ended.
  void Shutdown();

  // Attempts running now and waiting for a thread (for the heartbeat's thread-pool use).
  int running() const;
  int queued() const;

  std::string ExecDir(const TaskDispatch& d) const;
  std::string LogPath(const TaskDispatch& d) const;

 private:
  struct Attempt {
    TaskDispatch d;
    int pid = 0;
    bool started = false;  // Run has begun (it may not have spawned yet: pid 0)
    bool kill_requested = false;
    bool timed_out = false;
    bool finished = false;
    TimerId timeout_timer = 0;
    int64_t start_ms = 0;
  };
  using Key = std::pair<int64_t, int>;  // (task instance id, attempt)

  void StartLocked(std::shared_ptr<Attempt> a);
  void Run(std::shared_ptr<Attempt> a);
  // Watches an attempt started by an earlier worker process (not our child: no waitpid).
  void Watch(std::shared_ptr<Attempt> a);
  void Finish(std::shared_ptr<Attempt> a, int exit_code);
  void KillAttempt(std::shared_ptr<Attempt> a);
  StatusOr<std::vector<std::string>> Prepare(const TaskDispatch& d, const std::string& dir);
  // Sends an event of `a` to the master that owns the attempt now: a takeover's Reattach may
  // have changed the owner (epoch, master host) since the event was made.
  void Emit(const Attempt& a, TaskEvent e);
  // An event of this attempt stamped now, with its identity, host and paths filled in.
  TaskEvent EventFor(const Attempt& a, TaskEventType type) const;
  void AppendLog(const std::string& path, const std::string& line);
  void PumpLocked();
  // Starts the task watchdog (WorkerOptions::lease_file) and sets watch_dir_.
  void StartWatchdog();
  std::string WatchEntry(const TaskDispatch& d) const;  // the attempt's link in watch_dir_

  const WorkerOptions opts_;
  std::string watch_dir_;  // the task watchdog's list, when it runs (StartWatchdog)
  Clock& clock_;
  ProcessLauncher& launcher_;
  TaskEventSink& sink_;

  mutable std::mutex mu_;
  bool shutdown_ = false;
  std::map<Key, std::shared_ptr<Attempt>> attempts_;  // queued or running
  std::map<int64_t, int64_t> newest_epoch_;            // by task instance id
  struct QueueOrder {
    bool operator()(const std::shared_ptr<Attempt>& a, const std::shared_ptr<Attempt>& b) const;
  };
  std::priority_queue<std::shared_ptr<Attempt>, std::vector<std::shared_ptr<Attempt>>, QueueOrder>
      queue_;
  uint64_t arrival_ = 0;
  std::map<const Attempt*, uint64_t> arrival_of_;
  int running_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace dsched
