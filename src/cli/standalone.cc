#include "cli/standalone.h"

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "alert/alert_sender.h"
#include "alert/email_channel.h"
#include "alert/http_channel.h"
#include "api/api_server.h"
#include "logger/log_reader.h"
#include "master/engine.h"
#include "master/scheduler.h"
#include "registry/registry.h"
#include "storage/sql/sql_store.h"
#include "worker/worker.h"

namespace dsched {

namespace fs = std::filesystem;

StatusOr<std::unique_ptr<Standalone>> Standalone::Start(const Config& cfg) {
  std::unique_ptr<Standalone> s(new Standalone());
  std::string data = cfg.GetString("data.dir");
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return InvalidArgument("data.dir: cannot create " + data + ": " + ec.message());
  data = fs::absolute(data).lexically_normal().string();
  const std::string logs = LogDirFromConfig(cfg);
  std::string exec =
      cfg.GetString("exec.basepath").empty() ? data + "/exec" : cfg.GetString("exec.basepath");

  s->clock_ = std::make_unique<SystemClock>();
  s->codes_ = std::make_unique<CodeGenerator>(*s->clock_);
  DSCHED_ASSIGN_OR_RETURN(DbOptions db, DbOptionsFromConfig(cfg));
  db.sqlite_path = data + "/dsched.db";
  // The embedded SQLite database is ours to create and upgrade; a shared server's schema is the
  // operator's (script/create-dolphinscheduler.sh, script/upgrade-dolphinscheduler.sh).
  SchemaMode mode =
      db.type == DbType::kSqlite ? SchemaMode::kCreateOrUpgrade : SchemaMode::kRequireCurrent;
  DSCHED_ASSIGN_OR_RETURN(s->store_, SqlStore::Open(db, *s->clock_, mode));
  DSCHED_RETURN_IF_ERROR(api::EnsureAdminUser(*s->store_, *s->clock_));

  // A restarted master takes the next epoch, so writes of the previous run are fenced out.
  DSCHED_ASSIGN_OR_RETURN(int64_t max_epoch, s->store_->MaxOwnerEpoch());
  s->registry_ = std::make_unique<InMemoryRegistry>(max_epoch);
  EngineOptions eo;
  eo.host = cfg.GetString("api.host") + ":5678";
  DSCHED_ASSIGN_OR_RETURN(eo.epoch, s->registry_->Register(NodeType::kMaster, eo.host, "{}"));
  eo.minute_ms = cfg.GetInt("engine.minute_ms");
  eo.commit_delay_us = std::max<int64_t>(0, cfg.GetInt("master.commit_delay_us"));
  eo.log_base = logs;
  s->engine_ = std::make_unique<Engine>(eo, *s->clock_, *s->store_, *s->store_);

  WorkerOptions wo;
  wo.host = cfg.GetString("api.host") + ":1234";
  wo.exec_base = exec;
  wo.log_base = logs;
  wo.env_file = cfg.GetString("env.file");
  wo.exec_threads = static_cast<int>(cfg.GetInt("worker.exec_threads"));
  wo.kill_grace_ms = static_cast<int>(cfg.GetInt("engine.kill_grace_ms"));
  s->launcher_ = std::make_unique<PosixProcessLauncher>();
  s->worker_ = std::make_unique<Worker>(wo, *s->clock_, *s->launcher_, *s->engine_);
  s->engine_->SetWorker(s->worker_.get());
  s->engine_->SetTaskGroupStore(s->store_.get());
  DSCHED_RETURN_IF_ERROR(s->engine_->Start());
  // In standalone this one master fires every schedule.
  SchedulerOptions so;
  so.refresh_ms = cfg.GetInt("scheduler.refresh_s") * 1000;
  s->scheduler_ = std::make_unique<Scheduler>(so, *s->clock_, *s->store_, s->engine_.get());
  DSCHED_RETURN_IF_ERROR(s->scheduler_->Start());

  api::ApiDeps deps;
  deps.defs = s->store_.get();
  deps.instances = s->store_.get();
  deps.users = s->store_.get();
  deps.master = s->engine_.get();
  deps.clock = s->clock_.get();
  deps.codes = s->codes_.get();
  deps.admin = s->store_.get();
  {
    // The embedded master and worker, as /monitor and the worker address list report them.
    int64_t started = s->clock_->NowMs();
    auto server = [&](const char* type, const std::string& address) {
      size_t colon = address.rfind(':');
      return api::LocalServer{type, address.substr(0, colon),
                              std::stoi(address.substr(colon + 1)), started, ""};
    };
    deps.servers = {server("MASTER", eo.host), server("WORKER", wo.host)};
  }
  deps.db_type = db.type == DbType::kPostgres ? "POSTGRESQL"
                 : db.type == DbType::kMySql  ? "MYSQL"
                                              : "SQLITE";
  deps.data_dir = data;
  deps.schedules = s->store_.get();
  deps.task_groups = s->store_.get();
  // The one log directory the embedded master and worker write to; nothing outside it is read.
  s->logs_ = std::make_unique<LocalLogReader>(logs);
  deps.logs = s->logs_.get();
  deps.schedules_changed = [sched = s->scheduler_.get()] { sched->Refresh(); };
  DSCHED_ASSIGN_OR_RETURN(s->api_, api::ApiServer::Create(cfg, deps));
  // The alert server: sends the outbox rows the master writes (one sender: standalone is the
  // only process on its database).
  s->email_channel_ = std::make_unique<alert::EmailChannel>();
  s->http_channel_ = std::make_unique<alert::HttpChannel>();
  s->alert_sender_ = std::make_unique<alert::AlertSender>(
      alert::AlertSenderOptions{}, *s->clock_, *s->store_, *s->store_,
      std::map<std::string, alert::AlertChannel*>{{"Email", s->email_channel_.get()},
                                                  {"Http", s->http_channel_.get()}});
  s->alert_sender_->Start();
  spdlog::info("dsched standalone: API on http://{}:{}/dolphinscheduler, data in {}, {}, epoch {}",
               cfg.GetString("api.host"), s->api_->port(), data, Describe(db), eo.epoch);
  return s;
}

Standalone::~Standalone() {
  if (alert_sender_) alert_sender_->Stop();
  if (api_) api_->Stop();
  if (scheduler_) scheduler_->Stop();
  if (engine_) engine_->Stop();
  if (worker_) worker_->Shutdown();
}

int Standalone::port() const { return api_->port(); }

}  // namespace dsched
