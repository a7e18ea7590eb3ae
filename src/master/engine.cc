#include "master/engine.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "alert/alert_content.h"
#include "common/time_format.h"
#include "cron/dependent_dates.h"
#include "model/json_codec.h"
#include "model/states.h"
#include "params/condition.h"
#include "params/params.h"

namespace dsched {

using nlohmann::json;

struct Engine::Runner {
  WorkflowInstance wi;
  WorkflowDefinition def;
  std::optional<Dag> dag;
  std::string project_name;
  std::set<int64_t> run_set;
  std::vector<std::unique_ptr<TaskInstance>> rows;  // every attempt, flag YES and NO
  std::map<int64_t, TaskInstance*> current;         // task code -> its flag-YES attempt
  // Indexes that keep each event O(successors) instead of O(tasks): rows by id (filled once
  // a row has its id, i.e. after its insert committed) and the codes whose current row is
  // not final yet.
  std::unordered_map<int64_t, TaskInstance*> by_id;
  std::set<int64_t> active;
  // Nodes a CONDITIONS or SWITCH task did not choose (and nodes only they lead to): they get
  // no row and count as passed for the nodes after them. Recomputed on recovery.
  std::set<int64_t> skipped;
  std::map<int64_t, TimerId> timers;                // task code -> retry / delay timer
  std::set<int64_t> retry_pending;                  // task codes waiting for a retry
  std::vector<Property> global_params;              // cured at instance creation
  params::Vars startup_params;
  bool failure = false;  // a task failed for good (no retry left) or was killed
  bool timeout_alerted = false;  // the workflow's own timeout alert is in the outbox
};

namespace {

struct StartSpec {
  std::vector<int64_t> start_nodes;
  params::Vars startup_params;
};

// command_param JSON: {"StartNodeList": [codes] or "1,2", "StartParams": {k: v}}.
StatusOr<StartSpec> ParseCommandParam(const std::string& text) {
  StartSpec s;
  json j = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("commandParam: not a JSON object");
  if (j.contains("StartNodeList")) {
    const json& n = j["StartNodeList"];
    if (n.is_array()) {
      for (const auto& e : n) {
        if (e.is_number_integer()) s.start_nodes.push_back(e.get<int64_t>());
        else if (e.is_string() && !e.get<std::string>().empty())
          s.start_nodes.push_back(std::stoll(e.get<std::string>()));
      }
    } else if (n.is_string()) {
      std::string list = n.get<std::string>();
      size_t i = 0;
      while (i < list.size()) {
        size_t c = list.find(',', i);
        std::string part = list.substr(i, c == std::string::npos ? std::string::npos : c - i);
        if (!part.empty()) s.start_nodes.push_back(std::stoll(part));
        i = c == std::string::npos ? list.size() : c + 1;
      }
    }
  }
  if (j.contains("StartParams") && j["StartParams"].is_object())
    for (const auto& [k, v] : j["StartParams"].items())
      s.startup_params[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return s;
}

std::string Stamp(int64_t ms) {
  std::string d = FormatDateTime(ms);  // yyyy-MM-dd HH:mm:ss
  std::string out;
  for (char c : d)
    if (std::isdigit(static_cast<unsigned char>(c))) out += c;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03d", static_cast<int>(ms % 1000));
  return out + buf;
}

bool Active(TaskState s) { return !IsFinal(s); }

// A workflow instance that RECOVER_SUSPENDED_PROCESS can resume.
bool Suspended(WorkflowState s) { return s == WorkflowState::kPause || s == WorkflowState::kStop; }

// An instance that exists but waits for its turn: behind another instance of a serial
// definition (SERIAL_WAIT) or behind the other dates of its backfill (WAIT_TO_RUN).
bool Waiting(WorkflowState s) {
  return s == WorkflowState::kSerialWait || s == WorkflowState::kWaitToRun;
}

// A sub-workflow instance's link to the task that started it: command_param
// "ParentWorkflowInstanceId" / "ParentTaskInstanceId" (0 when it has no parent). Its trigger
// code is the negated parent task instance id, so the child can be found again after a restart.
std::pair<int64_t, int64_t> ParentOf(const std::string& command_param) {
  json j = json::parse(command_param.empty() ? "{}" : command_param, nullptr, false);
  if (!j.is_object()) return {0, 0};
  return {j.value("ParentWorkflowInstanceId", int64_t{0}), j.value("ParentTaskInstanceId", int64_t{0})};
}

// How many instances of a backfill run at once: command_param "ComplementParallelism"
// (1 = serial); 0 when the instance is not part of a backfill.
int ComplementParallelism(const std::string& command_param) {
  json j = json::parse(command_param.empty() ? "{}" : command_param, nullptr, false);
  if (!j.is_object() || !j.contains("ComplementParallelism") ||
      !j["ComplementParallelism"].is_number_integer())
    return 0;
  return std::max(1, j["ComplementParallelism"].get<int>());
}

}  // namespace

Engine::Engine(EngineOptions opts, Clock& clock, DefinitionStore& defs, InstanceStore& instances)
    : opts_(std::move(opts)), clock_(clock), defs_(defs), instances_(instances) {}

Engine::~Engine() { Stop(); }

Status Engine::Start() {
  DSCHED_CHECK(worker_ != nullptr);
  thread_ = std::thread([this] { Loop(); });
  Post([this] {
    Recover(
        [this](const WorkflowInstance& wi) {
          return !opts_.master_alive || wi.host == opts_.host || !opts_.master_alive(wi.host);
        },
        "start-up recovery");
  });
  return Status::Ok();
}

void Engine::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t Engine::RunnerCount() { return runner_count_.load(); }

void Engine::Sync() {
  // Twice: effects of one turn may queue writes that the next turn commits.
  for (int i = 0; i < 2; ++i) {
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    Post([this, done] { after_commit_.push_back([done] { done->set_value(); }); });
    fut.wait();
  }
}

void Engine::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    posted_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void Engine::WakeCommands() {
  {
    std::lock_guard<std::mutex> l(mu_);
    commands_pending_ = true;
  }
  cv_.notify_one();
}

void Engine::OnTaskEvent(const TaskEvent& e) {
  Post([this, e] { HandleEvent(e); });
}

Status Engine::Execute(int64_t workflow_instance_id, ExecuteType type) {
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  Post([this, workflow_instance_id, type, done] {
    Status s;
    DoExecute(workflow_instance_id, type, &s);
    done->set_value(s);
  });
  return fut.get();
}

// ------------------------------------------------------------------ loop

int64_t CommitWaitUs(int64_t configured, size_t tasks_under_way) {
  if (configured >= 0) return configured;
  return std::min<int64_t>(10000, 100 * static_cast<int64_t>(tasks_under_way));
}

void Engine::Loop() {
  for (;;) {
    std::vector<std::function<void()>> work;
    bool commands = false;
    {
      std::unique_lock<std::mutex> l(mu_);
      if (batch_.empty() && after_commit_.empty()) {
        // The timeout is the fallback scan of the command table (DESIGN.md §3 "Commands").
        if (!cv_.wait_for(l, std::chrono::seconds(1),
                          [&] { return stop_ || !posted_.empty() || commands_pending_; }))
          commands_pending_ = true;
      }
      if (stop_) return;
      work.swap(posted_);
      commands = commands_pending_;
      commands_pending_ = false;
    }
    for (auto& fn : work) fn();
    if (commands) IntakeCommands();

    if (!batch_.empty()) {
      size_t under_way = 0;
      if (opts_.commit_delay_us < 0)
        for (const auto& [id, r] : runners_) under_way += r->active.size();
      if (int64_t wait_us = CommitWaitUs(opts_.commit_delay_us, under_way); wait_us > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
        // What arrived meanwhile joins this commit: the point of waiting.
        std::vector<std::function<void()>> more;
        {
          std::lock_guard<std::mutex> l(mu_);
          more.swap(posted_);
        }
        for (auto& fn : more) fn();
      }
      int64_t backoff_ms = 50;
      int failures = 0;
      for (;;) {
        Status s = instances_.Commit(batch_);
        if (s.ok()) {
          if (failures > 0)
            spdlog::info("group commit succeeded again after {} retries", failures);
          break;
        }
        // One line per outage, not one per retry: the state stays in memory meanwhile.
        if (failures++ == 0)
          spdlog::error("group commit failed, retrying with backoff until the database answers: {}",
                        s.message());
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
        std::lock_guard<std::mutex> l(mu_);
        if (stop_) return;
      }
      for (auto& [wid, g] : batch_.groups()) {
        if (!g.lost) continue;
        spdlog::warn("workflow instance {} is owned by another master now; dropping it", wid);
        if (runners_.erase(wid)) --runner_count_;
      }
      batch_ = WriteBatch();
      pending_inserts_.clear();
    }
    std::vector<std::function<void()>> effects;
    effects.swap(after_commit_);
    for (auto& fn : effects) fn();
  }
}

void Engine::IntakeCommands() {
  // Overloaded: the fallback scan (at most a second away) asks again.
  if (opts_.accept_commands && !opts_.accept_commands()) return;
  auto cmds = instances_.ListCommands(100);
  if (!cmds.ok()) {
    spdlog::error("reading commands: {}", cmds.status().message());
    return;
  }
  // After an outage: a claim whose COMMIT outcome was unknown may have created its instance
  // (owned by this master, command gone) although HandleCommand saw an error.
  if (adopt_own_) {
    adopt_own_ = false;
    Recover([this](const WorkflowInstance& wi) { return wi.owner_epoch == opts_.epoch; },
            "adopting instances");
  }
  if (!task_group_rows_.empty()) TaskGroupServeAll();
  for (const Command& c : *cmds) {
    Status s = HandleCommand(c);
    if (s.code() == StatusCode::kUnavailable) {
      // The database went away: the command stays where it is for the next scan (moving it
      // to the error table would lose a user's run over a network blip).
      spdlog::warn("command {} postponed: {}", c.id, s.message());
      adopt_own_ = true;  // the next scan (at most a second away) tries again
      return;
    }
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      spdlog::warn("command {} failed: {}", c.id, s.message());
      instances_.FailCommand(c, s.message());
    }
  }
  if (cmds->size() == 100) {
    std::lock_guard<std::mutex> l(mu_);
    commands_pending_ = true;
  }
}

// ------------------------------------------------------------------ commands

Status Engine::HandleCommand(const Command& c) {
  int64_t now = clock_.NowMs();
  WorkflowInstance wi;
  int64_t expected_epoch = 0;
  std::vector<TaskInstance> supersede;
  ExecutionType serial_type = ExecutionType::kParallel;
  switch (c.command_type) {
    case CommandType::kStartProcess:
    case CommandType::kStartCurrentTaskProcess:
    case CommandType::kScheduler:
    case CommandType::kComplementData: {
      auto def = c.definition_version ? defs_.GetWorkflowVersion(c.definition_code,
                                                                 c.definition_version)
                                      : defs_.GetWorkflow(c.definition_code);
      if (!def.ok()) return def.status();
      auto spec = ParseCommandParam(c.command_param);
      if (!spec.ok()) return spec.status();
      auto dag = Dag::Build(def->tasks, def->relations);
      if (!dag.ok()) return dag.status();
      auto run_set = SelectRunSet(*dag, spec->start_nodes, c.task_depend_type);
      if (!run_set.ok()) return run_set.status();
      serial_type = def->execution_type;
      if (auto [pwid, ptid] = ParentOf(c.command_param); ptid != 0) {
        auto parent = runners_.find(pwid);
        auto row = parent == runners_.end() ? nullptr : parent->second->by_id[ptid];
        if (!row || IsFinal(row->state))
          return FailedPrecondition("the SUB_PROCESS task " + std::to_string(ptid) +
                                    " that asked for this instance no longer runs");
        wi.is_sub_process = 1;
      }
      wi.name = def->name + "-1-" + Stamp(now);
      wi.definition_code = def->code;
      wi.definition_version = def->version;
      wi.project_code = def->project_code;
      wi.state = WorkflowState::kRunningExecution;
      wi.start_time = now;
      wi.command_type = c.command_type;
      wi.command_param = c.command_param;
      wi.task_depend_type = c.task_depend_type;
      wi.failure_strategy = c.failure_strategy;
      wi.warning_type = c.warning_type;
      wi.warning_group_id = c.warning_group_id;
      wi.schedule_time = c.schedule_time;
      wi.command_start_time = c.start_time;
      wi.executor_id = c.executor_id;
      wi.priority = c.priority;
      wi.worker_group = c.worker_group;
      wi.timeout = def->timeout;
      wi.dry_run = c.dry_run;
      wi.trigger_code = c.trigger_code;
      wi.history_cmd = Name(c.command_type);
      // Cure the global params: resolve built-ins and $[...] once, at creation.
      int64_t base = wi.schedule_time ? wi.schedule_time : now;
      params::BuiltinInputs bi;
      bi.base_ms = base;
      bi.workflow_name = def->name;
      bi.workflow_code = def->code;
      auto resolved = params::ResolveTaskParams(def->global_params, {}, {}, {},
                                                params::Builtins(bi), base);
      if (!resolved.ok()) return resolved.status();
      std::vector<Property> cured = def->global_params;
      for (auto& p : cured)
        if (resolved->count(p.prop)) p.value = resolved->at(p.prop);
      wi.global_params = PropertiesToJson(cured).dump();
      break;
    }
    case CommandType::kRecoverSuspendedProcess:
    case CommandType::kStartFailureTaskProcess:
    case CommandType::kRepeatRunning: {
      auto got = instances_.GetWorkflowInstance(c.workflow_instance_id);
      if (!got.ok()) return got.status();
      wi = *got;
      if (runners_.count(wi.id))
        return FailedPrecondition("workflow instance " + std::to_string(wi.id) + " is running");
      if (wi.is_sub_process && c.trigger_code != 0) {
        // A sub-workflow resumed by its recovered parent answers to the parent's current
        // SUB_PROCESS task row from now on (ResumeSubWorkflow).
        wi.command_param = c.command_param;
        wi.trigger_code = c.trigger_code;
      }
      bool allowed = c.command_type == CommandType::kRepeatRunning
                         ? IsFinal(wi.state)
                         : c.command_type == CommandType::kStartFailureTaskProcess
                               ? wi.state == WorkflowState::kFailure
                               : (wi.state == WorkflowState::kPause ||
                                  wi.state == WorkflowState::kStop);
      if (!allowed)
        return FailedPrecondition("workflow instance " + std::to_string(wi.id) + " is " +
                                  Name(wi.state) + ", cannot " + Name(c.command_type));
      auto rows = instances_.ListTaskInstances(wi.id);
      if (!rows.ok()) return rows.status();
      for (TaskInstance t : *rows) {
        if (t.flag != Flag::kYes) continue;
        bool changed = false;
        if (c.command_type == CommandType::kRepeatRunning) {
          t.flag = Flag::kNo;
          changed = true;
        } else if (c.command_type == CommandType::kStartFailureTaskProcess) {
          if (t.state == TaskState::kFailure || t.state == TaskState::kNeedFaultTolerance ||
              t.state == TaskState::kKill) {
            t.flag = Flag::kNo;
            changed = true;
          }
        } else if (t.state == TaskState::kPause) {
          t.state = TaskState::kSubmittedSuccess;  // resumed in place
          changed = true;
        } else if (t.state == TaskState::kKill || t.state == TaskState::kFailure) {
          t.flag = Flag::kNo;
          changed = true;
        }
        if (changed) supersede.push_back(t);
      }
      expected_epoch = wi.owner_epoch;
      wi.state = WorkflowState::kRunningExecution;
      wi.run_times += 1;
      wi.restart_time = now;
      wi.end_time = 0;
      wi.command_type = c.command_type;
      wi.history_cmd += std::string(",") + Name(c.command_type);
      break;
    }
    case CommandType::kExecuteTask:
      DSCHED_RETURN_IF_ERROR(PrepareExecuteTask(c, now, &wi, &expected_epoch, &supersede));
      break;
    default:
      return InvalidArgument(std::string("command type ") + Name(c.command_type) +
                             " is not supported yet");
  }
  wi.host = opts_.host;
  wi.owner_epoch = opts_.epoch;
  // Serial execution types (one instance of a definition at a time): decided against the
  // instances this master runs, which in standalone are all of them.
  std::vector<int64_t> to_stop;
  if (supersede.empty() && expected_epoch == 0 && serial_type != ExecutionType::kParallel) {
    bool busy = false;
    for (auto& [id, other] : runners_) {
      if (other->wi.definition_code != wi.definition_code || IsFinal(other->wi.state)) continue;
      busy = true;
      if (serial_type == ExecutionType::kSerialPriority) to_stop.push_back(id);
    }
    if (busy && serial_type == ExecutionType::kSerialDiscard) {
      wi.state = WorkflowState::kStop;
      wi.end_time = now;
    } else if (busy) {
      wi.state = WorkflowState::kSerialWait;
    }
  }
  // A backfill runs its dates `parallelism` at a time (1 = serial, in command order, which the
  // API made the executionOrder); the rest wait as WAIT_TO_RUN.
  if (c.command_type == CommandType::kComplementData && wi.state != WorkflowState::kStop) {
    int parallelism = ComplementParallelism(c.command_param);
    int running = 0;
    for (auto& [id, other] : runners_)
      if (other->wi.trigger_code == wi.trigger_code && !IsFinal(other->wi.state) &&
          !Waiting(other->wi.state))
        ++running;
    if (parallelism > 0 && running >= parallelism) wi.state = WorkflowState::kWaitToRun;
  }
  DSCHED_RETURN_IF_ERROR(instances_.ClaimCommand(c.id, &wi, expected_epoch, supersede));
  if (wi.state == WorkflowState::kStop) return Status::Ok();  // discarded: recorded, not run
  for (int64_t id : to_stop) StopInstance(*runners_[id]);
  Status err;
  auto r = BuildRunner(wi, &err);
  if (!r && err.code() == StatusCode::kUnavailable) {
    // Claimed and stored, but unreadable for now: adopted once the database answers.
    adopt_own_ = true;
    return Status::Ok();
  }
  if (!r) {
    // The instance row exists now; record why it cannot run rather than leave it hanging.
    spdlog::error("workflow instance {} cannot run: {}", wi.id, err.message());
    Runner stub;
    stub.wi = wi;
    SetWorkflowState(stub, WorkflowState::kFailure);
    return Status::Ok();
  }
  Runner& runner = *r;
  int64_t id = wi.id;
  runners_[id] = std::move(r);
  ++runner_count_;
  // Rows kept by a recover (resumed in place) are handed to the worker again.
  for (auto& [code, ti] : runner.current)
    if (Active(ti->state)) {
      TaskInstance* p = ti;
      after_commit_.push_back([this, id, p] {
        auto it = runners_.find(id);
        if (it != runners_.end() && Active(p->state)) ResumeTask(*it->second, *p);
      });
    }
  Evaluate(runner);
  MaybeFinish(runner);
  return Status::Ok();
}

std::unique_ptr<Engine::Runner> Engine::BuildRunner(const WorkflowInstance& wi, Status* error) {
  auto r = std::make_unique<Runner>();
  r->wi = wi;
  auto def = defs_.GetWorkflowVersion(wi.definition_code, wi.definition_version);
  if (!def.ok()) {
    *error = def.status();
    return nullptr;
  }
  r->def = *def;
  auto dag = Dag::Build(def->tasks, def->relations);
  if (!dag.ok()) {
    *error = dag.status();
    return nullptr;
  }
  r->dag = std::move(*dag);
  auto spec = ParseCommandParam(wi.command_param);
  if (!spec.ok()) {
    *error = spec.status();
    return nullptr;
  }
  auto run_set = SelectRunSet(*r->dag, spec->start_nodes, wi.task_depend_type);
  if (!run_set.ok()) {
    *error = run_set.status();
    return nullptr;
  }
  r->run_set = *run_set;
  r->startup_params = spec->startup_params;
  auto gp = PropertiesFromText(wi.global_params, "globalParams");
  if (gp.ok()) r->global_params = *gp;
  auto project = defs_.GetProject(wi.project_code);
  if (project.ok()) r->project_name = project->name;
  auto rows = instances_.ListTaskInstances(wi.id);
  if (!rows.ok()) {
    *error = rows.status();
    return nullptr;
  }
  for (const TaskInstance& t : *rows) {
    r->rows.push_back(std::make_unique<TaskInstance>(t));
    r->by_id[t.id] = r->rows.back().get();
    if (t.flag == Flag::kYes) {
      r->current[t.task_code] = r->rows.back().get();
      if (Active(t.state)) r->active.insert(t.task_code);
    }
    if (t.flag == Flag::kYes && (t.state == TaskState::kFailure || t.state == TaskState::kKill))
      r->failure = true;
  }
  // Branches not taken are not stored: choose them again from the finished logic tasks, in
  // order, so recovery sees the same skips as the run before.
  for (int64_t code : r->dag->TopoOrder()) {
    auto it = r->current.find(code);
    if (it == r->current.end() || !IsLogicTaskType(it->second->task_type) ||
        !IsSuccess(it->second->state))
      continue;
    std::set<int64_t> chosen = ChooseBranches(*r, *it->second);
    for (int64_t s : r->dag->Succs(code))
      if (!chosen.count(s) && !r->current.count(s)) r->skipped.insert(s);
  }
  ArmWorkflowTimeout(*r);
  return r;
}

void Engine::TakeOver(const std::string& dead_master) {
  Post([this, dead_master] {
    AlertServerLost(
        "MASTER", dead_master,
        Recover([&](const WorkflowInstance& wi) { return wi.host == dead_master; }, "takeover"));
  });
}

void Engine::AlertServerLost(const char* server_type, const std::string& server,
                             const std::vector<alert::FailedOverInstance>& affected) {
  // Once per loss: every master hears of it, but only the owner of an affected instance gets
  // here, and the alert is fenced like that instance's state change (TakeOwnership lets one
  // master have each instance; a master that heard twice finds nothing left to take).
  if (affected.empty()) return;
  const WorkflowInstance& first = affected.front().instance;
  spdlog::warn("fault tolerance alert: {} {} lost, {} workflow instances affected", server_type,
               server, affected.size());
  batch_.AddAlert(first.id, first.owner_epoch,
                  alert::FaultToleranceAlert(server_type, server, clock_.NowMs(), affected));
}

void Engine::WorkerLost(const std::string& worker,
                        std::function<bool(int64_t task_instance_id, int attempt)> placed_there) {
  Post([this, worker, placed_there] {
    std::vector<TaskEvent> lost;
    std::vector<alert::FailedOverInstance> affected;
    for (auto& [id, r] : runners_)
      for (auto& [code, ti] : r->current)
        if (Active(ti->state) && ti->id > 0 &&
            (ti->host == worker || (ti->host.empty() && placed_there &&
                                    placed_there(ti->id, ti->retry_times)))) {
          lost.push_back(FinishEvent(*r, *ti, TaskState::kNeedFaultTolerance, worker));
          if (affected.empty() || affected.back().instance.id != id)
            affected.push_back({r->wi, r->project_name, {}});
          affected.back().tasks.push_back(ti->name);
        }
    if (!lost.empty())
      spdlog::warn("worker {} is gone: {} task attempts run again elsewhere", worker, lost.size());
    for (const TaskEvent& e : lost) HandleEvent(e);
    AlertServerLost("WORKER", worker, affected);
  });
}

TaskEvent Engine::FinishEvent(const Runner& r, const TaskInstance& ti, TaskState state,
                              const std::string& host) {
  TaskEvent e;
  e.type = TaskEventType::kFinished;
  e.task_instance_id = ti.id;
  e.attempt = ti.retry_times;
  e.master_epoch = r.wi.owner_epoch;
  e.workflow_instance_id = r.wi.id;
  e.host = host;
  e.time_ms = clock_.NowMs();
  e.state = state;
  return e;
}

std::vector<alert::FailedOverInstance> Engine::Recover(
    const std::function<bool(const WorkflowInstance&)>& which, const char* why) {
  std::vector<alert::FailedOverInstance> taken;
  auto unfinished = instances_.ListUnfinished();
  if (!unfinished.ok()) {
    spdlog::error("{}: {}", why, unfinished.status().message());
    adopt_own_ = true;  // the next command scan tries again (our own instances at least)
    return taken;
  }
  for (WorkflowInstance wi : *unfinished) {
    if (runners_.count(wi.id)) continue;
    if (!which(wi)) continue;
    Status s = instances_.TakeOwnership(wi.id, wi.owner_epoch, opts_.host, opts_.epoch);
    if (!s.ok()) continue;
    wi.host = opts_.host;
    wi.owner_epoch = opts_.epoch;
    Status err;
    auto r = BuildRunner(wi, &err);
    if (!r) {
      spdlog::error("cannot recover workflow instance {}: {}", wi.id, err.message());
      continue;
    }
    spdlog::info("{}: workflow instance {} ({}) is ours now", why, wi.id, Name(wi.state));
    int64_t id = wi.id;
    Runner& runner = *r;
    taken.push_back({runner.wi, runner.project_name, {}});
    runners_[id] = std::move(r);
    ++runner_count_;
    for (auto& [code, ti] : runner.current) {
      if (!Active(ti->state)) continue;
      TaskInstance* p = ti;
      if (p->state == TaskState::kDelayExecution) p->state = TaskState::kSubmittedSuccess;
      ResumeTask(runner, *p);
    }
    if (runner.wi.state == WorkflowState::kReadyStop) KillRunning(runner);
    if (runner.wi.state == WorkflowState::kSubmittedSuccess)
      SetWorkflowState(runner, WorkflowState::kRunningExecution);
    Evaluate(runner);
    MaybeFinish(runner);
  }
  std::set<int64_t> defs, groups;
  for (auto& [id, r] : runners_) {
    if (r->wi.state == WorkflowState::kSerialWait) defs.insert(r->wi.definition_code);
    if (r->wi.state == WorkflowState::kWaitToRun) groups.insert(r->wi.trigger_code);
  }
  for (int64_t d : defs) PromoteSerialWaiter(d);
  for (int64_t g : groups) PromoteComplementWaiters(g);
  return taken;
}

// ------------------------------------------------------------------ runner logic

void Engine::WriteTask(Runner& r, const TaskInstance& ti) {
  // A row inserted in this turn is written whole at commit: no separate update needed.
  if (ti.id != 0) batch_.UpdateTask(r.wi.owner_epoch, ti);
  if (!task_group_rows_.empty() && IsFinal(ti.state)) TaskGroupOnEnd(ti);
}

void Engine::SetWorkflowState(Runner& r, WorkflowState s) {
  if (r.wi.state == s) return;
  if (!IsLegal(r.wi.state, s)) {
    spdlog::error("illegal workflow transition {} -> {} for instance {}", Name(r.wi.state),
                  Name(s), r.wi.id);
    return;
  }
  r.wi.state = s;
  int64_t now = clock_.NowMs();
  if (IsFinal(s)) r.wi.end_time = now;
  json hist = json::parse(r.wi.state_history.empty() ? "[]" : r.wi.state_history, nullptr, false);
  if (!hist.is_array()) hist = json::array();
  hist.push_back({{"time", FormatDateTime(now)}, {"state", Name(s)}});
  r.wi.state_history = hist.dump();
  batch_.UpdateWorkflow(r.wi);
  // The end's alert (by the instance's warning type) commits with the end itself (outbox).
  if (IsFinal(s)) {
    std::vector<const TaskInstance*> tasks;
    for (const auto& [code, t] : r.current) tasks.push_back(t);
    if (auto a = alert::WorkflowEndAlert(r.wi, r.project_name, tasks))
      batch_.AddAlert(r.wi.id, r.wi.owner_epoch, *std::move(a));
  }
  if (s == WorkflowState::kRunningExecution) ArmWorkflowTimeout(r);  // a waiter's turn came
  if (s == WorkflowState::kReadyPause && !task_group_rows_.empty()) TaskGroupPauseWaiters(r);
}

void Engine::ArmWorkflowTimeout(Runner& r) {
  if (r.wi.timeout <= 0 || IsFinal(r.wi.state)) return;
  int64_t id = r.wi.id, started = r.wi.start_time > 0 ? r.wi.start_time : clock_.NowMs();
  int64_t due = started + r.wi.timeout * opts_.minute_ms;
  // Passed already (a restart long after): its alert went out before, or the master that
  // should have sent it was down; never a second one.
  if (due <= clock_.NowMs()) return;
  // Kept with the task timers (under a code no task has), so releasing the runner cancels it.
  constexpr int64_t kWorkflowTimeoutTimer = -1;
  if (r.timers.count(kWorkflowTimeoutTimer)) clock_.Cancel(r.timers[kWorkflowTimeoutTimer]);
  r.timers[kWorkflowTimeoutTimer] = clock_.RunAt(due, [this, id, started] {
    Post([this, id, started] {
      auto it = runners_.find(id);
      if (it == runners_.end()) return;
      Runner& run = *it->second;
      int64_t run_start = run.wi.start_time > 0 ? run.wi.start_time : started;
      if (IsFinal(run.wi.state) || Waiting(run.wi.state) || run_start != started ||
          run.timeout_alerted)
        return;
      run.timeout_alerted = true;
      if (auto a = alert::WorkflowTimeoutAlert(run.wi, run.project_name))
        batch_.AddAlert(id, run.wi.owner_epoch, *std::move(a));
    });
  });
}

// Where a predecessor stands for the node after it.
enum class PredState { kPassed, kPending, kFailed, kSkipped };

static PredState StateOf(const Dag& dag, const std::set<int64_t>& run_set,
                         const std::map<int64_t, TaskInstance*>& current,
                         const std::set<int64_t>& skipped, int64_t p);

// Aggregates the in-run predecessors of `code`: pending if any is pending, else failed if any
// failed, else skipped if all were skipped, else passed. `has_failed` reports a failure even
// when others are pending (a CONDITIONS node handles failures instead of being blocked).
static PredState Aggregate(const Dag& dag, const std::set<int64_t>& run_set,
                           const std::map<int64_t, TaskInstance*>& current,
                           const std::set<int64_t>& skipped, int64_t code) {
  bool pending = false, failed = false, all_skipped = true, any = false;
  for (int64_t p : dag.Preds(code)) {
    if (!run_set.count(p)) continue;
    any = true;
    PredState st = StateOf(dag, run_set, current, skipped, p);
    pending = pending || st == PredState::kPending;
    failed = failed || st == PredState::kFailed;
    all_skipped = all_skipped && st == PredState::kSkipped;
  }
  if (pending) return PredState::kPending;
  if (failed) return PredState::kFailed;
  if (any && all_skipped) return PredState::kSkipped;
  return PredState::kPassed;
}

static PredState StateOf(const Dag& dag, const std::set<int64_t>& run_set,
                         const std::map<int64_t, TaskInstance*>& current,
                         const std::set<int64_t>& skipped, int64_t p) {
  if (skipped.count(p)) return PredState::kSkipped;
  if (dag.Task(p).flag == Flag::kNo) {
    // A forbidden node is passed through: it stands where its own predecessors stand.
    PredState st = Aggregate(dag, run_set, current, skipped, p);
    return st == PredState::kSkipped ? PredState::kSkipped : st;
  }
  auto it = current.find(p);
  if (it == current.end()) return PredState::kPending;
  TaskState s = it->second->state;
  if (IsSuccess(s)) return PredState::kPassed;
  return IsFinal(s) ? PredState::kFailed : PredState::kPending;
}

bool Engine::MaySubmit(const Runner& r) const {
  if (IsFinal(r.wi.state) || r.wi.state == WorkflowState::kReadyStop || Waiting(r.wi.state))
    return false;
  return !(r.failure && r.wi.failure_strategy == FailureStrategy::kEnd);
}

void Engine::TrySubmit(Runner& r, int64_t code) {
  if (!r.run_set.count(code) || r.current.count(code) || r.skipped.count(code)) return;
  const TaskDefinition& t = r.dag->Task(code);
  if (t.flag == Flag::kNo) return;  // forbidden: passed through, never run
  PredState st = Aggregate(*r.dag, r.run_set, r.current, r.skipped, code);
  if (st == PredState::kPending) return;
  if (st == PredState::kSkipped) {
    // Every way into this node was a branch not taken: it is not taken either.
    r.skipped.insert(code);
    EvaluateSuccessors(r, code);
    return;
  }
  // A failed predecessor blocks a node, except a CONDITIONS node, whose job is to look at it.
  if (st == PredState::kFailed && t.task_type != "CONDITIONS") return;
  Submit(r, code,
         r.wi.state == WorkflowState::kReadyPause ? TaskState::kPause
                                                  : TaskState::kSubmittedSuccess);
}

std::set<int64_t> Engine::ChooseBranches(Runner& r, const TaskInstance& ti) {
  const TaskDefinition& t = r.dag->Task(ti.task_code);
  const auto& tp = t.task_params;
  std::set<int64_t> chosen;
  auto codes_of = [](const nlohmann::json& v) {
    std::vector<int64_t> out;
    if (v.is_number_integer()) out.push_back(v.get<int64_t>());
    if (v.is_array())
      for (const auto& e : v)
        if (e.is_number_integer()) out.push_back(e.get<int64_t>());
    return out;
  };
  if (t.task_type == "CONDITIONS") {
    // dependence: {relation, dependTaskList: [{relation, dependItemList: [{depTaskCode,
    // status}]}]}; an item holds when that upstream task ended in `status`.
    auto item_holds = [&](const nlohmann::json& item) {
      int64_t dep = item.value("depTaskCode", int64_t{0});
      std::string want = item.value("status", "SUCCESS");
      auto it = r.current.find(dep);
      if (it == r.current.end()) return false;
      TaskState s = it->second->state;
      return want == "SUCCESS" ? IsSuccess(s) : (IsFinal(s) && !IsSuccess(s));
    };
    auto combine = [](const std::string& rel, const std::vector<bool>& v) {
      if (v.empty()) return true;
      bool all = true, any = false;
      for (bool b : v) {
        all = all && b;
        any = any || b;
      }
      return rel == "OR" ? any : all;
    };
    const auto& dep = tp.contains("dependence") ? tp["dependence"] : nlohmann::json::object();
    std::vector<bool> groups;
    if (dep.contains("dependTaskList") && dep["dependTaskList"].is_array()) {
      for (const auto& g : dep["dependTaskList"]) {
        std::vector<bool> items;
        if (g.contains("dependItemList") && g["dependItemList"].is_array())
          for (const auto& item : g["dependItemList"]) items.push_back(item_holds(item));
        groups.push_back(combine(g.value("relation", "AND"), items));
      }
    }
    bool ok = combine(dep.value("relation", "AND"), groups);
    const auto& cr = tp["conditionResult"];
    for (int64_t c : codes_of(cr.value(ok ? "successNode" : "failedNode", nlohmann::json::array())))
      chosen.insert(c);
    return chosen;
  }
  // SWITCH: the first branch whose condition holds over the task's parameters, else the
  // default nextNode.
  TaskDispatch d = MakeDispatch(r, ti);
  const auto& sr = tp["switchResult"];
  if (sr.contains("dependTaskList") && sr["dependTaskList"].is_array()) {
    for (const auto& b : sr["dependTaskList"]) {
      auto text = params::Substitute(b.value("condition", ""), d.vars, d.base_time_ms);
      if (!text.ok()) continue;
      auto holds = params::EvalCondition(*text);
      if (!holds.ok()) {
        spdlog::warn("task instance {}: {}", ti.id, holds.status().message());
        continue;
      }
      if (*holds) {
        for (int64_t c : codes_of(b.contains("nextNode") ? b["nextNode"] : nlohmann::json()))
          chosen.insert(c);
        return chosen;
      }
    }
  }
  if (sr.contains("nextNode"))
    for (int64_t c : codes_of(sr["nextNode"])) chosen.insert(c);
  return chosen;
}

void Engine::SkipUnchosen(Runner& r, int64_t code, const std::set<int64_t>& chosen) {
  for (int64_t s : r.dag->Succs(code))
    if (!chosen.count(s) && r.run_set.count(s) && !r.current.count(s)) r.skipped.insert(s);
  for (int64_t s : r.dag->Succs(code))
    if (r.skipped.count(s)) EvaluateSuccessors(r, s);
}

void Engine::RunLogicTask(Runner& r, TaskInstance& ti) {
  if (ti.state != TaskState::kSubmittedSuccess) return;
  std::set<int64_t> chosen = ChooseBranches(r, ti);
  int64_t now = clock_.NowMs();
  ti.state = TaskState::kSuccess;
  ti.start_time = ti.end_time = now;
  ti.host = opts_.host;
  std::string names;
  for (int64_t c : chosen)
    if (r.dag->Has(c)) names += (names.empty() ? "" : ", ") + r.dag->Task(c).name;
  AppendMasterLog(r, ti, ti.task_type + " task " + ti.name +
                             " chose: " + (names.empty() ? "no branch" : names));
  r.active.erase(ti.task_code);
  WriteTask(r, ti);
  SkipUnchosen(r, ti.task_code, chosen);
  EvaluateSuccessors(r, ti.task_code);
  MaybeFinish(r);
}

void Engine::Evaluate(Runner& r) {
  if (!MaySubmit(r)) return;
  for (int64_t code : r.dag->TopoOrder()) TrySubmit(r, code);
}

void Engine::EvaluateSuccessors(Runner& r, int64_t code) {
  if (!MaySubmit(r)) return;
  for (int64_t s : r.dag->Succs(code)) {
    // A forbidden successor is passed through: its own successors may be ready now.
    if (r.dag->Task(s).flag == Flag::kNo && r.run_set.count(s))
      EvaluateSuccessors(r, s);
    else
      TrySubmit(r, s);
  }
}

void Engine::Submit(Runner& r, int64_t code, TaskState initial) {
  const TaskDefinition& t = r.dag->Task(code);
  int64_t now = clock_.NowMs();
  auto ti = std::make_unique<TaskInstance>();
  ti->name = t.name;
  ti->task_type = t.task_type;
  ti->workflow_instance_id = r.wi.id;
  ti->workflow_instance_name = r.wi.name;
  ti->project_code = r.wi.project_code;
  ti->task_code = t.code;
  ti->task_definition_version = t.version;
  ti->state = initial;
  ti->first_submit_time = ti->submit_time = now;
  ti->max_retry_times = t.fail_retry_times;
  ti->retry_interval = t.fail_retry_interval;
  ti->priority = t.priority;
  ti->worker_group = t.worker_group;
  ti->executor_id = r.wi.executor_id;
  ti->delay_time = t.delay_time;
  ti->task_params = t.task_params.dump();
  ti->dry_run = r.wi.dry_run;
  if (initial == TaskState::kPause) ti->end_time = now;
  TaskInstance* p = ti.get();
  r.rows.push_back(std::move(ti));
  r.current[code] = p;
  batch_.InsertTask(r.wi.owner_epoch, p);
  if (initial != TaskState::kSubmittedSuccess) return;
  r.active.insert(code);
  int64_t id = r.wi.id;
  if (t.delay_time > 0 && !r.wi.dry_run) {
    p->state = TaskState::kDelayExecution;
    r.timers[code] = clock_.RunAfter(t.delay_time * opts_.minute_ms, [this, id, code, p] {
      Post([this, id, code, p] {
        auto it = runners_.find(id);
        if (it == runners_.end() || p->state != TaskState::kDelayExecution) return;
        it->second->timers.erase(code);
        p->state = TaskState::kSubmittedSuccess;
        WriteTask(*it->second, *p);
        after_commit_.push_back([this, id, p] {
          auto it2 = runners_.find(id);
          if (it2 != runners_.end()) DispatchTask(*it2->second, *p);
        });
      });
    });
    return;
  }
  after_commit_.push_back([this, id, p] {
    auto it = runners_.find(id);
    if (it != runners_.end()) DispatchTask(*it->second, *p);
  });
}

std::vector<std::vector<Property>> Engine::UpstreamVarPools(const Runner& r, int64_t code) {
  std::vector<const TaskInstance*> ups;
  for (int64_t p : r.dag->Preds(code)) {
    auto it = r.current.find(p);
    if (it != r.current.end() && IsSuccess(it->second->state)) ups.push_back(it->second);
  }
  std::sort(ups.begin(), ups.end(),
            [](const TaskInstance* a, const TaskInstance* b) { return a->end_time < b->end_time; });
  std::vector<std::vector<Property>> pools;
  for (const TaskInstance* u : ups) {
    auto vp = PropertiesFromText(u->var_pool, "varPool");
    if (vp.ok()) pools.push_back(*vp);
  }
  return pools;
}

TaskDispatch Engine::MakeDispatch(Runner& r, const TaskInstance& ti) {
  const TaskDefinition& t = r.dag->Task(ti.task_code);
  TaskDispatch d;
  d.task_instance_id = ti.id;
  d.attempt = ti.retry_times;
  d.master_epoch = r.wi.owner_epoch;
  d.workflow_instance_id = r.wi.id;
  d.project_code = r.wi.project_code;
  d.definition_code = r.wi.definition_code;
  d.task_name = t.name;
  d.task_type = t.task_type;
  d.task_params = ti.task_params;
  d.local_params = t.LocalParams();
  d.base_time_ms = r.wi.schedule_time ? r.wi.schedule_time : r.wi.start_time;
  d.workflow_priority = r.wi.priority;
  d.task_priority = t.priority;
  d.dry_run = r.wi.dry_run != 0;
  d.worker_group = t.worker_group;
  d.master_host = opts_.host;
  d.worker_host = ti.host;
  if (t.timeout_enabled && t.timeout > 0 && t.timeout_strategy &&
      *t.timeout_strategy != TimeoutStrategy::kWarn) {
    d.timeout_ms = t.timeout * opts_.minute_ms;
    d.timeout_kills = true;
  }
  // The var pools of the direct predecessors, earliest finisher first.
  std::vector<std::vector<Property>> pools = UpstreamVarPools(r, ti.task_code);
  params::BuiltinInputs bi;
  bi.base_ms = d.base_time_ms;
  bi.task_instance_id = ti.id;
  bi.workflow_instance_id = r.wi.id;
  bi.project_name = r.project_name;
  bi.project_code = r.wi.project_code;
  bi.workflow_name = r.def.name;
  bi.workflow_code = r.def.code;
  bi.task_name = t.name;
  bi.task_code = t.code;
  auto vars = params::ResolveTaskParams(r.global_params, params::MergeVarPools(pools),
                                        d.local_params, r.startup_params, params::Builtins(bi),
                                        d.base_time_ms);
  if (vars.ok()) {
    d.vars = *vars;
  } else {
    spdlog::warn("task instance {}: parameters: {}", ti.id, vars.status().message());
    d.vars = params::Builtins(bi);
  }
  return d;
}

void Engine::DispatchTask(Runner& r, TaskInstance& ti) {
  r.by_id[ti.id] = &ti;  // its insert has committed: events may name it from now on
  if (ti.state != TaskState::kSubmittedSuccess) return;  // killed or paused meanwhile
  if (r.dag->Task(ti.task_code).task_group_id > 0 && !TaskGroupAdmit(r, ti)) return;
  if (IsLogicTaskType(ti.task_type)) {
    RunLogicTask(r, ti);  // logic tasks run inside the master (DESIGN.md §3)
    return;
  }
  if (ti.task_type == "SUB_PROCESS") {
    StartSubWorkflow(r, ti);
    return;
  }
  if (ti.task_type == "DEPENDENT") {
    CheckDependent(r, ti);
    return;
  }
  TaskDispatch d = MakeDispatch(r, ti);
  const TaskDefinition& t = r.dag->Task(ti.task_code);
  if (t.timeout_enabled && t.timeout > 0 && t.timeout_strategy &&
      *t.timeout_strategy != TimeoutStrategy::kFailed) {
    int64_t id = r.wi.id, tid = ti.id;
    clock_.RunAfter(t.timeout * opts_.minute_ms, [this, id, tid] {
      Post([this, id, tid] {
        auto it = runners_.find(id);
        if (it == runners_.end()) return;
        for (auto& row : it->second->rows)
          if (row->id == tid && Active(row->state)) {
            spdlog::warn("task instance {} ({}) passed its timeout (WARN)", tid, row->name);
            const Runner& run = *it->second;
            if (auto a = alert::TaskTimeoutAlert(run.wi, run.project_name, *row))
              batch_.AddAlert(id, run.wi.owner_epoch, *std::move(a));
          }
      });
    });
  }
  Status s = worker_->Dispatch(d);
  if (!s.ok()) spdlog::error("dispatch of task instance {} failed: {}", ti.id, s.message());
}

void Engine::HandleEvent(const TaskEvent& e) {
  auto it = runners_.find(e.workflow_instance_id);
  if (it == runners_.end()) return;  // not ours (any more)
  Runner& r = *it->second;
  if (e.master_epoch != r.wi.owner_epoch) return;  // an attempt this owner did not start
  auto found = r.by_id.find(e.task_instance_id);
  TaskInstance* ti = found == r.by_id.end() ? nullptr : found->second;
  if (!ti || ti->flag != Flag::kYes || ti->retry_times != e.attempt || IsFinal(ti->state))
    return;  // stale or repeated
  ti->host = e.host;
  if (!e.execute_path.empty()) ti->execute_path = e.execute_path;
  if (!e.log_path.empty()) ti->log_path = e.log_path;
  if (e.pid) ti->pid = e.pid;
  if (e.type == TaskEventType::kRunning) {
    if (ti->state != TaskState::kRunningExecution) {
      ti->state = TaskState::kRunningExecution;
      if (!ti->start_time) ti->start_time = e.time_ms;
      WriteTask(r, *ti);
    }
    return;
  }
  if (!IsLegal(ti->state, e.state))
    spdlog::warn("task instance {}: {} -> {} is not a legal transition; taking the worker's word",
                 ti->id, Name(ti->state), Name(e.state));
  ti->state = e.state;
  r.active.erase(ti->task_code);
  if (!ti->start_time) ti->start_time = e.time_ms;
  ti->end_time = e.time_ms;
  if (e.state == TaskState::kSuccess) {
    // The var pool flows downstream transitively: what this task's predecessors passed on,
    // overridden by what it set itself.
    std::vector<std::vector<Property>> pools = UpstreamVarPools(r, ti->task_code);
    // Its own values win: the merge gives the earliest list priority.
    pools.insert(pools.begin(), e.var_pool);
    ti->var_pool = PropertiesToJson(params::MergeVarPools(pools)).dump();
  } else {
    ti->var_pool = PropertiesToJson(e.var_pool).dump();
  }
  WriteTask(r, *ti);
  switch (e.state) {
    case TaskState::kFailure:
      OnTaskFailed(r, *ti);
      if (!r.retry_pending.count(ti->task_code)) EvaluateSuccessors(r, ti->task_code);
      break;
    case TaskState::kKill:
      if (r.wi.state != WorkflowState::kReadyStop) r.failure = true;
      break;
    case TaskState::kNeedFaultTolerance: {
      // The attempt was lost with its worker: run it again, not counted as a retry.
      NewAttempt(r, *ti, ti->retry_times);
      break;
    }
    case TaskState::kSuccess:
      EvaluateSuccessors(r, ti->task_code);
      break;
    default:
      break;
  }
  MaybeFinish(r);
}

void Engine::OnTaskFailed(Runner& r, TaskInstance& ti) {
  if (ti.retry_times < ti.max_retry_times && r.wi.state == WorkflowState::kRunningExecution) {
    int64_t id = r.wi.id, code = ti.task_code, tid = ti.id;
    r.retry_pending.insert(code);
    r.timers[code] = clock_.RunAfter(ti.retry_interval * opts_.minute_ms, [this, id, code, tid] {
      Post([this, id, code, tid] { Retry(id, code, tid); });
    });
    return;
  }
  // A failure that a CONDITIONS task downstream looks at is handled there, not a failure of
  // the workflow.
  for (int64_t s : r.dag->Succs(ti.task_code))
    if (r.run_set.count(s) && r.dag->Task(s).task_type == "CONDITIONS" &&
        r.dag->Task(s).flag == Flag::kYes)
      return;
  r.failure = true;
  if (r.wi.failure_strategy == FailureStrategy::kEnd) KillRunning(r);
}

void Engine::Retry(int64_t wi_id, int64_t code, int64_t ti_id) {
  auto it = runners_.find(wi_id);
  if (it == runners_.end()) return;
  Runner& r = *it->second;
  if (!r.retry_pending.erase(code)) return;
  r.timers.erase(code);
  TaskInstance* old = r.current[code];
  if (!old || old->id != ti_id) return;
  if (r.wi.state != WorkflowState::kRunningExecution) {
    r.failure = true;
    MaybeFinish(r);
    return;
  }
  NewAttempt(r, *old, old->retry_times + 1);
}

void Engine::NewAttempt(Runner& r, TaskInstance& old, int retry_times) {
  old.flag = Flag::kNo;
  WriteTask(r, old);
  auto next = std::make_unique<TaskInstance>(old);
  next->id = 0;
  next->flag = Flag::kYes;
  next->retry_times = retry_times;  // first_submit_time stays: it is the task's, not the attempt's
  next->state = TaskState::kSubmittedSuccess;
  next->submit_time = clock_.NowMs();
  next->start_time = next->end_time = 0;
  next->pid = 0;
  next->host.clear();
  next->execute_path.clear();
  next->log_path.clear();
  next->var_pool = "[]";
  TaskInstance* p = next.get();
  r.rows.push_back(std::move(next));
  r.current[p->task_code] = p;
  r.active.insert(p->task_code);
  batch_.InsertTask(r.wi.owner_epoch, p);
  int64_t id = r.wi.id;
  after_commit_.push_back([this, id, p] {
    auto it = runners_.find(id);
    if (it != runners_.end()) DispatchTask(*it->second, *p);
  });
}

void Engine::KillRunning(Runner& r) {
  int64_t now = clock_.NowMs();
  for (int64_t code : std::vector<int64_t>(r.retry_pending.begin(), r.retry_pending.end())) {
    clock_.Cancel(r.timers[code]);
    r.timers.erase(code);
    r.retry_pending.erase(code);
  }
  for (auto& [code, ti] : r.current) {
    if (!Active(ti->state)) continue;
    // A task with no process behind it ends here: never dispatched (delayed or not committed
    // yet), a DEPENDENT task that only waits for its next re-check, or a SUB_PROCESS task whose
    // child does not exist yet. A running child is stopped instead; its end ends the task.
    Runner* child = ti->task_type == "SUB_PROCESS" ? ChildOf(ti->id) : nullptr;
    if (child) {
      StopInstance(*child);
      continue;
    }
    if (ti->state == TaskState::kDelayExecution || ti->id == 0 || ti->task_type == "DEPENDENT" ||
        ti->task_type == "SUB_PROCESS" || TaskGroupWaiting(*ti)) {
      if (r.timers.count(code)) clock_.Cancel(r.timers[code]);
      r.timers.erase(code);
      ti->state = TaskState::kKill;
      ti->end_time = now;
      r.active.erase(code);
      WriteTask(r, *ti);
      continue;
    }
    int64_t id = ti->id;
    int attempt = ti->retry_times;
    int64_t epoch = r.wi.owner_epoch;
    after_commit_.push_back([this, id, attempt, epoch] { worker_->Kill(id, attempt, epoch); });
  }
}

void Engine::MaybeFinish(Runner& r) {
  if (IsFinal(r.wi.state) || Waiting(r.wi.state)) return;
  if (!r.retry_pending.empty() || !r.active.empty()) return;
  WorkflowState final_state;
  if (r.wi.state == WorkflowState::kReadyStop) {
    final_state = WorkflowState::kStop;
  } else if (r.wi.state == WorkflowState::kReadyPause) {
    bool paused = false;
    for (auto& [code, ti] : r.current) paused = paused || ti->state == TaskState::kPause;
    final_state = paused ? WorkflowState::kPause
                         : (r.failure ? WorkflowState::kFailure : WorkflowState::kSuccess);
  } else {
    final_state = r.failure ? WorkflowState::kFailure : WorkflowState::kSuccess;
  }
  SetWorkflowState(r, final_state);
  ReleaseAfterCommit(r);
}

void Engine::ReleaseAfterCommit(Runner& r) {
  int64_t id = r.wi.id, def = r.wi.definition_code, group = r.wi.trigger_code;
  bool complement = r.wi.command_type == CommandType::kComplementData;
  // Release the runner once its final state is durable: nothing is left in memory. A serial
  // definition's next waiting instance, or the backfill's next date, may start then.
  after_commit_.push_back([this, id, def, group, complement] {
    auto it = runners_.find(id);
    if (it != runners_.end() && IsFinal(it->second->wi.state)) {
      for (auto& [code, t] : it->second->timers) clock_.Cancel(t);
      WorkflowInstance done = it->second->wi;
      runners_.erase(it);
      --runner_count_;
      PromoteSerialWaiter(def);
      if (complement) PromoteComplementWaiters(group);
      if (done.is_sub_process) OnChildFinished(done);
    }
  });
}

void Engine::PromoteComplementWaiters(int64_t trigger_code) {
  int running = 0, parallelism = 0;
  std::vector<Runner*> waiting;
  for (auto& [id, r] : runners_) {
    if (r->wi.trigger_code != trigger_code || IsFinal(r->wi.state)) continue;
    parallelism = std::max(parallelism, ComplementParallelism(r->wi.command_param));
    if (r->wi.state == WorkflowState::kWaitToRun)
      waiting.push_back(r.get());
    else
      ++running;
  }
  std::sort(waiting.begin(), waiting.end(),
            [](Runner* a, Runner* b) { return a->wi.id < b->wi.id; });
  for (Runner* next : waiting) {
    if (running >= std::max(1, parallelism)) return;
    next->wi.start_time = clock_.NowMs();
    SetWorkflowState(*next, WorkflowState::kRunningExecution);
    ++running;
    Evaluate(*next);
    MaybeFinish(*next);
  }
}

void Engine::PromoteSerialWaiter(int64_t definition_code) {
  Runner* next = nullptr;
  for (auto& [id, r] : runners_) {
    if (r->wi.definition_code != definition_code || IsFinal(r->wi.state)) continue;
    if (r->wi.state != WorkflowState::kSerialWait) return;  // one still runs
    if (!next || r->wi.id < next->wi.id) next = r.get();
  }
  if (!next) return;
  next->wi.start_time = clock_.NowMs();
  SetWorkflowState(*next, WorkflowState::kRunningExecution);
  Evaluate(*next);
  MaybeFinish(*next);
}

void Engine::StopInstance(Runner& r) {
  if (Waiting(r.wi.state)) {
    SetWorkflowState(r, WorkflowState::kStop);
    ReleaseAfterCommit(r);
    return;
  }
  if (r.wi.state == WorkflowState::kReadyStop || IsFinal(r.wi.state)) return;
  SetWorkflowState(r, WorkflowState::kReadyStop);
  KillRunning(r);
  MaybeFinish(r);
}

void Engine::AppendMasterLog(Runner& r, TaskInstance& ti, const std::string& line) {
  // The master writes the log of a task it runs itself (logic tasks, SUB_PROCESS).
  if (opts_.log_base.empty()) return;
  ti.log_path = opts_.log_base + "/" + std::to_string(r.wi.id) + "/" + std::to_string(ti.id) + ".log";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(ti.log_path).parent_path(), ec);
  std::ofstream log(ti.log_path, std::ios::app);
  log << "[INFO] " << FormatDateTime(clock_.NowMs()) << " - " << line << "\n";
}

Engine::Runner* Engine::ChildOf(int64_t parent_task_id) {
  for (auto& [id, r] : runners_)
    if (r->wi.is_sub_process && r->wi.trigger_code == -parent_task_id) return r.get();
  return nullptr;
}

void Engine::ResumeTask(Runner& r, TaskInstance& ti) {
  // A task of a task group goes back to its queue: it holds its slot again, or waits.
  if (r.dag->Task(ti.task_code).task_group_id > 0 && !TaskGroupAdmit(r, ti)) return;
  if (ti.task_type == "SUB_PROCESS") return StartSubWorkflow(r, ti);
  if (ti.task_type == "DEPENDENT") return CheckDependent(r, ti);
  if (IsLogicTaskType(ti.task_type)) return RunLogicTask(r, ti);
  if (opts_.worker_alive && !ti.host.empty() && !opts_.worker_alive(ti.host)) {
    // Its worker died while no master listened: nothing to re-attach to.
    HandleEvent(FinishEvent(r, ti, TaskState::kNeedFaultTolerance, ti.host));
    return;
  }
  worker_->Reattach(MakeDispatch(r, ti));
}

void Engine::StartSubWorkflow(Runner& r, TaskInstance& ti) {
  int64_t now = clock_.NowMs();
  auto fail = [&](const std::string& why) {
    spdlog::warn("task instance {} ({}): {}", ti.id, ti.name, why);
    AppendMasterLog(r, ti, why);
    ti.state = TaskState::kFailure;
    ti.end_time = now;
    if (!ti.start_time) ti.start_time = now;
    r.active.erase(ti.task_code);
    WriteTask(r, ti);
    OnTaskFailed(r, ti);
    EvaluateSuccessors(r, ti.task_code);
    MaybeFinish(r);
  };
  if (r.wi.dry_run) {  // a dry run creates no child instance
    AppendMasterLog(r, ti, "dry run: no sub-workflow instance is created");
    ti.state = TaskState::kSuccess;
    ti.start_time = ti.end_time = now;
    r.active.erase(ti.task_code);
    WriteTask(r, ti);
    EvaluateSuccessors(r, ti.task_code);
    MaybeFinish(r);
    return;
  }
  auto mark_running = [&] {
    if (ti.state == TaskState::kRunningExecution) return;
    ti.state = TaskState::kRunningExecution;
    ti.start_time = now;
    ti.host = opts_.host;
    WriteTask(r, ti);
  };
  // Idempotent: a child made before a restart (or still waiting as a command) is reused.
  if (ChildOf(ti.id)) return mark_running();
  bool recovering = r.wi.command_type == CommandType::kRecoverSuspendedProcess;
  auto existing = instances_.ListByTrigger(-ti.id);
  if (existing.ok() && !existing->empty()) {
    mark_running();
    const WorkflowInstance& child = existing->back();
    if (recovering && Suspended(child.state)) return ResumeSubWorkflow(r, ti, child);
    if (IsFinal(child.state)) OnChildFinished(child);
    return;
  }
  auto pending = instances_.ListCommands(1000);
  if (pending.ok())
    for (const Command& c : *pending)
      if (c.trigger_code == -ti.id) return mark_running();
  if (recovering) {
    // Recovering a stopped parent: the task runs as a new attempt, and the child the earlier
    // attempt left stopped (or paused) is resumed rather than replaced.
    for (auto it = r.rows.rbegin(); it != r.rows.rend(); ++it) {
      const TaskInstance& earlier = **it;
      if (earlier.task_code != ti.task_code || earlier.id == ti.id || earlier.id == 0) continue;
      auto kids = instances_.ListByTrigger(-earlier.id);
      if (!kids.ok() || kids->empty()) continue;
      if (!Suspended(kids->back().state)) break;
      mark_running();
      return ResumeSubWorkflow(r, ti, kids->back());
    }
  }

  const TaskDefinition& t = r.dag->Task(ti.task_code);
  int64_t child_code = t.task_params.value("processDefinitionCode", int64_t{0});
  auto child_def = defs_.GetWorkflow(child_code);
  if (!child_def.ok()) return fail("sub-workflow " + std::to_string(child_code) + ": " + child_def.status().message());
  // Parameters flow down: the child's global params take the values the parent task sees.
  TaskDispatch d = MakeDispatch(r, ti);
  json start_params = json::object();
  for (const Property& p : child_def->global_params)
    if (d.vars.count(p.prop)) start_params[p.prop] = d.vars.at(p.prop);
  Command c;
  c.command_type = CommandType::kStartProcess;
  c.definition_code = child_code;
  c.project_code = child_def->project_code;
  c.executor_id = r.wi.executor_id;
  c.failure_strategy = r.wi.failure_strategy;
  c.priority = r.wi.priority;
  c.worker_group = r.wi.worker_group;
  c.schedule_time = r.wi.schedule_time;
  c.start_time = now;
  c.trigger_code = -ti.id;
  c.command_param = json{{"StartNodeList", json::array()},
                         {"StartParams", start_params},
                         {"ParentWorkflowInstanceId", r.wi.id},
                         {"ParentTaskInstanceId", ti.id}}
                        .dump();
  auto inserted = instances_.InsertCommand(c);
  if (!inserted.ok()) return fail("cannot start the sub-workflow: " + inserted.status().message());
  AppendMasterLog(r, ti, "SUB_PROCESS task " + ti.name + " starts workflow " + child_def->name +
                             " (" + std::to_string(child_code) + ")");
  mark_running();
  std::lock_guard<std::mutex> l(mu_);
  commands_pending_ = true;
}

void Engine::ResumeSubWorkflow(Runner& r, TaskInstance& ti, const WorkflowInstance& child) {
  json param = json::parse(child.command_param.empty() ? "{}" : child.command_param, nullptr, false);
  if (!param.is_object()) param = json::object();
  param["ParentWorkflowInstanceId"] = r.wi.id;
  param["ParentTaskInstanceId"] = ti.id;
  Command c;
  c.command_type = CommandType::kRecoverSuspendedProcess;
  c.definition_code = child.definition_code;
  c.definition_version = child.definition_version;
  c.project_code = child.project_code;
  c.workflow_instance_id = child.id;
  c.command_param = param.dump();
  c.task_depend_type = child.task_depend_type;
  c.failure_strategy = child.failure_strategy;
  c.priority = child.priority;
  c.executor_id = child.executor_id;
  c.start_time = clock_.NowMs();
  // The trigger code names the task row, so a restart before the command is taken finds it
  // pending (StartSubWorkflow) instead of resuming the child twice.
  c.trigger_code = -ti.id;
  auto inserted = instances_.InsertCommand(c);
  if (!inserted.ok()) {
    spdlog::warn("task instance {} ({}): cannot resume sub-workflow instance {}: {}", ti.id,
                 ti.name, child.id, inserted.status().message());
    AppendMasterLog(r, ti, "cannot resume sub-workflow instance " + std::to_string(child.id));
    FinishFromMaster(r, ti, TaskState::kFailure);
    return;
  }
  AppendMasterLog(r, ti, "SUB_PROCESS task " + ti.name + " resumes sub-workflow instance " +
                             std::to_string(child.id) + " (" + Name(child.state) + ")");
  std::lock_guard<std::mutex> l(mu_);
  commands_pending_ = true;
}

Engine::DependResult Engine::EvaluateDependItem(Runner& r, const nlohmann::json& item,
                                                std::string* why) {
  int64_t def_code = item.value("definitionCode", int64_t{0});
  int64_t task_code = item.value("depTaskCode", int64_t{0});
  std::string date_value = item.value("dateValue", "");
  int64_t business = r.wi.schedule_time ? r.wi.schedule_time : r.wi.start_time;
  auto intervals = cron::DependentIntervals(date_value, business);
  if (!intervals.ok()) {
    *why = intervals.status().message();
    return DependResult::kFailed;
  }
  InstanceFilter f;
  f.project_code = item.value("projectCode", int64_t{0});
  f.definition_code = def_code;
  // The newest runs of that workflow; a dependency looks back a month at most.
  auto runs = instances_.ListWorkflowInstances(f, {0, 500});
  if (!runs.ok()) {
    *why = runs.status().message();
    return DependResult::kWaiting;  // the database will answer again
  }
  DependResult worst = DependResult::kSuccess;
  for (const cron::Interval& in : *intervals) {
    const WorkflowInstance* running = nullptr;
    const WorkflowInstance* latest = nullptr;
    for (const WorkflowInstance& w : runs->rows) {
      if (w.id == r.wi.id) continue;
      int64_t t = w.schedule_time ? w.schedule_time : w.start_time;
      if (t < in.start_ms || t > in.end_ms) continue;
      if (!IsFinal(w.state)) running = &w;
      else if (!latest || w.end_time > latest->end_time) latest = &w;
    }
    DependResult res;
    std::string when = FormatDateTime(in.start_ms) + " .. " + FormatDateTime(in.end_ms);
    if (running) {
      res = DependResult::kWaiting;
      *why = "workflow " + std::to_string(def_code) + " still runs for " + when;
    } else if (!latest) {
      res = DependResult::kFailed;
      *why = "no run of workflow " + std::to_string(def_code) + " for " + when;
    } else if (task_code == 0) {
      res = latest->state == WorkflowState::kSuccess ? DependResult::kSuccess : DependResult::kFailed;
      *why = "workflow " + std::to_string(def_code) + " ended " + Name(latest->state) + " for " + when;
    } else {
      res = DependResult::kFailed;
      *why = "task " + std::to_string(task_code) + " did not run in instance " + std::to_string(latest->id);
      auto rows = instances_.ListTaskInstances(latest->id);
      if (rows.ok())
        for (const TaskInstance& t : *rows)
          if (t.task_code == task_code && t.flag == Flag::kYes) {
            res = IsSuccess(t.state) ? DependResult::kSuccess
                  : IsFinal(t.state) ? DependResult::kFailed
                                     : DependResult::kWaiting;
            *why = "task " + t.name + " of instance " + std::to_string(latest->id) + " is " +
                   Name(t.state);
          }
    }
    if (res == DependResult::kFailed) return res;
    if (res == DependResult::kWaiting) worst = res;
  }
  return worst;
}

void Engine::CheckDependent(Runner& r, TaskInstance& ti) {
  if (Active(ti.state) && ti.state != TaskState::kRunningExecution) {
    ti.state = TaskState::kRunningExecution;
    ti.start_time = clock_.NowMs();
    ti.host = opts_.host;
    WriteTask(r, ti);
  }
  const auto& dep = r.dag->Task(ti.task_code).task_params["dependence"];
  // AND: failed if any failed, else waiting if any waits. OR: success if any succeeded, else
  // waiting if any waits.
  auto combine = [](const std::string& rel, const std::vector<DependResult>& v) {
    bool any_fail = false, any_wait = false, any_ok = false;
    for (DependResult d : v) {
      any_fail = any_fail || d == DependResult::kFailed;
      any_wait = any_wait || d == DependResult::kWaiting;
      any_ok = any_ok || d == DependResult::kSuccess;
    }
    if (rel == "OR")
      return any_ok ? DependResult::kSuccess : any_wait ? DependResult::kWaiting : DependResult::kFailed;
    return any_fail ? DependResult::kFailed : any_wait ? DependResult::kWaiting : DependResult::kSuccess;
  };
  std::vector<DependResult> groups;
  for (const auto& g : dep["dependTaskList"]) {
    std::vector<DependResult> items;
    if (g.contains("dependItemList"))
      for (const auto& item : g["dependItemList"]) {
        std::string why;
        items.push_back(EvaluateDependItem(r, item, &why));
        AppendMasterLog(r, ti, why);
      }
    groups.push_back(combine(g.value("relation", "AND"), items));
  }
  DependResult result = combine(dep.value("relation", "AND"), groups);
  if (result == DependResult::kWaiting) {
    // Re-checked on a timer: another workflow's progress is not an event of this instance.
    int64_t every_ms = std::max<int64_t>(1, dep.value("checkInterval", int64_t{10})) * 1000;
    int64_t id = r.wi.id, code = ti.task_code, tid = ti.id;
    r.timers[code] = clock_.RunAfter(every_ms, [this, id, code, tid] {
      Post([this, id, code, tid] {
        auto it = runners_.find(id);
        if (it == runners_.end()) return;
        it->second->timers.erase(code);
        auto row = it->second->by_id.find(tid);
        if (row != it->second->by_id.end() && Active(row->second->state))
          CheckDependent(*it->second, *row->second);
      });
    });
    return;
  }
  AppendMasterLog(r, ti, std::string("dependence ") + (result == DependResult::kSuccess ? "met" : "failed"));
  FinishFromMaster(r, ti, result == DependResult::kSuccess ? TaskState::kSuccess
                                                           : TaskState::kFailure);
}

void Engine::FinishFromMaster(Runner& r, const TaskInstance& ti, TaskState state) {
  HandleEvent(FinishEvent(r, ti, state, opts_.host));
}

void Engine::OnChildFinished(const WorkflowInstance& child) {
  auto [pwid, ptid] = ParentOf(child.command_param);
  auto it = runners_.find(pwid);
  if (it == runners_.end()) return;
  Runner& parent = *it->second;
  auto row = parent.by_id.find(ptid);
  if (row == parent.by_id.end() || IsFinal(row->second->state)) return;
  AppendMasterLog(parent, *row->second, "sub-workflow instance " + std::to_string(child.id) +
                                            " ended " + Name(child.state));
  FinishFromMaster(parent, *row->second,
                   child.state == WorkflowState::kSuccess ? TaskState::kSuccess
                   : child.state == WorkflowState::kPause ? TaskState::kPause
                   : child.state == WorkflowState::kStop  ? TaskState::kKill
                                                          : TaskState::kFailure);
}

void Engine::DoExecute(int64_t id, ExecuteType type, Status* out) {
  auto it = runners_.find(id);
  if (it != runners_.end()) {
    Runner& r = *it->second;
    WorkflowState s = r.wi.state;
    switch (type) {
      case ExecuteType::kPause:
        if (s == WorkflowState::kReadyPause) return;
        if (s != WorkflowState::kRunningExecution) break;
        SetWorkflowState(r, WorkflowState::kReadyPause);
        // Pause is passed down to running sub-workflows; their pause ends their task.
        for (auto& [code, ti] : r.current)
          if (ti->task_type == "SUB_PROCESS" && Active(ti->state))
            if (Runner* child = ChildOf(ti->id);
                child && child->wi.state == WorkflowState::kRunningExecution) {
              SetWorkflowState(*child, WorkflowState::kReadyPause);
              MaybeFinish(*child);
            }
        MaybeFinish(r);
        return;
      case ExecuteType::kStop:
        if (s == WorkflowState::kReadyStop) return;
        if (s != WorkflowState::kRunningExecution && s != WorkflowState::kReadyPause &&
            !Waiting(s))
          break;
        StopInstance(r);
        return;
      default:
        break;
    }
    *out = FailedPrecondition("the status of process instance " + r.wi.name + " is " +
                              Name(s) + ", cannot execute this action");
    return;
  }
  auto wi = instances_.GetWorkflowInstance(id);
  if (!wi.ok()) {
    *out = wi.status();
    return;
  }
  CommandType ct;
  bool allowed;
  switch (type) {
    case ExecuteType::kRecoverSuspended:
      ct = CommandType::kRecoverSuspendedProcess;
      allowed = wi->state == WorkflowState::kPause || wi->state == WorkflowState::kStop;
      break;
    case ExecuteType::kStartFailureTask:
      ct = CommandType::kStartFailureTaskProcess;
      allowed = wi->state == WorkflowState::kFailure;
      break;
    case ExecuteType::kRepeatRunning:
      ct = CommandType::kRepeatRunning;
      allowed = IsFinal(wi->state);
      break;
    default:
      ct = CommandType::kStop;
      allowed = false;
  }
  if (!allowed) {
    *out = FailedPrecondition("the status of process instance " + wi->name + " is " +
                              Name(wi->state) + ", cannot execute this action");
    return;
  }
  // A second recover / rerun while one is pending is refused, as DolphinScheduler does.
  auto pending = instances_.ListCommands(1000);
  if (pending.ok())
    for (const Command& c : *pending)
      if (c.workflow_instance_id == id) {
        *out = FailedPrecondition("process instance " + wi->name +
                                  " already has a pending command");
        return;
      }
  Command c;
  c.command_type = ct;
  c.definition_code = wi->definition_code;
  c.definition_version = wi->definition_version;
  c.project_code = wi->project_code;
  c.workflow_instance_id = id;
  c.command_param = wi->command_param;
  c.task_depend_type = wi->task_depend_type;
  c.failure_strategy = wi->failure_strategy;
  c.priority = wi->priority;
  c.start_time = clock_.NowMs();
  auto inserted = instances_.InsertCommand(c);
  if (!inserted.ok()) {
    *out = inserted.status();
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  commands_pending_ = true;
}

// ------------------------------------------------------------------ force success, execute task

Status Engine::ForceTaskSuccess(int64_t task_instance_id) {
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  Post([this, task_instance_id, done] {
    DoForceTaskSuccess(task_instance_id, [done](Status s) { done->set_value(s); });
  });
  return fut.get();
}

// Runs on the engine thread, so no recover or rerun of the instance can be claimed between the
// checks and the write; the write goes through the group commit, fenced by the instance's
// owner_epoch like every other write of its rows, and the answer comes once it is durable.
void Engine::DoForceTaskSuccess(int64_t task_instance_id, std::function<void(Status)> done) {
  auto ti = instances_.GetTaskInstance(task_instance_id);
  if (!ti.ok()) return done(ti.status());
  auto wi = instances_.GetWorkflowInstance(ti->workflow_instance_id);
  if (!wi.ok()) return done(wi.status());
  if (runners_.count(wi->id) || !IsFinal(wi->state))
    return done(FailedPrecondition("the status of process instance " + wi->name + " is " +
                                   Name(wi->state) + ", cannot force a task to success"));
  if (!IsLegal(ti->state, TaskState::kForcedSuccess))
    return done(FailedPrecondition("the status of task instance " + ti->name + " is " +
                                   Name(ti->state)));
  int64_t now = clock_.NowMs();
  ti->state = TaskState::kForcedSuccess;
  ti->end_time = now;
  batch_.UpdateTask(wi->owner_epoch, *ti);
  // The instance succeeds when this was its last failure and nothing is left unrun: every
  // enabled task of its definition version has a current row, and none of them failed.
  if (wi->state == WorkflowState::kFailure || wi->state == WorkflowState::kStop) {
    auto rows = instances_.ListTaskInstances(wi->id);
    auto def = defs_.GetWorkflowVersion(wi->definition_code, wi->definition_version);
    if (rows.ok() && def.ok()) {
      std::set<int64_t> ran;
      bool other_failure = false;
      for (const TaskInstance& t : *rows) {
        if (t.flag != Flag::kYes) continue;
        ran.insert(t.task_code);
        if (t.id != ti->id && IsFinal(t.state) && !IsSuccess(t.state)) other_failure = true;
      }
      bool all_ran = true;
      for (const TaskDefinition& t : def->tasks)
        if (t.flag == Flag::kYes && !ran.count(t.code)) all_ran = false;
      if (all_ran && !other_failure && IsLegal(wi->state, WorkflowState::kSuccess)) {
        wi->state = WorkflowState::kSuccess;
        json hist = json::parse(wi->state_history.empty() ? "[]" : wi->state_history, nullptr,
                                false);
        if (!hist.is_array()) hist = json::array();
        hist.push_back({{"time", FormatDateTime(now)},
                        {"state", Name(wi->state)},
                        {"desc", "success by task force success"}});
        wi->state_history = hist.dump();
        batch_.UpdateWorkflow(*wi);
      }
    }
  }
  // A lost fence drops the group without an error: read back what was stored.
  after_commit_.push_back([this, task_instance_id, done] {
    auto now_row = instances_.GetTaskInstance(task_instance_id);
    if (!now_row.ok()) return done(now_row.status());
    if (now_row->state != TaskState::kForcedSuccess)
      return done(Aborted("task instance " + std::to_string(task_instance_id) +
                          " was changed by another master"));
    done(Status::Ok());
  });
}

Status Engine::ExecuteTask(int64_t workflow_instance_id, const std::vector<int64_t>& start_nodes,
                           TaskDependType mode) {
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  Post([this, workflow_instance_id, start_nodes, mode, done] {
    done->set_value(DoExecuteTask(workflow_instance_id, start_nodes, mode));
  });
  return fut.get();
}

Status Engine::DoExecuteTask(int64_t id, const std::vector<int64_t>& start_nodes,
                             TaskDependType mode) {
  auto wi = instances_.GetWorkflowInstance(id);
  if (!wi.ok()) return wi.status();
  if (runners_.count(id) || !IsFinal(wi->state))
    return FailedPrecondition("the status of process instance " + wi->name + " is " +
                              Name(wi->state) + ", cannot execute this action");
  if (start_nodes.empty()) return InvalidArgument("startNodeList: it is empty");
  auto def = defs_.GetWorkflowVersion(wi->definition_code, wi->definition_version);
  if (!def.ok()) return def.status();
  auto dag = Dag::Build(def->tasks, def->relations);
  if (!dag.ok()) return dag.status();
  auto run_set = SelectRunSet(*dag, start_nodes, mode);
  if (!run_set.ok()) return run_set.status();
  auto pending = instances_.ListCommands(1000);
  if (!pending.ok()) return pending.status();
  for (const Command& c : *pending)
    if (c.workflow_instance_id == id)
      return FailedPrecondition("process instance " + wi->name + " already has a pending command");
  json param = json::parse(wi->command_param.empty() ? "{}" : wi->command_param, nullptr, false);
  if (!param.is_object()) param = json::object();
  param["StartNodeList"] = start_nodes;
  Command c;
  c.command_type = CommandType::kExecuteTask;
  c.definition_code = wi->definition_code;
  c.definition_version = wi->definition_version;
  c.project_code = wi->project_code;
  c.workflow_instance_id = id;
  c.command_param = param.dump();
  c.task_depend_type = mode;
  c.failure_strategy = wi->failure_strategy;
  c.priority = wi->priority;
  c.start_time = clock_.NowMs();
  auto inserted = instances_.InsertCommand(c);
  if (!inserted.ok()) return inserted.status();
  std::lock_guard<std::mutex> l(mu_);
  commands_pending_ = true;
  return Status::Ok();
}

// The instance runs again with the command's start nodes and mode: the rows of the tasks it
// covers are superseded (flag NO, so those tasks are submitted anew), the others stay as the
// last run left them (so a task outside it that failed still fails the instance).
Status Engine::PrepareExecuteTask(const Command& c, int64_t now, WorkflowInstance* wi,
                                  int64_t* expected_epoch, std::vector<TaskInstance>* supersede) {
  auto got = instances_.GetWorkflowInstance(c.workflow_instance_id);
  if (!got.ok()) return got.status();
  if (runners_.count(got->id) || !IsFinal(got->state))
    return FailedPrecondition("workflow instance " + std::to_string(got->id) + " is " +
                              Name(got->state) + ", cannot " + Name(c.command_type));
  auto def = defs_.GetWorkflowVersion(got->definition_code, got->definition_version);
  if (!def.ok()) return def.status();
  auto dag = Dag::Build(def->tasks, def->relations);
  if (!dag.ok()) return dag.status();
  auto spec = ParseCommandParam(c.command_param);
  if (!spec.ok()) return spec.status();
  auto run_set = SelectRunSet(*dag, spec->start_nodes, c.task_depend_type);
  if (!run_set.ok()) return run_set.status();
  auto rows = instances_.ListTaskInstances(got->id);
  if (!rows.ok()) return rows.status();
  for (TaskInstance t : *rows) {
    if (t.flag != Flag::kYes || !run_set->count(t.task_code)) continue;
    t.flag = Flag::kNo;
    supersede->push_back(t);
  }
  *wi = *got;
  *expected_epoch = wi->owner_epoch;
  wi->state = WorkflowState::kRunningExecution;
  wi->run_times += 1;
  wi->restart_time = now;
  wi->end_time = 0;
  wi->command_type = c.command_type;
  wi->command_param = c.command_param;
  wi->task_depend_type = c.task_depend_type;
  wi->history_cmd += std::string(",") + Name(c.command_type);
  return Status::Ok();
}

// ------------------------------------------------------------------ task groups

bool Engine::TaskGroupWaiting(const TaskInstance& ti) const {
  auto it = task_group_rows_.find(ti.id);
  return it != task_group_rows_.end() && !it->second.holding;
}

bool Engine::TaskGroupAdmit(Runner& r, TaskInstance& ti) {
  const TaskDefinition& t = r.dag->Task(ti.task_code);
  if (t.task_group_id <= 0 || !task_groups_ || ti.id == 0) return true;
  auto known = task_group_rows_.find(ti.id);
  if (known != task_group_rows_.end()) return known->second.holding;
  TaskGroupSlot& slot = task_group_rows_[ti.id];
  slot.workflow_instance_id = r.wi.id;
  slot.group_id = t.task_group_id;
  TaskGroupQueue q;
  q.task_id = ti.id;
  q.task_name = ti.name;
  q.group_id = t.task_group_id;
  q.process_id = r.wi.id;
  q.priority = t.task_group_priority;
  auto row = task_groups_->Enqueue(q);
  if (!row.ok()) {
    // Waits; the next command scan queues it again.
    spdlog::warn("task instance {} ({}): cannot join task group {}: {}", ti.id, ti.name,
                 t.task_group_id, row.status().message());
    return false;
  }
  slot.queued = true;
  auto got = task_groups_->Acquire(ti.id);
  if (got.ok() && *got) {
    slot.holding = true;
    return true;
  }
  if (!got.ok() && got.status().code() == StatusCode::kNotFound) {
    // The group was deleted after the definition named it: nothing left to limit the task.
    spdlog::warn("task instance {} ({}): {}; it runs without a task group", ti.id, ti.name,
                 got.status().message());
    task_groups_->Release(ti.id);
    task_group_rows_.erase(ti.id);
    return true;
  }
  if (!got.ok())
    spdlog::warn("task instance {} ({}): task group {}: {}", ti.id, ti.name, t.task_group_id,
                 got.status().message());
  else
    spdlog::info("task instance {} ({}) waits for a slot of task group {}", ti.id, ti.name,
                 t.task_group_id);
  return false;
}

void Engine::TaskGroupServe(int64_t group_id) {
  if (!task_groups_) return;
  auto waiters = task_groups_->ListWaiters(group_id);
  if (!waiters.ok()) {
    spdlog::warn("task group {}: {}", group_id, waiters.status().message());
    return;  // the next command scan tries again
  }
  for (const TaskGroupQueue& q : *waiters) {
    auto mine = task_group_rows_.find(q.task_id);
    if (mine == task_group_rows_.end() || mine->second.holding) {
      // Not waiting here. A row whose task is over (its master died before releasing it) is
      // cleared; a live one belongs to another master, which serves it first.
      auto other = instances_.GetTaskInstance(q.task_id);
      bool stale = (!other.ok() && other.status().code() == StatusCode::kNotFound) ||
                   (other.ok() && (IsFinal(other->state) || other->flag != Flag::kYes));
      if (stale) {
        task_groups_->Release(q.task_id);
        continue;
      }
      if (q.force_start) continue;
      return;
    }
    auto got = task_groups_->Acquire(q.task_id);
    if (!got.ok() || !*got) {
      if (q.force_start) continue;
      return;  // full (or the database did not answer): the next release or scan serves it
    }
    mine->second.holding = true;
    auto rit = runners_.find(mine->second.workflow_instance_id);
    TaskInstance* ti = nullptr;
    if (rit != runners_.end()) {
      auto row = rit->second->by_id.find(q.task_id);
      if (row != rit->second->by_id.end()) ti = row->second;
    }
    if (!ti || ti->state != TaskState::kSubmittedSuccess) {
      // Its task ended meanwhile: the slot goes back at once.
      task_group_rows_.erase(mine);
      task_groups_->Release(q.task_id);
      continue;
    }
    spdlog::info("task instance {} ({}) got a slot of task group {}{}", ti->id, ti->name,
                 group_id, q.force_start ? " (force start)" : "");
    DispatchTask(*rit->second, *ti);
  }
}

void Engine::TaskGroupServeAll() {
  if (!task_groups_) return;
  for (auto it = task_group_unreleased_.begin(); it != task_group_unreleased_.end();) {
    if (task_groups_->Release(it->first).ok())
      it = task_group_unreleased_.erase(it);
    else
      ++it;
  }
  std::set<int64_t> groups;
  for (auto& [tid, slot] : task_group_rows_) {
    if (slot.holding) continue;
    if (!slot.queued) {
      auto rit = runners_.find(slot.workflow_instance_id);
      if (rit == runners_.end() || !rit->second->by_id.count(tid)) continue;
      const TaskInstance& ti = *rit->second->by_id[tid];
      TaskGroupQueue q;
      q.task_id = tid;
      q.task_name = ti.name;
      q.group_id = slot.group_id;
      q.process_id = slot.workflow_instance_id;
      q.priority = rit->second->dag->Task(ti.task_code).task_group_priority;
      slot.queued = task_groups_->Enqueue(q).ok();
    }
    groups.insert(slot.group_id);
  }
  for (int64_t g : groups) TaskGroupServe(g);
}

void Engine::TaskGroupOnEnd(const TaskInstance& ti) {
  auto it = task_group_rows_.find(ti.id);
  if (it == task_group_rows_.end()) return;
  int64_t task_id = ti.id, group_id = it->second.group_id;
  task_group_rows_.erase(it);
  // After the end is durable: a crash in between leaves the slot taken by a task the database
  // still shows as running, which recovery re-attaches; the other order could run two.
  after_commit_.push_back([this, task_id, group_id] {
    auto released = task_groups_->Release(task_id);
    if (!released.ok()) {
      spdlog::warn("task group {}: releasing task instance {}: {}", group_id, task_id,
                   released.status().message());
      task_group_unreleased_[task_id] = group_id;
      return;
    }
    TaskGroupServe(group_id);
  });
}

void Engine::TaskGroupPauseWaiters(Runner& r) {
  int64_t now = clock_.NowMs();
  for (auto& [code, ti] : r.current) {
    if (!Active(ti->state) || !TaskGroupWaiting(*ti)) continue;
    // Never started: it is paused where it stands and resumed in place by a recover.
    ti->state = TaskState::kPause;
    ti->end_time = now;
    r.active.erase(code);
    WriteTask(r, *ti);
  }
}

}  // namespace dsched
