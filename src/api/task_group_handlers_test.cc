// The /task-group/* routes over real HTTP against a real SqlStore on a temp SQLite file: shapes
// of the answers, DolphinScheduler's status codes for bad input, and that a refused request
// changes nothing.

#include <gtest/gtest.h>

#include "api/api_test_support.h"
#include "common/ids.h"
#include "storage/sql/test_databases.h"

namespace dsched::api {
namespace {

using nlohmann::json;
using apitest::Pairs;
using apitest::Reply;

class TaskGroupApiTest : public apitest::SqliteApiTest {
 protected:
  TaskGroupApiTest() : SqliteApiTest("dsched-tgapi") {}
  void AddDeps(ApiDeps& deps) override { deps.task_groups = store_.get(); }
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SqliteApiTest::SetUp());
    Project p;
    p.code = 77;
    p.name = "p";
    p.user_id = 1;
    ASSERT_TRUE(store_->CreateProject(p).ok());
  }

  Reply Send(const std::string& method, const std::string& path, const Pairs& params = {},
             bool with_session = true) {
    return apitest::Send(server_->port(), with_session ? session_ : "", method, path, params);
  }
  Reply Get(const std::string& path, const Pairs& p = {}) { return Send("GET", path, p); }
  Reply Post(const std::string& path, const Pairs& p = {}) { return Send("POST", path, p); }

  int64_t Create(const std::string& name, const std::string& size, const std::string& project = "0") {
    Reply r = Post("/task-group/create", {{"name", name},
                                          {"projectCode", project},
                                          {"description", "slots"},
                                          {"groupSize", size}});
    EXPECT_EQ(r.code(), 0) << r.j.dump();
    return r.code() == 0 ? r.data().at("id").get<int64_t>() : 0;
  }
  int64_t GroupCount() {
    auto all = store_->ListTaskGroups({}, {0, 100});
    return all.ok() ? all->total : -1;
  }
};

TEST_F(TaskGroupApiTest, CreateAnswersTheGroupAndValidates) {
  Reply r = Post("/task-group/create",
                 {{"name", "etl"}, {"projectCode", "77"}, {"description", "d"}, {"groupSize", "3"}});
  ASSERT_EQ(r.code(), 0) << r.j.dump();
  const json& g = r.data();
  EXPECT_GT(g["id"].get<int64_t>(), 0);
  EXPECT_EQ(g["name"], "etl");
  EXPECT_EQ(g["projectCode"], 77);
  EXPECT_EQ(g["groupSize"], 3);
  EXPECT_EQ(g["useSize"], 0);
  EXPECT_EQ(g["status"], "YES");
  EXPECT_TRUE(g.contains("createTime") && g.contains("updateTime") && g.contains("userId"));

  // Refused requests store nothing.
  EXPECT_EQ(Post("/task-group/create", {{"name", "etl"}, {"groupSize", "1"}}).code(), 130001);
  EXPECT_EQ(Post("/task-group/create", {{"name", "x"}, {"groupSize", "0"}}).code(), 130002);
  EXPECT_EQ(Post("/task-group/create", {{"name", "x"}, {"groupSize", "-4"}}).code(), 130002);
  Reply no_name = Post("/task-group/create", {{"groupSize", "1"}});
  EXPECT_EQ(no_name.code(), 10001);
  EXPECT_NE(no_name.msg().find("name"), std::string::npos) << no_name.msg();
  Reply bad_size = Post("/task-group/create", {{"name", "x"}, {"groupSize", "many"}});
  EXPECT_EQ(bad_size.code(), 10001);
  EXPECT_NE(bad_size.msg().find("groupSize"), std::string::npos) << bad_size.msg();
  EXPECT_EQ(Post("/task-group/create", {{"name", "x"}, {"groupSize", "1"}, {"projectCode", "5"}})
                .code(),
            10018);
  EXPECT_EQ(Post("/task-group/create",
                 {{"name", "x"}, {"groupSize", "1"}, {"description", std::string(300, 'd')}})
                .code(),
            10001);
  EXPECT_EQ(GroupCount(), 1);
  // Not logged in: 401, as every route.
  EXPECT_EQ(Send("POST", "/task-group/create", {{"name", "y"}, {"groupSize", "1"}}, false).status,
            401);
}

TEST_F(TaskGroupApiTest, ListsPageAndFilter) {
  Create("alpha", "1", "77");
  int64_t beta = Create("beta", "2", "0");
  Create("gamma", "1", "0");
  ASSERT_EQ(Post("/task-group/close-task-group", {{"id", std::to_string(beta)}}).code(), 0);

  Reply page = Get("/task-group/list-paging", {{"pageNo", "1"}, {"pageSize", "2"}});
  ASSERT_EQ(page.code(), 0) << page.j.dump();
  EXPECT_EQ(page.data()["total"], 3);
  ASSERT_EQ(page.data()["totalList"].size(), 2u) << page.j.dump() << " direct: "
      << store_->ListTaskGroups({}, {0, 2})->rows.size();
  EXPECT_EQ(page.data()["totalList"][0]["name"], "gamma");  // newest first
  EXPECT_EQ(page.data()["currentPage"], 1);

  Reply by_name = Get("/task-group/list-paging", {{"pageNo", "1"}, {"pageSize", "10"}, {"name", "ALP"}});
  ASSERT_EQ(by_name.code(), 0);
  ASSERT_EQ(by_name.data()["total"], 1);
  EXPECT_EQ(by_name.data()["totalList"][0]["name"], "alpha");
  Reply closed = Get("/task-group/list-paging", {{"pageNo", "1"}, {"pageSize", "10"}, {"status", "0"}});
  ASSERT_EQ(closed.code(), 0);
  ASSERT_EQ(closed.data()["total"], 1);
  EXPECT_EQ(closed.data()["totalList"][0]["status"], "NO");
  EXPECT_EQ(Get("/task-group/list-paging", {{"pageNo", "1"}, {"pageSize", "10"}, {"status", "7"}})
                .code(),
            10001);
  EXPECT_EQ(Get("/task-group/list-paging", {{"pageNo", "0"}, {"pageSize", "10"}}).code(), 10001);

  // What the task editor offers for a project: its own groups and the global ones.
  Reply proj = Get("/task-group/query-list-by-projectCode",
                   {{"pageNo", "1"}, {"pageSize", "2147483647"}, {"projectCode", "77"}});
  ASSERT_EQ(proj.code(), 0) << proj.j.dump();
  EXPECT_EQ(proj.data()["total"], 3);
  Reply global = Get("/task-group/query-list-by-projectCode", {{"pageNo", "1"}, {"pageSize", "10"}});
  ASSERT_EQ(global.code(), 0);
  EXPECT_EQ(global.data()["total"], 2);
  EXPECT_EQ(Get("/task-group/query-list-by-projectCode",
                {{"pageNo", "1"}, {"pageSize", "10"}, {"projectCode", "12345"}})
                .code(),
            10018);
}

TEST_F(TaskGroupApiTest, UpdateCloseAndStart) {
  int64_t id = Create("g", "1");
  std::string sid = std::to_string(id);
  Reply u = Post("/task-group/update",
                 {{"id", sid}, {"name", "g2"}, {"description", "more"}, {"groupSize", "4"}});
  ASSERT_EQ(u.code(), 0) << u.j.dump();
  EXPECT_EQ(u.data()["name"], "g2");
  EXPECT_EQ(u.data()["groupSize"], 4);
  EXPECT_EQ(store_->GetTaskGroup(id)->group_size, 4);
  // Twice: the same outcome.
  EXPECT_EQ(Post("/task-group/update",
                 {{"id", sid}, {"name", "g2"}, {"description", "more"}, {"groupSize", "4"}})
                .code(),
            0);
  EXPECT_EQ(Post("/task-group/update", {{"id", "999"}, {"name", "z"}, {"groupSize", "1"}}).code(),
            10001);
  EXPECT_EQ(Post("/task-group/update", {{"id", sid}, {"name", "z"}, {"groupSize", "0"}}).code(),
            130002);
  Create("other", "1");
  EXPECT_EQ(Post("/task-group/update", {{"id", sid}, {"name", "other"}, {"groupSize", "1"}}).code(),
            130001);
  EXPECT_EQ(store_->GetTaskGroup(id)->name, "g2");

  EXPECT_EQ(Post("/task-group/close-task-group", {{"id", sid}}).code(), 0);
  EXPECT_EQ(store_->GetTaskGroup(id)->status, 0);
  EXPECT_EQ(Post("/task-group/close-task-group", {{"id", sid}}).code(), 130018);
  // A closed group is not changed.
  EXPECT_EQ(Post("/task-group/update", {{"id", sid}, {"name", "g3"}, {"groupSize", "2"}}).code(),
            130003);
  EXPECT_EQ(Post("/task-group/start-task-group", {{"id", sid}}).code(), 0);
  EXPECT_EQ(Post("/task-group/start-task-group", {{"id", sid}}).code(), 130019);
  EXPECT_EQ(store_->GetTaskGroup(id)->status, 1);
  EXPECT_EQ(Post("/task-group/start-task-group", {{"id", "999"}}).code(), 10001);
  EXPECT_EQ(Post("/task-group/close-task-group", {}).code(), 10001);
}

TEST_F(TaskGroupApiTest, QueuePagePriorityAndForceStart) {
  int64_t id = Create("g", "1");
  // The master's side: task 1 holds the slot, 2 and 3 wait.
  for (int64_t t = 1; t <= 3; ++t) {
    TaskGroupQueue q;
    q.task_id = t;
    q.task_name = "task" + std::to_string(t);
    q.group_id = id;
    q.process_id = 9;
    ASSERT_TRUE(store_->Enqueue(q).ok());
  }
  ASSERT_TRUE(*store_->Acquire(1));
  Reply page = Get("/task-group/query-list-by-group-id",
                   {{"groupId", std::to_string(id)}, {"pageNo", "1"}, {"pageSize", "10"}});
  ASSERT_EQ(page.code(), 0) << page.j.dump();
  ASSERT_EQ(page.data()["total"], 3);
  const json& first = page.data()["totalList"][0];
  EXPECT_EQ(first["taskName"], "task1");
  EXPECT_EQ(first["status"], "ACQUIRE_SUCCESS");
  EXPECT_EQ(first["groupId"], id);
  EXPECT_EQ(first["processId"], 9);
  EXPECT_EQ(first["forceStart"], 0);
  int64_t q3 = page.data()["totalList"][2]["id"].get<int64_t>();
  int64_t q1 = first["id"].get<int64_t>();
  Reply waiting = Get("/task-group/query-list-by-group-id",
                      {{"pageNo", "1"}, {"pageSize", "10"}, {"status", "-1"}});
  ASSERT_EQ(waiting.code(), 0);
  EXPECT_EQ(waiting.data()["total"], 2);
  Reply named = Get("/task-group/query-list-by-group-id",
                    {{"pageNo", "1"}, {"pageSize", "10"}, {"taskInstanceName", "TASK3"}});
  ASSERT_EQ(named.code(), 0);
  EXPECT_EQ(named.data()["total"], 1);
  EXPECT_EQ(Get("/task-group/query-list-by-group-id", {{"pageNo", "1"}, {"pageSize", "10"}, {"status", "5"}})
                .code(),
            10001);

  // Raising task 3's priority puts it first in line.
  Reply mp = Post("/task-group/modifyPriority", {{"queueId", std::to_string(q3)}, {"priority", "8"}});
  ASSERT_EQ(mp.code(), 0) << mp.j.dump();
  EXPECT_EQ(Post("/task-group/modifyPriority", {{"queueId", std::to_string(q3)}, {"priority", "8"}})
                .code(),
            0);
  EXPECT_EQ((*store_->ListWaiters(id))[0].task_id, 3);
  EXPECT_EQ(Post("/task-group/modifyPriority", {{"queueId", std::to_string(q1)}, {"priority", "1"}})
                .code(),
            130017);
  EXPECT_EQ(Post("/task-group/modifyPriority", {{"queueId", "999"}, {"priority", "1"}}).code(), 10001);
  EXPECT_EQ(Post("/task-group/modifyPriority", {{"queueId", std::to_string(q3)}}).code(), 10001);
  EXPECT_EQ(Post("/task-group/modifyPriority", {{"queueId", std::to_string(q3)}, {"priority", "-1"}})
                .code(),
            10001);
  EXPECT_EQ(store_->GetQueueRow(q3)->priority, 8);

  // Force start: the row may run without a slot.
  ASSERT_EQ(Post("/task-group/forceStart", {{"queueId", std::to_string(q3)}}).code(), 0);
  EXPECT_EQ(Post("/task-group/forceStart", {{"queueId", std::to_string(q3)}}).code(), 0);
  EXPECT_EQ(store_->GetQueueRow(q3)->force_start, 1);
  EXPECT_TRUE(*store_->Acquire(3));
  EXPECT_EQ(store_->GetTaskGroup(id)->use_size, 1);
  EXPECT_EQ(Post("/task-group/forceStart", {{"queueId", std::to_string(q3)}}).code(), 130017);
  EXPECT_EQ(Post("/task-group/forceStart", {{"queueId", "999"}}).code(), 10001);
  EXPECT_EQ(Post("/task-group/forceStart", {}).code(), 10001);
}

}  // namespace
}  // namespace dsched::api
