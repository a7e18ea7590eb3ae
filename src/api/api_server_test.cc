// ApiServer over real HTTP: a small synchronous Beast client talks to the server on an
// ephemeral port. The stores are map-based test doubles (fixtures, not implementations: they
// do only what these tests need) and the master is a recorder.

#include "api/api_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/api_test_support.h"
#include "api/auth.h"
#include "common/time_format.h"
#include "model/states.h"

namespace dsched::api {
namespace {

using nlohmann::json;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using apitest::Exchange;
using apitest::Pairs;
using apitest::Reply;

// ---------------------------------------------------------------------------------------------
// Test doubles

template <typename T>
PageResult<T> Slice(const std::vector<T>& all, Page page) {
  PageResult<T> r;
  r.total = static_cast<int64_t>(all.size());
  for (int64_t i = page.offset; i < r.total && i < page.offset + page.limit; ++i)
    r.rows.push_back(all[static_cast<size_t>(i)]);
  return r;
}

class MapDefinitionStore : public DefinitionStore {
 public:
  StatusOr<Project> CreateProject(Project p) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [c, q] : projects_)
      if (q.name == p.name || c == p.code) return AlreadyExists("project " + p.name);
    p.id = static_cast<int64_t>(projects_.size()) + 1;
    projects_[p.code] = p;
    return p;
  }
  StatusOr<Project> GetProject(int64_t code) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = projects_.find(code);
    if (it == projects_.end()) return NotFound("project");
    return it->second;
  }
  StatusOr<Project> GetProjectByName(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [c, p] : projects_)
      if (p.name == name) return p;
    return NotFound("project");
  }
  StatusOr<PageResult<Project>> ListProjects(const std::string& search, Page page) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Project> all;
    for (const auto& [c, p] : projects_)
      if (p.name.find(search) != std::string::npos) all.push_back(p);
    return Slice(all, page);
  }
  StatusOr<WorkflowDefinition> CreateWorkflow(WorkflowDefinition def) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [c, v] : versions_)
      if (v.back().project_code == def.project_code && v.back().name == def.name)
        return AlreadyExists("workflow " + def.name);
    def.id = ++next_id_;
    def.version = 1;
    versions_[def.code].push_back(def);
    return def;
  }
  StatusOr<WorkflowDefinition> UpdateWorkflow(WorkflowDefinition def) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(def.code);
    if (it == versions_.end()) return NotFound("workflow");
    def.version = it->second.back().version + 1;
    it->second.push_back(def);
    return def;
  }
  StatusOr<WorkflowDefinition> GetWorkflow(int64_t code) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    return it->second.back();
  }
  StatusOr<WorkflowDefinition> GetWorkflowVersion(int64_t code, int version) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    for (const auto& d : it->second)
      if (d.version == version) return d;
    return NotFound("version");
  }
  StatusOr<WorkflowDefinition> GetWorkflowByName(int64_t project_code,
                                                 const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [c, v] : versions_)
      if (v.back().project_code == project_code && v.back().name == name) return v.back();
    return NotFound("workflow");
  }
  StatusOr<PageResult<WorkflowDefinition>> ListWorkflows(int64_t project_code,
                                                         const std::string& search,
                                                         Page page) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<WorkflowDefinition> all;
    for (const auto& [c, v] : versions_) {
      if (v.back().project_code != project_code) continue;
      if (v.back().name.find(search) == std::string::npos) continue;
      WorkflowDefinition d = v.back();
      d.tasks.clear();
      d.relations.clear();
      all.push_back(d);
    }
    return Slice(all, page);
  }
  Status SetReleaseState(int64_t code, ReleaseState state) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    for (auto& d : it->second) d.release_state = state;
    return Status::Ok();
  }
  Status DeleteWorkflow(int64_t code) override {
    std::lock_guard<std::mutex> l(mu_);
    versions_.erase(code);
    return Status::Ok();
  }
  StatusOr<PageResult<WorkflowDefinition>> ListWorkflowVersions(int64_t code, Page page) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    std::vector<WorkflowDefinition> all(it->second.rbegin(), it->second.rend());
    return Slice(all, page);
  }
  StatusOr<WorkflowDefinition> SwitchWorkflowVersion(int64_t code, int version) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    for (size_t i = 0; i < it->second.size(); ++i)
      if (it->second[i].version == version) {
        WorkflowDefinition d = it->second[i];
        d.release_state = it->second.back().release_state;
        d.project_code = it->second.back().project_code;
        it->second.erase(it->second.begin() + static_cast<long>(i));
        it->second.push_back(d);  // the current one is the last
        return d;
      }
    return NotFound("version");
  }
  Status DeleteWorkflowVersion(int64_t code, int version) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    if (it->second.back().version == version) return FailedPrecondition("current version");
    for (size_t i = 0; i < it->second.size(); ++i)
      if (it->second[i].version == version) {
        it->second.erase(it->second.begin() + static_cast<long>(i));
        return Status::Ok();
      }
    return NotFound("version");
  }
  StatusOr<WorkflowDefinition> MoveWorkflow(int64_t code, int64_t target) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(code);
    if (it == versions_.end()) return NotFound("workflow");
    WorkflowDefinition d = it->second.back();
    if (d.project_code == target) return d;
    for (const auto& [c, v] : versions_)
      if (v.back().project_code == target && v.back().name == d.name)
        return AlreadyExists("workflow " + d.name);
    d.project_code = target;
    int next = 0;
    for (const auto& v : it->second) next = std::max(next, v.version);
    d.version = next + 1;
    it->second.push_back(d);
    return d;
  }
  StatusOr<WorkflowDefinition> AddWorkflowVersion(WorkflowDefinition def) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = versions_.find(def.code);
    if (it == versions_.end()) return NotFound("workflow");
    int next = 0;
    for (const auto& v : it->second) next = std::max(next, v.version);
    def.version = next + 1;
    it->second.insert(it->second.end() - 1, def);  // stored, but the current one stays last
    return def;
  }
  StatusOr<TaskDefinition> GetTaskDefinition(int64_t code) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [c, v] : versions_)
      for (const auto& t : v.back().tasks)
        if (t.code == code) return t;
    return NotFound("task definition");
  }
  size_t workflow_count() {
    std::lock_guard<std::mutex> l(mu_);
    return versions_.size();
  }

 private:
  std::mutex mu_;
  std::map<int64_t, Project> projects_;
  std::map<int64_t, std::vector<WorkflowDefinition>> versions_;
  int64_t next_id_ = 0;
};

class MapInstanceStore : public InstanceStore {
 public:
  StatusOr<int64_t> InsertCommand(Command c) override {
    std::lock_guard<std::mutex> l(mu_);
    c.id = static_cast<int64_t>(commands_.size()) + 1;
    commands_.push_back(c);
    return c.id;
  }
  StatusOr<std::vector<Command>> ListCommands(int limit) override {
    std::lock_guard<std::mutex> l(mu_);
    return commands_;
  }
  Status ClaimCommand(int64_t, WorkflowInstance*, int64_t,
                      const std::vector<TaskInstance>&) override {
    return Internal("not used by the API");
  }
  Status FailCommand(const Command&, const std::string&) override {
    return Internal("not used by the API");
  }
  StatusOr<WorkflowInstance> GetWorkflowInstance(int64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workflows_.find(id);
    if (it == workflows_.end()) return NotFound("instance");
    return it->second;
  }
  StatusOr<PageResult<WorkflowInstance>> ListWorkflowInstances(const InstanceFilter& f,
                                                               Page page) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<WorkflowInstance> all;
    for (const auto& [id, wi] : workflows_) {
      if (f.project_code && wi.project_code != f.project_code) continue;
      if (f.definition_code && wi.definition_code != f.definition_code) continue;
      if (f.state && wi.state != *f.state) continue;
      if (wi.name.find(f.search) == std::string::npos) continue;
      all.push_back(wi);
    }
    return Slice(all, page);
  }
  StatusOr<std::vector<WorkflowInstance>> ListByTrigger(int64_t trigger_code) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<WorkflowInstance> out;
    for (const auto& [id, wi] : workflows_)
      if (wi.trigger_code == trigger_code) out.push_back(wi);
    return out;
  }
  StatusOr<std::vector<WorkflowInstance>> ListUnfinished() override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<WorkflowInstance> out;
    for (const auto& [id, wi] : workflows_)
      if (!IsFinal(wi.state)) out.push_back(wi);
    return out;
  }
  Status TakeOwnership(int64_t, int64_t, const std::string&, int64_t) override {
    return Internal("not used by the API");
  }
  StatusOr<int64_t> MaxOwnerEpoch() override { return int64_t{0}; }
  StatusOr<TaskInstance> GetTaskInstance(int64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return NotFound("task instance");
    return it->second;
  }
  StatusOr<std::vector<TaskInstance>> ListTaskInstances(int64_t workflow_instance_id) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<TaskInstance> out;
    for (const auto& [id, ti] : tasks_)
      if (ti.workflow_instance_id == workflow_instance_id) out.push_back(ti);
    return out;
  }
  StatusOr<PageResult<TaskInstance>> ListTaskInstancesPaged(const TaskInstanceFilter& f,
                                                            Page page) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<TaskInstance> all;
    for (const auto& [id, ti] : tasks_) {
      if (f.project_code && ti.project_code != f.project_code) continue;
      if (f.workflow_instance_id && ti.workflow_instance_id != f.workflow_instance_id) continue;
      if (f.task_code && ti.task_code != f.task_code) continue;
      if (f.state && ti.state != *f.state) continue;
      all.push_back(ti);
    }
    return Slice(all, page);
  }
  Status Commit(WriteBatch&) override { return Internal("not used by the API"); }
  StatusOr<std::vector<std::string>> DeleteWorkflowInstance(int64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> logs;
    auto it = workflows_.find(id);
    if (it == workflows_.end()) return logs;
    if (!IsFinal(it->second.state)) return FailedPrecondition("not finished");
    workflows_.erase(it);
    for (auto t = tasks_.begin(); t != tasks_.end();) {
      if (t->second.workflow_instance_id != id) {
        ++t;
        continue;
      }
      if (!t->second.log_path.empty()) logs.push_back(t->second.log_path);
      t = tasks_.erase(t);
    }
    return logs;
  }
  Status UpdateFinishedInstance(const WorkflowInstance& wi) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workflows_.find(wi.id);
    if (it == workflows_.end()) return NotFound("instance");
    if (!IsFinal(it->second.state)) return FailedPrecondition("not finished");
    it->second.definition_version = wi.definition_version;
    it->second.schedule_time = wi.schedule_time;
    it->second.global_params = wi.global_params;
    it->second.timeout = wi.timeout;
    return Status::Ok();
  }

  // Fixture setup.
  void Put(const WorkflowInstance& wi) {
    std::lock_guard<std::mutex> l(mu_);
    workflows_[wi.id] = wi;
  }
  void Put(const TaskInstance& ti) {
    std::lock_guard<std::mutex> l(mu_);
    tasks_[ti.id] = ti;
  }
  std::vector<Command> commands() {
    std::lock_guard<std::mutex> l(mu_);
    return commands_;
  }

 private:
  std::mutex mu_;
  std::vector<Command> commands_;
  std::map<int64_t, WorkflowInstance> workflows_;
  std::map<int64_t, TaskInstance> tasks_;
};

class MapUserStore : public UserStore {
 public:
  StatusOr<User> GetUserByName(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, u] : users_)
      if (u.user_name == name) return u;
    return NotFound("user");
  }
  StatusOr<User> GetUser(int64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = users_.find(id);
    if (it == users_.end()) return NotFound("user");
    return it->second;
  }
  StatusOr<User> CreateUser(User u) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, x] : users_)
      if (x.user_name == u.user_name) return AlreadyExists("user");
    u.id = static_cast<int64_t>(users_.size()) + 1;
    users_[u.id] = u;
    return u;
  }
  Status CreateSession(const Session& s) override {
    std::lock_guard<std::mutex> l(mu_);
    sessions_[s.id] = s;
    return Status::Ok();
  }
  StatusOr<Session> GetSession(const std::string& id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return NotFound("session");
    return it->second;
  }
  Status TouchSession(const std::string& id, int64_t now_ms) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return NotFound("session");
    it->second.last_login_time = now_ms;
    return Status::Ok();
  }
  Status DeleteSessionsOfUser(int64_t user_id) override {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();)
      it = it->second.user_id == user_id ? sessions_.erase(it) : std::next(it);
    return Status::Ok();
  }
  StatusOr<User> GetUserByToken(const std::string& token, int64_t now_ms) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end() || it->second.second < now_ms) return NotFound("token");
    return users_.at(it->second.first);
  }

  void AddToken(const std::string& token, int64_t user_id, int64_t expire_ms) {
    std::lock_guard<std::mutex> l(mu_);
    tokens_[token] = {user_id, expire_ms};
  }
  size_t user_count() {
    std::lock_guard<std::mutex> l(mu_);
    return users_.size();
  }

 private:
  std::mutex mu_;
  std::map<int64_t, User> users_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, std::pair<int64_t, int64_t>> tokens_;
};

class RecordingMaster : public MasterControl {
 public:
  void WakeCommands() override { ++wakes; }
  Status Execute(int64_t id, ExecuteType type) override {
    std::lock_guard<std::mutex> l(mu);
    executed.emplace_back(id, type);
    return next_status;
  }
  Status ForceTaskSuccess(int64_t id) override {
    std::lock_guard<std::mutex> l(mu);
    forced.push_back(id);
    return next_status;
  }
  Status ExecuteTask(int64_t id, const std::vector<int64_t>& nodes, TaskDependType mode) override {
    std::lock_guard<std::mutex> l(mu);
    executed_tasks.push_back({id, nodes, mode});
    return next_status;
  }
  struct ExecutedTask {
    int64_t id;
    std::vector<int64_t> nodes;
    TaskDependType mode;
  };
  std::vector<int64_t> forced;
  std::vector<ExecutedTask> executed_tasks;
  std::atomic<int> wakes{0};
  std::mutex mu;
  std::vector<std::pair<int64_t, ExecuteType>> executed;
  Status next_status;
};

// ---------------------------------------------------------------------------------------------
// Fixture

constexpr const char* kBase = "/dolphinscheduler";

// Hashing costs ~0.1 s of argon2id; one hash serves every test.
const std::string& AdminHash() {
  static const std::string h = *HashPassword("dolphinscheduler123");
  return h;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    User admin;
    admin.user_name = "admin";
    admin.password_hash = AdminHash();
    admin.user_type = UserType::kAdmin;
    ASSERT_TRUE(users_.CreateUser(admin).ok());
    ASSERT_TRUE(cfg_.Set("api.port", "0").ok());
    ASSERT_TRUE(cfg_.Set("api.session_timeout_s", "600").ok());
    log_dir_ = std::filesystem::temp_directory_path() /
               ("api_test_" + std::to_string(getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(log_dir_);
    logs_ = std::make_unique<LocalLogReader>(log_dir_);
    StartServer();
  }
  void TearDown() override { std::filesystem::remove_all(log_dir_); }

  void StartServer() {
    ApiDeps deps;
    deps.defs = &defs_;
    deps.instances = &instances_;
    deps.users = &users_;
    deps.master = &master_;
    deps.clock = &clock_;
    deps.codes = &codes_;
    deps.logs = logs_.get();
    auto s = ApiServer::Create(cfg_, deps);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  Reply Send(const std::string& method, const std::string& path, const Pairs& params = {},
             const Pairs& headers = {}, bool with_session = true) {
    return apitest::Send(server_->port(), with_session ? session_ : "", method, path, params,
                         headers);
  }
  Reply Get(const std::string& path, const Pairs& params = {}) { return Send("GET", path, params); }
  Reply Post(const std::string& path, const Pairs& params = {}) {
    return Send("POST", path, params);
  }

  Reply Login(const std::string& name, const std::string& password) {
    return Send("POST", "/login", {{"userName", name}, {"userPassword", password}}, {}, false);
  }
  void LoginAdmin() {
    Reply r = Login("admin", "dolphinscheduler123");
    ASSERT_EQ(r.code(), 0) << r.body;
    session_ = r.data().at("sessionId").get<std::string>();
  }

  int64_t CreateProject(const std::string& name) {
    Reply r = Post("/projects", {{"projectName", name}, {"description", "d"}});
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.j.at("data").at("code").get<int64_t>();
  }

  // Two SHELL tasks a -> b as the DAG editor sends them (numbers as strings included).
  static json Task(int64_t code, const std::string& name) {
    return {{"code", code},
            {"name", name},
            {"description", ""},
            {"taskType", "SHELL"},
            {"taskParams",
             {{"localParams", json::array()},
              {"rawScript", "echo " + name},
              {"resourceList", json::array()}}},
            {"flag", "YES"},
            {"isCache", "NO"},
            {"taskPriority", "MEDIUM"},
            {"workerGroup", "default"},
            {"environmentCode", -1},
            {"failRetryTimes", "0"},
            {"failRetryInterval", "1"},
            {"delayTime", "0"},
            {"timeout", 0},
            {"timeoutFlag", "CLOSE"},
            {"timeoutNotifyStrategy", ""}};
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
  Pairs WorkflowForm(const std::string& name, const json& tasks, const json& relations) {
    return {{"name", name},
            {"description", "a workflow"},
            {"globalParams", R"([{"prop":"day","direct":"IN","type":"VARCHAR","value":"1"}])"},
            {"locations", "[]"},
            {"timeout", "0"},
            {"executionType", "PARALLEL"},
            {"taskDefinitionJson", tasks.dump()},
            {"taskRelationJson", relations.dump()}};
  }
  // Creates workflow `name` (a -> b) in project pc; returns its code.
  int64_t CreateWorkflow(int64_t pc, const std::string& name) {
    json tasks = json::array({Task(kA, "a"), Task(kB, "b")});
    json rels = json::array({Edge(0, kA), Edge(kA, kB)});
    Reply r = Post(WfPath(pc), WorkflowForm(name, tasks, rels));
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.j.at("data").at("code").get<int64_t>();
  }
  static std::string WfPath(int64_t pc) {
    return "/projects/" + std::to_string(pc) + "/process-definition";
  }

  static constexpr int64_t kA = 13412700000001;
  static constexpr int64_t kB = 13412700000002;

  FakeClock clock_;
  CodeGenerator codes_{clock_};
  MapDefinitionStore defs_;
  MapInstanceStore instances_;
  MapUserStore users_;
  RecordingMaster master_;
  Config cfg_;
  std::filesystem::path log_dir_;  // task logs; the API reads only below it
  std::unique_ptr<LocalLogReader> logs_;
  std::unique_ptr<ApiServer> server_;
  std::string session_;
};

// ---------------------------------------------------------------------------------------------
// Login and sessions

TEST_F(ApiServerTest, LoginSetsSessionAndCookies) {
  Reply r = Login("admin", "dolphinscheduler123");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.code(), 0);
  EXPECT_EQ(r.msg(), "login success");
  EXPECT_TRUE(r.j.at("success").get<bool>());
  EXPECT_FALSE(r.j.at("failed").get<bool>());
  std::string sid = r.data().at("sessionId").get<std::string>();
  EXPECT_EQ(sid.size(), 36u);
  EXPECT_EQ(r.data().at("securityConfigType"), "PASSWORD");
  ASSERT_EQ(r.set_cookies.size(), 2u);
  EXPECT_EQ(r.set_cookies[0], "sessionId=" + sid + "; HttpOnly; Path=/");

  // Header, then cookie: both identify the user.
  session_ = sid;
  Reply me = Get("/users/get-user-info");
  ASSERT_EQ(me.code(), 0) << me.body;
  EXPECT_EQ(me.data().at("userName"), "admin");
  EXPECT_EQ(me.data().at("userType"), "ADMIN_USER");
  EXPECT_FALSE(me.data().contains("userPassword"));
  Reply by_cookie = Send("GET", "/users/get-user-info", {},
                         {{"Cookie", "language=en_US; sessionId=" + sid}}, false);
  EXPECT_EQ(by_cookie.code(), 0) << by_cookie.body;
}

TEST_F(ApiServerTest, LoginFailures) {
  EXPECT_EQ(Login("admin", "wrong").code(), 10013);
  EXPECT_EQ(Login("nobody", "dolphinscheduler123").code(), 10013);
  Reply no_name = Login("", "x");
  EXPECT_EQ(no_name.code(), 10004);
  EXPECT_FALSE(no_name.j.at("success").get<bool>());
  EXPECT_TRUE(no_name.j.at("failed").get<bool>());

  User off;
  off.user_name = "off";
  off.password_hash = AdminHash();
  off.state = 0;
  ASSERT_TRUE(users_.CreateUser(off).ok());
  EXPECT_EQ(Login("off", "dolphinscheduler123").code(), 10148);
}

TEST_F(ApiServerTest, UnauthenticatedIs401WithEmptyBody) {
  Reply r = Get("/projects");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
  session_ = "00000000-0000-4000-8000-000000000000";
  EXPECT_EQ(Get("/users/get-user-info").status, 401);
}

TEST_F(ApiServerTest, TokenHeaderAuthenticates) {
  users_.AddToken("tok", 1, clock_.NowMs() + 1000);
  Reply r = Send("GET", "/users/get-user-info", {}, {{"token", "tok"}}, false);
  EXPECT_EQ(r.code(), 0) << r.body;
  clock_.Advance(2000);
  EXPECT_EQ(Send("GET", "/users/get-user-info", {}, {{"token", "tok"}}, false).status, 401);
}

TEST_F(ApiServerTest, SessionExpiresAfterInactivityOnly) {
  LoginAdmin();
  clock_.Advance(500 * 1000);  // timeout is 600 s
  EXPECT_EQ(Get("/users/get-user-info").code(), 0);
  clock_.Advance(500 * 1000);  // 1000 s after login, 500 s after the last request
  EXPECT_EQ(Get("/users/get-user-info").code(), 0);
  clock_.Advance(601 * 1000);
  EXPECT_EQ(Get("/users/get-user-info").status, 401);
}

TEST_F(ApiServerTest, SignOutEndsTheSession) {
  LoginAdmin();
  Reply r = Post("/signOut");
  EXPECT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(Get("/users/get-user-info").status, 401);
  EXPECT_EQ(Post("/signOut").status, 401);  // a second sign-out has no session left
}

TEST(EnsureAdminUserTest, CreatesOnceAndLoginWorks) {
  FakeClock clock;
  MapUserStore users;
  ASSERT_TRUE(EnsureAdminUser(users, clock).ok());
  ASSERT_TRUE(EnsureAdminUser(users, clock).ok());
  EXPECT_EQ(users.user_count(), 1u);
  auto admin = users.GetUserByName("admin");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->user_type, UserType::kAdmin);
  EXPECT_TRUE(VerifyPassword(admin->password_hash, "dolphinscheduler123"));
  EXPECT_FALSE(VerifyPassword(admin->password_hash, "dolphinscheduler12"));
}

// ---------------------------------------------------------------------------------------------
// HTTP conventions

TEST_F(ApiServerTest, TrailingSlashUnknownParamsAndEmptyValues) {
  LoginAdmin();
  CreateProject("p1");
  Reply r =
      Get("/projects/",
          {{"pageNo", "1"}, {"pageSize", "10"}, {"searchVal", ""}, {"loginUser", "User{id=1}"}});
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(r.data().at("total"), 1);
  // Empty pageNo is absent: the default applies instead of an error.
  EXPECT_EQ(Get("/projects", {{"pageNo", ""}, {"pageSize", ""}}).code(), 0);
  EXPECT_EQ(Get("/no/such/route").status, 404);
  EXPECT_EQ(Send("PATCH", "/projects").status, 405);
}

TEST_F(ApiServerTest, PercentDecodingOfFormsAndQueries) {
  LoginAdmin();
  Reply r = Post("/projects", {{"projectName", "a b+c&d=é"}});
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(r.data().at("name"), "a b+c&d=é");
  Reply list = Get("/projects", {{"searchVal", "b+c&d"}});
  EXPECT_EQ(list.data().at("total"), 1);
}

TEST_F(ApiServerTest, ExpectContinueAndBodyLimit) {
  LoginAdmin();
  http::request<http::string_body> req{http::verb::post, std::string(kBase) + "/projects", 11};
  req.set("sessionId", session_);
  req.set(http::field::expect, "100-continue");
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = "projectName=big&description=" + std::string(2000, 'x');
  Reply r = Exchange(server_->port(), req);
  EXPECT_EQ(r.code(), 0) << r.body;

  server_.reset();
  ASSERT_TRUE(cfg_.Set("api.max_body_bytes", "100").ok());
  StartServer();
  req.set(http::field::expect, "");
  EXPECT_EQ(Exchange(server_->port(), req).status, 413);
}

TEST_F(ApiServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  LoginAdmin();
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(server_->port())));
  beast::flat_buffer buf;
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> req{http::verb::get,
                                         std::string(kBase) + "/users/get-user-info", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set("sessionId", session_);
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(ApiServerTest, ConcurrentClients) {
  LoginAdmin();
  CreateProject("p");
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (i % 2 == 0) {
          ok += Get("/projects", {{"pageNo", "1"}, {"pageSize", "10"}}).code() == 0;
        } else {
          std::string name = "c" + std::to_string(t) + "_" + std::to_string(i);
          ok += Post("/projects", {{"projectName", name}}).code() == 0;
        }
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(Get("/projects/list").data().size(), 41u);
}

// ---------------------------------------------------------------------------------------------
// Projects

TEST_F(ApiServerTest, ProjectsCreateListAndPaging) {
  LoginAdmin();
  Reply empty = Get("/projects", {{"pageNo", "1"}, {"pageSize", "10"}});
  EXPECT_EQ(empty.data().at("totalPage"), 1);
  EXPECT_EQ(empty.data().at("totalList"), json::array());

  int64_t code = CreateProject("alpha");
  CreateProject("beta");
  CreateProject("gamma");
  Reply dup = Post("/projects", {{"projectName", "alpha"}});
  EXPECT_EQ(dup.code(), 10019);
  EXPECT_EQ(dup.msg(), "project alpha already exists");
  Reply missing = Post("/projects", {{"description", "x"}});
  EXPECT_EQ(missing.code(), 10001);
  EXPECT_NE(missing.msg().find("projectName"), std::string::npos);

  Reply page = Get("/projects", {{"pageNo", "2"}, {"pageSize", "2"}, {"searchVal", ""}});
  ASSERT_EQ(page.code(), 0) << page.body;
  const json& d = page.data();
  EXPECT_EQ(d.at("totalList").size(), 1u);
  EXPECT_EQ(d.at("total"), 3);
  EXPECT_EQ(d.at("totalPage"), 2);
  EXPECT_EQ(d.at("pageSize"), 2);
  EXPECT_EQ(d.at("currentPage"), 2);
  EXPECT_EQ(d.at("pageNo"), 2);  // DolphinScheduler's quirk: the offset
  EXPECT_EQ(Get("/projects", {{"pageNo", "0"}}).code(), 10001);
  EXPECT_EQ(Get("/projects", {{"pageSize", "x"}}).code(), 10001);

  Reply one = Get("/projects/" + std::to_string(code));
  EXPECT_EQ(one.data().at("name"), "alpha");
  EXPECT_EQ(one.data().at("userName"), "admin");
  EXPECT_EQ(Get("/projects/42").code(), 10018);
  EXPECT_EQ(Get("/projects/list").data().size(), 3u);
}

TEST_F(ApiServerTest, GenTaskCodes) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  std::string path = "/projects/" + std::to_string(pc) + "/task-definition/gen-task-codes";
  Reply r = Get(path, {{"genNum", "3"}});
  ASSERT_EQ(r.code(), 0) << r.body;
  ASSERT_EQ(r.data().size(), 3u);
  EXPECT_NE(r.data()[0], r.data()[1]);
  EXPECT_EQ(Get(path, {{"genNum", "0"}}).code(), 10001);
  EXPECT_EQ(Get(path, {{"genNum", "1001"}}).code(), 10001);
  EXPECT_EQ(Get(path).code(), 10001);
}

// ---------------------------------------------------------------------------------------------
// Workflow definitions

TEST_F(ApiServerTest, CreateWorkflowAndReadItBack) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  int64_t code = CreateWorkflow(pc, "wf");
  Reply dag = Get(WfPath(pc) + "/" + std::to_string(code));
  ASSERT_EQ(dag.code(), 0) << dag.body;
  const json& pd = dag.data().at("processDefinition");
  EXPECT_EQ(pd.at("name"), "wf");
  EXPECT_EQ(pd.at("releaseState"), "OFFLINE");
  EXPECT_EQ(pd.at("globalParamList")[0].at("prop"), "day");
  ASSERT_EQ(dag.data().at("taskDefinitionList").size(), 2u);
  EXPECT_EQ(dag.data().at("taskDefinitionList")[0].at("projectCode"), pc);
  EXPECT_EQ(dag.data().at("taskDefinitionList")[0].at("userId"), 1);
  EXPECT_EQ(dag.data().at("processTaskRelationList").size(), 2u);

  EXPECT_EQ(
      Post(WfPath(pc), WorkflowForm("wf", json::array({Task(kA, "a")}), json::array({Edge(0, kA)})))
          .code(),
      10168);
  EXPECT_EQ(Get(WfPath(pc) + "/verify-name", {{"name", "wf"}}).code(), 10168);
  Reply free = Get(WfPath(pc) + "/verify-name", {{"name", "other"}});
  EXPECT_EQ(free.code(), 0);
  EXPECT_TRUE(free.data().is_null());
  EXPECT_EQ(Get(WfPath(pc) + "/query-by-name", {{"name", "wf"}})
                .data()
                .at("processDefinition")
                .at("code"),
            code);
  EXPECT_EQ(Get(WfPath(pc) + "/query-by-name", {{"name", "nope"}}).code(), 50003);
  Reply page = Get(WfPath(pc), {{"pageNo", "1"}, {"pageSize", "10"}});
  ASSERT_EQ(page.data().at("totalList").size(), 1u);
  EXPECT_EQ(page.data().at("totalList")[0].at("userName"), "admin");
  Reply list = Get(WfPath(pc) + "/list");
  ASSERT_EQ(list.data().size(), 1u);
  EXPECT_NE(list.body.find("echo a"), std::string::npos);  // DagData, tasks included
  Reply names = Get(WfPath(pc) + "/query-process-definition-list");
  EXPECT_EQ(names.data()[0].at("name"), "wf");
  EXPECT_EQ(Get(WfPath(pc) + "/999").code(), 50003);
}

struct BadDag {
  std::string label;
  std::string tasks;      // taskDefinitionJson text
  std::string relations;  // taskRelationJson text
  int code;
  std::vector<std::string> msg_has;
};

TEST_F(ApiServerTest, BadWorkflowsAreRefusedAndNothingIsStored) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  auto two = [](json a, json b) { return json::array({a, b}).dump(); };
  json bad_retry = Task(kA, "a");
  bad_retry["failRetryTimes"] = "abc";
  json bad_type = Task(kA, "a");
  bad_type["taskType"] = "FOO";
  std::string chain = json::array({Edge(0, kA), Edge(kA, kB)}).dump();
  std::vector<BadDag> cases = {
      {"not json", "[{", chain, 10001, {"taskDefinitionJson"}},
      {"not a list", "{}", chain, 10001, {"taskDefinitionJson"}},
      {"bad number",
       two(bad_retry, Task(kB, "b")),
       chain,
       10001,
       {"taskDefinitionJson[0].failRetryTimes", "abc"}},
      {"unknown type", two(bad_type, Task(kB, "b")), chain, 10001, {"FOO"}},
      {"cycle",
       two(Task(kA, "a"), Task(kB, "b")),
       json::array({Edge(kA, kB), Edge(kB, kA)}).dump(),
       50019,
       {"'a'", "'b'"}},
      {"dangling",
       two(Task(kA, "a"), Task(kB, "b")),
       json::array({Edge(0, kA), Edge(777, kB)}).dump(),
       10001,
       {"777"}},
      {"relation not json", two(Task(kA, "a"), Task(kB, "b")), "nope", 10001, {"taskRelationJson"}},
      {"empty dag", "[]", "[]", 50035, {}},
  };
  for (const auto& c : cases) {
    Pairs form = WorkflowForm("wf", json::array(), json::array());
    for (auto& [k, v] : form) {
      if (k == "taskDefinitionJson") v = c.tasks;
      if (k == "taskRelationJson") v = c.relations;
    }
    Reply r = Post(WfPath(pc), form);
    EXPECT_EQ(r.code(), c.code) << c.label << ": " << r.body;
    for (const auto& part : c.msg_has)
      EXPECT_NE(r.msg().find(part), std::string::npos) << c.label << ": " << r.msg();
  }
  Pairs bad_enum = WorkflowForm("wf", json::array({Task(kA, "a")}), json::array({Edge(0, kA)}));
  bad_enum.emplace_back("executionType", "SOMETIMES");
  // The form already has executionType=PARALLEL; a repeated key joins to "PARALLEL,SOMETIMES".
  EXPECT_EQ(Post(WfPath(pc), bad_enum).code(), 10001);
  EXPECT_EQ(defs_.workflow_count(), 0u);
}

TEST_F(ApiServerTest, UpdateReleaseAndDelete) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  int64_t code = CreateWorkflow(pc, "wf");
  std::string path = WfPath(pc) + "/" + std::to_string(code);
  json tasks = json::array({Task(kA, "a2")});
  Reply upd = Send("PUT", path, WorkflowForm("wf-renamed", tasks, json::array({Edge(0, kA)})));
  ASSERT_EQ(upd.code(), 0) << upd.body;
  EXPECT_EQ(upd.data().at("version"), 2);
  EXPECT_EQ(upd.data().at("name"), "wf-renamed");
  EXPECT_EQ(Get(path).data().at("taskDefinitionList").size(), 1u);

  Reply rel = Post(path + "/release", {{"releaseState", "ONLINE"}});
  EXPECT_EQ(rel.code(), 0) << rel.body;
  EXPECT_EQ(rel.data(), true);
  EXPECT_EQ(Get(path).data().at("processDefinition").at("releaseState"), "ONLINE");
  Reply refused = Send("PUT", path, WorkflowForm("wf-renamed", tasks, json::array({Edge(0, kA)})));
  EXPECT_EQ(refused.code(), 50021);
  EXPECT_EQ(refused.msg(), "process definition [wf-renamed] is already online");
  EXPECT_EQ(Send("DELETE", path).code(), 50021);
  EXPECT_EQ(Post(path + "/release", {{"releaseState", "MAYBE"}}).code(), 10001);
  EXPECT_EQ(Post(path + "/release").code(), 10001);

  EXPECT_EQ(Post(path + "/release", {{"releaseState", "OFFLINE"}}).code(), 0);
  EXPECT_EQ(Send("DELETE", path).code(), 0);
  EXPECT_EQ(Get(path).code(), 50003);
  EXPECT_EQ(Send("DELETE", path).code(), 50003);
}

// ---------------------------------------------------------------------------------------------
// Executors

TEST_F(ApiServerTest, StartProcessInstanceInsertsACommand) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  int64_t code = CreateWorkflow(pc, "wf");
  std::string start = "/projects/" + std::to_string(pc) + "/executors/start-process-instance";
  Pairs form = {
      {"processDefinitionCode", std::to_string(code)},
      {"scheduleTime",
       R"({"complementStartDate":"2024-07-18 00:00:00","complementEndDate":"2024-07-18 00:00:00"})"},
      {"failureStrategy", "END"},
      {"warningType", "ALL"},
      {"warningGroupId", ""},
      {"execType", "START_PROCESS"},
      {"startNodeList", std::to_string(kB)},
      {"taskDependType", "TASK_ONLY"},
      {"runMode", "RUN_MODE_SERIAL"},
      {"processInstancePriority", "HIGH"},
      {"workerGroup", "default"},
      {"tenantCode", "default"},
      {"environmentCode", ""},
      {"startParams", R"({"k":"v","n":3})"},
      {"expectedParallelismNumber", "2"},
      {"dryRun", "1"},
      {"testFlag", "0"},
      {"version", "1"}};
  EXPECT_EQ(Post(start, form).code(), 50004);  // still offline
  EXPECT_TRUE(instances_.commands().empty());
  ASSERT_EQ(Post(WfPath(pc) + "/" + std::to_string(code) + "/release", {{"releaseState", "ONLINE"}})
                .code(),
            0);

  Reply r = Post(start, form);
  ASSERT_EQ(r.code(), 0) << r.body;
  ASSERT_TRUE(r.data().is_number_integer());
  auto cmds = instances_.commands();
  ASSERT_EQ(cmds.size(), 1u);
  const Command& c = cmds[0];
  EXPECT_EQ(c.command_type, CommandType::kStartProcess);
  EXPECT_EQ(c.definition_code, code);
  EXPECT_EQ(c.definition_version, 1);
  EXPECT_EQ(c.project_code, pc);
  EXPECT_EQ(c.executor_id, 1);
  EXPECT_EQ(c.failure_strategy, FailureStrategy::kEnd);
  EXPECT_EQ(c.warning_type, WarningType::kAll);
  EXPECT_EQ(c.task_depend_type, TaskDependType::kTaskOnly);
  EXPECT_EQ(c.priority, Priority::kHigh);
  EXPECT_EQ(c.environment_code, -1);
  EXPECT_EQ(c.dry_run, 1);
  EXPECT_EQ(c.schedule_time, *ParseDateTime("2024-07-18 00:00:00"));
  EXPECT_EQ(c.trigger_code, r.data().get<int64_t>());
  json param = json::parse(c.command_param);
  EXPECT_EQ(param.at("StartNodeList"), json::array({kB}));
  EXPECT_EQ(param.at("StartParams"), json({{"k", "v"}, {"n", "3"}}));
  EXPECT_EQ(master_.wakes.load(), 1);

  // Defaults, and the api-test's "start,end" scheduleTime.
  Reply plain = Post(start, {{"processDefinitionCode", std::to_string(code)},
                             {"scheduleTime", "2024-07-19 00:00:00,2024-07-19 00:00:00"}});
  ASSERT_EQ(plain.code(), 0) << plain.body;
  Command d = instances_.commands().back();
  EXPECT_EQ(d.failure_strategy, FailureStrategy::kContinue);
  EXPECT_EQ(d.task_depend_type, TaskDependType::kTaskPost);
  EXPECT_EQ(d.priority, Priority::kMedium);
  EXPECT_EQ(d.schedule_time, *ParseDateTime("2024-07-19 00:00:00"));
  EXPECT_EQ(json::parse(d.command_param).at("StartNodeList"), json::array());
  EXPECT_EQ(Post(start, {{"processDefinitionCode", std::to_string(code)}}).code(), 0);
  EXPECT_EQ(instances_.commands().back().schedule_time, clock_.NowMs());

  struct Bad {
    std::string field, value;
  };
  for (const Bad& b : std::vector<Bad>{{"failureStrategy", "SOMETIMES"},
                                       {"warningType", "LOUD"},
                                       {"taskDependType", "X"},
                                       {"processInstancePriority", "URGENT"},
                                       {"startNodeList", "123"},
                                       {"startNodeList", "abc"},
                                       {"startParams", "[1]"},
                                       {"dryRun", "2"},
                                       {"scheduleTime", "tomorrow"},
                                       {"execType", "SCHEDULER"}}) {
    Reply e = Post(start, {{"processDefinitionCode", std::to_string(code)}, {b.field, b.value}});
    EXPECT_EQ(e.code(), 10001) << b.field;
    EXPECT_NE(e.msg().find(b.field), std::string::npos) << e.msg();
  }
  EXPECT_EQ(Post(start).code(), 10001);
  EXPECT_EQ(Post(start, {{"processDefinitionCode", "5"}}).code(), 50003);
  EXPECT_EQ(instances_.commands().size(), 3u);
}

TEST_F(ApiServerTest, ComplementInsertsOneCommandPerDateInOrder) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  int64_t code = CreateWorkflow(pc, "wf");
  ASSERT_EQ(Post(WfPath(pc) + "/" + std::to_string(code) + "/release", {{"releaseState", "ONLINE"}}).code(), 0);
  std::string start = "/projects/" + std::to_string(pc) + "/executors/start-process-instance";
  size_t before = instances_.commands().size();
  Reply r = Post(start, {{"processDefinitionCode", std::to_string(code)},
                         {"execType", "COMPLEMENT_DATA"},
                         {"scheduleTime", R"({"complementStartDate":"2026-01-01 00:00:00",)"
                                          R"("complementEndDate":"2026-01-03 00:00:00"})"},
                         {"runMode", "RUN_MODE_PARALLEL"},
                         {"expectedParallelismNumber", "2"},
                         {"executionOrder", "ASC_ORDER"}});
  ASSERT_EQ(r.code(), 0) << r.msg();
  auto cmds = instances_.commands();
  ASSERT_EQ(cmds.size(), before + 3);
  for (size_t i = before; i < cmds.size(); ++i) {
    EXPECT_EQ(cmds[i].command_type, CommandType::kComplementData);
    EXPECT_EQ(cmds[i].trigger_code, cmds[before].trigger_code);
    EXPECT_EQ(json::parse(cmds[i].command_param).at("ComplementParallelism"), 2);
    if (i > before) {
      EXPECT_GT(cmds[i].schedule_time, cmds[i - 1].schedule_time);
    }
  }
  EXPECT_EQ(FormatDateTime(cmds[before].schedule_time), "2026-01-01 00:00:00");

  // Serial, newest first, from a list.
  r = Post(start, {{"processDefinitionCode", std::to_string(code)},
                   {"execType", "COMPLEMENT_DATA"},
                   {"scheduleTime", R"({"complementScheduleDateList":"2026-02-01 00:00:00,2026-02-03 00:00:00"})"}});
  ASSERT_EQ(r.code(), 0) << r.msg();
  cmds = instances_.commands();
  ASSERT_EQ(cmds.size(), before + 5);
  EXPECT_EQ(FormatDateTime(cmds[before + 3].schedule_time), "2026-02-03 00:00:00");
  EXPECT_EQ(json::parse(cmds[before + 4].command_param).at("ComplementParallelism"), 1);

  struct Bad {
    std::string field, value, schedule;
  };
  std::string range = R"({"complementStartDate":"2026-01-03 00:00:00","complementEndDate":"2026-01-01 00:00:00"})";
  std::string ok_range = R"({"complementStartDate":"2026-01-01 00:00:00","complementEndDate":"2026-01-01 00:00:00"})";
  for (const Bad& b : std::vector<Bad>{{"scheduleTime", "", range},
                                       {"runMode", "RUN_MODE_SOMETIMES", ok_range},
                                       {"executionOrder", "RANDOM", ok_range},
                                       {"complementDependentMode", "SOME_DEPENDENT", ok_range},
                                       {"allLevelDependent", "maybe", ok_range},
                                       {"expectedParallelismNumber", "-1", ok_range}}) {
    Pairs form = {{"processDefinitionCode", std::to_string(code)},
                  {"execType", "COMPLEMENT_DATA"},
                  {"scheduleTime", b.schedule}};
    if (!b.value.empty()) form.emplace_back(b.field, b.value);
    Reply e = Post(start, form);
    EXPECT_EQ(e.code(), 10001) << b.field;
    EXPECT_NE(e.msg().find(b.field), std::string::npos) << e.msg();
  }
  EXPECT_EQ(instances_.commands().size(), before + 5) << "a refused backfill inserted commands";

  // ALL_DEPENDENT is accepted; with no workflow depending on this one it backfills it alone.
  r = Post(start, {{"processDefinitionCode", std::to_string(code)},
                   {"execType", "COMPLEMENT_DATA"},
                   {"complementDependentMode", "ALL_DEPENDENT"},
                   {"allLevelDependent", "true"},
                   {"scheduleTime", ok_range}});
  ASSERT_EQ(r.code(), 0) << r.msg();
  cmds = instances_.commands();
  ASSERT_EQ(cmds.size(), before + 6);
  EXPECT_EQ(cmds[before + 5].definition_code, code);
  EXPECT_EQ(FormatDateTime(cmds[before + 5].schedule_time), "2026-01-01 00:00:00");
}

TEST_F(ApiServerTest, OpenApiListsEveryRouteServed) {
  Reply r = Get("/openapi.json");  // no login needed
  ASSERT_TRUE(r.j.contains("paths")) << r.body;
  const json& paths = r.j["paths"];
  EXPECT_EQ(r.j["openapi"], "3.0.3");
  EXPECT_TRUE(paths["/dolphinscheduler/login"].contains("post"));
  const json& start = paths["/dolphinscheduler/projects/{projectCode}/executors/start-process-instance"];
  ASSERT_TRUE(start.contains("post"));
  EXPECT_EQ(start["post"]["parameters"][0]["name"], "projectCode");
  const json& def = paths["/dolphinscheduler/projects/{projectCode}/process-definition/{code}"];
  EXPECT_TRUE(def.contains("get") && def.contains("put") && def.contains("delete"));
  size_t ops = 0;
  for (const auto& [path, methods] : paths.items()) ops += methods.size();
  EXPECT_GE(ops, 40u);
}

TEST_F(ApiServerTest, ExecuteMapsMasterErrors) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  WorkflowInstance wi;
  wi.id = 7;
  wi.name = "wf-1";
  wi.project_code = pc;
  wi.state = WorkflowState::kSuccess;
  instances_.Put(wi);
  std::string path = "/projects/" + std::to_string(pc) + "/executors/execute";

  Reply ok = Post(path, {{"processInstanceId", "7"}, {"executeType", "STOP"}});
  EXPECT_EQ(ok.code(), 0) << ok.body;
  ASSERT_EQ(master_.executed.size(), 1u);
  EXPECT_EQ(master_.executed[0], std::make_pair(int64_t{7}, ExecuteType::kStop));

  master_.next_status = FailedPrecondition("state SUCCESS");
  Reply refused = Post(path, {{"processInstanceId", "7"}, {"executeType", "PAUSE"}});
  EXPECT_EQ(refused.code(), 50006);
  EXPECT_EQ(refused.msg(),
            "the status of process instance wf-1 is SUCCESS,Cannot perform PAUSE operation");

  master_.next_status = NotFound("gone");
  EXPECT_EQ(Post(path, {{"processInstanceId", "7"}, {"executeType", "REPEAT_RUNNING"}}).code(),
            50001);
  EXPECT_EQ(Post(path, {{"processInstanceId", "8"}, {"executeType", "STOP"}}).code(), 50001);
  Reply bad = Post(path, {{"processInstanceId", "7"}, {"executeType", "EXPLODE"}});
  EXPECT_EQ(bad.code(), 10001);
  EXPECT_NE(bad.msg().find("executeType"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Instances and logs

class InstancesTest : public ApiServerTest {
 protected:
  void SetUp() override {
    ApiServerTest::SetUp();
    LoginAdmin();
    pc_ = CreateProject("p");
    def_code_ = CreateWorkflow(pc_, "wf");
    WorkflowInstance wi;
    wi.id = 3;
    wi.name = "wf-20260101";
    wi.project_code = pc_;
    wi.definition_code = def_code_;
    wi.definition_version = 1;
    wi.state = WorkflowState::kRunningExecution;
    wi.trigger_code = 99;
    instances_.Put(wi);
    std::ofstream(log_dir_ / "a.log") << "l1\nl2\nl3\nl4\nl5\n";
    Add(1, kA, TaskState::kFailure, Flag::kNo);  // superseded attempt
    Add(2, kA, TaskState::kSuccess, Flag::kYes);
    Add(3, kB, TaskState::kRunningExecution, Flag::kYes);
  }
  void Add(int64_t id, int64_t task_code, TaskState state, Flag flag) {
    TaskInstance ti;
    ti.id = id;
    ti.name = task_code == kA ? "a" : "b";
    ti.task_type = "SHELL";
    ti.workflow_instance_id = 3;
    ti.project_code = pc_;
    ti.task_code = task_code;
    ti.state = state;
    ti.flag = flag;
    ti.log_path = (log_dir_ / (task_code == kA ? "a.log" : "b.log")).string();
    instances_.Put(ti);
  }
  std::string Pi() { return "/projects/" + std::to_string(pc_) + "/process-instances"; }

  int64_t pc_ = 0, def_code_ = 0;
};

TEST_F(InstancesTest, ListShowAndTasks) {
  Reply page = Get(Pi(), {{"pageNo", "1"}, {"pageSize", "10"}, {"stateType", ""}, {"host", ""}});
  ASSERT_EQ(page.code(), 0) << page.body;
  ASSERT_EQ(page.data().at("totalList").size(), 1u);
  EXPECT_EQ(page.data().at("totalList")[0].at("state"), "RUNNING_EXECUTION");
  EXPECT_EQ(Get(Pi(), {{"stateType", "SUCCESS"}}).data().at("total"), 0);
  EXPECT_EQ(Get(Pi(), {{"stateType", "BOGUS"}}).code(), 10001);

  Reply one = Get(Pi() + "/3");
  ASSERT_EQ(one.code(), 0) << one.body;
  EXPECT_EQ(one.data().at("name"), "wf-20260101");
  EXPECT_EQ(one.data().at("dagData").at("taskDefinitionList").size(), 2u);
  EXPECT_EQ(Get(Pi() + "/4").code(), 50001);

  Reply tasks = Get(Pi() + "/3/tasks");
  ASSERT_EQ(tasks.code(), 0) << tasks.body;
  EXPECT_EQ(tasks.data().at("processInstanceState"), "RUNNING_EXECUTION");
  ASSERT_EQ(tasks.data().at("taskList").size(), 2u);  // the flag NO attempt is hidden
  EXPECT_EQ(tasks.data().at("taskList")[0].at("id"), 2);

  Reply trig = Get(Pi() + "/trigger", {{"triggerCode", "99"}});
  ASSERT_EQ(trig.data().size(), 1u);
  EXPECT_EQ(trig.data()[0].at("id"), 3);

  std::string ti = "/projects/" + std::to_string(pc_) + "/task-instances";
  Reply tpage = Get(ti, {{"pageNo", "1"}, {"pageSize", "2"}, {"processInstanceId", "3"}});
  EXPECT_EQ(tpage.data().at("total"), 3);
  EXPECT_EQ(tpage.data().at("totalPage"), 2);
  EXPECT_EQ(Get(ti, {{"stateType", "SUCCESS"}}).data().at("total"), 1);

  Reply counts = Get("/projects/analysis/task-state-count");
  ASSERT_EQ(counts.code(), 0) << counts.body;
  EXPECT_EQ(counts.data().at("totalCount"), 3);
  EXPECT_EQ(Get("/projects/analysis/process-state-count").data().at("totalCount"), 1);
}

TEST_F(InstancesTest, LogDetailPagesUntilEmpty) {
  std::string all;
  int64_t skip = 0, limit = 2;
  for (int round = 0; round < 10; ++round) {
    Reply r = Get("/log/detail", {{"taskInstanceId", "2"},
                                  {"skipLineNum", std::to_string(skip)},
                                  {"limit", std::to_string(limit)}});
    ASSERT_EQ(r.code(), 0) << r.body;
    EXPECT_TRUE(r.data().at("finished").get<bool>());
    std::string msg = r.data().at("message").get<std::string>();
    if (msg.empty()) {
      EXPECT_EQ(r.data().at("lineNum"), 0);
      break;
    }
    all += msg;
    skip += r.data().at("lineNum").get<int64_t>();
  }
  EXPECT_EQ(all, "l1\nl2\nl3\nl4\nl5\n");
  EXPECT_EQ(skip, 5);

  // A running task whose log does not exist yet: nothing to show, not an error.
  Reply pending =
      Get("/log/detail", {{"taskInstanceId", "3"}, {"skipLineNum", "0"}, {"limit", "10"}});
  EXPECT_EQ(pending.code(), 0);
  EXPECT_EQ(pending.data().at("message"), "");
  EXPECT_FALSE(pending.data().at("finished").get<bool>());
  EXPECT_EQ(Get("/log/detail", {{"taskInstanceId", "42"}}).code(), 10008);

  Reply file = Get("/log/download-log", {{"taskInstanceId", "2"}});
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.content_type, "application/octet-stream");
  EXPECT_EQ(file.body, "l1\nl2\nl3\nl4\nl5\n");
}

// A log path outside the log directory (a row written by hand, or by a worker whose log.dir
// differs) is refused with the routes' error codes, naming why; the file is never sent.
TEST_F(InstancesTest, LogOutsideTheLogDirectoryIsRefused) {
  const std::filesystem::path outside = log_dir_.string() + "-elsewhere.log";
  std::ofstream(outside) << "secret\n";
  TaskInstance ti = *instances_.GetTaskInstance(2);
  ti.log_path = (log_dir_ / ".." / outside.filename()).string();
  instances_.Put(ti);
  for (int round = 0; round < 2; ++round) {
    Reply r = Get("/log/detail", {{"taskInstanceId", "2"}, {"skipLineNum", "0"}, {"limit", "9"}});
    EXPECT_EQ(r.code(), 10103) << r.body;
    EXPECT_NE(r.msg().find("outside the log directory"), std::string::npos) << r.msg();
    Reply file = Get("/log/download-log", {{"taskInstanceId", "2"}});
    EXPECT_EQ(file.code(), 10104) << file.body;
    EXPECT_EQ(file.body.find("secret"), std::string::npos);
  }
  std::filesystem::remove(outside);
}

TEST_F(ApiServerTest, PageLoadLookups) {
  LoginAdmin();
  int64_t pc = CreateProject("p");
  Reply wg = Get("/projects/" + std::to_string(pc) + "/worker-group");
  EXPECT_FALSE(wg.j.contains("code"));
  EXPECT_EQ(wg.j.at("status"), "SUCCESS");
  EXPECT_EQ(wg.j.at("data")[0].at("workerGroup"), "default");
  EXPECT_EQ(Get("/worker-groups/all").data(), json::array({"default"}));
  EXPECT_EQ(Get("/resources/base-dir", {{"type", "FILE"}}).data(), "");
  EXPECT_EQ(Get("/tenants/list").data()[0].at("tenantCode"), "default");
  EXPECT_EQ(Get("/ui-plugins/query-by-type", {{"pluginType", "ALERT"}}).data(), json::array());
  EXPECT_EQ(Send("GET", "/login/sso", {}, {}, false).code(), 0);
}

}  // namespace
}  // namespace dsched::api
