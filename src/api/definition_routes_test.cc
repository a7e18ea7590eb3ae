// The workflow-definition and instance edit routes over real HTTP, on a real SQLite store and
// a real engine (FakeClock, and a scripted worker that the test answers with task events):
// copy, move, batch delete, export -> import, versions, tree and variables views; instance
// update, delete, batch delete, Gantt and variables views; force success and execute-task.
// Each route has its success and its main refusals, and a refused request changes nothing.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "api/api_test_support.h"
#include "master/engine.h"
#include "model/states.h"

namespace dsched::api {
namespace {

using nlohmann::json;
namespace http = boost::beast::http;
using apitest::Pairs;
using apitest::Reply;

// Records dispatches; the test answers with events.
class ScriptedWorker : public WorkerClient {
 public:
  Status Dispatch(const TaskDispatch& d) override {
    std::lock_guard<std::mutex> l(mu_);
    dispatched_.push_back(d);
    return Status::Ok();
  }
  Status Kill(int64_t, int, int64_t) override { return Status::Ok(); }
  Status Reattach(const TaskDispatch& d) override { return Dispatch(d); }
  std::vector<TaskDispatch> Dispatched() {
    std::lock_guard<std::mutex> l(mu_);
    return dispatched_;
  }

 private:
  std::mutex mu_;
  std::vector<TaskDispatch> dispatched_;
};

constexpr int64_t kA = 13412700000001, kB = 13412700000002;

class DefinitionRoutesTest : public apitest::SqliteApiTest {
 protected:
  DefinitionRoutesTest() : SqliteApiTest("dsched-defroutes") {}
  // The master is a real engine on the same store, answered by the scripted worker.
  void AddDeps(ApiDeps& deps) override {
    EngineOptions eo;
    eo.epoch = 1;
    eo.log_base = dir_ + "/logs";
    engine_ = std::make_unique<Engine>(eo, clock_, *store_, *store_);
    engine_->SetWorker(&worker_);
    ASSERT_TRUE(engine_->Start().ok());
    deps.master = engine_.get();
  }
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SqliteApiTest::SetUp());
    p1_ = CreateProject("p1");
    p2_ = CreateProject("p2");
  }
  void TearDown() override {
    server_.reset();
    engine_.reset();
    SqliteApiTest::TearDown();
  }

  Reply Raw(const std::string& method, const std::string& target, const std::string& ctype,
            const std::string& body) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.version(11);
    req.target("/dolphinscheduler" + target);
    if (!session_.empty()) req.set("sessionId", session_);
    if (!ctype.empty()) req.set(http::field::content_type, ctype);
    req.body() = body;
    return apitest::Exchange(server_->port(), std::move(req));
  }
  Reply Import(int64_t pc, const std::string& file) {
    const std::string b = "----dschedboundary7MA4YWxkTrZu0gW";
    std::string body = "--" + b +
                       "\r\nContent-Disposition: form-data; name=\"file\"; "
                       "filename=\"workflow.json\"\r\nContent-Type: application/json\r\n\r\n" +
                       file + "\r\n--" + b + "--\r\n";
    return Raw("POST", Pd(pc) + "/import", "multipart/form-data; boundary=" + b, body);
  }

  int64_t CreateProject(const std::string& name) {
    Reply r = Send("POST", "/projects", {{"projectName", name}});
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.data().at("code");
  }
  static std::string Pd(int64_t pc) {
    return "/projects/" + std::to_string(pc) + "/process-definition";
  }
  static std::string Pi(int64_t pc) {
    return "/projects/" + std::to_string(pc) + "/process-instances";
  }
  static json Task(int64_t code, const std::string& name, const std::string& script) {
    json local = json::array();
    if (name == "b")
      local.push_back({{"prop", "who"}, {"direct", "IN"}, {"type", "VARCHAR"}, {"value", "world"}});
    return {{"code", code},
            {"name", name},
            {"taskType", "SHELL"},
            {"taskParams",
             {{"localParams", local}, {"rawScript", script}, {"resourceList", json::array()}}},
            {"flag", "YES"},
            {"taskPriority", "MEDIUM"},
            {"workerGroup", "default"},
            {"failRetryTimes", "0"},
            {"failRetryInterval", "1"},
            {"delayTime", "0"},
            {"timeout", 0},
            {"timeoutFlag", "CLOSE"}};
  }
  static json Edge(int64_t pre, int64_t post) {
    return {{"name", ""},
            {"preTaskCode", pre},
            {"preTaskVersion", 0},
            {"postTaskCode", post},
            {"postTaskVersion", 0},
            {"conditionType", "NONE"},
            {"conditionParams", json::object()}};
  }
  static Pairs Form(const std::string& name, const std::string& b_script) {
    json tasks = json::array({Task(kA, "a", "echo a"), Task(kB, "b", b_script)});
    json rels = json::array({Edge(0, kA), Edge(kA, kB)});
    json loc = json::array(
        {{{"taskCode", kA}, {"x", 10}, {"y", 20}}, {{"taskCode", kB}, {"x", 30}, {"y", 20}}});
    return {{"name", name},
            {"description", "d"},
            {"globalParams", R"([{"prop":"day","direct":"IN","type":"VARCHAR","value":"1"}])"},
            {"locations", loc.dump()},
            {"timeout", "0"},
            {"taskDefinitionJson", tasks.dump()},
            {"taskRelationJson", rels.dump()}};
  }
  int64_t CreateWorkflow(int64_t pc, const std::string& name) {
    Reply r = Send("POST", Pd(pc), Form(name, "echo bye ${who}"));
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.data().at("code");
  }
  std::vector<WorkflowDefinition> Workflows(int64_t pc) {
    return store_->ListWorkflows(pc, "", {0, 100})->rows;
  }

  // Runs workflow `code` of project p1 to its end: a succeeds, b ends in `b_state`.
  int64_t Run(int64_t code, TaskState b_state) {
    EXPECT_EQ(Send("POST", Pd(p1_) + "/" + std::to_string(code) + "/release",
                   {{"releaseState", "ONLINE"}})
                  .code(),
              0);
    size_t before = worker_.Dispatched().size();
    Reply r = Send("POST", "/projects/" + std::to_string(p1_) + "/executors/start-process-instance",
                   {{"processDefinitionCode", std::to_string(code)},
                    {"failureStrategy", "END"},
                    {"warningType", "NONE"}});
    EXPECT_EQ(r.code(), 0) << r.body;
    engine_->Sync();
    auto d = worker_.Dispatched();
    EXPECT_EQ(d.size(), before + 1);
    Finish(d.back(), TaskState::kSuccess);
    d = worker_.Dispatched();
    EXPECT_EQ(d.size(), before + 2);
    Finish(d.back(), b_state);
    EXPECT_EQ(Send("POST", Pd(p1_) + "/" + std::to_string(code) + "/release",
                   {{"releaseState", "OFFLINE"}})
                  .code(),
              0);
    return d.back().workflow_instance_id;
  }
  void Finish(const TaskDispatch& d, TaskState state) {
    TaskEvent e;
    e.task_instance_id = d.task_instance_id;
    e.attempt = d.attempt;
    e.master_epoch = d.master_epoch;
    e.workflow_instance_id = d.workflow_instance_id;
    e.type = TaskEventType::kRunning;
    e.state = TaskState::kRunningExecution;
    e.time_ms = clock_.NowMs();
    e.log_path = dir_ + "/task-" + std::to_string(d.task_instance_id) + ".log";
    std::ofstream(e.log_path) << "log of " << d.task_name << "\n";
    engine_->OnTaskEvent(e);
    clock_.Advance(1000);
    e.type = TaskEventType::kFinished;
    e.state = state;
    e.time_ms = clock_.NowMs();
    engine_->OnTaskEvent(e);
    engine_->Sync();
  }
  TaskInstance Current(int64_t wi, const std::string& name) {
    auto rows = store_->ListTaskInstances(wi);
    EXPECT_TRUE(rows.ok());
    for (const auto& t : *rows)
      if (t.name == name && t.flag == Flag::kYes) return t;
    ADD_FAILURE() << "no current row of " << name;
    return {};
  }

  ScriptedWorker worker_;
  std::unique_ptr<Engine> engine_;
  int64_t p1_ = 0, p2_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Definitions

TEST_F(DefinitionRoutesTest, ExportThenImportKeepsTasksRelationsAndParams) {
  int64_t code = CreateWorkflow(p1_, "wf");
  Reply file = Send("POST", Pd(p1_) + "/batch-export", {{"codes", std::to_string(code)}});
  ASSERT_TRUE(file.j.is_array()) << file.body;
  EXPECT_NE(file.disposition.find("attachment;filename=workflow_"), std::string::npos);
  ASSERT_EQ(file.j.size(), 1u);
  EXPECT_TRUE(file.j[0].contains("schedule"));
  EXPECT_EQ(file.j[0]["processDefinition"]["name"], "wf");

  Reply imported = Import(p2_, file.body);
  ASSERT_EQ(imported.code(), 0) << imported.body;
  EXPECT_TRUE(imported.j.at("success").get<bool>());
  auto defs = Workflows(p2_);
  ASSERT_EQ(defs.size(), 1u);
  EXPECT_EQ(defs[0].name.rfind("wf_import_", 0), 0u) << defs[0].name;
  EXPECT_NE(defs[0].code, code);
  EXPECT_EQ(defs[0].release_state, ReleaseState::kOffline);

  WorkflowDefinition orig = *store_->GetWorkflow(code), copy = *store_->GetWorkflow(defs[0].code);
  ASSERT_EQ(copy.tasks.size(), 2u);
  std::map<std::string, TaskDefinition> by_name;
  for (const auto& t : copy.tasks) by_name[t.name] = t;
  EXPECT_NE(by_name["a"].code, kA) << "imported tasks get new codes";
  EXPECT_NE(by_name["b"].code, kB);
  EXPECT_EQ(by_name["b"].task_params["rawScript"], "echo bye ${who}");
  EXPECT_EQ(by_name["b"].task_params["localParams"],
            orig.tasks[1].name == "b" ? orig.tasks[1].task_params["localParams"]
                                      : orig.tasks[0].task_params["localParams"]);
  EXPECT_EQ(by_name["b"].project_code, p2_);
  ASSERT_EQ(copy.global_params.size(), 1u);
  EXPECT_EQ(copy.global_params[0].prop, "day");
  EXPECT_EQ(copy.global_params[0].value, "1");
  // Same edges, under the new codes; locations follow them.
  std::set<std::pair<int64_t, int64_t>> edges;
  for (const auto& r : copy.relations) edges.insert({r.pre_task_code, r.post_task_code});
  EXPECT_EQ(edges, (std::set<std::pair<int64_t, int64_t>>{{0, by_name["a"].code},
                                                          {by_name["a"].code, by_name["b"].code}}));
  json loc = json::parse(copy.locations);
  EXPECT_EQ(loc[0]["taskCode"], by_name["a"].code);

  // The name carries the time to the millisecond: a second import in the same one clashes
  // and stores nothing, a later one gets a name of its own.
  Reply same_ms = Import(p2_, file.body);
  EXPECT_EQ(same_ms.code(), 50029) << same_ms.body;
  EXPECT_EQ(Workflows(p2_).size(), 1u);
  clock_.Advance(1);
  Reply again = Import(p2_, file.body);
  EXPECT_EQ(again.code(), 0) << again.body;
  EXPECT_EQ(Workflows(p2_).size(), 2u);
}

TEST_F(DefinitionRoutesTest, BadImportsStoreNothing) {
  int64_t code = CreateWorkflow(p1_, "wf");
  json file =
      json::parse(Send("POST", Pd(p1_) + "/batch-export", {{"codes", std::to_string(code)}}).body);
  Reply r = Import(p2_, "{not json");
  EXPECT_EQ(r.code(), 10001) << r.body;
  EXPECT_NE(r.j.value("msg", "").find("file"), std::string::npos);

  json cyclic = file;
  cyclic[0]["processTaskRelationList"].push_back(Edge(kB, kA));
  json two = json::array({file[0], cyclic[0]});  // the first is fine, the second is not
  r = Import(p2_, two.dump());
  EXPECT_EQ(r.code(), 50019) << r.body;

  json no_tasks = file;
  no_tasks[0].erase("taskDefinitionList");
  r = Import(p2_, no_tasks.dump());
  EXPECT_EQ(r.code(), 10001) << r.body;
  EXPECT_NE(r.j.value("msg", "").find("taskDefinitionList"), std::string::npos) << r.body;

  r = Raw("POST", Pd(p2_) + "/import", "application/x-www-form-urlencoded", "file=x");
  EXPECT_EQ(r.code(), 10001) << r.body;
  EXPECT_TRUE(Workflows(p2_).empty()) << "nothing of a refused import is stored";
}

TEST_F(DefinitionRoutesTest, CopyGivesNewCodesAndNames) {
  int64_t code = CreateWorkflow(p1_, "wf");
  Reply r = Send("POST", Pd(p1_) + "/batch-copy",
                 {{"codes", std::to_string(code)}, {"targetProjectCode", std::to_string(p2_)}});
  ASSERT_EQ(r.code(), 0) << r.body;
  auto defs = Workflows(p2_);
  ASSERT_EQ(defs.size(), 1u);
  EXPECT_EQ(defs[0].name.rfind("wf_copy_", 0), 0u) << defs[0].name;
  WorkflowDefinition copy = *store_->GetWorkflow(defs[0].code);
  for (const auto& t : copy.tasks) EXPECT_TRUE(t.code != kA && t.code != kB);
  EXPECT_EQ(copy.relations.size(), 2u);
  EXPECT_EQ(Workflows(p1_).size(), 1u) << "the original stays";

  // Into the same project (the UI's default target) works too: the name differs.
  r = Send("POST", Pd(p1_) + "/batch-copy",
           {{"codes", std::to_string(code)}, {"targetProjectCode", std::to_string(p1_)}});
  EXPECT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(Workflows(p1_).size(), 2u);

  // Refusals change nothing.
  r = Send("POST", Pd(p1_) + "/batch-copy",
           {{"codes", std::to_string(code) + ",42"}, {"targetProjectCode", std::to_string(p2_)}});
  EXPECT_EQ(r.code(), 50003) << r.body;
  r = Send("POST", Pd(p1_) + "/batch-copy",
           {{"codes", std::to_string(code)}, {"targetProjectCode", "777"}});
  EXPECT_EQ(r.code(), 10018) << r.body;
  r = Send("POST", Pd(p1_) + "/batch-copy", {{"codes", ""}, {"targetProjectCode", "1"}});
  EXPECT_EQ(r.code(), 10158) << r.body;
  r = Send("POST", Pd(p1_) + "/batch-copy", {{"codes", "1,x"}, {"targetProjectCode", "1"}});
  EXPECT_EQ(r.code(), 10001) << r.body;
  // A definition of another project is not reachable through this one.
  r = Send("POST", Pd(p2_) + "/batch-copy",
           {{"codes", std::to_string(code)}, {"targetProjectCode", std::to_string(p2_)}});
  EXPECT_EQ(r.code(), 50003) << r.body;
  EXPECT_EQ(Workflows(p2_).size(), 1u);
}

TEST_F(DefinitionRoutesTest, MoveAndItsNameClash) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t other = CreateWorkflow(p2_, "taken");
  (void)other;
  Reply r = Send("POST", Pd(p1_) + "/batch-move",
                 {{"codes", std::to_string(code)}, {"targetProjectCode", std::to_string(p2_)}});
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_TRUE(Workflows(p1_).empty());
  EXPECT_EQ(Workflows(p2_).size(), 2u);
  EXPECT_EQ(Send("GET", Pd(p2_) + "/" + std::to_string(code)).code(), 0);
  EXPECT_EQ(Send("GET", Pd(p1_) + "/" + std::to_string(code)).code(), 50003);

  int64_t clash = CreateWorkflow(p1_, "taken");
  r = Send("POST", Pd(p1_) + "/batch-move",
           {{"codes", std::to_string(clash)}, {"targetProjectCode", std::to_string(p2_)}});
  EXPECT_EQ(r.code(), 10150) << r.body;
  EXPECT_EQ(store_->GetWorkflow(clash)->project_code, p1_);
}

TEST_F(DefinitionRoutesTest, DeleteAndBatchDeleteRefuseOnlineAndRunning) {
  int64_t a = CreateWorkflow(p1_, "a"), b = CreateWorkflow(p1_, "b");
  ASSERT_EQ(
      Send("POST", Pd(p1_) + "/" + std::to_string(b) + "/release", {{"releaseState", "ONLINE"}})
          .code(),
      0);
  std::string both = std::to_string(a) + "," + std::to_string(b);
  Reply r = Send("POST", Pd(p1_) + "/batch-delete", {{"codes", both}});
  EXPECT_EQ(r.code(), 50026) << r.body;
  EXPECT_NE(r.j.value("msg", "").find("b"), std::string::npos);
  EXPECT_EQ(Workflows(p1_).size(), 2u) << "one refused keeps them all";
  EXPECT_EQ(Send("DELETE", Pd(p1_) + "/" + std::to_string(b)).code(), 50021);

  // A running instance keeps its definition.
  Send("POST", "/projects/" + std::to_string(p1_) + "/executors/start-process-instance",
       {{"processDefinitionCode", std::to_string(b)},
        {"failureStrategy", "END"},
        {"warningType", "NONE"}});
  engine_->Sync();
  ASSERT_EQ(
      Send("POST", Pd(p1_) + "/" + std::to_string(b) + "/release", {{"releaseState", "OFFLINE"}})
          .code(),
      0);
  r = Send("DELETE", Pd(p1_) + "/" + std::to_string(b));
  EXPECT_EQ(r.code(), 10163) << r.body;
  r = Send("POST", Pd(p1_) + "/batch-delete", {{"codes", both}});
  EXPECT_EQ(r.code(), 50026) << r.body;
  EXPECT_EQ(Workflows(p1_).size(), 2u);

  r = Send("POST", Pd(p1_) + "/batch-delete", {{"codes", std::to_string(a)}});
  EXPECT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(Workflows(p1_).size(), 1u);
  r = Send("POST", Pd(p1_) + "/batch-delete", {{"codes", ""}});
  EXPECT_EQ(r.code(), 10158) << r.body;
}

TEST_F(DefinitionRoutesTest, VersionsListSwitchAndDelete) {
  int64_t code = CreateWorkflow(p1_, "wf");
  std::string base = Pd(p1_) + "/" + std::to_string(code);
  ASSERT_EQ(Send("PUT", base, Form("wf", "echo two")).code(), 0);
  ASSERT_EQ(Send("PUT", base, Form("wf", "echo three")).code(), 0);
  Reply list = Send("GET", base + "/versions", {{"pageNo", "1"}, {"pageSize", "2"}});
  ASSERT_EQ(list.code(), 0) << list.body;
  EXPECT_EQ(list.data()["total"], 3);
  EXPECT_EQ(list.data()["totalPage"], 2);
  ASSERT_EQ(list.data()["totalList"].size(), 2u);
  EXPECT_EQ(list.data()["totalList"][0]["version"], 3);
  EXPECT_TRUE(list.data()["totalList"][0].contains("operateTime"));

  Reply sw = Send("GET", base + "/versions/1");
  ASSERT_EQ(sw.code(), 0) << sw.body;
  Reply dag = Send("GET", base);
  EXPECT_EQ(dag.data()["processDefinition"]["version"], 1);
  bool found = false;
  for (const auto& t : dag.data()["taskDefinitionList"])
    found = found || t["taskParams"]["rawScript"] == "echo bye ${who}";
  EXPECT_TRUE(found) << dag.body;

  EXPECT_EQ(Send("GET", base + "/versions/9").code(), 10153);
  EXPECT_EQ(Send("DELETE", base + "/versions/1").code(), 50053) << "the current one stays";
  EXPECT_EQ(Send("DELETE", base + "/versions/2").code(), 0);
  EXPECT_EQ(Send("DELETE", base + "/versions/2").code(), 50022);
  EXPECT_EQ(Send("GET", base + "/versions").data()["total"], 2);
  EXPECT_EQ(Send("GET", base + "/versions/x").code(), 10001);

  ASSERT_EQ(Send("POST", base + "/release", {{"releaseState", "ONLINE"}}).code(), 0);
  EXPECT_EQ(Send("GET", base + "/versions/3").code(), 50021) << "not while online";
  EXPECT_EQ(store_->GetWorkflow(code)->version, 1);
  // Another project's path reaches nothing.
  EXPECT_EQ(Send("GET", Pd(p2_) + "/" + std::to_string(code) + "/versions").code(), 50003);
}

TEST_F(DefinitionRoutesTest, LookupsOfTheEditor) {
  int64_t code = CreateWorkflow(p1_, "wf");
  Reply vars = Send("GET", Pd(p1_) + "/" + std::to_string(code) + "/view-variables");
  ASSERT_EQ(vars.code(), 0) << vars.body;
  EXPECT_EQ(vars.data()["globalParams"][0]["prop"], "day");
  EXPECT_EQ(vars.data()["localParams"]["b"]["taskType"], "SHELL");
  EXPECT_EQ(vars.data()["localParams"]["b"]["localParamsList"][0]["prop"], "who");
  EXPECT_FALSE(vars.data()["localParams"].contains("a"));

  Reply tasks = Send("GET", Pd(p1_) + "/query-task-definition-list",
                     {{"processDefinitionCode", std::to_string(code)}});
  ASSERT_EQ(tasks.code(), 0) << tasks.body;
  EXPECT_EQ(tasks.data().size(), 2u);
  Reply simple = Send("GET", Pd(p1_) + "/simple-list");
  ASSERT_EQ(simple.code(), 0);
  EXPECT_EQ(simple.data()[0]["code"], code);

  Reply task =
      Send("GET", "/projects/" + std::to_string(p1_) + "/task-definition/" + std::to_string(kB));
  ASSERT_EQ(task.code(), 0) << task.body;
  EXPECT_EQ(task.data()["name"], "b");
  EXPECT_EQ(
      Send("GET", "/projects/" + std::to_string(p2_) + "/task-definition/" + std::to_string(kB))
          .code(),
      50030);
}

// ---------------------------------------------------------------------------------------------
// Instances

TEST_F(DefinitionRoutesTest, ForceSuccessOfTheLastFailureSucceedsTheInstance) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t wi = Run(code, TaskState::kFailure);
  ASSERT_EQ(store_->GetWorkflowInstance(wi)->state, WorkflowState::kFailure);
  std::string ti_base = "/projects/" + std::to_string(p1_) + "/task-instances/";
  TaskInstance a = Current(wi, "a"), b = Current(wi, "b");

  Reply r = Send("POST", ti_base + std::to_string(a.id) + "/force-success");
  EXPECT_EQ(r.code(), 10166) << "a succeeded already: " << r.body;
  r = Send("POST", "/projects/" + std::to_string(p2_) + "/task-instances/" + std::to_string(b.id) +
                       "/force-success");
  EXPECT_EQ(r.code(), 10008) << "another project's path: " << r.body;
  EXPECT_EQ(Current(wi, "b").state, TaskState::kFailure);

  r = Send("POST", ti_base + std::to_string(b.id) + "/force-success");
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(Current(wi, "b").state, TaskState::kForcedSuccess);
  EXPECT_EQ(store_->GetWorkflowInstance(wi)->state, WorkflowState::kSuccess);
  r = Send("POST", ti_base + std::to_string(b.id) + "/force-success");
  EXPECT_EQ(r.code(), 10166) << "twice: " << r.body;
  EXPECT_EQ(Send("POST", ti_base + "999999/force-success").code(), 10008);
}

TEST_F(DefinitionRoutesTest, ForceSuccessRefusesARunningInstance) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t done = Run(code, TaskState::kFailure);
  TaskInstance failed = Current(done, "b");
  // The instance runs again (a rerun): its failed task may not be forced meanwhile.
  Reply r = Send("POST", "/projects/" + std::to_string(p1_) + "/executors/execute",
                 {{"processInstanceId", std::to_string(done)}, {"executeType", "REPEAT_RUNNING"}});
  ASSERT_EQ(r.code(), 0) << r.body;
  engine_->Sync();
  ASSERT_EQ(store_->GetWorkflowInstance(done)->state, WorkflowState::kRunningExecution);
  r = Send("POST", "/projects/" + std::to_string(p1_) + "/task-instances/" +
                       std::to_string(failed.id) + "/force-success");
  EXPECT_EQ(r.code(), 50006) << r.body;
  EXPECT_EQ(store_->GetTaskInstance(failed.id)->state, TaskState::kFailure);
}

TEST_F(DefinitionRoutesTest, ExecuteTaskRunsOneTaskInsideTheInstance) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t wi = Run(code, TaskState::kFailure);
  TaskInstance a = Current(wi, "a"), b = Current(wi, "b");
  std::string ex = "/projects/" + std::to_string(p1_) + "/executors/execute-task";

  Reply r = Send("POST", ex,
                 {{"processInstanceId", std::to_string(wi)},
                  {"startNodeList", "1,2"},
                  {"taskDependType", "TASK_ONLY"}});
  EXPECT_EQ(r.code(), 10001) << "unknown start nodes: " << r.body;
  r = Send("POST", ex,
           {{"processInstanceId", std::to_string(wi)},
            {"startNodeList", std::to_string(kB)},
            {"taskDependType", "SIDEWAYS"}});
  EXPECT_EQ(r.code(), 10001) << r.body;
  r = Send("POST", ex,
           {{"processInstanceId", std::to_string(wi)}, {"startNodeList", std::to_string(kB)}});
  EXPECT_EQ(r.code(), 10001) << "taskDependType is required: " << r.body;
  EXPECT_TRUE(store_->ListCommands(10)->empty()) << "refusals insert no command";

  size_t before = worker_.Dispatched().size();
  r = Send("POST", ex,
           {{"processInstanceId", std::to_string(wi)},
            {"startNodeList", std::to_string(kB)},
            {"taskDependType", "TASK_ONLY"}});
  ASSERT_EQ(r.code(), 0) << r.body;
  engine_->Sync();
  auto d = worker_.Dispatched();
  ASSERT_EQ(d.size(), before + 1) << "only b runs";
  EXPECT_EQ(d.back().task_name, "b");
  EXPECT_EQ(store_->GetWorkflowInstance(wi)->state, WorkflowState::kRunningExecution);
  // While it runs, a second one is refused.
  r = Send("POST", ex,
           {{"processInstanceId", std::to_string(wi)},
            {"startNodeList", std::to_string(kB)},
            {"taskDependType", "TASK_ONLY"}});
  EXPECT_EQ(r.code(), 50006) << r.body;
  Finish(d.back(), TaskState::kSuccess);
  auto after = *store_->GetWorkflowInstance(wi);
  EXPECT_EQ(after.state, WorkflowState::kSuccess);
  EXPECT_EQ(after.run_times, 2);
  EXPECT_EQ(Current(wi, "a").id, a.id) << "a keeps its run";
  EXPECT_NE(Current(wi, "b").id, b.id) << "b ran again as a new row";
}

TEST_F(DefinitionRoutesTest, GanttVariablesAndTree) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t wi = Run(code, TaskState::kSuccess);
  Reply g = Send("GET", Pi(p1_) + "/" + std::to_string(wi) + "/view-gantt");
  ASSERT_EQ(g.code(), 0) << g.body;
  ASSERT_EQ(g.data()["tasks"].size(), 2u);
  EXPECT_EQ(g.data()["taskNames"], json::array({"a", "b"}));
  EXPECT_EQ(g.data()["tasks"][1]["status"], "SUCCESS");
  EXPECT_EQ(g.data()["tasks"][1]["endDate"][0].get<int64_t>() -
                g.data()["tasks"][1]["startDate"][0].get<int64_t>(),
            1000);
  Reply v = Send("GET", Pi(p1_) + "/" + std::to_string(wi) + "/view-variables");
  ASSERT_EQ(v.code(), 0) << v.body;
  EXPECT_EQ(v.data()["globalParams"][0]["prop"], "day");
  EXPECT_EQ(v.data()["localParams"]["b"]["localParamsList"][0]["value"], "world");
  EXPECT_EQ(Send("GET", Pi(p2_) + "/" + std::to_string(wi) + "/view-gantt").code(), 50001);

  Reply t = Send("GET", Pd(p1_) + "/" + std::to_string(code) + "/view-tree", {{"limit", "5"}});
  ASSERT_EQ(t.code(), 0) << t.body;
  EXPECT_EQ(t.data()["instances"].size(), 1u);
  ASSERT_EQ(t.data()["children"].size(), 1u);
  EXPECT_EQ(t.data()["children"][0]["name"], "a");
  EXPECT_EQ(t.data()["children"][0]["children"][0]["name"], "b");
  EXPECT_EQ(t.data()["children"][0]["children"][0]["instances"][0]["state"], "SUCCESS");
  EXPECT_EQ(Send("GET", Pd(p1_) + "/" + std::to_string(code) + "/view-tree").code(), 10001);
}

TEST_F(DefinitionRoutesTest, UpdateInstanceWritesAVersionAndSyncDefineMakesItCurrent) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t wi = Run(code, TaskState::kSuccess);
  std::string path = Pi(p1_) + "/" + std::to_string(wi);
  Pairs form = Form("ignored", "echo edited");
  form.emplace_back("scheduleTime", "2024-07-18 00:00:00");
  form.emplace_back("syncDefine", "false");
  for (auto& p : form)
    if (p.first == "timeout") p.second = "7";
  Reply r = Send("PUT", path, form);
  ASSERT_EQ(r.code(), 0) << r.body;
  auto inst = *store_->GetWorkflowInstance(wi);
  EXPECT_EQ(inst.definition_version, 2);
  EXPECT_EQ(inst.timeout, 7);
  EXPECT_EQ(store_->GetWorkflow(code)->version, 1) << "without syncDefine the definition stays";
  auto v2 = *store_->GetWorkflowVersion(code, 2);
  EXPECT_EQ(v2.name, "wf");

  for (auto& p : form)
    if (p.first == "syncDefine") p.second = "true";
  r = Send("PUT", path, form);
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(store_->GetWorkflowInstance(wi)->definition_version, 3);
  EXPECT_EQ(store_->GetWorkflow(code)->version, 3);

  // Refusals: bad input and a bad DAG change nothing.
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"syncDefine", "maybe"},
           {"scheduleTime", "yesterday"},
           {"taskRelationJson", "[{\"preTaskCode\":1,\"postTaskCode\":2}]"}}) {
    Pairs bad = form;
    for (auto& p : bad)
      if (p.first == k) p.second = v;
    Reply b = Send("PUT", path, bad);
    EXPECT_EQ(b.code(), 10001) << k << ": " << b.body;
  }
  EXPECT_EQ(store_->GetWorkflowInstance(wi)->definition_version, 3);
  EXPECT_EQ(store_->ListWorkflowVersions(code, {0, 10})->total, 3);
  EXPECT_EQ(Send("PUT", Pi(p1_) + "/424242", form).code(), 50001);
}

TEST_F(DefinitionRoutesTest, DeleteInstancesOnlyWhenFinishedWithTheirLogs) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t done = Run(code, TaskState::kSuccess);
  std::string log = Current(done, "b").log_path;
  ASSERT_TRUE(std::filesystem::exists(log));
  // A running one.
  ASSERT_EQ(
      Send("POST", Pd(p1_) + "/" + std::to_string(code) + "/release", {{"releaseState", "ONLINE"}})
          .code(),
      0);
  Send("POST", "/projects/" + std::to_string(p1_) + "/executors/start-process-instance",
       {{"processDefinitionCode", std::to_string(code)}, {"warningType", "NONE"}});
  engine_->Sync();
  int64_t running = worker_.Dispatched().back().workflow_instance_id;
  ASSERT_NE(running, done);

  Reply r = Send("DELETE", Pi(p1_) + "/" + std::to_string(running));
  EXPECT_EQ(r.code(), 50006) << r.body;
  r = Send("POST", Pi(p1_) + "/batch-delete",
           {{"processInstanceIds", std::to_string(done) + "," + std::to_string(running)}});
  EXPECT_EQ(r.code(), 10117) << r.body;
  EXPECT_TRUE(store_->GetWorkflowInstance(done).ok()) << "one refused keeps them all";
  EXPECT_EQ(Send("DELETE", Pi(p2_) + "/" + std::to_string(done)).code(), 50001);

  r = Send("DELETE", Pi(p1_) + "/" + std::to_string(done));
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(store_->GetWorkflowInstance(done).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListTaskInstances(done)->empty());
  EXPECT_FALSE(std::filesystem::exists(log)) << "its log files go too";
  EXPECT_EQ(Send("DELETE", Pi(p1_) + "/" + std::to_string(done)).code(), 50001);
  r = Send("POST", Pi(p1_) + "/batch-delete", {{"processInstanceIds", "a,b"}});
  EXPECT_EQ(r.code(), 10001) << r.body;
}

TEST_F(DefinitionRoutesTest, SubAndParentInstanceLookups) {
  int64_t child = CreateWorkflow(p1_, "child");
  json sub = Task(kA, "sub", "");
  sub["taskType"] = "SUB_PROCESS";
  sub["taskParams"] = {{"processDefinitionCode", child}, {"localParams", json::array()}};
  Pairs form = {{"name", "parent"},
                {"taskDefinitionJson", json::array({sub}).dump()},
                {"taskRelationJson", json::array({Edge(0, kA)}).dump()}};
  Reply created = Send("POST", Pd(p1_), form);
  ASSERT_EQ(created.code(), 0) << created.body;
  int64_t parent_code = created.data()["code"];
  for (int64_t code : {child, parent_code})
    ASSERT_EQ(Send("POST", Pd(p1_) + "/" + std::to_string(code) + "/release",
                   {{"releaseState", "ONLINE"}})
                  .code(),
              0);
  Reply r = Send("POST", "/projects/" + std::to_string(p1_) + "/executors/start-process-instance",
                 {{"processDefinitionCode", std::to_string(parent_code)}, {"warningType", "NONE"}});
  ASSERT_EQ(r.code(), 0) << r.body;
  engine_->Sync();
  engine_->Sync();
  auto d = worker_.Dispatched();
  ASSERT_EQ(d.size(), 1u) << "the child's first task";
  int64_t child_wi = d[0].workflow_instance_id;
  auto child_row = *store_->GetWorkflowInstance(child_wi);
  ASSERT_EQ(child_row.is_sub_process, 1);
  int64_t parent_wi = 0, sub_task = 0;
  auto all = store_->ListWorkflowInstances({}, {0, 10});
  ASSERT_TRUE(all.ok());
  for (const auto& wi : all->rows)
    if (wi.id != child_wi) parent_wi = wi.id;
  auto parent_tasks = store_->ListTaskInstances(parent_wi);
  ASSERT_TRUE(parent_tasks.ok());
  for (const auto& t : *parent_tasks) sub_task = t.id;
  ASSERT_NE(sub_task, 0);

  r = Send("GET", Pi(p1_) + "/query-sub-by-parent", {{"taskId", std::to_string(sub_task)}});
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(r.data()["subProcessInstanceId"], child_wi);
  r = Send("GET", Pi(p1_) + "/query-parent-by-sub", {{"subId", std::to_string(child_wi)}});
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(r.data()["parentWorkflowInstance"], parent_wi);

  EXPECT_EQ(Send("GET", Pi(p1_) + "/query-sub-by-parent",
                 {{"taskId", std::to_string(d[0].task_instance_id)}})
                .code(),
            10021)
      << "a SHELL task has no child";
  EXPECT_EQ(Send("GET", Pi(p1_) + "/query-sub-by-parent", {{"taskId", "999999"}}).code(), 10020);
  EXPECT_EQ(
      Send("GET", Pi(p2_) + "/query-sub-by-parent", {{"taskId", std::to_string(sub_task)}}).code(),
      10020);
  EXPECT_EQ(
      Send("GET", Pi(p1_) + "/query-parent-by-sub", {{"subId", std::to_string(parent_wi)}}).code(),
      50010);
  Finish(d[0], TaskState::kSuccess);
}

TEST_F(DefinitionRoutesTest, BatchDeleteInstances) {
  int64_t code = CreateWorkflow(p1_, "wf");
  int64_t one = Run(code, TaskState::kSuccess);
  int64_t two = Run(code, TaskState::kFailure);
  Reply r = Send("POST", Pi(p1_) + "/batch-delete",
                 {{"processInstanceIds", std::to_string(one) + "," + std::to_string(two)}});
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(store_->ListWorkflowInstances({}, {0, 10})->total, 0);
}

}  // namespace
}  // namespace dsched::api
