// `dsched standalone`: every service in one process (the database of db.*, by default the
// embedded SQLite under data.dir; in-process worker; REST API). This is the composition root
// that picks the real implementations of the seams; tests use it to run a whole server
// in-process.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"

namespace dsched {

class SqlStore;
class Engine;
class Worker;
class PosixProcessLauncher;
class InMemoryRegistry;
class Scheduler;
class LocalLogReader;
namespace api {
class ApiServer;
}
namespace alert {
class AlertChannel;
class AlertSender;
}

class Standalone {
 public:
  // Opens the database (creating and migrating it), creates the admin user, takes over the
  // instances a previous run left unfinished, and starts serving.
  static StatusOr<std::unique_ptr<Standalone>> Start(const Config& cfg);
  ~Standalone();

  int port() const;
  SqlStore& store() { return *store_; }
  Engine& engine() { return *engine_; }

 private:
  Standalone() = default;
  std::unique_ptr<SystemClock> clock_;
  std::unique_ptr<CodeGenerator> codes_;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<InMemoryRegistry> registry_;
  std::unique_ptr<PosixProcessLauncher> launcher_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Scheduler> scheduler_;  // the cron firer
  std::unique_ptr<LocalLogReader> logs_;  // task logs for the API
  std::unique_ptr<api::ApiServer> api_;
  // The alert server's part: channels first, so they outlive the sender that uses them.
  std::unique_ptr<alert::AlertChannel> email_channel_, http_channel_;
  std::unique_ptr<alert::AlertSender> alert_sender_;
};

}  // namespace dsched
