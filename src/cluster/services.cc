#include "cluster/services.h"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "alert/alert_sender.h"
#include "alert/email_channel.h"
#include "alert/http_channel.h"
#include "api/api_server.h"
#include "cluster/metrics.h"
#include "cluster/routing.h"
#include "common/host_stats.h"
#include "logger/log_reader.h"
#include "master/engine.h"
#include "master/scheduler.h"
#include "registry/db_registry.h"
#include "registry/zk_registry.h"
#include "rpc/grpc/grpc_servers.h"
#include "storage/sql/sql_store.h"
#include "worker/process_launcher.h"
#include "worker/worker.h"

namespace dsched::cluster {

namespace fs = std::filesystem;

const char* ServiceName(Service s) {
  switch (s) {
    case Service::kMaster: return "master";
    case Service::kWorker: return "worker";
    case Service::kApi: return "api";
    case Service::kAlert: return "alert";
    case Service::kLogger: return "logger";
  }
  return "?";
}

Heartbeater::Heartbeater(std::function<void()> beat, int interval_ms) {
  thread_ = std::thread([this, beat = std::move(beat), interval_ms] {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, std::chrono::milliseconds(interval_ms), [&] { return stop_; })) {
      l.unlock();
      beat();
      l.lock();
    }
  });
}

Heartbeater::~Heartbeater() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

namespace {

// The host's figures, from /proc (zeros where it cannot be read).
struct HostLoad {
  double load1 = 0;         // 1-minute load average
  double memory_usage = 0;  // 0..1
  double available_gb = 0;
  int cores = 1;
};

HostLoad ReadHostLoad() {
  HostLoad h;
  h.load1 = ReadLoadAverage();
  const HostMemory m = ReadHostMemory();
  h.memory_usage = m.usage();
  h.available_gb = m.available_kb / 1024.0 / 1024.0;
  h.cores = std::max(1u, std::thread::hardware_concurrency());
  return h;
}

nlohmann::json HostFigures() {
  HostLoad h = ReadHostLoad();
  return {{"loadAverage", h.load1},
          {"cpuUsage", std::min(1.0, h.load1 / h.cores)},
          {"memoryUsage", h.memory_usage},
          {"availablePhysicalMemorySize", h.available_gb}};
}

std::string Heartbeat(const std::string& address, int64_t started_ms, int64_t now_ms,
                      const nlohmann::json& extra) {
  size_t colon = address.rfind(':');
  nlohmann::json j = HostFigures();
  j["host"] = address.substr(0, colon);
  j["port"] = std::stoi(address.substr(colon + 1));
  j["processId"] = static_cast<int>(getpid());
  j["startupTime"] = started_ms;
  j["reportTime"] = now_ms;
  j["serverStatus"] = "NORMAL";
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j.dump();
}

// The overload protection's verdict, read from /proc at most once a second (the master asks at
// every command scan). Thread-safe.
class OverloadCheck {
 public:
  OverloadCheck(double max_load, double reserved_gb)
      : max_load_(max_load), reserved_gb_(reserved_gb) {}
  bool Overloaded() {
    std::lock_guard<std::mutex> l(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!read_ || now - read_at_ > std::chrono::seconds(1)) {
      HostLoad h = ReadHostLoad();
      bool over = cluster::Overloaded(h.load1, h.available_gb, h.cores, max_load_, reserved_gb_);
      if (over != overloaded_ || !read_)
        spdlog::log(over ? spdlog::level::warn : spdlog::level::info,
                    "host load {:.2f} on {} cores, {:.2f} GB available: {}", h.load1, h.cores,
                    h.available_gb, over ? "overloaded, taking no new work" : "taking work");
      overloaded_ = over;
      read_at_ = now;
      read_ = true;
    }
    return overloaded_;
  }

 private:
  const double max_load_, reserved_gb_;
  std::mutex mu_;
  bool read_ = false, overloaded_ = false;
  std::chrono::steady_clock::time_point read_at_;
};

// The max cpu load average and reserved memory keys of `who` ("master" or "worker").
StatusOr<std::shared_ptr<OverloadCheck>> OverloadCheckFromConfig(const Config& cfg,
                                                                 const std::string& who) {
  double max_load = cfg.GetDouble(who + ".max-cpu-load-avg");
  double reserved = cfg.GetDouble(who + ".reserved-memory");
  if (reserved < 0) return InvalidArgument(who + ".reserved-memory must not be negative");
  return std::make_shared<OverloadCheck>(max_load, reserved);
}

NodeType NodeTypeOf(Service s) {
  return s == Service::kMaster   ? NodeType::kMaster
         : s == Service::kWorker ? NodeType::kWorker
                                 : NodeType::kAlertServer;
}

}  // namespace

StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(Service which, const Config& cfg,
                                                               std::function<void()> on_fatal) {
  std::unique_ptr<ServiceProcess> p(new ServiceProcess());
  p->which_ = which;
  p->on_fatal_ = std::move(on_fatal);
  p->clock_ = std::make_unique<SystemClock>();
  p->started_ms_ = p->clock_->NowMs();
  switch (which) {
    case Service::kMaster: DSCHED_RETURN_IF_ERROR(p->StartMaster(cfg)); break;
    case Service::kWorker: DSCHED_RETURN_IF_ERROR(p->StartWorker(cfg)); break;
    case Service::kApi: DSCHED_RETURN_IF_ERROR(p->StartApi(cfg)); break;
    case Service::kAlert: DSCHED_RETURN_IF_ERROR(p->StartAlert(cfg)); break;
    case Service::kLogger: DSCHED_RETURN_IF_ERROR(p->StartLogger(cfg)); break;
  }
  DSCHED_RETURN_IF_ERROR(p->StartMetrics(cfg));
  return p;
}

Status ServiceProcess::OpenStore(const Config& cfg) {
  DSCHED_ASSIGN_OR_RETURN(DbOptions db, DbOptionsFromConfig(cfg));
  if (db.type == DbType::kSqlite)
    return InvalidArgument(
        "db.type: the cluster services share one database server: set postgresql or mysql "
        "(DATABASE, SPRING_DATASOURCE_URL); the embedded SQLite file is for dsched standalone");
  DSCHED_ASSIGN_OR_RETURN(store_, SqlStore::Open(db, *clock_, SchemaMode::kRequireCurrent));
  return Status::Ok();
}

Status ServiceProcess::OpenRegistry(const Config& cfg, int64_t min_epoch) {
  DSCHED_ASSIGN_OR_RETURN(std::string type, RegistryTypeFromConfig(cfg));
  if (type == "zookeeper") {
    DSCHED_ASSIGN_OR_RETURN(ZkRegistryOptions zo, ZkRegistryOptionsFromConfig(cfg));
    zo.min_epoch = min_epoch;
    DSCHED_ASSIGN_OR_RETURN(registry_, ZkRegistry::Create(zo));
  } else if (type == "jdbc") {
    // The registry's tables are in the metadata database (a worker reaches it for this alone).
    DSCHED_ASSIGN_OR_RETURN(DbRegistryOptions ro, DbRegistryOptionsFromConfig(cfg));
    DSCHED_ASSIGN_OR_RETURN(ro.db, DbOptionsFromConfig(cfg));
    if (ro.db.type == DbType::kSqlite)
      return InvalidArgument("registry.type jdbc: the cluster services share one database "
                             "server: set db.type postgresql or mysql");
    ro.min_epoch = min_epoch;
    ro.client_name = std::string(ServiceName(which_)) + " pid " + std::to_string(getpid());
    DSCHED_ASSIGN_OR_RETURN(registry_, DbRegistry::Create(ro));
  } else {
    return InvalidArgument("registry.type: the cluster services find each other through "
                           "ZooKeeper (zookeeper) or the metadata database (jdbc); '" + type +
                           "' lives inside one process");
  }
  const char* name = ServiceName(which_);
  registry_->OnSessionState([this, name](SessionState s) {
    if (s == SessionState::kSuspended)
      spdlog::warn("{} {}: registry connection lost; waiting for it to come back", name,
                   address_);
    if (s == SessionState::kExpired && !fatal_.exchange(true)) {
      spdlog::error("{} {}: registry session expired: this {} is no longer registered and "
                    "its work may be taken over; ending this run of it",
                    name, address_, name);
      if (on_fatal_) on_fatal_();
    }
  });
  return Status::Ok();
}

Status ServiceProcess::StartMaster(const Config& cfg) {
  DSCHED_RETURN_IF_ERROR(OpenStore(cfg));
  DSCHED_ASSIGN_OR_RETURN(int64_t max_epoch, store_->MaxOwnerEpoch());
  DSCHED_RETURN_IF_ERROR(OpenRegistry(cfg, max_epoch));
  address_ = cfg.GetString("server.host") + ":" + std::to_string(cfg.GetInt("master.listen-port"));

  EngineOptions eo;
  eo.host = address_;
  eo.minute_ms = cfg.GetInt("engine.minute_ms");
  // Negative (the default): a wait that grows with the tasks under way (CommitWaitUs).
  eo.commit_delay_us = cfg.GetInt("master.commit_delay_us");
  eo.log_base = LogDirFromConfig(cfg);
  Registry* reg = registry_.get();
  // Recovery asks once per instance or task, the firer once per slot: the registry is read at
  // most every 500 ms. Unreadable: nullopt (the callers decide what "unknown" means).
  auto live = [reg](NodeType type) {
    struct Seen {
      std::mutex mu;
      std::vector<std::string> live;
      std::chrono::steady_clock::time_point read;
      bool known = false;
    };
    return [reg, type, seen = std::make_shared<Seen>()]() -> std::optional<std::vector<std::string>> {
      std::lock_guard<std::mutex> l(seen->mu);
      const auto now = std::chrono::steady_clock::now();
      if (!seen->known || now - seen->read > std::chrono::milliseconds(500)) {
        auto nodes = reg->TryList(type);
        if (!nodes.ok()) return std::nullopt;
        seen->live.clear();
        for (const auto& n : *nodes) seen->live.push_back(n.address);
        seen->read = now;
        seen->known = true;
      }
      return seen->live;
    };
  };
  auto alive = [&live](NodeType type) {
    return [list = live(type)](const std::string& host) {
      auto l = list();
      // Unknown: leave it alone, the watch catches a death.
      return !l || std::find(l->begin(), l->end(), host) != l->end();
    };
  };
  eo.master_alive = alive(NodeType::kMaster);
  DSCHED_ASSIGN_OR_RETURN(auto overload, OverloadCheckFromConfig(cfg, "master"));
  eo.accept_commands = [overload] { return !overload->Overloaded(); };
  overloaded_ = [overload] { return overload->Overloaded(); };
  eo.worker_alive = alive(NodeType::kWorker);
  router_ = std::make_unique<WorkerRouter>(*registry_);
  // The epoch comes from the registration; the engine must exist before the gRPC server that
  // hands it events, and both before the registration makes this master visible.
  auto hb = Heartbeat(address_, started_ms_, clock_->NowMs(), nlohmann::json::object());
  DSCHED_ASSIGN_OR_RETURN(eo.epoch, registry_->Register(NodeType::kMaster, address_, hb));
  epoch_ = eo.epoch;
  engine_ = std::make_unique<Engine>(eo, *clock_, *store_, *store_);
  engine_->SetWorker(router_.get());
  engine_->SetTaskGroupStore(store_.get());
  // A schedule route of the api says the online schedules changed: re-read them now (once the
  // scheduler runs; before that, its start reads them anyway).
  master_service_ = std::make_unique<MasterServiceImpl>(*engine_, *engine_, [this] {
    if (Scheduler* s = scheduler_ready_.load()) s->Refresh();
  });
  DSCHED_ASSIGN_OR_RETURN(grpc_, GrpcServer::Start(address_, {master_service_.get()}));
  registry_->OnNodeRemoved(NodeType::kMaster, [this](const NodeInfo& n) {
    if (n.address == address_) return;
    spdlog::warn("master {} left the registry: taking over its workflow instances", n.address);
    engine_->TakeOver(n.address);
  });
  registry_->OnNodeRemoved(NodeType::kWorker, [this](const NodeInfo& n) {
    // Its tasks killed themselves when its lease ran out (WorkerOptions::lease_file), within
    // the session timeout that has just passed; a second more for the last of them.
    std::string worker = n.address;
    clock_->RunAfter(1000, [this, worker] {
      if (stopping_) return;
      spdlog::warn("worker {} left the registry: failing over its tasks", worker);
      engine_->WorkerLost(worker, [this, worker](int64_t id, int attempt) {
        return router_->PlacedOn(id, attempt, worker);
      });
    });
  });
  DSCHED_RETURN_IF_ERROR(engine_->Start());
  // Every master keeps every schedule; each slot is fired first by one live master (by hash of
  // the schedule id) and by the others scheduler.backup_delay_ms later, where the fire ledger's
  // primary key lets only one command per (schedule, slot) through.
  SchedulerOptions so;
  so.refresh_ms = cfg.GetInt("scheduler.refresh_s") * 1000;
  so.backup_delay_ms = cfg.GetInt("scheduler.backup_delay_ms");
  if (so.backup_delay_ms < 0 || so.backup_delay_ms > 3600000)
    return InvalidArgument("scheduler.backup_delay_ms must be between 0 and 3600000");
  so.fires_first = [masters = live(NodeType::kMaster), me = address_](int64_t id) {
    auto l = masters();
    return !l || FirstFirer(id, me, *l);  // registry unreadable: fire everything at once
  };
  scheduler_ = std::make_unique<Scheduler>(so, *clock_, *store_, engine_.get());
  DSCHED_RETURN_IF_ERROR(scheduler_->Start());
  scheduler_ready_ = scheduler_.get();
  heartbeat_ = std::make_unique<Heartbeater>(
      [this, overload] {
        registry_->Heartbeat(
            NodeType::kMaster, address_,
            Heartbeat(address_, started_ms_, clock_->NowMs(),
                      {{"runningWorkflows", engine_->RunnerCount()},
                       {"serverStatus", overload->Overloaded() ? "BUSY" : "NORMAL"}}));
      },
      static_cast<int>(cfg.GetDurationMs("master.heartbeat-interval")));
  spdlog::info("dsched master {} (epoch {}), {}", address_, epoch_, Describe(store_->options()));
  return Status::Ok();
}

Status ServiceProcess::StartWorker(const Config& cfg) {
  // A worker never touches the metadata tables: tasks come over RPC, events go back (with
  // registry.type jdbc its registry lives in that database).
  DSCHED_RETURN_IF_ERROR(OpenRegistry(cfg, 0));
  address_ = cfg.GetString("server.host") + ":" + std::to_string(cfg.GetInt("worker.listen-port"));
  std::string data = cfg.GetString("data.dir");
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return InvalidArgument("data.dir: cannot create " + data + ": " + ec.message());
  data = fs::absolute(data).lexically_normal().string();
  WorkerOptions wo;
  wo.host = address_;
  wo.log_base = LogDirFromConfig(cfg);
  wo.exec_base =
      cfg.GetString("exec.basepath").empty() ? data + "/exec" : cfg.GetString("exec.basepath");
  wo.env_file = cfg.GetString("env.file");
  wo.exec_threads = static_cast<int>(cfg.GetInt("worker.exec_threads"));
  wo.kill_grace_ms = static_cast<int>(cfg.GetInt("engine.kill_grace_ms"));
  // The task lease (WorkerOptions::lease_file): half the session timeout the server granted,
  // so that a worker's tasks are dead (limit + 1 s of polling + 1 s TERM grace) by the time the
  // masters learn of its end (the whole session timeout) and run them elsewhere. Needs a
  // session of 4 s or more.
  wo.lease_limit_s = std::max(1, registry_->session_timeout_ms() / 2000);
  wo.lease_file = wo.exec_base + "/worker-" + address_.substr(address_.rfind(':') + 1) + ".lease";
  fs::create_directories(wo.exec_base, ec);
  auto renew_lease = [this, path = wo.lease_file] {
    // Only while the registry session is up: a worker cut off from the registry lets its
    // tasks die rather than have them run twice.
    if (registry_->session_state() != SessionState::kConnected) return;
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << clock_->NowMs() / 1000 << "\n";
    }
    std::error_code e;
    fs::rename(tmp, path, e);
  };
  renew_lease();
  lease_ = std::make_unique<Heartbeater>(renew_lease, 1000);
  EventSenderOptions senders;
  // Called by the senders only, and they start with the first event, after worker_ is set.
  senders.tasks_under_way = [this] { return worker_->running(); };
  events_ = std::make_unique<EventRouter>(senders);
  launcher_ = std::make_unique<PosixProcessLauncher>();
  worker_ = std::make_unique<Worker>(wo, *clock_, *launcher_, *events_);
  fence_ = std::make_unique<LiveMasterFence>(*registry_, *worker_);
  worker_service_ = std::make_unique<WorkerServiceImpl>(*fence_);
  DSCHED_ASSIGN_OR_RETURN(grpc_, GrpcServer::Start(address_, {worker_service_.get()}));
  DSCHED_ASSIGN_OR_RETURN(auto overload, OverloadCheckFromConfig(cfg, "worker"));
  overloaded_ = [overload] { return overload->Overloaded(); };
  const int64_t weight = cfg.GetInt("worker.host-weight");
  if (weight < 1 || weight > 10000) return InvalidArgument("worker.host-weight must be 1..10000");
  // BUSY (no dispatches) while the host is overloaded or every exec thread has a task.
  auto beat = [this, overload, weight, group = cfg.GetString("worker.group"),
               threads = wo.exec_threads] {
    const int busy_threads = worker_->running() + worker_->queued();
    const bool busy = overload->Overloaded() || busy_threads >= threads;
    return Heartbeat(address_, started_ms_, clock_->NowMs(),
                     {{"workerGroups", nlohmann::json::array({group})},
                      {"workerHostWeight", weight},
                      {"workerExecThreads", threads},
                      {"threadPoolUsage", static_cast<double>(busy_threads) / threads},
                      {"serverStatus", busy ? "BUSY" : "NORMAL"}});
  };
  DSCHED_ASSIGN_OR_RETURN(epoch_, registry_->Register(NodeType::kWorker, address_, beat()));
  heartbeat_ = std::make_unique<Heartbeater>(
      [this, beat] { registry_->Heartbeat(NodeType::kWorker, address_, beat()); },
      static_cast<int>(cfg.GetDurationMs("worker.heartbeat-interval")));
  spdlog::info("dsched worker {} (group {}), logs in {}", address_, cfg.GetString("worker.group"),
               wo.log_base);
  return Status::Ok();
}

Status ServiceProcess::StartApi(const Config& cfg) {
  DSCHED_RETURN_IF_ERROR(OpenStore(cfg));
  DSCHED_RETURN_IF_ERROR(api::EnsureAdminUser(*store_, *clock_));
  DSCHED_RETURN_IF_ERROR(OpenRegistry(cfg, 0));
  codes_ = std::make_unique<CodeGenerator>(*clock_);
  control_ = std::make_unique<ClusterMasterControl>(*registry_, *store_);
  api::ApiDeps deps;
  deps.defs = store_.get();
  deps.instances = store_.get();
  deps.users = store_.get();
  deps.master = control_.get();
  deps.clock = clock_.get();
  deps.codes = codes_.get();
  deps.admin = store_.get();
  deps.schedules = store_.get();
  // The masters re-read the online schedules at once, not at their next scheduler.refresh_s.
  deps.schedules_changed = [c = control_.get()] { c->SchedulesChanged(); };
  deps.task_groups = store_.get();
  // A task's log is on the host it ran on: read through that host's logger.
  DSCHED_ASSIGN_OR_RETURN(int logger_port, PortFromConfig(cfg, "logger.listen-port", false));
  logs_ = std::make_unique<LoggerRouter>(logger_port);
  deps.logs = logs_.get();
  deps.db_type = store_->options().type == DbType::kPostgres ? "POSTGRESQL" : "MYSQL";
  deps.data_dir = cfg.GetString("data.dir");
  Registry* reg = registry_.get();
  deps.list_servers = [reg] {
    std::vector<api::LocalServer> out;
    const std::pair<NodeType, const char*> kinds[] = {{NodeType::kMaster, "MASTER"},
                                                      {NodeType::kWorker, "WORKER"},
                                                      {NodeType::kAlertServer, "ALERT_SERVER"}};
    for (const auto& [type, name] : kinds)
      for (const auto& n : reg->List(type)) {
        size_t colon = n.address.rfind(':');
        auto j = nlohmann::json::parse(n.heartbeat, nullptr, false);
        int64_t started = j.is_object() ? j.value("startupTime", int64_t{0}) : 0;
        out.push_back({name, n.address.substr(0, colon), std::stoi(n.address.substr(colon + 1)),
                       started, n.heartbeat});
      }
    return out;
  };
  DSCHED_ASSIGN_OR_RETURN(api_, api::ApiServer::Create(cfg, deps));
  address_ = cfg.GetString("api.host") + ":" + std::to_string(api_->port());
  spdlog::info("dsched api on http://{}/dolphinscheduler, {}", address_,
               Describe(store_->options()));
  return Status::Ok();
}

Status ServiceProcess::StartAlert(const Config& cfg) {
  DSCHED_RETURN_IF_ERROR(OpenStore(cfg));
  DSCHED_RETURN_IF_ERROR(OpenRegistry(cfg, 0));
  address_ = cfg.GetString("server.host") + ":" + std::to_string(cfg.GetInt("alert.listen-port"));
  email_channel_ = std::make_unique<alert::EmailChannel>();
  http_channel_ = std::make_unique<alert::HttpChannel>();
  alert_sender_ = std::make_unique<alert::AlertSender>(
      alert::AlertSenderOptions{}, *clock_, *store_, *store_,
      std::map<std::string, alert::AlertChannel*>{{"Email", email_channel_.get()},
                                                  {"Http", http_channel_.get()}});
  DSCHED_ASSIGN_OR_RETURN(epoch_, registry_->Register(
                                      NodeType::kAlertServer, address_,
                                      Heartbeat(address_, started_ms_, clock_->NowMs(), {})));
  heartbeat_ = std::make_unique<Heartbeater>(
      [this] {
        registry_->Heartbeat(NodeType::kAlertServer, address_,
                             Heartbeat(address_, started_ms_, clock_->NowMs(), {}));
      },
      10000);
  // One alert server sends at a time (the registry lock "alert-sender"), so two never send
  // the same alert; the others wait to take over when it goes away.
  alert_lock_thread_ = std::thread([this] { AlertLockLoop(); });
  spdlog::info("dsched alert server {}, {}", address_, Describe(store_->options()));
  return Status::Ok();
}

Status ServiceProcess::StartLogger(const Config& cfg) {
  // Like DolphinScheduler's logger it registers nowhere: the API finds it on the task's host at
  // the one logger.listen-port of the cluster. It needs neither database nor registry.
  DSCHED_ASSIGN_OR_RETURN(int port, PortFromConfig(cfg, "logger.listen-port", true));
  const std::string root = LogDirFromConfig(cfg);
  logs_ = std::make_unique<LocalLogReader>(root);
  logger_service_ = std::make_unique<LoggerServiceImpl>(*logs_);
  DSCHED_ASSIGN_OR_RETURN(
      grpc_, GrpcServer::Start(cfg.GetString("server.host") + ":" + std::to_string(port),
                               {logger_service_.get()}));
  address_ = cfg.GetString("server.host") + ":" + std::to_string(grpc_->port());
  spdlog::info("dsched logger {}, serving the task logs under {}", address_, root);
  return Status::Ok();
}

void ServiceProcess::AlertLockLoop() {
  while (!stopping_) {
    auto lock = registry_->Lock("alert-sender", std::chrono::milliseconds(1000));
    if (!lock.ok()) continue;
    spdlog::info("alert server {} holds the sender lock: sending alerts", address_);
    alert_sender_->Start();
    sending_ = true;
    // Held until this process stops; a lost session ends the process (OpenRegistry).
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sending_ = false;
    alert_sender_->Stop();
    (*lock)->Release();
  }
}

Status ServiceProcess::StartMetrics(const Config& cfg) {
  const std::string key = std::string(ServiceName(which_)) + ".metrics-port";
  std::vector<Metric> m;
  const double started_s = started_ms_ / 1000.0;
  m.push_back({"dsched_process_start_time_seconds", "when this service started (unix time)",
               false, [started_s] { return started_s; }});
  m.push_back({"dsched_host_load_average", "1-minute load average of the host", false,
               [] { return ReadHostLoad().load1; }});
  m.push_back({"dsched_host_memory_usage", "share of the host's memory in use (0..1)", false,
               [] { return ReadHostLoad().memory_usage; }});
  if (registry_) {
    Registry* reg = registry_.get();
    m.push_back({"dsched_registry_session_state",
                 "registry session: 0 connected, 1 suspended, 2 expired", false,
                 [reg] { return static_cast<double>(reg->session_state()); }});
  }
  if (overloaded_)
    m.push_back({std::string("dsched_") + ServiceName(which_) + "_overloaded",
                 "1 while the overload protection holds back new work", false,
                 [f = overloaded_] { return f() ? 1.0 : 0.0; }});
  switch (which_) {
    case Service::kMaster:
      m.push_back({"dsched_master_running_workflows", "workflow instances this master runs",
                   false, [this] { return static_cast<double>(engine_->RunnerCount()); }});
      m.push_back({"dsched_master_dispatch_queue", "task dispatches waiting for a worker", false,
                   [this] { return static_cast<double>(router_->queued()); }});
      m.push_back({"dsched_master_dispatched_total", "task dispatches a worker accepted", true,
                   [this] { return static_cast<double>(router_->dispatched()); }});
      break;
    case Service::kWorker:
      m.push_back({"dsched_worker_running_tasks", "task attempts running", false,
                   [this] { return static_cast<double>(worker_->running()); }});
      m.push_back({"dsched_worker_queued_tasks", "task attempts waiting for an exec thread",
                   false, [this] { return static_cast<double>(worker_->queued()); }});
      break;
    case Service::kAlert:
      m.push_back({"dsched_alert_sender", "1 while this alert server holds the sender lock",
                   false, [this] { return sending_ ? 1.0 : 0.0; }});
      break;
    case Service::kApi:
    case Service::kLogger:
      break;
  }
  DSCHED_ASSIGN_OR_RETURN(int port, PortFromConfig(cfg, key, false));
  DSCHED_ASSIGN_OR_RETURN(metrics_, MetricsEndpoint::Start(port, key, std::move(m)));
  return Status::Ok();
}

ServiceProcess::~ServiceProcess() {
  metrics_.reset();
  stopping_ = true;
  heartbeat_.reset();
  lease_.reset();
  if (alert_lock_thread_.joinable()) alert_lock_thread_.join();
  if (api_) api_->Stop();
  scheduler_ready_ = nullptr;
  if (scheduler_) scheduler_->Stop();
  // The engine stops before the registration goes: the other masters take over what it leaves
  // unfinished only once it writes and dispatches no more (the epoch fence would refuse its
  // writes anyway, but not a dispatch already sent).
  if (engine_) engine_->Stop();
  if (router_) router_->Stop();
  if (registry_ && !address_.empty() && which_ != Service::kApi)
    registry_->Unregister(NodeTypeOf(which_), address_);
  if (grpc_) grpc_->Shutdown();
  if (worker_) worker_->Shutdown();
  if (events_) events_->Stop();
}

}  // namespace dsched::cluster
