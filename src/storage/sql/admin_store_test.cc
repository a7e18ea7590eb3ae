// Conformance tests of SqlStore's AdminStore (admin_store.cc) on every database of
// test_databases.h: SQLite always, PostgreSQL and MariaDB under tests/db/run_db_tests.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

class AdminStoreTest : public StoreTest {
 protected:
  User MakeUser(const std::string& name) {
    User u;
    u.user_name = name;
    u.password_hash = "h";
    u.email = name + "@example.com";
    auto c = store_->CreateUser(u);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : u;
  }
  Project MakeProject(int64_t code, const std::string& name, int64_t owner) {
    Project p;
    p.code = code;
    p.name = name;
    p.user_id = owner;
    auto c = store_->CreateProject(p);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : p;
  }
};

TEST_P(AdminStoreTest, UsersUpdateListDelete) {
  User a = MakeUser("alice");
  MakeUser("bob");
  MakeUser("alicia");
  a.email = "new@example.com";
  a.state = 0;
  a.tenant_id = 5;
  a.password_hash = "h2";
  auto up = store_->UpdateUser(a);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->email, "new@example.com");
  EXPECT_EQ(up->state, 0);
  EXPECT_EQ(store_->GetUser(a.id)->password_hash, "h2");

  auto page = store_->ListUsers("ALI", Page{0, 10});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[0].user_name, "alicia");  // newest first
  auto second = store_->ListUsers("", Page{1, 1});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->total, 3);
  ASSERT_EQ(second->rows.size(), 1u);
  EXPECT_EQ(second->rows[0].user_name, "bob");
  EXPECT_EQ(*store_->CountUsersOfTenant(5), 1);

  // A rename onto a taken name is refused and changes nothing.
  User clash = *store_->GetUser(a.id);
  clash.user_name = "bob";
  EXPECT_EQ(store_->UpdateUser(clash).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetUser(a.id)->user_name, "alice");
  User ghost;
  ghost.id = 999;
  ghost.user_name = "ghost";
  EXPECT_EQ(store_->UpdateUser(ghost).status().code(), StatusCode::kNotFound);

  // Deleting takes the user's grants and tokens along, and is idempotent.
  Project p = MakeProject(1, "p", 1);
  ASSERT_TRUE(store_->GrantProject(a.id, p.id, 7).ok());
  AccessToken t;
  t.user_id = a.id;
  t.token = "tok";
  t.expire_time = 1000000;
  ASSERT_TRUE(store_->CreateAccessToken(t).ok());
  ASSERT_TRUE(store_->DeleteUser(a.id).ok());
  EXPECT_EQ(store_->GetUser(a.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store_->GrantPerm(a.id, p.id), 0);
  EXPECT_EQ(store_->ListAccessTokens(a.id, "", Page{0, 10})->total, 0);
  EXPECT_TRUE(store_->DeleteUser(a.id).ok());
}

TEST_P(AdminStoreTest, TenantsAndQueues) {
  auto pages = store_->ListQueues("", Page{0, 10});
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->total, 1) << "base data: the default queue";
  int64_t default_queue = pages->rows[0].id;

  Queue q;
  q.queue_name = "etl";
  q.queue = "root.etl";
  auto qc = store_->CreateQueue(q);
  ASSERT_TRUE(qc.ok()) << qc.status().ToString();
  EXPECT_EQ(store_->CreateQueue(q).status().code(), StatusCode::kAlreadyExists);
  qc->queue = "root.etl2";
  ASSERT_TRUE(store_->UpdateQueue(*qc).ok());
  EXPECT_EQ(store_->GetQueue(qc->id)->queue, "root.etl2");
  EXPECT_EQ(store_->ListQueues("ET", Page{0, 10})->total, 1);

  Tenant t;
  t.tenant_code = "etl_user";
  t.description = "d";
  t.queue_id = qc->id;
  auto tc = store_->CreateTenant(t);
  ASSERT_TRUE(tc.ok()) << tc.status().ToString();
  EXPECT_EQ(tc->queue_name, "etl") << "joined";
  EXPECT_EQ(tc->queue, "root.etl2");
  EXPECT_EQ(store_->CreateTenant(t).status().code(), StatusCode::kAlreadyExists);
  tc->queue_id = default_queue;
  tc->description = "d2";
  auto tu = store_->UpdateTenant(*tc);
  ASSERT_TRUE(tu.ok()) << tu.status().ToString();
  EXPECT_EQ(tu->queue_name, "default");
  EXPECT_EQ(store_->GetTenantByCode("etl_user")->description, "d2");
  EXPECT_EQ(store_->GetTenantByCode("nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListTenants("ETL", Page{0, 10})->total, 1);
  EXPECT_EQ(store_->ListTenants("zzz", Page{0, 10})->total, 0);
  ASSERT_TRUE(store_->DeleteTenant(tc->id).ok());
  EXPECT_TRUE(store_->DeleteTenant(tc->id).ok());
  EXPECT_EQ(store_->GetTenant(tc->id).status().code(), StatusCode::kNotFound);
}

TEST_P(AdminStoreTest, WorkerAndAlertGroups) {
  WorkerGroup g;
  g.name = "gpu";
  g.addr_list = "10.0.0.1:1234";
  auto gc = store_->CreateWorkerGroup(g);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(store_->CreateWorkerGroup(g).status().code(), StatusCode::kAlreadyExists);
  gc->addr_list = "10.0.0.1:1234,10.0.0.2:1234";
  ASSERT_TRUE(store_->UpdateWorkerGroup(*gc).ok());
  EXPECT_EQ(store_->GetWorkerGroup(gc->id)->addr_list, "10.0.0.1:1234,10.0.0.2:1234");
  EXPECT_EQ(store_->ListWorkerGroups("", Page{0, 10})->total, 1);
  ASSERT_TRUE(store_->DeleteWorkerGroup(gc->id).ok());
  EXPECT_EQ(store_->GetWorkerGroup(gc->id).status().code(), StatusCode::kNotFound);

  auto base = store_->ListAlertGroups("", Page{0, 10});
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(base->total, 1) << "base data: the default alert group";
  AlertGroup a;
  a.group_name = "ops";
  a.alert_instance_ids = "1,2";
  a.create_user_id = 1;
  auto ac = store_->CreateAlertGroup(a);
  ASSERT_TRUE(ac.ok()) << ac.status().ToString();
  EXPECT_EQ(store_->CreateAlertGroup(a).status().code(), StatusCode::kAlreadyExists);
  ac->description = "pager";
  ASSERT_TRUE(store_->UpdateAlertGroup(*ac).ok());
  EXPECT_EQ(store_->GetAlertGroup(ac->id)->description, "pager");
  EXPECT_EQ(store_->ListAlertGroups("OP", Page{0, 10})->total, 1);
  ASSERT_TRUE(store_->DeleteAlertGroup(ac->id).ok());
  EXPECT_EQ(store_->ListAlertGroups("", Page{0, 10})->total, 1);
}

TEST_P(AdminStoreTest, AlertPluginInstances) {
  auto defs = store_->ListPluginDefines("ALERT");
  ASSERT_TRUE(defs.ok()) << defs.status().ToString();
  ASSERT_EQ(defs->size(), 2u) << "base data: Email and Http";
  EXPECT_EQ((*defs)[0].plugin_name, "Email");
  EXPECT_EQ(store_->GetPluginDefine((*defs)[1].id)->plugin_name, "Http");
  EXPECT_TRUE(store_->ListPluginDefines("TASK")->empty());

  AlertPluginInstance i;
  i.plugin_define_id = (*defs)[1].id;
  i.instance_name = "hook";
  i.plugin_instance_params = R"({"WebHook":"http://x"})";
  i.instance_type = 1;
  i.warning_type = 2;
  auto ic = store_->CreateAlertPluginInstance(i);
  ASSERT_TRUE(ic.ok()) << ic.status().ToString();
  EXPECT_EQ(ic->plugin_name, "Http");
  EXPECT_EQ(ic->instance_type, 1);
  EXPECT_EQ(ic->warning_type, 2);
  EXPECT_EQ(store_->CreateAlertPluginInstance(i).status().code(), StatusCode::kAlreadyExists);
  ic->instance_name = "hook2";
  ic->warning_type = 3;
  auto iu = store_->UpdateAlertPluginInstance(*ic);
  ASSERT_TRUE(iu.ok()) << iu.status().ToString();
  EXPECT_EQ(iu->instance_name, "hook2");
  EXPECT_EQ(iu->warning_type, 3);
  EXPECT_EQ(iu->plugin_instance_params, R"({"WebHook":"http://x"})");
  EXPECT_EQ(store_->ListAlertPluginInstances("HOOK", Page{0, 10})->total, 1);
  ASSERT_TRUE(store_->DeleteAlertPluginInstance(ic->id).ok());
  EXPECT_EQ(store_->GetAlertPluginInstance(ic->id).status().code(), StatusCode::kNotFound);
}

TEST_P(AdminStoreTest, AccessTokens) {
  User a = MakeUser("alice");
  User b = MakeUser("bob");
  AccessToken t;
  t.user_id = a.id;
  t.token = "t-a";
  t.expire_time = 5000;
  auto ta = store_->CreateAccessToken(t);
  ASSERT_TRUE(ta.ok()) << ta.status().ToString();
  EXPECT_EQ(ta->user_name, "alice");
  t.user_id = b.id;
  t.token = "t-b";
  ASSERT_TRUE(store_->CreateAccessToken(t).ok());
  EXPECT_EQ(store_->CreateAccessToken(t).status().code(), StatusCode::kAlreadyExists);

  EXPECT_EQ(store_->ListAccessTokens(0, "", Page{0, 10})->total, 2);
  EXPECT_EQ(store_->ListAccessTokens(a.id, "", Page{0, 10})->total, 1);
  auto by_name = store_->ListAccessTokens(0, "BO", Page{0, 10});
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  ASSERT_EQ(by_name->total, 1);
  EXPECT_EQ(by_name->rows[0].token, "t-b");

  ta->token = "t-a2";
  ta->expire_time = 9000;
  ASSERT_TRUE(store_->UpdateAccessToken(*ta).ok());
  EXPECT_EQ(store_->GetUserByToken("t-a2", 8000)->user_name, "alice");
  EXPECT_FALSE(store_->GetUserByToken("t-a", 1000).ok());
  ASSERT_TRUE(store_->DeleteAccessToken(ta->id).ok());
  EXPECT_FALSE(store_->GetUserByToken("t-a2", 1000).ok());
}

TEST_P(AdminStoreTest, GrantsAndProjectsOfUser) {
  User owner = MakeUser("owner");
  User u = MakeUser("u");
  Project own = MakeProject(11, "own", u.id);
  Project read = MakeProject(12, "read", owner.id);
  Project write = MakeProject(13, "write", owner.id);
  MakeProject(14, "foreign", owner.id);

  ASSERT_TRUE(store_->GrantProject(u.id, read.id, 4).ok());
  ASSERT_TRUE(store_->GrantProject(u.id, write.id, 4).ok());
  ASSERT_TRUE(store_->GrantProject(u.id, write.id, 7).ok()) << "a second grant updates";
  EXPECT_EQ(*store_->GrantPerm(u.id, read.id), 4);
  EXPECT_EQ(*store_->GrantPerm(u.id, write.id), 7);
  EXPECT_EQ(*store_->GrantPerm(owner.id, write.id), 0);

  auto mine = store_->ListProjectsOfUser(u.id, "", Page{0, 10});
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->total, 3);
  ASSERT_EQ(mine->rows.size(), 3u);
  EXPECT_EQ(mine->rows[0].name, "write");
  EXPECT_EQ(mine->rows[0].perm, 7);
  EXPECT_EQ(mine->rows[0].user_name, "owner");
  EXPECT_EQ(mine->rows[1].name, "read");
  EXPECT_EQ(mine->rows[1].perm, 4);
  EXPECT_EQ(mine->rows[2].name, "own");
  EXPECT_EQ(mine->rows[2].perm, 7);
  EXPECT_EQ(store_->ListProjectsOfUser(u.id, "REA", Page{0, 10})->total, 1);
  EXPECT_EQ(store_->ListProjectsOfUser(u.id, "", Page{2, 10})->rows.size(), 1u);

  auto granted = store_->ListGrantedProjects(u.id);
  ASSERT_TRUE(granted.ok());
  EXPECT_EQ(granted->size(), 2u);
  auto users = store_->ListUsersOfProject(write.id);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].user_name, "u");

  ASSERT_TRUE(store_->RevokeProject(u.id, read.id).ok());
  EXPECT_TRUE(store_->RevokeProject(u.id, read.id).ok()) << "idempotent";
  EXPECT_EQ(*store_->GrantPerm(u.id, read.id), 0);
  EXPECT_EQ(store_->ListProjectsOfUser(u.id, "", Page{0, 10})->total, 2);

  // Update and delete of a project; a project with workflows is not deleted.
  own.name = "own2";
  own.description = "x";
  auto up = store_->UpdateProject(own);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->name, "own2");
  Project clash = own;
  clash.name = "foreign";
  EXPECT_EQ(store_->UpdateProject(clash).status().code(), StatusCode::kAlreadyExists);
  Project ghost;
  ghost.code = 99;
  ghost.name = "ghost";
  EXPECT_EQ(store_->UpdateProject(ghost).status().code(), StatusCode::kNotFound);

  WorkflowDefinition d;
  d.code = 500;
  d.name = "wf";
  d.project_code = write.code;
  d.user_id = owner.id;
  ASSERT_TRUE(store_->CreateWorkflow(d).ok());
  EXPECT_EQ(store_->DeleteProject(write.code).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->GetProject(write.code).ok());
  ASSERT_TRUE(store_->DeleteWorkflow(d.code).ok());
  ASSERT_TRUE(store_->DeleteProject(write.code).ok());
  EXPECT_EQ(store_->GetProject(write.code).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store_->GrantPerm(u.id, write.id), 0) << "grants go with the project";
  EXPECT_TRUE(store_->DeleteProject(write.code).ok()) << "idempotent";
}

TEST_P(AdminStoreTest, EnvironmentsAndPing) {
  auto envs = store_->ListEnvironments();
  ASSERT_TRUE(envs.ok()) << envs.status().ToString();
  EXPECT_TRUE(envs->empty());
  EXPECT_TRUE(store_->Ping().ok());
}

// The monitor's figures come from the server: this test's own connections are among them.
TEST_P(AdminStoreTest, DatabaseFiguresCountThisProcesssConnections) {
  auto f = store_->Figures();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_GE(f->threads_connections, 1);
  EXPECT_GE(f->max_connections, f->threads_connections);
  EXPECT_GE(f->max_used_connections, 1);
  EXPECT_GE(f->threads_running, 0);
  EXPECT_LE(f->threads_running, f->threads_connections);
  EXPECT_TRUE(store_->Ping().ok());
}

INSTANTIATE_TEST_SUITE_P(Db, AdminStoreTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
