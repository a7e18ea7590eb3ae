// The `dsched db` subcommands: create, upgrade and version of the metadata database schema
// (storage/sql/migrations.h), as DolphinScheduler's script/create-dolphinscheduler.sh and
// script/upgrade-dolphinscheduler.sh do (our scripts of those names call these), and clean
// (retention: finished instances older than a date, SqlStore::CleanFinished). They read the
// database from the config file and the environment like every service (db.*, DATABASE,
// SPRING_DATASOURCE_*). Serving and client commands do not belong here.
#pragma once

namespace CLI {
class App;
}

namespace dsched::cli {

// Adds `db create|upgrade|version|clean` to app. Each sets *exit_code when run: 0 on success; 1 when
// the database refused or failed (one line "error: ..." on stderr naming database, host and
// user); 2 on a bad config. exit_code must outlive app's parsing.
void RegisterDbCommands(CLI::App& app, int* exit_code);

}  // namespace dsched::cli
