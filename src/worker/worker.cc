#include "worker/worker.h"

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

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

Worker::Worker(WorkerOptions opts, Clock& clock, ProcessLauncher& launcher, TaskEventSink& sink)
    : opts_(std::move(opts)), clock_(clock), launcher_(launcher), sink_(sink) {}

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
  w << "#!/bin/bash\n"
    << "echo $$ > " << Quote(state) << "\n";
  w << "trap 'echo \"exit $?\" >> " << Quote(state) << "' EXIT\n";
  if (!opts_.lease_file.empty()) {
    // The watchdog (WorkerOptions::lease_file) shares the task's process group; it ignores the
    // TERM it sends the group, then KILLs the rest and itself. Started from a subshell that
    // ends at once, so it is no job of the task's shell (a `wait` in the task does not wait
    // for it); it leaves by itself within a second of the task's end. Builtins but for sleep.
    const std::string limit = std::to_string(opts_.lease_limit_s);
    w << "dsched_task=$$\n"
      << "( ( trap '' TERM\n"
      << "    while sleep 1; do\n"
      << "      kill -0 $dsched_task 2>/dev/null || exit 0\n"
      << "      read -r t < " << Quote(opts_.lease_file) << " || t=0\n"
      << "      printf -v now '%(%s)T' -1\n"
      << "      if [ $((now - ${t:-0})) -gt " << limit << " ]; then\n"
      << "        echo \"dsched: no word from the worker for over " << limit
      << " s (its lease ran out): killing the task\"\n"
      << "        kill -TERM 0; sleep 1; kill -KILL 0\n"
      << "      fi\n"
      << "    done ) & )\n";
  }
  w << "cd " << Quote(dir) << "\n";
  if (!opts_.env_file.empty() && fs::exists(opts_.env_file))
    w << ". " << Quote(fs::absolute(opts_.env_file).string()) << "\n";
  w << runner << "\n";
  if (!WriteFile(wrapper, w.str(), 0755)) return Internal("cannot write task wrapper " + wrapper);
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
  int pid;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (a->kill_requested) {
      pid = -1;
    } else {
      auto spawned = launcher_.Spawn({*argv, dir, log});
      if (!spawned.ok()) {
        pid = 0;
        AppendLog(log, spawned.status().message());
      } else {
        pid = *spawned;
        a->pid = pid;
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
  }
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
    if (a->pid == 0) {
      // Still queued: it never started. Count it as running so Finish balances the books.
      ++running_;
      std::thread([this, a] { Finish(a, 137); }).detach();
      return Status::Ok();
    }
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
