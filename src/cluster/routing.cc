#include "cluster/routing.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "model/states.h"

namespace dsched::cluster {

namespace {
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

WorkerView ParseWorkerHeartbeat(const NodeInfo& n) {
  WorkerView w;
  w.address = n.address;
  auto j = nlohmann::json::parse(n.heartbeat, nullptr, false);
  if (!j.is_object()) return w;
  if (j.contains("workerGroups") && j["workerGroups"].is_array())
    for (const auto& g : j["workerGroups"])
      if (g.is_string()) w.groups.push_back(g.get<std::string>());
  if (j.contains("serverStatus") && j["serverStatus"].is_string())
    w.normal = j["serverStatus"].get<std::string>() != "BUSY";
  // Missing or odd figures read as idle: a worker is never starved for a field it lacks.
  auto number = [&j](const char* key, double fallback) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
  };
  w.cpu = std::clamp(number("cpuUsage", 0), 0.0, 1.0);
  w.memory = std::clamp(number("memoryUsage", 0), 0.0, 1.0);
  w.thread_pool = std::max(0.0, number("threadPoolUsage", 0));
  w.exec_threads = std::max(1, static_cast<int>(number("workerExecThreads", 100)));
  w.weight = std::clamp(static_cast<int>(number("workerHostWeight", 100)), 1, 10000);
  w.report_time = static_cast<int64_t>(number("reportTime", 0));
  return w;
}

std::vector<std::string> ByLoad(const std::vector<std::string>& eligible,
                                const std::vector<WorkerView>& workers,
                                const std::map<std::string, int>& sent_since_report) {
  std::map<std::string, double> score;
  for (const auto& w : workers) {
    auto sent = sent_since_report.find(w.address);
    double pool = w.thread_pool + (sent == sent_since_report.end() ? 0 : sent->second) /
                                      static_cast<double>(w.exec_threads);
    score[w.address] = (0.3 * w.memory + 0.3 * w.cpu + 0.4 * pool) * 100.0 / w.weight;
  }
  double lowest = std::numeric_limits<double>::infinity();
  for (const std::string& a : eligible) lowest = std::min(lowest, score[a]);
  // The tied all rank as the lowest, so the stable sort keeps their given order.
  auto rank = [&](const std::string& a) {
    return score[a] <= lowest + kLoadTie ? lowest : score[a];
  };
  std::vector<std::string> out = eligible;
  std::stable_sort(out.begin(), out.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return out;
}

bool Overloaded(double load_average, double available_memory_gb, int cores, double max_load,
                double reserved_gb) {
  const double limit = max_load > 0 ? max_load : 2.0 * std::max(1, cores);
  return load_average > limit || available_memory_gb < reserved_gb;
}

std::vector<std::string> EligibleWorkers(const std::vector<WorkerView>& workers,
                                         const std::string& group) {
  const std::string want = group.empty() ? "default" : group;
  std::vector<std::string> out;
  for (const auto& w : workers)
    if (w.normal && std::find(w.groups.begin(), w.groups.end(), want) != w.groups.end())
      out.push_back(w.address);
  std::sort(out.begin(), out.end());
  return out;
}

// ------------------------------------------------------------------ WorkerRouter

WorkerRouter::WorkerRouter(Registry& registry, WorkerRouterOptions opts)
    : registry_(registry), opts_(opts) {
  sender_ = std::thread([this] { Loop(); });
}

WorkerRouter::~WorkerRouter() { Stop(); }

void WorkerRouter::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
}

size_t WorkerRouter::queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size() + in_flight_;
}

bool WorkerRouter::PlacedOn(int64_t task_instance_id, int attempt,
                            const std::string& worker) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = placed_.find({task_instance_id, attempt});
  return it != placed_.end() && it->second == worker;
}

Status WorkerRouter::Dispatch(const TaskDispatch& d) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back({d, false});
  }
  cv_.notify_one();
  return Status::Ok();
}

Status WorkerRouter::Reattach(const TaskDispatch& d) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back({d, true});
  }
  cv_.notify_one();
  return Status::Ok();
}

Status WorkerRouter::Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) {
  std::string placed;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = placed_.find({task_instance_id, attempt});
    if (it != placed_.end()) placed = it->second;
  }
  if (!placed.empty()) return Client(placed).Kill(task_instance_id, attempt, master_epoch);
  // Not placed by this router (dispatched before a takeover, or still queued here): every live
  // worker is told; killing an attempt a worker does not know is a no-op there.
  Status first = Status::Ok();
  for (const auto& w : Workers(/*refresh=*/true)) {
    Status s = Client(w.address).Kill(task_instance_id, attempt, master_epoch);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

std::vector<WorkerView> WorkerRouter::Workers(bool refresh) {
  const int64_t now = SteadyMs();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!refresh && workers_read_ms_ >= 0 && now - workers_read_ms_ < opts_.registry_refresh_ms)
      return workers_;
  }
  auto nodes = registry_.TryList(NodeType::kWorker);
  std::lock_guard<std::mutex> l(mu_);
  if (!nodes.ok()) {
    spdlog::warn("reading the live workers: {}", nodes.status().message());
    return workers_;  // the last list seen; a dispatch to a gone worker fails and is retried
  }
  std::map<std::string, int64_t> reported;
  for (const auto& w : workers_) reported[w.address] = w.report_time;
  workers_.clear();
  for (const auto& n : *nodes) {
    workers_.push_back(ParseWorkerHeartbeat(n));
    // A new heartbeat counts the tasks sent before it in its thread-pool use.
    if (reported[workers_.back().address] != workers_.back().report_time)
      sent_since_report_.erase(workers_.back().address);
  }
  workers_read_ms_ = now;
  return workers_;
}

GrpcWorkerClient& WorkerRouter::Client(const std::string& address) {
  std::lock_guard<std::mutex> l(mu_);
  auto& c = clients_[address];
  if (!c) c = std::make_unique<GrpcWorkerClient>(address, opts_.rpc);
  return *c;
}

WorkerRouter::Reattached WorkerRouter::DeliverReattach(const TaskDispatch& d) {
  if (!d.worker_host.empty()) {
    // The attempt ran on that worker: only it can find the process. A worker that has left
    // the registry is failed over by the engine (Engine::WorkerLost): nothing to do here.
    bool alive = false;
    for (const auto& w : Workers(/*refresh=*/true)) alive = alive || w.address == d.worker_host;
    if (!alive) {
      spdlog::warn("re-attach of task instance {}: worker {} is gone", d.task_instance_id,
                   d.worker_host);
      return Reattached::kDone;
    }
    Status s = Client(d.worker_host).Reattach(d);
    if (s.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      placed_[{d.task_instance_id, d.attempt}] = d.worker_host;
      return Reattached::kDone;
    }
    if (s.code() != StatusCode::kUnavailable) {
      spdlog::error("re-attach of task instance {} on {} refused: {}", d.task_instance_id,
                    d.worker_host, s.message());
      return Reattached::kDone;
    }
    return Reattached::kRetry;
  }
  // Never reported as started (the event may have gone to the dead master): a worker may
  // hold it, queued or running. Each live worker is asked to adopt it only if it has it;
  // only when none has is it dispatched afresh.
  TaskDispatch probe = d;
  probe.only_if_known = true;
  for (const auto& w : Workers(/*refresh=*/true)) {
    Status s = Client(w.address).Reattach(probe);
    if (s.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      placed_[{d.task_instance_id, d.attempt}] = w.address;
      return Reattached::kDone;
    }
    if (s.code() != StatusCode::kNotFound) return Reattached::kRetry;  // ask again later
  }
  return Reattached::kDispatch;
}

std::vector<WorkerRouter::Job> WorkerRouter::DeliverAll(std::vector<Job> jobs) {
  std::vector<Job> left, fresh;
  for (Job& job : jobs) {
    Reattached r = job.reattach ? DeliverReattach(job.d) : Reattached::kDispatch;
    if (r == Reattached::kRetry) left.push_back(std::move(job));
    if (r == Reattached::kDispatch) fresh.push_back(std::move(job));
  }
  if (fresh.empty()) return left;
  const auto workers = Workers(/*refresh=*/false);
  std::map<std::string, int> sent;  // this round's placements count in the load as they are made
  {
    std::lock_guard<std::mutex> l(mu_);
    sent = sent_since_report_;
  }
  std::vector<std::set<std::string>> refused_by(fresh.size());
  std::vector<bool> done(fresh.size(), false);
  // Each pass places every open job on the least loaded worker of its group that has not
  // refused it, and sends each worker its share in one call; a job a worker refused (or could
  // not be reached for) tries the next worker in the following pass, until none is left.
  for (;;) {
    std::map<std::string, std::vector<size_t>> share;
    for (size_t i = 0; i < fresh.size(); ++i) {
      if (done[i]) continue;
      std::vector<std::string> eligible = EligibleWorkers(workers, fresh[i].d.worker_group);
      // Rotated first, so that equally loaded workers take turns.
      if (!eligible.empty())
        std::rotate(eligible.begin(), eligible.begin() + (next_++ % eligible.size()),
                    eligible.end());
      for (const std::string& address : ByLoad(eligible, workers, sent)) {
        if (refused_by[i].count(address)) continue;
        share[address].push_back(i);
        ++sent[address];
        break;
      }
    }
    if (share.empty()) break;
    for (const auto& [address, idx] : share) {
      std::vector<TaskDispatch> ds;
      ds.reserve(idx.size());
      for (size_t i : idx) ds.push_back(fresh[i].d);
      const std::vector<Status> replies = Client(address).DispatchBatch(ds);
      size_t failed = 0;
      for (size_t k = 0; k < idx.size(); ++k) {
        const size_t i = idx[k];
        const Status& s = replies[k];
        const TaskDispatch& d = fresh[i].d;
        if (s.ok()) {
          ++dispatched_;
          done[i] = true;
          std::lock_guard<std::mutex> l(mu_);
          ++sent_since_report_[address];
          placed_[{d.task_instance_id, d.attempt}] = address;
          // Bounded: an attempt's entry is only a shortcut for Kill (which can also ask all).
          if (placed_.size() > 200000) placed_.erase(placed_.begin());
        } else if (s.code() == StatusCode::kInvalidArgument) {
          spdlog::error("dispatch of task instance {} refused by {}: {}", d.task_instance_id,
                        address, s.message());
          done[i] = true;
        } else {
          refused_by[i].insert(address);
          --sent[address];
          // One line per worker and pass, not per task: a worker that is down refuses all.
          if (failed++ == 0)
            spdlog::warn("dispatch of task instance {}{} to {}: {}", d.task_instance_id,
                         idx.size() > 1 ? " (and others of the same call)" : "", address,
                         s.message());
        }
      }
    }
  }
  for (size_t i = 0; i < fresh.size(); ++i)
    if (!done[i]) left.push_back(std::move(fresh[i]));
  return left;
}

void WorkerRouter::Loop() {
  bool waiting_logged = false;
  for (;;) {
    std::vector<Job> round;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      // What is queued goes out together: a worker's share of it is one call.
      const size_t n = std::min(queue_.size(), kMaxRound);
      round.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      in_flight_ = n;
    }
    const size_t taken = round.size();
    std::vector<Job> left = DeliverAll(std::move(round));
    if (left.empty()) {
      waiting_logged = false;
    } else if (!waiting_logged) {
      spdlog::warn("no worker of group '{}' took task instance {}: waiting for one",
                   left.front().d.worker_group, left.front().d.task_instance_id);
      waiting_logged = true;
    }
    const size_t kept = left.size();
    {
      std::lock_guard<std::mutex> l(mu_);
      // To the back: a job that cannot be delivered now (no worker of its group) must not hold
      // up those behind it (another group's, or a re-attach).
      for (Job& job : left) queue_.push_back(std::move(job));
      in_flight_ = 0;
    }
    if (kept < taken) continue;
    // Nothing went out: pause before trying again, unless new work arrives meanwhile.
    Workers(/*refresh=*/true);
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(opts_.retry_ms),
                 [&] { return stop_ || queue_.size() > kept; });
    if (stop_) return;
  }
}

// ------------------------------------------------------------------ EventRouter

EventRouter::~EventRouter() { Stop(); }

void EventRouter::Stop() {
  std::map<std::string, std::unique_ptr<GrpcTaskEventSink>> sinks;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    sinks.swap(sinks_);
  }
  for (auto& [host, s] : sinks) s->Stop();
}

void EventRouter::OnTaskEvent(const TaskEvent& e) {
  if (e.master_host.empty()) {
    spdlog::error("event of task instance {} names no master: dropped", e.task_instance_id);
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (stopped_) return;
  auto& s = sinks_[e.master_host];
  if (!s) s = std::make_unique<GrpcTaskEventSink>(e.master_host, opts_);
  s->OnTaskEvent(e);
}

// ------------------------------------------------------------------ LiveMasterFence

LiveMasterFence::LiveMasterFence(Registry& registry, WorkerClient& local)
    : registry_(registry), local_(local) {
  registry_.OnNodeRemoved(NodeType::kMaster, [this](const NodeInfo& gone) {
    std::lock_guard<std::mutex> l(mu_);
    masters_.erase(std::remove_if(masters_.begin(), masters_.end(),
                                  [&](const NodeInfo& m) {
                                    return m.address == gone.address && m.epoch == gone.epoch;
                                  }),
                   masters_.end());
  });
}

Status LiveMasterFence::Check(const std::string& host, int64_t epoch) {
  auto known = [&](const std::vector<NodeInfo>& masters) {
    for (const auto& m : masters)
      if (m.epoch == epoch && (host.empty() || m.address == host)) return true;
    return false;
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    if (known(masters_)) return Status::Ok();
  }
  auto masters = registry_.TryList(NodeType::kMaster);
  if (!masters.ok()) return masters.status();  // Unavailable: the master tries again
  std::lock_guard<std::mutex> l(mu_);
  masters_ = *masters;
  if (known(masters_)) return Status::Ok();
  return FailedPrecondition("master " + (host.empty() ? std::string("of epoch ") : host + " epoch ") +
                            std::to_string(epoch) +
                            " is not registered: its instances belong to another master now");
}

Status LiveMasterFence::Dispatch(const TaskDispatch& d) {
  DSCHED_RETURN_IF_ERROR(Check(d.master_host, d.master_epoch));
  return local_.Dispatch(d);
}

Status LiveMasterFence::Reattach(const TaskDispatch& d) {
  DSCHED_RETURN_IF_ERROR(Check(d.master_host, d.master_epoch));
  return local_.Reattach(d);
}

Status LiveMasterFence::Kill(int64_t task_instance_id, int attempt, int64_t master_epoch) {
  DSCHED_RETURN_IF_ERROR(Check("", master_epoch));
  return local_.Kill(task_instance_id, attempt, master_epoch);
}

// ------------------------------------------------------------------ ClusterMasterControl

ClusterMasterControl::ClusterMasterControl(Registry& registry, InstanceStore& instances,
                                           RpcCallOptions opts)
    : registry_(registry), instances_(instances), opts_(opts) {}

GrpcMasterControl& ClusterMasterControl::Client(const std::string& address) {
  std::lock_guard<std::mutex> l(mu_);
  auto& c = clients_[address];
  if (!c) c = std::make_unique<GrpcMasterControl>(address, opts_);
  return *c;
}

void ClusterMasterControl::WakeCommands() {
  // Every master scans the command table at least once a second anyway; this only saves the
  // wait. The claim (a fenced delete of the command row) decides which master runs it.
  for (const auto& m : registry_.List(NodeType::kMaster)) Client(m.address).WakeCommands();
}

void ClusterMasterControl::SchedulesChanged() {
  for (const auto& m : registry_.List(NodeType::kMaster)) Client(m.address).SchedulesChanged();
}

StatusOr<GrpcMasterControl*> ClusterMasterControl::OwnerOf(int64_t workflow_instance_id) {
  DSCHED_ASSIGN_OR_RETURN(WorkflowInstance wi, instances_.GetWorkflowInstance(workflow_instance_id));
  DSCHED_ASSIGN_OR_RETURN(auto masters, registry_.TryList(NodeType::kMaster));
  for (const auto& m : masters)
    if (m.address == wi.host) return &Client(m.address);
  // A finished instance has no live owner to ask: any master loads it for a rerun or a forced
  // success (taking it under its own epoch).
  if (IsFinal(wi.state) && !masters.empty()) return &Client(masters.front().address);
  return Unavailable("master " + wi.host + " that runs workflow instance " +
                     std::to_string(workflow_instance_id) +
                     " is not alive; another master takes it over shortly, try again then");
}

Status ClusterMasterControl::Execute(int64_t workflow_instance_id, ExecuteType type) {
  DSCHED_ASSIGN_OR_RETURN(GrpcMasterControl * m, OwnerOf(workflow_instance_id));
  return m->Execute(workflow_instance_id, type);
}

Status ClusterMasterControl::ForceTaskSuccess(int64_t task_instance_id) {
  DSCHED_ASSIGN_OR_RETURN(TaskInstance ti, instances_.GetTaskInstance(task_instance_id));
  DSCHED_ASSIGN_OR_RETURN(GrpcMasterControl * m, OwnerOf(ti.workflow_instance_id));
  return m->ForceTaskSuccess(task_instance_id);
}

Status ClusterMasterControl::ExecuteTask(int64_t workflow_instance_id,
                                         const std::vector<int64_t>& start_nodes,
                                         TaskDependType mode) {
  DSCHED_ASSIGN_OR_RETURN(GrpcMasterControl * m, OwnerOf(workflow_instance_id));
  return m->ExecuteTask(workflow_instance_id, start_nodes, mode);
}

// ---- LoggerRouter -------------------------------------------------------------------------

StatusOr<std::string> LoggerAddress(const std::string& task_host, int logger_port) {
  if (task_host.empty()) return InvalidArgument("the task instance has no host");
  // The port is what follows the last ':' unless that ':' is inside an IPv6 literal's brackets.
  const size_t colon = task_host.rfind(':');
  const size_t bracket = task_host.rfind(']');
  const bool has_port =
      colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  return (has_port ? task_host.substr(0, colon) : task_host) + ":" + std::to_string(logger_port);
}

LoggerRouter::LoggerRouter(int logger_port, RpcCallOptions opts)
    : logger_port_(logger_port), opts_(opts) {}

StatusOr<GrpcLogReader*> LoggerRouter::Client(const std::string& host) {
  auto address = LoggerAddress(host, logger_port_);
  if (!address.ok()) return NotFound("no log yet: " + address.status().message());
  std::lock_guard<std::mutex> l(mu_);
  auto& c = clients_[*address];
  if (!c) c = std::make_unique<GrpcLogReader>(*address, opts_);
  return c.get();
}

StatusOr<LogPage> LoggerRouter::RollView(const std::string& host, const std::string& path,
                                         int64_t skip, int64_t limit) {
  DSCHED_ASSIGN_OR_RETURN(GrpcLogReader * c, Client(host));
  return c->RollView(host, path, skip, limit);
}

StatusOr<LogPage> LoggerRouter::View(const std::string& host, const std::string& path) {
  DSCHED_ASSIGN_OR_RETURN(GrpcLogReader * c, Client(host));
  return c->View(host, path);
}

StatusOr<std::string> LoggerRouter::Bytes(const std::string& host, const std::string& path) {
  DSCHED_ASSIGN_OR_RETURN(GrpcLogReader * c, Client(host));
  return c->Bytes(host, path);
}

}  // namespace dsched::cluster
