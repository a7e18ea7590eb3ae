// Runs every scenario file in tests/scenarios/*.yaml against the real engine, worker and store
// in one process (no HTTP); the store is SQLite unless the environment names another database.
// A scenario names a DAG, a list of actions (each optionally waiting for a state first), and the
// expected final workflow and task instance rows, in the manner of
// reference/ds-engine-scenarios.md. The format:
//
//   engine: {minute_ms: 300}          # shortens retry intervals / timeouts / delays
//   workflow:
//     params: {name: value}           # global params
//     tasks:
//       - {name: A, script: "echo hi", deps: [], retries: 0, retry_interval: 1,
//          timeout: 0, timeout_strategy: FAILED, flag: YES, delay: 0, type: SHELL}
//   actions:
//     - start: {failure_strategy: CONTINUE, start_nodes: [B], depend: TASK_POST,
//               params: {k: v}, dry_run: false}
//     - wait_task: {name: A, state: RUNNING_EXECUTION}
//     - wait_workflow: PAUSE
//     - pause / stop / resume / rerun / recover_failed: {}
//   expect:
//     workflow: {state: SUCCESS, run_times: 1}
//     tasks:    # every row of the instance, in id order
//       - {name: A, state: SUCCESS, flag: YES, retry_times: 0}
//
// Task groups: `task_groups: [{name: g, size: 1}]` at the top, `task_group: g` and
// `task_group_priority: N` on a task; the action force_start: {task: W}; expectations
// max_concurrent_tasks, started_in_order, ended_in_order and task_group_free
// (CheckTaskGroupExpectations).
//
// Waits poll the database with a deadline: the test observes the engine from outside, the
// way a user would, and never sleeps to synchronise.
#include <dirent.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "common/time_format.h"
#include "master/engine.h"
#include "model/states.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/test_databases.h"
#include "worker/worker.h"

extern char** environ;

namespace dsched {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> out;
  std::string dir = SourceDir() + "/tests/scenarios";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".yaml") out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ScenarioTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-scenario-XXXXXX";
    dir_ = mkdtemp(tmpl);
    spec_ = YAML::LoadFile(SourceDir() + "/tests/scenarios/" + GetParam());
    // The database comes from the environment as for any service (DATABASE,
    // SPRING_DATASOURCE_URL, ...; tests/db/run_db_tests.sh runs this file on each server);
    // SQLite in the temp dir by default.
    auto cfg = Config::Load("", environ);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    auto db = DbOptionsFromConfig(*cfg);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    if (db->type == DbType::kSqlite) {
      db->sqlite_path = dir_ + "/dsched.db";
      db->pool_size = 2;
    }
    ASSERT_TRUE(ResetDatabase(*db).ok());
    auto s = SqlStore::Open(*db, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    EngineOptions eo;
    eo.epoch = 1;
    eo.minute_ms = spec_["engine"]["minute_ms"].as<int64_t>(60000);
    eo.log_base = dir_ + "/logs";
    engine_ = std::make_unique<Engine>(eo, clock_, *store_, *store_);
    WorkerOptions wo;
    wo.exec_base = dir_ + "/exec";
    wo.log_base = dir_ + "/logs";
    wo.kill_grace_ms = 500;
    worker_ = std::make_unique<Worker>(wo, clock_, launcher_, *engine_);
    engine_->SetWorker(worker_.get());
    engine_->SetTaskGroupStore(store_.get());
    ASSERT_TRUE(engine_->Start().ok());
  }
  void TearDown() override {
    engine_.reset();
    worker_.reset();
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  void CreateWorkflow() {
    Project p;
    p.code = 1;
    p.name = "scenario";
    p.user_id = 1;
    ASSERT_TRUE(store_->CreateProject(p).ok());
    // task_groups: [{name: g, size: 1}]: tasks name them with task_group (and
    // task_group_priority).
    for (const auto& g : spec_["task_groups"]) {
      TaskGroup tg;
      tg.name = g["name"].as<std::string>();
      tg.group_size = g["size"].as<int64_t>(1);
      tg.project_code = 1;
      auto created = store_->CreateTaskGroup(tg);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      task_groups_[tg.name] = created->id;
    }
    // Child workflows first (codes 2000, 2001, ...), so SUB_PROCESS tasks can name them.
    for (size_t i = 0; i < spec_["children"].size(); ++i) {
      CreateDefinition(spec_["children"][i], 2000 + static_cast<int64_t>(i), "child" + std::to_string(i));
      if (HasFatalFailure()) return;
    }
    CreateDefinition(spec_["workflow"], 1000, "wf");
  }

  // One definition from a YAML node {tasks: [...], params: {...}, execution_type: ...}. Task
  // names are unique across the file; codes are handed out in file order.
  void CreateDefinition(const YAML::Node& spec, int64_t def_code, const std::string& name) {
    WorkflowDefinition d;
    d.code = def_code;
    d.name = name;
    d.project_code = 1;
    d.user_id = 1;
    d.release_state = ReleaseState::kOnline;
    if (spec["execution_type"])
      d.execution_type = *Parse<ExecutionType>(spec["execution_type"].as<std::string>());
    for (const auto& kv : spec["params"]) {
      Property prop;
      prop.prop = kv.first.as<std::string>();
      prop.value = kv.second.as<std::string>();
      d.global_params.push_back(prop);
    }
    for (const auto& t : spec["tasks"]) codes_[t["name"].as<std::string>()] = next_code_++;
    for (const auto& t : spec["tasks"]) {
      TaskDefinition td;
      td.name = t["name"].as<std::string>();
      td.code = codes_[td.name];
      td.task_type = t["type"].as<std::string>("SHELL");
      td.task_params = {{"rawScript", t["script"].as<std::string>("true")},
                        {"localParams", nlohmann::json::array()}};
      // Logic tasks, written with task names: CONDITIONS {when: [{task, status}], success: [..],
      // failed: [..]} and SWITCH {branches: [{condition, next}], default: name}.
      if (td.task_type == "CONDITIONS") {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& w : t["when"])
          items.push_back({{"depTaskCode", codes_[w["task"].as<std::string>()]},
                           {"status", w["status"].as<std::string>("SUCCESS")}});
        nlohmann::json succ = nlohmann::json::array(), fail = nlohmann::json::array();
        for (const auto& n : t["success"]) succ.push_back(codes_[n.as<std::string>()]);
        for (const auto& n : t["failed"]) fail.push_back(codes_[n.as<std::string>()]);
        td.task_params = {
            {"localParams", nlohmann::json::array()},
            {"dependence",
             {{"relation", "AND"},
              {"dependTaskList", {{{"relation", "AND"}, {"dependItemList", items}}}}}},
            {"conditionResult", {{"successNode", succ}, {"failedNode", fail}}}};
      }
      // DEPENDENT {depends: [{child: 0, date: today, task: name}], relation: AND, check_interval: 1}
      if (td.task_type == "DEPENDENT") {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& d : t["depends"]) {
          nlohmann::json item = {{"projectCode", 1},
                                 {"definitionCode", 2000 + d["child"].as<int64_t>(0)},
                                 {"depTaskCode", d["task"] ? codes_[d["task"].as<std::string>()] : 0},
                                 {"cycle", "day"},
                                 {"dateValue", d["date"].as<std::string>("today")}};
          items.push_back(item);
        }
        td.task_params = {
            {"localParams", nlohmann::json::array()},
            {"dependence",
             {{"relation", "AND"},
              {"checkInterval", t["check_interval"].as<int>(1)},
              {"dependTaskList",
               {{{"relation", t["relation"].as<std::string>("AND")}, {"dependItemList", items}}}}}}};
      }
      if (td.task_type == "SUB_PROCESS")
        td.task_params = {{"localParams", nlohmann::json::array()},
                          {"processDefinitionCode", 2000 + t["child"].as<int64_t>(0)}};
      if (td.task_type == "SWITCH") {
        nlohmann::json branches = nlohmann::json::array();
        for (const auto& b : t["branches"])
          branches.push_back({{"condition", b["condition"].as<std::string>()},
                              {"nextNode", codes_[b["next"].as<std::string>()]}});
        nlohmann::json sr = {{"dependTaskList", branches}};
        if (t["default"]) sr["nextNode"] = codes_[t["default"].as<std::string>()];
        td.task_params = {{"localParams", nlohmann::json::array()}, {"switchResult", sr}};
      }
      if (t["out"]) {
        for (const auto& o : t["out"])
          td.task_params["localParams"].push_back(
              {{"prop", o.as<std::string>()}, {"direct", "OUT"}, {"type", "VARCHAR"}, {"value", ""}});
      }
      td.fail_retry_times = t["retries"].as<int>(0);
      td.fail_retry_interval = t["retry_interval"].as<int>(1);
      td.timeout = t["timeout"].as<int>(0);
      if (td.timeout > 0) {
        td.timeout_enabled = true;
        td.timeout_strategy = *Parse<TimeoutStrategy>(t["timeout_strategy"].as<std::string>("FAILED"));
      }
      td.delay_time = t["delay"].as<int>(0);
      if (t["task_group"]) {
        ASSERT_TRUE(task_groups_.count(t["task_group"].as<std::string>()))
            << "unknown task group " << t["task_group"].as<std::string>();
        td.task_group_id = task_groups_[t["task_group"].as<std::string>()];
        td.task_group_priority = t["task_group_priority"].as<int>(0);
      }
      td.flag = t["flag"].as<std::string>("YES") == "NO" ? Flag::kNo : Flag::kYes;
      d.tasks.push_back(td);
    }
    for (const auto& t : spec["tasks"]) {
      int64_t post = codes_[t["name"].as<std::string>()];
      if (!t["deps"] || t["deps"].size() == 0) d.relations.push_back({"", 0, 0, post, 0});
      for (const auto& dep : t["deps"]) d.relations.push_back({"", codes_[dep.as<std::string>()], 0, post, 0});
    }
    auto created = store_->CreateWorkflow(d);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  // Polls until pred() holds; fails the test after 60 s.
  template <typename F>
  void WaitFor(const std::string& what, F pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!pred()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting for " << what;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Every instance, oldest first.
  std::vector<WorkflowInstance> Instances(int64_t definition_code = 1000) {
    InstanceFilter f;
    f.project_code = 1;
    f.definition_code = definition_code;
    auto page = store_->ListWorkflowInstances(f, {0, 100});
    if (!page.ok()) return {};
    std::vector<WorkflowInstance> out(page->rows.rbegin(), page->rows.rend());
    return out;
  }
  // The newest instance: the one actions apply to.
  std::optional<WorkflowInstance> Instance() {
    auto all = Instances();
    if (all.empty()) return std::nullopt;
    return all.back();
  }

  void Start(const YAML::Node& a) {
    Command c;
    // {definition: child0} starts child workflow #0 on its own (e.g. an upstream of a DEPENDENT).
    int64_t def = 1000;
    if (a["definition"]) def = 2000 + std::stoll(a["definition"].as<std::string>().substr(5));
    c.definition_code = def;
    c.project_code = 1;
    c.failure_strategy = *Parse<FailureStrategy>(a["failure_strategy"].as<std::string>("CONTINUE"));
    c.task_depend_type = *Parse<TaskDependType>(a["depend"].as<std::string>("TASK_POST"));
    nlohmann::json param = nlohmann::json::object();
    if (a["start_nodes"]) {
      param["StartNodeList"] = nlohmann::json::array();
      for (const auto& n : a["start_nodes"]) param["StartNodeList"].push_back(codes_[n.as<std::string>()]);
    }
    if (a["params"])
      for (const auto& kv : a["params"]) param["StartParams"][kv.first.as<std::string>()] = kv.second.as<std::string>();
    c.command_param = param.dump();
    c.dry_run = a["dry_run"].as<bool>(false) ? 1 : 0;
    size_t before = Instances(def).size();
    ASSERT_TRUE(store_->InsertCommand(c).ok());
    engine_->WakeCommands();
    WaitFor("the instance", [&] { return Instances(def).size() > before; });
  }

  // A backfill as the API inserts it: one COMPLEMENT_DATA command per date, sharing a trigger
  // code, in the order given.
  void Backfill(const YAML::Node& a) {
    size_t before = Instances().size();
    nlohmann::json param = {{"StartNodeList", nlohmann::json::array()},
                            {"StartParams", nlohmann::json::object()},
                            {"ComplementParallelism", a["parallelism"].as<int>(1)}};
    for (const auto& d : a["dates"]) {
      Command c;
      c.command_type = CommandType::kComplementData;
      c.definition_code = 1000;
      c.project_code = 1;
      c.trigger_code = 77;
      c.schedule_time = *ParseDateTime(d.as<std::string>());
      c.command_param = param.dump();
      ASSERT_TRUE(store_->InsertCommand(c).ok());
    }
    engine_->WakeCommands();
    WaitFor("the backfill instances", [&] { return Instances().size() >= before + a["dates"].size(); });
  }

  void Act(const YAML::Node& step) {
    std::string kind = step.begin()->first.as<std::string>();
    YAML::Node arg = step.begin()->second;
    if (kind == "start") return Start(arg);
    if (kind == "backfill") return Backfill(arg);
    if (kind == "wait_workflow" || kind == "wait_child") {
      // wait_child: {child: 0, state: SUCCESS}; wait_workflow: STATE (the main workflow).
      int64_t def = kind == "wait_workflow" ? 1000 : 2000 + arg["child"].as<int64_t>(0);
      std::string want = kind == "wait_workflow" ? arg.as<std::string>() : arg["state"].as<std::string>();
      return WaitFor("workflow " + want, [&] {
        auto all = Instances(def);
        return !all.empty() && Name(all.back().state) == want;
      });
    }
    if (kind == "wait_task" || kind == "wait_child_task") {
      // wait_child_task looks in the (newest) instance of child workflow #child (default 0).
      int64_t def = kind == "wait_task" ? 1000 : 2000 + arg["child"].as<int64_t>(0);
      std::string name = arg["name"].as<std::string>(), want = arg["state"].as<std::string>();
      return WaitFor("task " + name + " " + want, [&] {
        auto all = Instances(def);
        if (all.empty()) return false;
        std::optional<WorkflowInstance> wi = all.back();
        auto rows = store_->ListTaskInstances(wi->id);
        if (!rows.ok()) return false;
        for (const auto& t : *rows)
          if (t.name == name && t.flag == Flag::kYes && Name(t.state) == want) return true;
        return false;
      });
    }
    if (kind == "force_start") {
      // force_start: {task: W}: an operator's force start of W's waiting queue row (newest
      // instance), then the wake-up the API gives the master.
      auto wi = Instance();
      ASSERT_TRUE(wi.has_value());
      auto rows = store_->ListTaskInstances(wi->id);
      ASSERT_TRUE(rows.ok());
      int64_t task_id = 0;
      for (const auto& t : *rows)
        if (t.name == arg["task"].as<std::string>() && t.flag == Flag::kYes) task_id = t.id;
      auto queue = store_->ListQueue({}, {0, 1000});
      ASSERT_TRUE(queue.ok());
      int64_t queue_id = 0;
      for (const auto& q : queue->rows)
        if (q.task_id == task_id) queue_id = q.id;
      ASSERT_NE(queue_id, 0) << "no queue row for " << arg["task"].as<std::string>();
      Status fs = store_->ForceStart(queue_id);
      ASSERT_TRUE(fs.ok()) << fs.ToString();
      engine_->WakeCommands();
      return;
    }
    static const std::map<std::string, ExecuteType> kActions = {
        {"pause", ExecuteType::kPause},
        {"stop", ExecuteType::kStop},
        {"resume", ExecuteType::kRecoverSuspended},
        {"rerun", ExecuteType::kRepeatRunning},
        {"recover_failed", ExecuteType::kStartFailureTask}};
    auto it = kActions.find(kind);
    ASSERT_NE(it, kActions.end()) << "unknown action " << kind;
    auto wi = Instance();
    ASSERT_TRUE(wi.has_value());
    Status s = engine_->Execute(wi->id, it->second);
    ASSERT_TRUE(s.ok()) << kind << ": " << s.ToString();
    if (it->second == ExecuteType::kRecoverSuspended || it->second == ExecuteType::kRepeatRunning ||
        it->second == ExecuteType::kStartFailureTask) {
      // The command is taken up asynchronously: wait until the instance runs again.
      int before = wi->run_times;
      WaitFor("the instance to restart", [&] {
        auto now = Instance();
        return now && now->run_times > before;
      });
    }
  }

  // Rows are compared grouped by task name, each task's attempts in id order: the order
  // between parallel tasks depends on which process ends first.
  static std::string Sorted(std::vector<std::pair<std::string, std::string>> v) {
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string s;
    for (const auto& [n, line] : v) s += line + "\n";
    return s;
  }
  static std::string RowsText(const std::vector<TaskInstance>& rows) {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& t : rows)
      v.emplace_back(t.name, t.name + " " + Name(t.state) + " flag=" + Name(t.flag) +
                                 " retry=" + std::to_string(t.retry_times));
    return Sorted(v);
  }
  static std::string ExpectedText(const YAML::Node& tasks) {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& t : tasks)
      v.emplace_back(t["name"].as<std::string>(),
                     t["name"].as<std::string>() + " " + t["state"].as<std::string>() +
                         " flag=" + t["flag"].as<std::string>("YES") +
                         " retry=" + std::to_string(t["retry_times"].as<int>(0)));
    return Sorted(v);
  }

  FakeClock unused_;
  SystemClock clock_;
  PosixProcessLauncher launcher_;
  std::string dir_;
  YAML::Node spec_;
  std::map<std::string, int64_t> codes_;
  std::map<std::string, int64_t> task_groups_;
  int64_t next_code_ = 1;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Worker> worker_;
};

// Task-group expectations over the rows of every instance of the workflow (flag YES):
//   max_concurrent_tasks: {max: 1, tasks: [A, B]}   # at no instant do more of them run
//   started_in_order: [H, P, L]                     # their start times are in this order
//   ended_in_order: [W, H]                          # their end times are in this order
//   task_group_free: true                           # every slot was given back
void CheckTaskGroupExpectations(const YAML::Node& expect, const std::vector<TaskInstance>& rows,
                                TaskGroupStore& groups,
                                const std::map<std::string, int64_t>& group_ids) {
  if (expect["max_concurrent_tasks"]) {
    std::set<std::string> names;
    for (const auto& n : expect["max_concurrent_tasks"]["tasks"]) names.insert(n.as<std::string>());
    std::vector<std::pair<int64_t, int>> edges;
    for (const auto& r : rows) {
      if (!names.empty() && !names.count(r.name)) continue;
      if (!r.start_time) continue;
      edges.emplace_back(r.start_time, 1);
      edges.emplace_back(r.end_time, -1);
    }
    std::sort(edges.begin(), edges.end());  // an end sorts before a start at the same ms
    int now = 0, peak = 0;
    for (const auto& [at, d] : edges) peak = std::max(peak, now += d);
    EXPECT_LE(peak, expect["max_concurrent_tasks"]["max"].as<int>()) << "tasks ran at once";
    EXPECT_GT(peak, 0) << "no task of the group ran";
  }
  if (expect["started_in_order"]) {
    std::vector<std::pair<int64_t, std::string>> starts;
    for (const auto& n : expect["started_in_order"])
      for (const auto& r : rows)
        if (r.name == n.as<std::string>() && r.flag == Flag::kYes) starts.emplace_back(r.start_time, r.name);
    ASSERT_EQ(starts.size(), expect["started_in_order"].size());
    for (size_t i = 1; i < starts.size(); ++i)
      EXPECT_LE(starts[i - 1].first, starts[i].first)
          << starts[i - 1].second << " should start before " << starts[i].second;
  }
  if (expect["ended_in_order"]) {
    std::vector<std::pair<int64_t, std::string>> ends;
    for (const auto& n : expect["ended_in_order"])
      for (const auto& r : rows)
        if (r.name == n.as<std::string>() && r.flag == Flag::kYes) ends.emplace_back(r.end_time, r.name);
    ASSERT_EQ(ends.size(), expect["ended_in_order"].size());
    for (size_t i = 1; i < ends.size(); ++i)
      EXPECT_LE(ends[i - 1].first, ends[i].first)
          << ends[i - 1].second << " should end before " << ends[i].second;
  }
  if (expect["task_group_free"].as<bool>(false)) {
    for (const auto& [name, id] : group_ids) {
      auto g = groups.GetTaskGroup(id);
      ASSERT_TRUE(g.ok());
      EXPECT_EQ(g->use_size, 0) << "task group " << name << " still has slots taken";
    }
  }
}

TEST_P(ScenarioTest, EndsAsExpected) {
  CreateWorkflow();
  for (const auto& step : spec_["actions"]) {
    Act(step);
    if (HasFatalFailure()) return;
  }
  // Task-group checks run once everything finished, over all instances' rows.
  auto check_task_groups = [&] {
    std::vector<TaskInstance> all_rows;
    for (const auto& wi : Instances()) {
      auto rows = store_->ListTaskInstances(wi.id);
      if (rows.ok()) all_rows.insert(all_rows.end(), rows->begin(), rows->end());
    }
    CheckTaskGroupExpectations(spec_["expect"], all_rows, *store_, task_groups_);
  };
  if (spec_["expect"]["instances"]) {
    // Several instances of one definition (serial execution types): their final states in
    // creation order.
    size_t want_n = spec_["expect"]["instances"].size();
    WaitFor("every instance to finish", [&] {
      auto all = Instances();
      if (all.size() != want_n) return false;
      for (const auto& wi : all)
        if (!IsFinal(wi.state)) return false;
      return true;
    });
    WaitFor("runners to be released", [&] { return engine_->RunnerCount() == 0; });
    auto all = Instances();
    for (size_t i = 0; i < want_n; ++i) {
      const auto& want = spec_["expect"]["instances"][i];
      EXPECT_EQ(Name(all[i].state), want["state"].as<std::string>()) << "instance #" << i + 1;
      if (want["schedule_time"]) {
        EXPECT_EQ(FormatDateTime(all[i].schedule_time), want["schedule_time"].as<std::string>())
            << "instance #" << i + 1;
      }
      EXPECT_GT(all[i].end_time, 0) << "instance #" << i + 1 << " has no end time";
    }
    if (spec_["expect"]["max_concurrent"]) {
      // At no instant do more instances run than the backfill's parallelism allows.
      std::vector<std::pair<int64_t, int>> edges;
      for (const auto& wi : all) {
        edges.emplace_back(wi.start_time, 1);
        edges.emplace_back(wi.end_time, -1);
      }
      std::sort(edges.begin(), edges.end());  // an end sorts before a start at the same ms
      int now = 0, peak = 0;
      for (const auto& [t, d] : edges) peak = std::max(peak, now += d);
      EXPECT_LE(peak, spec_["expect"]["max_concurrent"].as<int>());
    }
    check_task_groups();
    if (spec_["expect"]["one_at_a_time"].as<bool>(false)) {
      // Instances that ran tasks never overlap: each starts after the previous one ended.
      int64_t last_end = 0;
      for (const auto& wi : all) {
        auto rows = store_->ListTaskInstances(wi.id);
        if (!rows.ok() || rows->empty()) continue;
        EXPECT_GE(wi.start_time, last_end) << "instance " << wi.id << " overlapped";
        last_end = wi.end_time;
      }
    }
    return;
  }
  std::string want_state = spec_["expect"]["workflow"]["state"].as<std::string>();
  WaitFor("final workflow state", [&] {
    auto wi = Instance();
    return wi && IsFinal(wi->state);
  });
  // Nothing may be left in memory once the instance has finished.
  WaitFor("runners to be released", [&] { return engine_->RunnerCount() == 0; });
  auto wi = Instance();
  EXPECT_EQ(Name(wi->state), want_state);
  check_task_groups();
  if (spec_["expect"]["workflow"]["run_times"]) {
    EXPECT_EQ(wi->run_times, spec_["expect"]["workflow"]["run_times"].as<int>());
  }
  auto rows = store_->ListTaskInstances(wi->id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(RowsText(*rows), ExpectedText(spec_["expect"]["tasks"])) << "task instance rows differ";
  EXPECT_EQ(wi->is_sub_process, 0);
  // Child workflows (SUB_PROCESS): how many instances each has, the last one's state and rows.
  for (size_t i = 0; i < spec_["expect"]["children"].size(); ++i) {
    const auto& want = spec_["expect"]["children"][i];
    auto kids = Instances(2000 + static_cast<int64_t>(i));
    ASSERT_EQ(kids.size(), want["count"].as<size_t>(1)) << "instances of child " << i;
    if (kids.empty()) continue;
    EXPECT_EQ(Name(kids.back().state), want["state"].as<std::string>()) << "child " << i;
    EXPECT_EQ(kids.back().is_sub_process, want["sub_process"].as<int>(1));
    auto kid_rows = store_->ListTaskInstances(kids.back().id);
    ASSERT_TRUE(kid_rows.ok());
    EXPECT_EQ(RowsText(*kid_rows), ExpectedText(want["tasks"])) << "rows of child " << i;
  }
  // Rows that ran have a log; each first_submit_time is kept across retries.
  for (const auto& t : *rows) {
    if (t.state == TaskState::kSuccess || t.state == TaskState::kFailure) {
      EXPECT_FALSE(t.log_path.empty()) << t.name;
    }
  }
  if (spec_["expect"]["log_contains"]) {
    for (const auto& lc : spec_["expect"]["log_contains"]) {
      std::string task = lc["task"].as<std::string>(), text = lc["text"].as<std::string>();
      bool found = false;
      for (const auto& t : *rows) {
        if (t.name != task || t.log_path.empty()) continue;
        std::ifstream in(t.log_path);
        std::string all((std::istreambuf_iterator<char>(in)), {});
        found = found || all.find(text) != std::string::npos;
      }
      EXPECT_TRUE(found) << "log of " << task << " lacks '" << text << "'";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Files, ScenarioTest, testing::ValuesIn(ScenarioFiles()),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param.substr(0, i.param.size() - 5);
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace dsched
