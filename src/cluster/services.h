// The cluster services as separate processes: `dsched master|worker|logger|api|alert`, the seed
// document's MasterServer, WorkerServer, LoggerServer, ApiApplicationServer and AlertServer.
// Each is a composition root like Standalone, wired through the registry (ZooKeeper, or the
// metadata database with registry.type jdbc) and gRPC
// (cluster/routing.h) instead of in-process calls. They share one metadata database server
// (PostgreSQL or MySQL; the embedded SQLite file is standalone's); the logger needs none.
//
// Each but the logger registers under the registry
// (nodes/master|worker|alert-server/<server.host:port>) with a JSON heartbeat refreshed every few
// seconds. When its registry session expires the service has lost its registration and, for a
// master, its instances to a takeover: it says so and asks the process to stop
// (DolphinScheduler's disconnect strategy "stop"); epochs fence any write it still attempts.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"

namespace dsched {

class SqlStore;
class Engine;
class Worker;
class Scheduler;
class PosixProcessLauncher;
class Registry;
class GrpcServer;
class WorkerServiceImpl;
class MasterServiceImpl;
class LoggerServiceImpl;
class LogReader;
namespace api {
class ApiServer;
}
namespace alert {
class AlertChannel;
class AlertSender;
}

namespace cluster {

class WorkerRouter;
class EventRouter;
class ClusterMasterControl;
class LiveMasterFence;
class MetricsEndpoint;

enum class Service { kMaster, kWorker, kApi, kAlert, kLogger };
const char* ServiceName(Service s);  // "master", ...

// Refreshes a registration's heartbeat every interval on its own thread.
class Heartbeater {
 public:
  Heartbeater(std::function<void()> beat, int interval_ms);
  ~Heartbeater();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// One running service. `on_fatal` is called (once, from a registry thread) when the service
// can no longer do its work safely (its registry session expired); the caller stops it, and
// with the disconnect strategy `waiting` starts a new one (new registration, new epoch).
class ServiceProcess {
 public:
  static StatusOr<std::unique_ptr<ServiceProcess>> Start(Service which, const Config& cfg,
                                                         std::function<void()> on_fatal);
  ~ServiceProcess();
  const std::string& address() const { return address_; }
  int64_t epoch() const { return epoch_; }

 private:
  ServiceProcess() = default;
  Status StartMaster(const Config& cfg);
  Status StartWorker(const Config& cfg);
  Status StartApi(const Config& cfg);
  Status StartAlert(const Config& cfg);
  // Prometheus /metrics on <service>.metrics-port, with the values of this kind of service.
  Status StartMetrics(const Config& cfg);
  Status StartLogger(const Config& cfg);
  Status OpenStore(const Config& cfg);
  Status OpenRegistry(const Config& cfg, int64_t min_epoch);
  void AlertLockLoop();

  Service which_ = Service::kMaster;
  std::string address_;
  int64_t epoch_ = 0;
  int64_t started_ms_ = 0;
  std::function<void()> on_fatal_;
  std::atomic<bool> fatal_{false};

  std::unique_ptr<SystemClock> clock_;
  std::unique_ptr<CodeGenerator> codes_;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<Registry> registry_;
  // master
  std::unique_ptr<WorkerRouter> router_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Scheduler> scheduler_;
  std::atomic<Scheduler*> scheduler_ready_{nullptr};  // read by the gRPC threads
  std::unique_ptr<MasterServiceImpl> master_service_;
  // worker
  std::unique_ptr<EventRouter> events_;
  std::unique_ptr<PosixProcessLauncher> launcher_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<LiveMasterFence> fence_;
  std::unique_ptr<WorkerServiceImpl> worker_service_;
  std::unique_ptr<GrpcServer> grpc_;
  // api
  std::unique_ptr<ClusterMasterControl> control_;
  std::unique_ptr<api::ApiServer> api_;
  // api: the loggers of the task hosts; logger: this host's log directory
  std::unique_ptr<LogReader> logs_;
  std::unique_ptr<LoggerServiceImpl> logger_service_;
  // alert
  std::unique_ptr<alert::AlertChannel> email_channel_, http_channel_;
  std::unique_ptr<alert::AlertSender> alert_sender_;
  std::thread alert_lock_thread_;
  std::atomic<bool> stopping_{false};

  std::unique_ptr<Heartbeater> heartbeat_;
  std::unique_ptr<Heartbeater> lease_;  // worker: renews the task lease
  std::function<bool()> overloaded_;    // master, worker: the overload protection's verdict
  std::atomic<bool> sending_{false};    // alert: holds the sender lock

  // Last, so that it is destroyed first: its values read the members above.
  std::unique_ptr<MetricsEndpoint> metrics_;
};

}  // namespace cluster
}  // namespace dsched
