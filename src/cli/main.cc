// The `dsched` binary: `dsched standalone` runs every service in one process, `dsched
// master|worker|logger|api|alert` one cluster service each; `dsched db ...` manages the schema;
// every other subcommand is a client of a running server's REST API (client_commands.h).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <iterator>

#include "cli/client_commands.h"
#include "cli/db_commands.h"
#include "cli/standalone.h"
#include "cluster/services.h"

extern char** environ;

namespace {

std::unique_ptr<dsched::cluster::ServiceProcess> g_service;

// Starts a server with SIGINT/SIGTERM blocked in every thread, then waits for one of them (or
// for the server's own fatal condition, which raises SIGTERM). Returns the exit code: 0 after a
// signal, 1 when it could not start (the reason on stderr, one line). The caller stops the
// server after this returns.
int RunUntilSignal(const std::function<dsched::Status(std::function<void()>)>& start) {
  // A task's process group outlives us on purpose; SIGPIPE from a closed client must not
  // take the server down.
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below
  dsched::Status s = start([] { kill(getpid(), SIGTERM); });
  if (!s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: stopping", sig);
  return 0;
}

// A cluster service until SIGINT/SIGTERM (exit 0), or until it cannot start (exit 1; 2 for a
// bad config). Its registry session expiring ends the process (disconnect strategy stop), or
// (waiting) stops the service and starts a new one in this process, trying every second for up
// to registry.max-waiting-time: the new one registers afresh, with a new epoch, and holds none
// of the old one's work, which the other masters have taken over meanwhile.
int RunService(dsched::cluster::Service which, const dsched::Config& cfg) {
  const std::string strategy = cfg.GetString("registry.disconnect-strategy");
  if (strategy != "stop" && strategy != "waiting") {
    std::cerr << "error: registry.disconnect-strategy '" << strategy
              << "' is not stop or waiting\n";
    return 2;
  }
  const bool waiting = strategy == "waiting";
  const int64_t max_wait_ms = cfg.GetDurationMs("registry.max-waiting-time");
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below
  auto on_fatal = [waiting] { kill(getpid(), waiting ? SIGUSR1 : SIGTERM); };
  auto start = [&] {
    auto svc = dsched::cluster::ServiceProcess::Start(which, cfg, on_fatal);
    if (!svc.ok()) return svc.status();
    g_service = std::move(*svc);
    return dsched::Status::Ok();
  };
  dsched::Status s = start();
  if (!s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGUSR1) {
      spdlog::info("signal {}: stopping", sig);
      g_service.reset();
      return 0;
    }
    g_service.reset();
    spdlog::warn("disconnect strategy waiting: starting again, for up to {} ms", max_wait_ms);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_wait_ms);
    while (!(s = start()).ok()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        spdlog::error("could not start again within registry.max-waiting-time: {}", s.message());
        return 1;
      }
      timespec one_second{1, 0};
      int got = sigtimedwait(&set, nullptr, &one_second);
      if (got == SIGINT || got == SIGTERM) return 0;
    }
    spdlog::info("started again after the lost registry session");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dsched: a DolphinScheduler-compatible workflow scheduler"};
  app.require_subcommand(1);
  int exit_code = 0;

  auto* sa = app.add_subcommand("standalone", "run every service in one process");
  std::string config_file, data_dir;
  int port = -1;
  sa->add_option("--config", config_file, "config file (key = value lines)");
  sa->add_option("--data-dir", data_dir, "where the embedded database and logs live");
  sa->add_option("--port", port, "REST API port (default 12345)");
  sa->callback([&] {
    auto cfg = dsched::Config::Load(config_file, environ);
    if (!cfg.ok()) {
      std::cerr << "error: " << cfg.status().message() << "\n";
      exit_code = 2;
      return;
    }
    if (!data_dir.empty()) cfg->Set("data.dir", data_dir);
    if (port >= 0) cfg->Set("api.port", std::to_string(port));
    std::unique_ptr<dsched::Standalone> server;
    exit_code = RunUntilSignal([&](std::function<void()>) -> dsched::Status {
      auto s = dsched::Standalone::Start(*cfg);
      if (!s.ok()) return s.status();
      server = std::move(*s);
      return dsched::Status::Ok();
    });
    server.reset();
  });

  // The cluster services, one per process (cluster/services.h); the same flags as standalone.
  struct ServiceFlags {
    std::string config_file, data_dir;
  };
  const std::pair<dsched::cluster::Service, const char*> kServices[] = {
      {dsched::cluster::Service::kMaster, "run a master: command intake, DAG engine, cron firing"},
      {dsched::cluster::Service::kWorker, "run a worker: executes the tasks masters dispatch"},
      {dsched::cluster::Service::kApi, "run the REST API server"},
      {dsched::cluster::Service::kAlert, "run an alert server: sends the alert outbox"},
      {dsched::cluster::Service::kLogger,
       "run a logger server: serves this host's task logs (log.dir) to the API"}};
  static ServiceFlags flags[sizeof kServices / sizeof kServices[0]];
  for (size_t i = 0; i < std::size(kServices); ++i) {
    auto [which, help] = kServices[i];
    auto* sub = app.add_subcommand(dsched::cluster::ServiceName(which), help);
    sub->add_option("--config", flags[i].config_file, "config file (key = value lines)");
    sub->add_option("--data-dir", flags[i].data_dir,
                    "logs and exec dirs (worker, logger: <data-dir>/logs), data dir");
    sub->callback([&exit_code, which, i] {
      auto cfg = dsched::Config::Load(flags[i].config_file, environ);
      if (!cfg.ok()) {
        std::cerr << "error: " << cfg.status().message() << "\n";
        exit_code = 2;
        return;
      }
      if (!flags[i].data_dir.empty()) cfg->Set("data.dir", flags[i].data_dir);
      exit_code = RunService(which, *cfg);
    });
  }

  dsched::cli::RegisterClientCommands(app, &exit_code);
  dsched::cli::RegisterDbCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
