// The admin routes (admin_handlers.cc) and project permissions (ProjectForUser) over real HTTP
// against a real SqlStore on a temp SQLite file: each route's success and its refusals with
// DolphinScheduler's codes, a read-back showing a refused request stored nothing, and the
// admin / owner / read grant / write grant / foreign matrix on project-scoped routes.
#include <gtest/gtest.h>

#include "api/api_test_support.h"
#include "api/auth.h"

namespace dsched::api {
namespace {

using nlohmann::json;
using apitest::Pairs;
using apitest::Reply;

class AdminApiTest : public apitest::SqliteApiTest {
 protected:
  AdminApiTest() : SqliteApiTest("dsched-admin-api") {}
  void AddDeps(ApiDeps& deps) override {
    deps.master = &master_;
    deps.admin = store_.get();
    // The second worker stands for a cluster worker: its registered heartbeat is shown as is.
    deps.servers = {{"MASTER", "127.0.0.1", 5678, 1000, ""},
                    {"WORKER", "127.0.0.1", 1234, 1000, ""},
                    {"WORKER", "10.0.0.2", 1234, 1000,
                     R"({"serverStatus":"BUSY","threadPoolUsage":0.5,"reportTime":1767225600000})"}};
    deps.db_type = "SQLITE";
    deps.data_dir = dir_;
  }

  Reply Send(const std::string& session, const std::string& method, const std::string& path,
             const Pairs& params = {}, const Pairs& headers = {}) {
    return apitest::Send(server_->port(), session, method, path, params, headers);
  }
  Reply Admin(const std::string& method, const std::string& path, const Pairs& params = {}) {
    return Send(session_, method, path, params);
  }
  std::string Login(const std::string& name, const std::string& password) {
    return apitest::Login(server_->port(), name, password);
  }
  int64_t CreateUser(const std::string& name) {
    Reply r = Admin("POST", "/users/create",
                    {{"userName", name},
                     {"userPassword", "secret12"},
                     {"tenantId", "-1"},
                     {"email", name + "@example.com"},
                     {"state", "1"}});
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.code() == 0 ? r.data().at("id").get<int64_t>() : 0;
  }
  // Creates a project as `session`; returns {code, id}.
  std::pair<int64_t, int64_t> CreateProject(const std::string& session, const std::string& name) {
    Reply r = Send(session, "POST", "/projects", {{"projectName", name}});
    EXPECT_EQ(r.code(), 0) << r.body;
    if (r.code() != 0) return {0, 0};
    return {r.data().at("code").get<int64_t>(), r.data().at("id").get<int64_t>()};
  }
  int64_t UserCount() { return Admin("GET", "/users/list-paging").data().at("total"); }

  apitest::NoMaster master_;
};

TEST_F(AdminApiTest, CreateUserValidatesEveryFieldAndStoresNothingOnError) {
  int64_t before = UserCount();
  Pairs good = {{"userName", "alice"},
                {"userPassword", "secret12"},
                {"tenantId", "-1"},
                {"email", "alice@example.com"},
                {"phone", "13800000000"},
                {"state", "1"},
                {"queue", ""}};
  struct Case {
    std::string field, value;
    int code;
    std::string names;
  } cases[] = {
      {"userName", "a", 10001, "userName"},
      {"userName", "bad name!", 10001, "userName"},
      {"userName", std::string(200, 'a'), 10001, "userName"},
      {"userPassword", "x", 10001, "userPassword"},
      {"userPassword", std::string(21, 'x'), 10001, "userPassword"},
      {"email", "not-an-email", 10001, "email"},
      {"phone", "12ab", 10001, "phone"},
      {"state", "5", 10001, "state"},
      {"state", "yes", 10001, "state"},
      {"tenantId", "abc", 10001, "tenantId"},
      {"tenantId", "77", 10017, "tenant"},
  };
  for (const auto& c : cases) {
    Pairs p = good;
    for (auto& [k, v] : p)
      if (k == c.field) v = c.value;
    Reply r = Admin("POST", "/users/create", p);
    EXPECT_EQ(r.code(), c.code) << c.field << "=" << c.value << ": " << r.body;
    EXPECT_NE(r.msg().find(c.names), std::string::npos) << r.body;
  }
  for (const char* missing : {"userName", "userPassword", "tenantId", "email"}) {
    Pairs p;
    for (const auto& kv : good)
      if (kv.first != missing) p.push_back(kv);
    Reply r = Admin("POST", "/users/create", p);
    EXPECT_EQ(r.code(), 10001) << missing << ": " << r.body;
    EXPECT_NE(r.msg().find(missing), std::string::npos) << r.body;
  }
  EXPECT_EQ(UserCount(), before) << "no refused request stored a user";

  Reply ok = Admin("POST", "/users/create", good);
  ASSERT_EQ(ok.code(), 0) << ok.body;
  EXPECT_EQ(ok.data().at("userType"), "GENERAL_USER");
  EXPECT_EQ(ok.data().at("tenantCode"), "default");
  EXPECT_FALSE(ok.data().contains("userPassword"));
  EXPECT_EQ(Admin("POST", "/users/create", good).code(), 10003);
  EXPECT_EQ(Admin("GET", "/users/verify-user-name", {{"userName", "alice"}}).code(), 10003);
  EXPECT_EQ(Admin("GET", "/users/verify-user-name", {{"userName", "bob"}}).code(), 0);
  EXPECT_EQ(UserCount(), before + 1);

  // The new user logs in with the password given (argon2id stored, not the text).
  std::string s = Login("alice", "secret12");
  Reply me = Send(s, "GET", "/users/get-user-info");
  EXPECT_EQ(me.data().at("userName"), "alice");
  EXPECT_NE(store_->GetUserByName("alice")->password_hash.find("$argon2id$"), std::string::npos);
}

TEST_F(AdminApiTest, UpdateAndDeleteUser) {
  int64_t id = CreateUser("carol");
  Reply up = Admin("POST", "/users/update",
                   {{"id", std::to_string(id)},
                    {"userName", "carol2"},
                    {"userPassword", "newpass"},
                    {"tenantId", "-1"},
                    {"email", "c2@example.com"},
                    {"timeZone", "Asia/Shanghai"}});
  ASSERT_EQ(up.code(), 0) << up.body;
  EXPECT_EQ(up.data().at("userName"), "carol2");
  EXPECT_EQ(up.data().at("timeZone"), "Asia/Shanghai");
  std::string carol = Login("carol2", "newpass");

  // A user updates their own account, not another's, and cannot enable or disable themselves.
  int64_t other = CreateUser("dave");
  Reply self = Send(carol, "POST", "/users/update",
                    {{"id", std::to_string(id)},
                     {"userName", "carol2"},
                     {"email", "c3@example.com"},
                     {"tenantId", "-1"}});
  EXPECT_EQ(self.code(), 0) << self.body;
  EXPECT_EQ(Send(carol, "POST", "/users/update",
                 {{"id", std::to_string(other)},
                  {"userName", "dave"},
                  {"email", "d@example.com"},
                  {"tenantId", "-1"}})
                .code(),
            30001);
  EXPECT_EQ(Send(carol, "POST", "/users/update",
                 {{"id", std::to_string(id)},
                  {"userName", "carol2"},
                  {"email", "c3@example.com"},
                  {"state", "0"}})
                .code(),
            30001);
  Reply bad = Admin("POST", "/users/update",
                    {{"id", std::to_string(id)}, {"userName", "carol2"}, {"email", "nope"}});
  EXPECT_EQ(bad.code(), 10001);
  EXPECT_EQ(store_->GetUser(id)->email, "c3@example.com") << "refused update changed nothing";
  EXPECT_EQ(Admin("POST", "/users/update",
                  {{"id", "999"}, {"userName", "x999"}, {"email", "x@example.com"}})
                .code(),
            10010);

  // An owner of projects is not deleted; others are, with their sessions.
  CreateProject(carol, "carols");
  EXPECT_EQ(Admin("POST", "/users/delete", {{"id", std::to_string(id)}}).code(), 10179);
  std::string dave = Login("dave", "secret12");
  EXPECT_EQ(Send(dave, "POST", "/users/delete", {{"id", std::to_string(id)}}).code(), 30001);
  EXPECT_EQ(Admin("POST", "/users/delete", {{"id", std::to_string(other)}}).code(), 0);
  EXPECT_EQ(Send(dave, "GET", "/users/get-user-info").status, 401);
  EXPECT_EQ(Admin("POST", "/users/delete", {{"id", std::to_string(other)}}).code(), 10010);
}

TEST_F(AdminApiTest, SignedOutDisabledAndDeletedUsersAreRefusedAtOnce) {
  // The server keeps session -> user answers for a moment (Authenticator); what this process
  // does must still take effect on the very next request. The clock never moves here.
  int64_t id = CreateUser("erin");
  std::string s1 = Login("erin", "secret12"), s2 = Login("erin", "secret12");
  ASSERT_EQ(Send(s1, "GET", "/users/get-user-info").code(), 0);
  ASSERT_EQ(Send(s2, "GET", "/users/get-user-info").code(), 0);
  ASSERT_EQ(Send(s1, "POST", "/signOut").code(), 0);
  EXPECT_EQ(Send(s1, "GET", "/users/get-user-info").status, 401);
  EXPECT_EQ(Send(s2, "GET", "/users/get-user-info").status, 401) << "sign-out ends every session";

  std::string s3 = Login("erin", "secret12");
  ASSERT_EQ(Send(s3, "GET", "/users/get-user-info").code(), 0);
  Pairs disable = {{"id", std::to_string(id)},
                   {"userName", "erin"},
                   {"email", "erin@example.com"},
                   {"tenantId", "-1"},
                   {"state", "0"}};
  ASSERT_EQ(Admin("POST", "/users/update", disable).code(), 0);
  EXPECT_EQ(Send(s3, "GET", "/users/get-user-info").status, 401) << "disabled";
  disable.back().second = "1";
  ASSERT_EQ(Admin("POST", "/users/update", disable).code(), 0);
  Reply back = Send(s3, "GET", "/users/get-user-info");
  ASSERT_EQ(back.code(), 0) << "enabled again, the session (not ended) serves again";
  EXPECT_EQ(back.data().at("state"), 1);

  ASSERT_EQ(Admin("POST", "/users/delete", {{"id", std::to_string(id)}}).code(), 0);
  EXPECT_EQ(Send(s3, "GET", "/users/get-user-info").status, 401) << "deleted";

  // What another process does (here: straight in the store) shows within the cache's time.
  CreateUser("fred");
  std::string s4 = Login("fred", "secret12");
  Reply fred = Send(s4, "GET", "/users/get-user-info");
  ASSERT_EQ(fred.code(), 0);
  ASSERT_TRUE(store_->DeleteSessionsOfUser(fred.data().at("id").get<int64_t>()).ok());
  clock_.Advance(Authenticator::kCacheTtlMs);
  EXPECT_EQ(Send(s4, "GET", "/users/get-user-info").status, 401);
}

TEST_F(AdminApiTest, GeneralUsersAreRefusedAdminRoutesAndNothingChanges) {
  CreateUser("gina");
  std::string gina = Login("gina", "secret12");
  struct R {
    const char* method;
    const char* path;
    Pairs params;
  } routes[] = {
      {"POST",
       "/users/create",
       {{"userName", "evil"},
        {"userPassword", "xx1234"},
        {"tenantId", "-1"},
        {"email", "e@example.com"}}},
      {"GET", "/users/list-paging", {}},
      {"GET", "/users/list", {}},
      {"GET", "/users/list-all", {}},
      {"POST", "/users/delete", {{"id", "1"}}},
      {"POST", "/users/grant-project", {{"userId", "2"}, {"projectIds", "1"}}},
      {"GET", "/tenants", {}},
      {"POST", "/tenants", {{"tenantCode", "evil"}, {"queueId", "1"}}},
      {"GET", "/queues", {}},
      {"POST", "/queues", {{"queue", "evil"}, {"queueName", "evil"}}},
      {"GET", "/worker-groups", {}},
      {"POST", "/worker-groups", {{"name", "evil"}, {"addrList", "127.0.0.1:1234"}}},
      {"GET", "/alert-groups", {}},
      {"POST", "/alert-groups", {{"groupName", "evil"}}},
      {"GET", "/alert-plugin-instances", {}},
      {"GET", "/projects/unauth-project", {{"userId", "1"}}},
  };
  for (const auto& r : routes) {
    Reply got = Send(gina, r.method, r.path, r.params);
    EXPECT_EQ(got.code(), 30001) << r.method << " " << r.path << ": " << got.body;
  }
  EXPECT_FALSE(store_->GetUserByName("evil").ok());
  EXPECT_FALSE(store_->GetTenantByCode("evil").ok());
  EXPECT_EQ(store_->ListQueues("evil", Page{0, 10})->total, 0);
  EXPECT_EQ(store_->ListWorkerGroups("", Page{0, 10})->total, 0);
  EXPECT_EQ(store_->ListAlertGroups("evil", Page{0, 10})->total, 0);
  // What every user may read.
  EXPECT_EQ(Send(gina, "GET", "/tenants/list").code(), 0);
  EXPECT_EQ(Send(gina, "GET", "/queues/list").code(), 0);
  EXPECT_EQ(Send(gina, "GET", "/worker-groups/all").code(), 0);
  EXPECT_EQ(Send(gina, "GET", "/alert-groups/normal-list").code(), 0);
  EXPECT_EQ(Send(gina, "GET", "/environment/query-environment-list").code(), 0);
}

TEST_F(AdminApiTest, ProjectPermissionMatrix) {
  CreateUser("user1");
  int64_t u2_id = CreateUser("user2");
  int64_t u1_id = store_->GetUserByName("user1")->id;
  std::string u1 = Login("user1", "secret12"), u2 = Login("user2", "secret12");
  auto [p1, p1_id] = CreateProject(u1, "P1");
  auto [p2, p2_id] = CreateProject(u2, "P2");
  auto [p3, p3_id] = CreateProject(session_, "P3");
  auto [p4, p4_id] = CreateProject(session_, "P4");
  (void)p1_id;
  (void)p2_id;
  ASSERT_EQ(Admin("POST", "/users/grant-project-with-read-perm",
                  {{"userId", std::to_string(u1_id)}, {"projectIds", std::to_string(p3_id)}})
                .code(),
            0);
  ASSERT_EQ(Admin("POST", "/users/grant-project",
                  {{"userId", std::to_string(u1_id)}, {"projectIds", std::to_string(p4_id)}})
                .code(),
            0);

  auto read = [&](const std::string& s, int64_t pc) {
    return Send(s, "GET", "/projects/" + std::to_string(pc) + "/process-definition").code();
  };
  // Deleting an unknown workflow passes the write check and then finds nothing (50003).
  auto write = [&](const std::string& s, int64_t pc) {
    return Send(s, "DELETE", "/projects/" + std::to_string(pc) + "/process-definition/4242").code();
  };
  EXPECT_EQ(read(u1, p1), 0);
  EXPECT_EQ(write(u1, p1), 50003);
  EXPECT_EQ(read(u1, p3), 0);
  EXPECT_EQ(write(u1, p3), 30002);
  EXPECT_EQ(read(u1, p4), 0);
  EXPECT_EQ(write(u1, p4), 50003);
  EXPECT_EQ(read(u1, p2), 30002);
  EXPECT_EQ(write(u1, p2), 30002);
  EXPECT_EQ(read(u2, p1), 30002);
  EXPECT_EQ(read(u2, p3), 30002);
  EXPECT_EQ(read(session_, p1), 0);
  EXPECT_EQ(write(session_, p2), 50003);
  EXPECT_EQ(read(u1, 123456789), 10018);
  EXPECT_EQ(Send(u1, "GET", "/projects/" + std::to_string(p2)).code(), 30002);

  // Lists show the own and granted projects, with the perm of each.
  Reply list = Send(u1, "GET", "/projects", {{"pageNo", "1"}, {"pageSize", "10"}});
  ASSERT_EQ(list.code(), 0) << list.body;
  EXPECT_EQ(list.data().at("total"), 3);
  std::map<std::string, int> perms;
  for (const auto& p : list.data().at("totalList")) perms[p.at("name")] = p.at("perm");
  EXPECT_EQ(perms, (std::map<std::string, int>{{"P1", 7}, {"P3", 4}, {"P4", 7}}));
  EXPECT_EQ(Send(u1, "GET", "/projects/created-and-authed").data().size(), 3u);
  EXPECT_EQ(Send(u2, "GET", "/projects/list").data().size(), 1u);
  EXPECT_EQ(Admin("GET", "/projects/list").data().size(), 4u);

  // Authorisation lists of an admin.
  Reply authed = Admin("GET", "/projects/authed-project", {{"userId", std::to_string(u1_id)}});
  EXPECT_EQ(authed.data().size(), 2u);
  Reply unauth = Admin("GET", "/projects/unauth-project", {{"userId", std::to_string(u1_id)}});
  EXPECT_EQ(unauth.data().size(), 2u) << "P1 (own, no grant) and P2";
  Reply users = Admin("GET", "/projects/authed-user", {{"projectCode", std::to_string(p4)}});
  ASSERT_EQ(users.data().size(), 1u);
  EXPECT_EQ(users.data()[0].at("userName"), "user1");
  Reply level =
      Admin("GET", "/projects/project-with-authorized-level", {{"userId", std::to_string(u1_id)}});
  std::map<std::string, int> levels;
  for (const auto& p : level.data()) levels[p.at("name")] = p.at("perm");
  EXPECT_EQ(levels, (std::map<std::string, int>{{"P1", 7}, {"P2", 0}, {"P3", 4}, {"P4", 7}}));

  // Revoking takes the access away; grants by code work too.
  ASSERT_EQ(Admin("POST", "/users/revoke-project",
                  {{"userId", std::to_string(u1_id)}, {"projectCode", std::to_string(p4)}})
                .code(),
            0);
  EXPECT_EQ(read(u1, p4), 30002);
  ASSERT_EQ(Admin("POST", "/users/grant-project-by-code",
                  {{"userId", std::to_string(u2_id)}, {"projectCode", std::to_string(p1)}})
                .code(),
            0);
  EXPECT_EQ(write(u2, p1), 50003);
  EXPECT_EQ(Admin("POST", "/users/grant-project",
                  {{"userId", std::to_string(u1_id)}, {"projectIds", "999999"}})
                .code(),
            10018);
  EXPECT_EQ(Admin("POST", "/users/grant-project", {{"userId", "999"}, {"projectIds", "1"}}).code(),
            10010);

  // Project update and delete need write permission.
  EXPECT_EQ(Send(u1, "PUT", "/projects/" + std::to_string(p3), {{"projectName", "x"}}).code(),
            30002);
  Reply renamed = Send(u1, "PUT", "/projects/" + std::to_string(p1),
                       {{"projectName", "P1b"}, {"description", "d"}});
  ASSERT_EQ(renamed.code(), 0) << renamed.body;
  EXPECT_EQ(renamed.data().at("name"), "P1b");
  EXPECT_EQ(Send(u1, "PUT", "/projects/" + std::to_string(p1), {{"projectName", "P2"}}).code(),
            10019);
  EXPECT_EQ(
      Send(u1, "PUT", "/projects/" + std::to_string(p1), {{"projectName", std::string(101, 'n')}})
          .code(),
      10001);
  EXPECT_EQ(store_->GetProject(p1)->name, "P1b");
  EXPECT_EQ(Send(u1, "DELETE", "/projects/" + std::to_string(p2)).code(), 30002);
  EXPECT_EQ(Send(u2, "DELETE", "/projects/" + std::to_string(p2)).code(), 0);
  EXPECT_FALSE(store_->GetProject(p2).ok());
}

TEST_F(AdminApiTest, InstancesAndLogsOfAForeignProjectAreOutOfReach) {
  CreateUser("user1");
  CreateUser("user2");
  std::string u1 = Login("user1", "secret12"), u2 = Login("user2", "secret12");
  auto [p1, p1_id] = CreateProject(u1, "P1");
  auto [p2, p2_id] = CreateProject(u2, "P2");
  (void)p1_id;
  (void)p2_id;
  // A run of P2 with one task instance, written as the master would.
  Command cmd;
  cmd.definition_code = 77;
  cmd.definition_version = 1;
  cmd.project_code = p2;
  auto cid = store_->InsertCommand(cmd);
  ASSERT_TRUE(cid.ok());
  WorkflowInstance wi;
  wi.name = "run";
  wi.definition_code = 77;
  wi.project_code = p2;
  wi.owner_epoch = 1;
  ASSERT_TRUE(store_->ClaimCommand(*cid, &wi, 0, {}).ok());
  TaskInstance ti;
  ti.workflow_instance_id = wi.id;
  ti.project_code = p2;
  ti.name = "t";
  ti.task_type = "SHELL";
  ti.log_path = dir_ + "/t.log";
  WriteBatch b;
  b.InsertTask(1, &ti);
  ASSERT_TRUE(store_->Commit(b).ok());
  std::string wid = std::to_string(wi.id);

  EXPECT_EQ(Send(u2, "GET", "/projects/" + std::to_string(p2) + "/process-instances/" + wid).code(),
            0);
  EXPECT_EQ(Send(u1, "GET", "/projects/" + std::to_string(p2) + "/process-instances/" + wid).code(),
            30002);
  // Through a project of their own the id names nothing.
  EXPECT_EQ(Send(u1, "GET", "/projects/" + std::to_string(p1) + "/process-instances/" + wid).code(),
            50001);
  EXPECT_EQ(
      Send(u1, "GET", "/projects/" + std::to_string(p1) + "/process-instances/" + wid + "/tasks")
          .code(),
      50001);
  EXPECT_EQ(Send(u1, "GET", "/log/detail", {{"taskInstanceId", std::to_string(ti.id)}}).code(),
            30002);
  EXPECT_EQ(
      Send(u1, "GET", "/log/download-log", {{"taskInstanceId", std::to_string(ti.id)}}).code(),
      30002);
  EXPECT_EQ(Send(u2, "GET", "/log/detail", {{"taskInstanceId", std::to_string(ti.id)}}).code(), 0);
  Reply tis = Send(u1, "GET", "/projects/" + std::to_string(p1) + "/task-instances",
                   {{"processInstanceId", wid}});
  ASSERT_EQ(tis.code(), 0);
  EXPECT_EQ(tis.data().at("total"), 0);
  // Home-page counts of a general user cover their projects only.
  Reply counts = Send(u1, "GET", "/projects/analysis/process-state-count");
  EXPECT_EQ(counts.data().at("totalCount"), 0);
  EXPECT_EQ(Admin("GET", "/projects/analysis/process-state-count").data().at("totalCount"), 1);
}

TEST_F(AdminApiTest, TenantsAndQueues) {
  Reply queues = Admin("GET", "/queues/list");
  ASSERT_EQ(queues.code(), 0);
  ASSERT_EQ(queues.data().size(), 1u);
  EXPECT_EQ(queues.data()[0].at("queueName"), "default");

  Reply q = Admin("POST", "/queues", {{"queue", "root.etl"}, {"queueName", "etl"}});
  ASSERT_EQ(q.code(), 0) << q.body;
  int64_t qid = q.data().at("id");
  EXPECT_EQ(Admin("POST", "/queues", {{"queue", "root.x"}, {"queueName", "etl"}}).code(), 10130);
  EXPECT_EQ(Admin("POST", "/queues", {{"queue", "root.etl"}, {"queueName", "y"}}).code(), 10129);
  EXPECT_EQ(Admin("POST", "/queues", {{"queueName", "z"}}).code(), 10001);
  EXPECT_EQ(Admin("POST", "/queues/verify", {{"queue", "root.etl"}, {"queueName", "q"}}).code(),
            10129);
  EXPECT_EQ(Admin("POST", "/queues/verify", {{"queue", "root.new"}, {"queueName", "new"}}).code(),
            0);
  EXPECT_EQ(
      Admin("PUT", "/queues/" + std::to_string(qid), {{"queue", "root.etl"}, {"queueName", "etl"}})
          .code(),
      10132);
  EXPECT_EQ(
      Admin("PUT", "/queues/" + std::to_string(qid), {{"queue", "root.etl2"}, {"queueName", "etl"}})
          .code(),
      0);
  EXPECT_EQ(Admin("PUT", "/queues/999", {{"queue", "a"}, {"queueName", "b"}}).code(), 10128);
  EXPECT_EQ(Admin("GET", "/queues", {{"pageNo", "1"}, {"pageSize", "10"}}).data().at("total"), 2);

  Reply t =
      Admin("POST", "/tenants",
            {{"tenantCode", "etl_user"}, {"queueId", std::to_string(qid)}, {"description", "etl"}});
  ASSERT_EQ(t.code(), 0) << t.body;
  EXPECT_EQ(t.data().at("queueName"), "etl");
  int64_t tid = t.data().at("id");
  EXPECT_EQ(Admin("POST", "/tenants", {{"tenantCode", "etl_user"}, {"queueId", "1"}}).code(),
            10009);
  EXPECT_EQ(Admin("POST", "/tenants", {{"tenantCode", "default"}, {"queueId", "1"}}).code(), 10009);
  EXPECT_EQ(Admin("POST", "/tenants", {{"tenantCode", "bad code;rm"}, {"queueId", "1"}}).code(),
            10164);
  EXPECT_EQ(Admin("POST", "/tenants", {{"tenantCode", "ok"}, {"queueId", "999"}}).code(), 10128);
  EXPECT_EQ(Admin("POST", "/tenants",
                  {{"tenantCode", "ok"}, {"queueId", "1"}, {"description", std::string(300, 'd')}})
                .code(),
            10001);
  EXPECT_EQ(Admin("GET", "/tenants/verify-code", {{"tenantCode", "etl_user"}}).code(), 10009);
  EXPECT_EQ(Admin("GET", "/tenants/verify-code", {{"tenantCode", "free"}}).code(), 0);
  Reply page = Admin("GET", "/tenants/", {{"pageNo", "1"}, {"pageSize", "10"}, {"searchVal", ""}});
  ASSERT_EQ(page.code(), 0) << page.body;
  EXPECT_EQ(page.data().at("total"), 1);
  EXPECT_EQ(Admin("GET", "/tenants/list").data().size(), 2u) << "default + etl_user";

  // A tenant with users is kept; the user's tenantCode shows it.
  Reply u = Admin("POST", "/users/create",
                  {{"userName", "tina"},
                   {"userPassword", "secret12"},
                   {"tenantId", std::to_string(tid)},
                   {"email", "tina@example.com"}});
  ASSERT_EQ(u.code(), 0) << u.body;
  EXPECT_EQ(u.data().at("tenantCode"), "etl_user");
  EXPECT_EQ(u.data().at("queueName"), "etl");
  EXPECT_EQ(Admin("DELETE", "/tenants/" + std::to_string(tid)).code(), 10144);
  std::string tina = Login("tina", "secret12");
  EXPECT_EQ(Send(tina, "GET", "/tenants/list").data().size(), 2u) << "default + own";
  EXPECT_EQ(Admin("PUT", "/tenants/" + std::to_string(tid),
                  {{"tenantCode", "etl_user"}, {"queueId", "1"}, {"description", "moved"}})
                .code(),
            0);
  EXPECT_EQ(store_->GetTenant(tid)->queue_name, "default");
  ASSERT_EQ(Admin("POST", "/users/delete", {{"id", u.data().at("id").dump()}}).code(), 0);
  EXPECT_EQ(Admin("DELETE", "/tenants/" + std::to_string(tid)).code(), 0);
  EXPECT_EQ(Admin("DELETE", "/tenants/" + std::to_string(tid)).code(), 10017);
}

TEST_F(AdminApiTest, WorkerGroups) {
  Reply addrs = Admin("GET", "/worker-groups/worker-address-list");
  ASSERT_EQ(addrs.code(), 0);
  EXPECT_EQ(addrs.data(), json::array({"127.0.0.1:1234", "10.0.0.2:1234"}));
  EXPECT_EQ(Admin("POST", "/worker-groups", {{"name", "g"}, {"addrList", "10.9.9.9:1"}}).code(),
            10177);
  EXPECT_EQ(
      Admin("POST", "/worker-groups", {{"name", "default"}, {"addrList", "127.0.0.1:1234"}}).code(),
      10135);
  EXPECT_EQ(Admin("POST", "/worker-groups", {{"addrList", "127.0.0.1:1234"}}).code(), 10001);
  EXPECT_EQ(store_->ListWorkerGroups("", Page{0, 10})->total, 0);
  Reply g = Admin("POST", "/worker-groups",
                  {{"name", "gpu"}, {"addrList", "127.0.0.1:1234"}, {"description", "d"}});
  ASSERT_EQ(g.code(), 0) << g.body;
  int64_t id = g.data().at("id");
  EXPECT_EQ(
      Admin("POST", "/worker-groups", {{"name", "gpu"}, {"addrList", "127.0.0.1:1234"}}).code(),
      10135);
  EXPECT_EQ(Admin("GET", "/worker-groups/all").data(), json::array({"gpu", "default"}));
  Reply page = Admin("GET", "/worker-groups", {{"pageNo", "1"}, {"pageSize", "10"}});
  EXPECT_EQ(page.data().at("total"), 2);
  EXPECT_EQ(page.data().at("totalList")[0].at("systemDefault"), true);
  EXPECT_EQ(Admin("POST", "/worker-groups",
                  {{"id", std::to_string(id)}, {"name", "gpu2"}, {"addrList", "127.0.0.1:1234"}})
                .code(),
            0);
  EXPECT_EQ(store_->GetWorkerGroup(id)->name, "gpu2");
  EXPECT_EQ(Admin("DELETE", "/worker-groups/" + std::to_string(id)).code(), 0);
  EXPECT_EQ(Admin("DELETE", "/worker-groups/" + std::to_string(id)).code(), 10174);
}

TEST_F(AdminApiTest, AlertPluginInstancesAndGroups) {
  Reply plugins = Admin("GET", "/ui-plugins/query-by-type", {{"pluginType", "ALERT"}});
  ASSERT_EQ(plugins.code(), 0);
  ASSERT_EQ(plugins.data().size(), 2u);
  int64_t http_id = 0;
  for (const auto& p : plugins.data())
    if (p.at("pluginName") == "Http") http_id = p.at("id");
  ASSERT_NE(http_id, 0);
  EXPECT_EQ(Admin("GET", "/ui-plugins/" + std::to_string(http_id)).code(), 0);
  EXPECT_EQ(Admin("GET", "/ui-plugins/999").code(), 110004);
  EXPECT_EQ(Admin("GET", "/ui-plugins/query-by-type", {{"pluginType", "BOGUS"}}).code(), 10001);

  std::string form =
      R"([{"field":"WebHook","value":"http://hook"},{"field":"requestType","value":"POST"}])";
  Pairs create = {{"pluginDefineId", std::to_string(http_id)},
                  {"instanceName", "hook"},
                  {"instanceType", "NORMAL"},
                  {"warningType", "ALL"},
                  {"pluginInstanceParams", form}};
  Pairs missing = create;
  missing[4].second = R"([{"field":"requestType","value":"POST"}])";
  Reply r = Admin("POST", "/alert-plugin-instances", missing);
  EXPECT_EQ(r.code(), 10001);
  EXPECT_NE(r.msg().find("pluginInstanceParams.WebHook"), std::string::npos) << r.body;
  Pairs bad_json = create;
  bad_json[4].second = "{not json";
  EXPECT_EQ(Admin("POST", "/alert-plugin-instances", bad_json).code(), 10001);
  Pairs bad_type = create;
  bad_type[3].second = "SOMETIMES";
  EXPECT_EQ(Admin("POST", "/alert-plugin-instances", bad_type).code(), 10001);
  EXPECT_EQ(store_->ListAlertPluginInstances("", Page{0, 10})->total, 0);

  Reply inst = Admin("POST", "/alert-plugin-instances", create);
  ASSERT_EQ(inst.code(), 0) << inst.body;
  int64_t iid = inst.data().at("id");
  json shown = json::parse(inst.data().at("pluginInstanceParams").get<std::string>());
  ASSERT_TRUE(shown.is_array());
  EXPECT_EQ(shown[0].at("value"), "http://hook") << "the form with the instance's values";
  EXPECT_EQ(Admin("POST", "/alert-plugin-instances", create).code(), 110010);
  EXPECT_EQ(
      Admin("GET", "/alert-plugin-instances/verify-name", {{"alertInstanceName", "hook"}}).code(),
      110010);
  EXPECT_EQ(Admin("GET", "/alert-plugin-instances/list").data().size(), 1u);
  Reply upd = Admin(
      "PUT", "/alert-plugin-instances/" + std::to_string(iid),
      {{"instanceName", "hook2"}, {"warningType", "FAILURE"}, {"pluginInstanceParams", form}});
  ASSERT_EQ(upd.code(), 0) << upd.body;
  EXPECT_EQ(upd.data().at("warningType"), "FAILURE");

  EXPECT_EQ(
      Admin("POST", "/alert-groups", {{"groupName", "ops"}, {"alertInstanceIds", "999"}}).code(),
      10001);
  Reply g = Admin(
      "POST", "/alert-groups",
      {{"groupName", "ops"}, {"alertInstanceIds", std::to_string(iid)}, {"description", "d"}});
  ASSERT_EQ(g.code(), 0) << g.body;
  int64_t gid = g.data().at("id");
  EXPECT_EQ(Admin("POST", "/alert-groups", {{"groupName", "ops"}}).code(), 10012);
  EXPECT_EQ(Admin("GET", "/alert-groups/verify-name", {{"groupName", "ops"}}).code(), 10012);
  EXPECT_EQ(Admin("GET", "/alert-groups/normal-list").data().size(), 2u);
  EXPECT_EQ(
      Admin("POST", "/alert-groups/query", {{"id", std::to_string(gid)}}).data().at("groupName"),
      "ops");
  EXPECT_EQ(Admin("DELETE", "/alert-plugin-instances/" + std::to_string(iid)).code(), 110012);
  EXPECT_EQ(Admin("PUT", "/alert-groups/" + std::to_string(gid),
                  {{"groupName", "ops2"}, {"alertInstanceIds", ""}})
                .code(),
            0);
  EXPECT_EQ(Admin("DELETE", "/alert-plugin-instances/" + std::to_string(iid)).code(), 0);
  EXPECT_EQ(Admin("DELETE", "/alert-groups/" + std::to_string(gid)).code(), 0);
  EXPECT_EQ(Admin("DELETE", "/alert-groups/" + std::to_string(gid)).code(), 10011);
  EXPECT_EQ(Admin("DELETE", "/alert-groups/1").code(), 10001) << "the default group stays";
}

TEST_F(AdminApiTest, AccessTokens) {
  int64_t uid = CreateUser("tom");
  int64_t other = CreateUser("jerry");
  std::string tom = Login("tom", "secret12");
  Reply gen = Send(tom, "POST", "/access-tokens/generate",
                   {{"userId", std::to_string(uid)}, {"expireTime", "2099-01-01 00:00:00"}});
  ASSERT_EQ(gen.code(), 0) << gen.body;
  EXPECT_EQ(gen.data().get<std::string>().size(), 32u);
  Reply made = Send(tom, "POST", "/access-tokens",
                    {{"userId", std::to_string(uid)},
                     {"expireTime", "2099-01-01 00:00:00"},
                     {"token", gen.data().get<std::string>()}});
  ASSERT_EQ(made.code(), 0) << made.body;
  int64_t tid = made.data().at("id");
  EXPECT_EQ(made.data().at("userName"), "tom");
  // The token authenticates on its own.
  Reply me =
      Send("", "GET", "/users/get-user-info", {}, {{"token", gen.data().get<std::string>()}});
  EXPECT_EQ(me.data().at("userName"), "tom");

  EXPECT_EQ(Send(tom, "POST", "/access-tokens",
                 {{"userId", std::to_string(other)}, {"expireTime", "2099-01-01 00:00:00"}})
                .code(),
            30001);
  EXPECT_EQ(
      Send(tom, "POST", "/access-tokens", {{"userId", std::to_string(uid)}, {"expireTime", "soon"}})
          .code(),
      10001);
  EXPECT_EQ(Send(tom, "POST", "/access-tokens", {{"userId", std::to_string(uid)}}).code(), 10001);
  EXPECT_EQ(Send(tom, "POST", "/access-tokens",
                 {{"userId", std::to_string(uid)},
                  {"expireTime", "2099-01-01 00:00:00"},
                  {"token", "bad token!"}})
                .code(),
            10001);
  Reply other_token =
      Admin("POST", "/access-tokens",
            {{"userId", std::to_string(other)}, {"expireTime", "2099-01-01 00:00:00"}});
  ASSERT_EQ(other_token.code(), 0) << other_token.body;
  EXPECT_EQ(Send(tom, "GET", "/access-tokens").data().at("total"), 1) << "own tokens only";
  EXPECT_EQ(Admin("GET", "/access-tokens").data().at("total"), 2);
  EXPECT_EQ(Send(tom, "DELETE", "/access-tokens/" + other_token.data().at("id").dump()).code(),
            30001);
  EXPECT_EQ(Send(tom, "GET", "/access-tokens/user/" + std::to_string(uid)).data().size(), 1u);
  EXPECT_EQ(Send(tom, "GET", "/access-tokens/user/" + std::to_string(other)).code(), 30001);

  // An expired token no longer authenticates.
  Reply upd = Send(tom, "PUT", "/access-tokens/" + std::to_string(tid),
                   {{"userId", std::to_string(uid)}, {"expireTime", "2000-01-01 00:00:00"}});
  ASSERT_EQ(upd.code(), 0) << upd.body;
  EXPECT_EQ(Send("", "GET", "/users/get-user-info", {}, {{"token", gen.data().get<std::string>()}})
                .status,
            401);
  EXPECT_EQ(Send(tom, "DELETE", "/access-tokens/" + std::to_string(tid)).code(), 0);
  EXPECT_EQ(Send(tom, "DELETE", "/access-tokens/" + std::to_string(tid)).code(), 70015);
}

TEST_F(AdminApiTest, MonitorReportsTheServersOfThisProcess) {
  Reply masters = Admin("GET", "/monitor/MASTER");
  ASSERT_EQ(masters.code(), 0) << masters.body;
  ASSERT_EQ(masters.data().size(), 1u);
  EXPECT_EQ(masters.data()[0].at("port"), 5678);
  json hb = json::parse(masters.data()[0].at("resInfo").get<std::string>());
  EXPECT_EQ(hb.at("processId"), static_cast<int64_t>(getpid()));
  EXPECT_EQ(hb.at("serverStatus"), "NORMAL");
  EXPECT_GE(hb.at("memoryUsage").get<double>(), 0.0);
  EXPECT_LE(hb.at("memoryUsage").get<double>(), 1.0);
  Reply workers = Admin("GET", "/monitor/WORKER");
  ASSERT_EQ(workers.data().size(), 2u);
  EXPECT_TRUE(
      json::parse(workers.data()[0].at("resInfo").get<std::string>()).contains("workerHostWeight"));
  json registered = json::parse(workers.data()[1].at("resInfo").get<std::string>());
  EXPECT_EQ(registered.at("serverStatus"), "BUSY");
  EXPECT_EQ(registered.at("threadPoolUsage"), 0.5);
  EXPECT_EQ(workers.data()[1].at("lastHeartbeatTime"), "2026-01-01 00:00:00");
  EXPECT_EQ(Admin("GET", "/monitor/ALERT_SERVER").data().size(), 0u);
  EXPECT_EQ(Admin("GET", "/monitor/BOGUS").code(), 10001);
  Reply db = Admin("GET", "/monitor/databases");
  ASSERT_EQ(db.code(), 0);
  EXPECT_EQ(db.data()[0].at("dbType"), "SQLITE");
  EXPECT_EQ(db.data()[0].at("state"), "YES");
}

}  // namespace
}  // namespace dsched::api
