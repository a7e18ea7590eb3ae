// The `dsched` binary: `dsched standalone` runs the server; every other subcommand is a client
// of a running server's REST API (client_commands.h).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/client_commands.h"
#include "cli/db_commands.h"
#include "cli/standalone.h"

extern char** environ;

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
    // A task's process group outlives us on purpose; SIGPIPE from a closed client must not
    // take the server down.
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below
    auto server = dsched::Standalone::Start(*cfg);
    if (!server.ok()) {
      std::cerr << "error: " << server.status().message() << "\n";
      exit_code = 1;
      return;
    }
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("signal {}: stopping", sig);
    server->reset();
  });

  dsched::cli::RegisterClientCommands(app, &exit_code);
  dsched::cli::RegisterDbCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
