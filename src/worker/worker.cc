#include "worker/worker.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/time_format.h"
#include "params/params.h"

namespace dsched {

namespace fs = std::filesystem;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& content, int mode) {
  {
    std::ofstream out(path, std::ios::trunc);
    if (!out) return false;
    out << content;
    if (!out) return false;
  }
  return chmod(path.c_str(), mode) == 0;
}

// The wrapper's state file: its pid, then "exit N" once the task ended. exit is nullopt
// while the task has not ended (or the file is missing).
struct WrapperState {
  int pid = 0;
  std::optional<int> exit;
};

WrapperState ReadState(const std::string& dir) {
  WrapperState st;
  std::istringstream in(ReadFile(dir + "/state"));
  std::string line;
  if (std::getline(in, line)) st.pid = std::atoi(line.c_str());
  while (std::getline(in, line))
    if (line.rfind("exit ", 0) == 0) st.exit = std::atoi(line.c_str() + 5);
  return st;
}

// Single-quotes a path for /bin/sh.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

bool Worker::QueueOrder::operator()(const std::shared_ptr<Attempt>& a,
                                    const std::shared_ptr<Attempt>& b) const {
  // priority_queue pops the "largest": make the most urgent compare largest.
  if (a->d.workflow_priority != b->d.workflow_priority)
    return a->d.workflow_priority > b->d.workflow_priority;
  if (a->d.task_priority != b->d.task_priority) return a->d.task_priority > b->d.task_priority;
  return a->d.task_instance_id > b->d.task_instance_id;
}

namespace {

// The task watchdog of cluster mode (WorkerOptions::lease_file), one per worker, a process of
// its own so that it outlives a worker that was killed and runs while one is frozen. Every
// second it reads the lease; once that is older than the limit it TERMs the process group of
// every task listed in the watch dir, says so in the task's log, and KILLs what is left a
// second later. Each entry is a hard link to a task's state file, made before the spawn and
// removed when the task ends; the wrapper writes "pid start-time log" to it (the start time,
// field 22 of its stat, survives an exec in the task; a reused pid has another one). Links,
// not files: creating and deleting an inode per task is what a small task costs most on a
// file system without a journal (it scans past recently freed inodes). The watchdog leaves
// when its worker is gone (its pid no longer has its start time) and either nothing is left to
// watch or the lease was renewed since (a new worker on the same port, with a watchdog of its
// own), and as soon as a newer watchdog owns its list (the worker started again, in the same
// process after a lost session or as a new one: the last one started watches). Bash builtins
// but for sleep (and rm, when it kills), so it costs a fork a second.
// $1 lease file, $2 limit in seconds, $3 watch dir, $4 the worker's pid.
constexpr const char* kWatchdogScript = R"sh(
lease=$1 limit=$2 dir=$3 worker=$4
said="[WARN] dsched: no word from the worker for over $limit s (its lease ran out):"
said+=" killing the task"
start_of() {  # the start time of process $1, empty when there is none
  started=
  local s
  read -r s < "/proc/$1/stat" 2>/dev/null || return 0
  s=${s##*) }; s=($s); started=${s[19]}
}
start_of "$worker"; worker_start=$started
(
  me=$BASHPID gone_at=
  echo "$me" > "$dir.owner"
  while sleep 1; do
    read -r owner < "$dir.owner" 2>/dev/null
    [ "$owner" = "$me" ] || exit 0
    read -r t < "$lease" 2>/dev/null || t=0
    t=${t:-0}
    printf -v now '%(%s)T' -1
    start_of "$worker"; [ "$started" = "$worker_start" ]; worker_alive=$?
    if [ $((now - t)) -gt "$limit" ]; then
      gone=() pids=()
      for e in "$dir"/*; do
        [ -f "$e" ] || continue
        p= enrolled= log= ended=
        { read -r p enrolled log; read -r ended; } < "$e" 2>/dev/null
        # Ended, or not started yet (a frozen worker may still spawn it: keep watching).
        if [ -n "$ended" ] || [ -z "$p" ]; then
          [ "$worker_alive" = 0 ] || gone+=("$e")
          continue
        fi
        start_of "$p"
        # A leader that is there with another start time: the pid was reused, the task ended.
        if [ -n "$started" ] && [ "$started" != "$enrolled" ]; then gone+=("$e"); continue; fi
        echo "$said" >> "$log"
        kill -TERM -- "-$p" 2>/dev/null
        pids+=("$p") gone+=("$e")
      done
      if [ ${#pids[@]} -gt 0 ]; then
        sleep 1
        for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
      fi
      [ ${#gone[@]} -eq 0 ] || rm -f "${gone[@]}"
    fi
    if [ "$worker_alive" != 0 ]; then
      [ -n "$gone_at" ] || gone_at=$t
      [ "$t" -gt "$gone_at" ] && exit 0
      set -- "$dir"/*
      [ -e "$1" ] || exit 0
    fi
  done
) </dev/null &
)sh";

}  // namespace

Worker::Worker(WorkerOptions opts, Clock& clock, ProcessLauncher& launcher, TaskEventSink& sink)
    : opts_(std::move(opts)), clock_(clock), launcher_(launcher), sink_(sink) {
  if (!opts_.lease_file.empty()) StartWatchdog();
}

void Worker::StartWatchdog() {
  std::error_code ec;
  const std::string dir = opts_.lease_file + ".tasks";
  fs::create_directories(dir, ec);
  if (ec) {
    // Tasks then run unwatched: a lost worker's tasks would live on beside their re-runs.
    spdlog::error("task watchdog: cannot create {}: {}; tasks run without it", dir, ec.message());
    return;
  }
  // The shell backgrounds the loop and exits at once (reaped here), so the watchdog is nobody's
  // child to reap, in a process group of its own.
  auto pid = launcher_.Spawn({{"/bin/bash", "-c", kWatchdogScript, "dsched-task-watchdog",
                               opts_.lease_file, std::to_string(opts_.lease_limit_s), dir,
                               std::to_string(::getpid())},
                              dir,
                              opts_.lease_file + ".watchdog.log"});
  if (!pid.ok()) {
    spdlog::error("task watchdog: {}; tasks run without it", pid.status().message());
    return;
  }
  launcher_.Wait(*pid);
  watch_dir_ = dir;
}

Worker::~Worker() { Shutdown(); }

void Worker::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

int Worker::running() const {
  std::lock_guard<std::mutex> l(mu_);
  return running_;
}

int Worker::queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(queue_.size());
}

std::string Worker::ExecDir(const TaskDispatch& d) const {
  return opts_.exec_base + "/" + std::to_string(d.project_code) + "/" +
         std::to_string(d.definition_code) + "/" + std::to_string(d.workflow_instance_id) + "/" +
         std::to_string(d.task_instance_id);
}

std::string Worker::WatchEntry(const TaskDispatch& d) const {
  return watch_dir_ + "/" + std::to_string(d.task_instance_id) + "_" + std::to_string(d.attempt);
}

std::string Worker::LogPath(const TaskDispatch& d) const {
  return opts_.log_base + "/" + std::to_string(d.workflow_instance_id) + "/" +
         std::to_string(d.task_instance_id) + ".log";
}

void Worker::AppendLog(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << "[INFO] " << FormatDateTime(clock_.NowMs()) << " - " << line << "\n";
}

Status Worker::Dispatch(const TaskDispatch& d) {
  std::lock_guard<std::mutex> l(mu_);
  if (shutdown_) return Unavailable("worker is shutting down");
  auto& newest = newest_epoch_[d.task_instance_id];
  if (d.master_epoch < newest)
    return Aborted("dispatch from epoch " + std::to_string(d.master_epoch) + " < " +
                   std::to_string(newest));
  newest = d.master_epoch;
  Key k{d.task_instance_id, d.attempt};
  if (attempts_.count(k)) return Status::Ok();  // a repeat: already queued or running
  auto a = std::make_shared<Attempt>();
  a->d = d;
  attempts_[k] = a;
  arrival_of_[a.get()] = arrival_++;
  queue_.push(a);
  PumpLocked();
  return Status::Ok();
}

void Worker::PumpLocked() {
  while (running_ < opts_.exec_threads && !queue_.empty()) {
    auto a = queue_.top();
    queue_.pop();
    if (a->finished) continue;  // killed while queued
    StartLocked(a);
  }
}

void Worker::StartLocked(std::shared_ptr<Attempt> a) {
  ++running_;
  a->started = true;
  threads_.emplace_back([this, a] { Run(a); });
  // Reap threads of finished attempts now and then so the vector stays small.
  if (threads_.size() > 4u * static_cast<size_t>(opts_.exec_threads)) {
    // Threads are joined at shutdown; detaching the oldest ended ones keeps memory flat.
    for (auto& t : threads_) t.detach();
    threads_.clear();
  }
}

StatusOr<std::vector<std::string>> Worker::Prepare(const TaskDispatch& d, const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create exec dir " + dir + ": " + ec.message());
  fs::create_directories(fs::path(LogPath(d)).parent_path(), ec);
  nlohmann::json tp = nlohmann::json::parse(d.task_params, nullptr, false);
  std::string raw = tp.is_object() ? tp.value("rawScript", "") : "";
  auto script = params::Substitute(raw, d.vars, d.base_time_ms);
  if (!script.ok()) return script.status();
  std::string id = std::to_string(d.task_instance_id);
  std::string node, runner;
  if (d.task_type == "PYTHON") {
    node = dir + "/" + id + "_node.py";
    runner = "${PYTHON_LAUNCHER:-python3} " + Quote(node);
  } else {
    // Sourced by the bash wrapper: bash semantics without starting a second bash, which is
    // most of a small task's cost. (A script that sets its own EXIT trap replaces the one
    // below; that only matters for re-attaching after a worker restart.)
    node = dir + "/" + id + "_node.sh";
    runner = ". " + Quote(node);
  }
  // The exec dir is new: nothing reads these files before the spawn, so plain writes do.
  if (!WriteFile(node, *script + "\n", 0755)) return Internal("cannot write task script " + node);
  std::string wrapper = dir + "/" + id + ".command";
  std::string state = dir + "/state";
  std::ostringstream w;
  // `state` holds the pid, then "exit N": what a restarted worker needs to re-attach. Written
  // with shell builtins, so no extra process per task.
  w << "#!/bin/bash\n";
  if (watch_dir_.empty()) {
    w << "echo $$ > " << Quote(state) << "\n";
  } else {
    // Also what the task watchdog reads (StartWatchdog): its start time and log after the pid,
    // written in place (`>` keeps the inode the watch dir links to). The stat line is split on
    // blanks as it is: this process is /bin/bash, so its name field is "(bash)" and the start
    // time is field 22. (Cutting the name off with a pattern first cost ~80 us a task in bash's
    // pattern matching, about 4 % of a small task.)
    w << "read -ra dsched_st < /proc/$$/stat\n"
      << "echo \"$$ ${dsched_st[21]} \"" << Quote(LogPath(d)) << " > " << Quote(state) << "\n";
  }
  w << "trap 'echo \"exit $?\" >> " << Quote(state) << "' EXIT\n";
  w << "cd " << Quote(dir) << "\n";
  if (!opts_.env_file.empty() && fs::exists(opts_.env_file))
    w << ". " << Quote(fs::absolute(opts_.env_file).string()) << "\n";
  w << runner << "\n";
  if (!WriteFile(wrapper, w.str(), 0755)) return Internal("cannot write task wrapper " + wrapper);
  if (!watch_dir_.empty()) {
    // Listed with the watchdog before the spawn, so no moment of the task goes unwatched.
    const std::string entry = WatchEntry(d);
    ::unlink(entry.c_str());  // left by an earlier worker process for this very attempt
    if (!WriteFile(state, "", 0644) || ::link(state.c_str(), entry.c_str()) != 0)
      return Internal("cannot list the task with the task watchdog (" + entry +
                      "): " + std::strerror(errno));
  }
  return std::vector<std::string>{"/bin/bash", wrapper};
}

void Worker::Emit(const Attempt& a, TaskEvent e) {
  {
    std::lock_guard<std::mutex> l(mu_);
    e.master_epoch = a.d.master_epoch;
    e.master_host = a.d.master_host;
  }
  sink_.OnTaskEvent(e);
}

TaskEvent Worker::EventFor(const Attempt& a, TaskEventType type) const {
  TaskEvent e;
  e.type = type;
  e.task_instance_id = a.d.task_instance_id;
  e.attempt = a.d.attempt;
  // master_epoch and master_host: set by Emit, under the lock (a Reattach may change them).
  e.workflow_instance_id = a.d.workflow_instance_id;
  e.host = opts_.host;
  e.pid = a.pid;
  e.execute_path = ExecDir(a.d);
  e.log_path = LogPath(a.d);
  e.time_ms = clock_.NowMs();
  return e;
}

void Worker::Run(std::shared_ptr<Attempt> a) {
  const TaskDispatch& d = a->d;
  std::string dir = ExecDir(d), log = LogPath(d);
  TaskEvent running = EventFor(*a, TaskEventType::kRunning);
  a->start_ms = clock_.NowMs();
  running.time_ms = a->start_ms;
  if (d.dry_run) {
    Emit(*a, running);
    Finish(a, 0);
    return;
  }
  auto argv = Prepare(d, dir);
  if (!argv.ok()) {
    AppendLog(log, "task " + d.task_name + " could not start: " + argv.status().message());
    Emit(*a, running);
    Finish(a, 1);
    return;
  }
  AppendLog(log, "task " + d.task_name + " (instance " + std::to_string(d.task_instance_id) +
                     ", attempt " + std::to_string(d.attempt) + ") starting");
  bool killed_first;
  {
    std::lock_guard<std::mutex> l(mu_);
    killed_first = a->kill_requested;
  }
  int pid = -1;
  bool kill_now = false;
  if (!killed_first) {
    // Spawned outside mu_: a spawn takes about a millisecond, and every Dispatch, Kill and
    // other task's event would wait for it (in cluster mode the master's dispatch call does).
    // A Kill meanwhile only marks the attempt; it is acted on below, once the pid is known.
    auto spawned = launcher_.Spawn({*argv, dir, log});
    std::lock_guard<std::mutex> l(mu_);
    if (!spawned.ok()) {
      pid = 0;
      AppendLog(log, spawned.status().message());
    } else {
      pid = *spawned;
      a->pid = pid;
      kill_now = a->kill_requested;
      if (d.timeout_ms > 0 && d.timeout_kills) {
        a->timeout_timer = clock_.RunAfter(d.timeout_ms, [this, a] {
          {
            std::lock_guard<std::mutex> l2(mu_);
            if (a->finished) return;
            a->timed_out = true;
          }
          std::thread([this, a] { launcher_.KillGroup(a->pid, opts_.kill_grace_ms); }).detach();
        });
      }
    }
  }
  if (kill_now)
    std::thread([this, pid] { launcher_.KillGroup(pid, opts_.kill_grace_ms); }).detach();
  if (pid == -1) {  // killed before it started
    Emit(*a, running);
    Finish(a, 137);
    return;
  }
  if (pid == 0) {
    Emit(*a, running);
    Finish(a, 1);
    return;
  }
  running.pid = pid;
  Emit(*a, running);
  auto code = launcher_.Wait(pid);
  bool killing;
  {
    std::lock_guard<std::mutex> l(mu_);
    killing = a->kill_requested || a->timed_out;
  }
  // The wrapper can die of TERM before its children do: report the end only once the whole
  // group is gone, so a re-run never overlaps a leftover of this attempt.
  if (killing) launcher_.KillGroup(pid, opts_.kill_grace_ms);
  Finish(a, code.ok() ? *code : 1);
}

void Worker::Watch(std::shared_ptr<Attempt> a) {
  std::string dir = ExecDir(a->d);
  for (;;) {
    WrapperState st = ReadState(dir);
    if (st.exit) {
      Finish(a, *st.exit);
      return;
    }
    if (!launcher_.IsAlive(a->pid, dir)) {
      // Gone: either it wrote its exit just now, or it was killed from outside.
      st = ReadState(dir);
      Finish(a, st.exit ? *st.exit : -1);
      return;
    }
    // Polling is acceptable here: only attempts inherited from a dead worker get watched.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Worker::Finish(std::shared_ptr<Attempt> a, int exit_code) {
  const TaskDispatch& d = a->d;
  bool killed, timed_out;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (a->finished) return;
    a->finished = true;
    if (a->timeout_timer) clock_.Cancel(a->timeout_timer);
    killed = a->kill_requested;
    timed_out = a->timed_out;
  }
  TaskEvent e = EventFor(*a, TaskEventType::kFinished);
  e.timed_out = timed_out;
  if (exit_code == -1) {
    e.state = TaskState::kNeedFaultTolerance;
  } else if (killed) {
    e.state = TaskState::kKill;
  } else if (timed_out) {
    e.state = TaskState::kFailure;
  } else if (exit_code == 0) {
    e.state = TaskState::kSuccess;
  } else if (exit_code == 137) {
    e.state = TaskState::kKill;
  } else {
    e.state = TaskState::kFailure;
  }
  if (e.state == TaskState::kSuccess && !d.dry_run) {
    auto sets = params::ParseSetValues(ReadFile(e.log_path));
    e.var_pool = params::BuildVarPool(d.local_params, sets);
  }
  if (!d.dry_run)
    AppendLog(e.log_path, std::string("task ") + d.task_name + " ended: exit code " +
                              std::to_string(exit_code) + ", state " + Name(e.state) +
                              (timed_out ? " (timeout)" : ""));
  if (!watch_dir_.empty()) ::unlink(WatchEntry(d).c_str());  // ended: off the watchdog's list
  {
    std::lock_guard<std::mutex> l(mu_);
    attempts_.erase({d.task_instance_id, d.attempt});
    arrival_of_.erase(a.get());
    --running_;
    PumpLocked();
  }
  Emit(*a, e);
}

Status Worker::Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) {
  std::shared_ptr<Attempt> a;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = attempts_.find({task_instance_id, attempt});
    if (it == attempts_.end()) return Status::Ok();  // finished or unknown: nothing to kill
    if (master_epoch < newest_epoch_[task_instance_id])
      return Aborted("kill from an older epoch");
    a = it->second;
    if (a->kill_requested) return Status::Ok();
    a->kill_requested = true;
    if (!a->started) {
      // Still queued: it never started. Count it as running so Finish balances the books.
      ++running_;
      std::thread([this, a] { Finish(a, 137); }).detach();
      return Status::Ok();
    }
    if (a->pid == 0) return Status::Ok();  // being spawned: Run kills it once it has the pid
  }
  std::thread([this, a] { launcher_.KillGroup(a->pid, opts_.kill_grace_ms); }).detach();
  return Status::Ok();
}

Status Worker::Reattach(const TaskDispatch& d) {
  std::string dir = ExecDir(d);
  WrapperState st = ReadState(dir);
  int pid = st.pid;
  if (!st.exit && pid <= 0) {
    std::unique_lock<std::mutex> l(mu_);
    if (!attempts_.count({d.task_instance_id, d.attempt})) {
      if (d.only_if_known)
        return NotFound("attempt " + std::to_string(d.attempt) + " of task instance " +
                        std::to_string(d.task_instance_id) + " never reached this worker");
      l.unlock();
      return Dispatch(d);  // it never started: run it now
    }
  }
  auto a = std::make_shared<Attempt>();
  a->d = d;
  a->pid = pid;
  a->started = true;  // by an earlier worker process
  {
    std::lock_guard<std::mutex> l(mu_);
    Key k{d.task_instance_id, d.attempt};
    auto known = attempts_.find(k);
    if (known != attempts_.end()) {
      // Still queued or running here: a new owner (a master that took the instance over)
      // gets its events from now on, starting with where the attempt stands.
      Attempt& old = *known->second;
      if (d.master_epoch > old.d.master_epoch) {
        old.d.master_epoch = d.master_epoch;
        old.d.master_host = d.master_host;
        newest_epoch_[d.task_instance_id] =
            std::max(newest_epoch_[d.task_instance_id], d.master_epoch);
        if (old.pid > 0 && !old.finished) {
          TaskEvent e = EventFor(old, TaskEventType::kRunning);
          e.time_ms = old.start_ms;
          e.master_epoch = old.d.master_epoch;
          e.master_host = old.d.master_host;
          sink_.OnTaskEvent(e);  // under mu_: no Finish can slip its event in before this one
        }
      }
      return Status::Ok();
    }
    newest_epoch_[d.task_instance_id] = std::max(newest_epoch_[d.task_instance_id], d.master_epoch);
    attempts_[k] = a;
    ++running_;
    std::optional<int> exit = st.exit;
    threads_.emplace_back([this, a, exit] {
      Emit(*a, EventFor(*a, TaskEventType::kRunning));
      if (exit) {
        Finish(a, *exit);
      } else {
        Watch(a);
      }
    });
  }
  return Status::Ok();
}

}  // namespace dsched
