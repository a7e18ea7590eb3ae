#include "cli/db_commands.h"

#include <soci/soci.h>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include "api/api_server.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/time_format.h"
#include "storage/sql/db_options.h"
#include "storage/sql/migrations.h"
#include "storage/sql/sql_store.h"

extern char** environ;

namespace dsched::cli {

namespace {

struct DbArgs {
  std::string config_file;
  std::string data_dir;
  // clean
  std::string before;
  bool dry_run = false;
  int batch = 500;
};

// Exit codes of the header comment.
constexpr int kFailed = 1;
constexpr int kBadConfig = 2;

int Error(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

// The database of the config (file, then environment), the SQLite file's directory made.
StatusOr<DbOptions> Options(const DbArgs& a) {
  DSCHED_ASSIGN_OR_RETURN(Config cfg, Config::Load(a.config_file, environ));
  if (!a.data_dir.empty()) DSCHED_RETURN_IF_ERROR(cfg.Set("data.dir", a.data_dir));
  DSCHED_ASSIGN_OR_RETURN(DbOptions o, DbOptionsFromConfig(cfg));
  if (o.type == DbType::kSqlite) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.GetString("data.dir"), ec);
    if (ec)
      return InvalidArgument("data.dir: cannot create " + cfg.GetString("data.dir") + ": " +
                             ec.message());
  }
  o.pool_size = 1;  // these commands read through the writer; one reader is enough
  return o;
}

int CreateCommand(const DbArgs& a) {
  auto o = Options(a);
  if (!o.ok()) return Error(o.status().message(), kBadConfig);
  auto sql = Connect(*o, /*read_only=*/false);
  if (!sql.ok()) return Error(sql.status().message(), kFailed);
  Status s = CreateSchema(**sql, o->type);
  if (!s.ok()) return Error(s.message() + " (" + Describe(*o) + ")", kFailed);
  // The admin user needs its password hashed, which the SQL scripts cannot do.
  SystemClock clock;
  auto store = SqlStore::Open(*o, clock, SchemaMode::kRequireCurrent);
  if (!store.ok()) return Error(store.status().message(), kFailed);
  s = api::EnsureAdminUser(**store, clock);
  if (!s.ok()) return Error("creating the admin user: " + s.message(), kFailed);
  std::cout << "created dsched schema version " << NewestSchemaVersion() << " in the "
            << Describe(*o) << "; log in as admin / dolphinscheduler123 and change it\n";
  return 0;
}

int UpgradeCommand(const DbArgs& a) {
  auto o = Options(a);
  if (!o.ok()) return Error(o.status().message(), kBadConfig);
  auto sql = Connect(*o, /*read_only=*/false);
  if (!sql.ok()) return Error(sql.status().message(), kFailed);
  auto up = UpgradeSchema(**sql, o->type);
  if (!up.ok()) return Error(up.status().message() + " (" + Describe(*o) + ")", kFailed);
  if (up->applied.empty()) {
    std::cout << "the " << Describe(*o) << " is at schema version " << up->to
              << ", the newest this dsched knows: nothing to do\n";
  } else {
    std::cout << "upgraded the " << Describe(*o) << " from schema version " << up->from
              << " to " << up->to << "\n";
  }
  return 0;
}

int VersionCommand(const DbArgs& a) {
  auto o = Options(a);
  if (!o.ok()) return Error(o.status().message(), kBadConfig);
  auto sql = Connect(*o, /*read_only=*/false);
  if (!sql.ok()) return Error(sql.status().message(), kFailed);
  auto v = ReadSchemaVersion(**sql, o->type);
  if (!v.ok()) return Error(v.status().message() + " (" + Describe(*o) + ")", kFailed);
  int newest = NewestSchemaVersion();
  std::cout << "schema version " << *v << " in the " << Describe(*o) << "; this dsched creates "
            << "and serves version " << newest;
  if (*v == 0) std::cout << " (no schema yet: run script/create-dolphinscheduler.sh)";
  if (*v > 0 && *v < newest) std::cout << " (run script/upgrade-dolphinscheduler.sh)";
  if (*v > newest) std::cout << " (written by a newer dsched)";
  std::cout << "\n";
  return 0;
}

int CleanCommand(const DbArgs& a) {
  auto before = ParseDateTime(a.before);
  if (!before)
    return Error("--before: expected yyyy-MM-dd or 'yyyy-MM-dd HH:mm:ss', got '" + a.before + "'",
                 kBadConfig);
  if (a.batch < 1) return Error("--batch: expected at least 1", kBadConfig);
  auto o = Options(a);
  if (!o.ok()) return Error(o.status().message(), kBadConfig);
  SystemClock clock;
  auto store = SqlStore::Open(*o, clock, SchemaMode::kRequireCurrent);
  if (!store.ok()) return Error(store.status().message(), kFailed);
  std::vector<std::string> logs;
  auto r = (*store)->CleanFinished(*before, a.dry_run, a.batch, &logs);
  if (!r.ok()) return Error(r.status().message() + " (" + Describe(*o) + ")", kFailed);
  std::string when = FormatDateTime(*before);
  if (a.dry_run) {
    std::cout << "would remove " << r->workflow_instances << " workflow instances and "
              << r->task_instances << " task instances (with their logs) that ended before "
              << when << "\n";
    return 0;
  }
  // Logs on this host go with their rows; a worker's logs elsewhere stay (named as missing).
  int deleted = 0, elsewhere = 0;
  for (const auto& path : logs) {
    std::error_code ec;
    if (std::filesystem::remove(path, ec)) {
      ++deleted;
    } else {
      ++elsewhere;
    }
  }
  std::cout << "removed " << r->workflow_instances << " workflow instances and "
            << r->task_instances << " task instances that ended before " << when << "; "
            << deleted << " log files deleted";
  if (elsewhere) std::cout << ", " << elsewhere << " not found on this host";
  std::cout << "\n";
  return 0;
}

}  // namespace

void RegisterDbCommands(CLI::App& app, int* exit_code) {
  CLI::App* db = app.add_subcommand(
      "db", "The metadata database: create or upgrade its schema, show its version, clean");
  db->require_subcommand(1);
  struct Sub {
    const char* name;
    const char* help;
    int (*run)(const DbArgs&);
  };
  for (const Sub& sub : {
           Sub{"create",
               "Create the schema and base data (admin user, default queue and alert group) in "
               "an empty database",
               CreateCommand},
           Sub{"upgrade", "Apply every newer schema version, each once, in order", UpgradeCommand},
           Sub{"version", "Show the database's schema version and this dsched's",
               VersionCommand},
       }) {
    auto a = std::make_shared<DbArgs>();
    CLI::App* c = db->add_subcommand(sub.name, sub.help);
    c->add_option("--config", a->config_file, "config file (key = value lines; db.* keys)");
    c->add_option("--data-dir", a->data_dir, "where the SQLite database lives (db.type=sqlite)");
    c->callback([a, run = sub.run, exit_code] { *exit_code = run(*a); });
  }
  auto a = std::make_shared<DbArgs>();
  CLI::App* c = db->add_subcommand(
      "clean", "Remove workflow and task instances (and their logs) that ended before a date");
  c->add_option("--before", a->before, "yyyy-MM-dd or 'yyyy-MM-dd HH:mm:ss' (local time)")
      ->required();
  c->add_flag("--dry-run", a->dry_run, "only count what would be removed");
  c->add_option("--batch", a->batch, "workflow instances per transaction (default 500)");
  c->add_option("--config", a->config_file, "config file (key = value lines; db.* keys)");
  c->add_option("--data-dir", a->data_dir, "where the SQLite database lives (db.type=sqlite)");
  c->callback([a, exit_code] { *exit_code = CleanCommand(*a); });
}

}  // namespace dsched::cli
