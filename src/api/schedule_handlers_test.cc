// The schedule routes over real HTTP against a real SqlStore on a temp SQLite file: the J6
// journey (preview, create, online, list), every refusal with its DolphinScheduler code and
// nothing stored, the online rule over sub-workflows, and a workflow taking its schedule
// offline with it.
#include <gtest/gtest.h>

#include <atomic>

#include "api/api_test_support.h"

namespace dsched::api {
namespace {

using nlohmann::json;
using apitest::Pairs;
using apitest::Reply;

class ScheduleApiTest : public apitest::SqliteApiTest {
 protected:
  ScheduleApiTest() : SqliteApiTest("dsched-sched-api") {}
  void AddDeps(ApiDeps& deps) override {
    deps.master = &master_;
    deps.schedules = store_.get();
    deps.schedules_changed = [this] { ++changes_; };
  }
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SqliteApiTest::SetUp());
    Reply p = Send("POST", "/projects", {{"projectName", "p1"}});
    ASSERT_EQ(p.code(), 0) << p.body;
    pc_ = p.data().at("code").get<int64_t>();
  }

  std::string Sc(const std::string& rest = "") {
    return "/projects/" + std::to_string(pc_) + "/schedules" + rest;
  }

  // A one-task workflow (SHELL, or SUB_PROCESS of `child`); returns its code.
  int64_t Workflow(const std::string& name, int64_t child = 0) {
    int64_t task = next_task_++;
    json t = {{"code", task},
              {"name", "t_" + name},
              {"taskType", "SHELL"},
              {"taskParams", {{"rawScript", "true"}}}};
    if (child) {
      t["taskType"] = "SUB_PROCESS";
      t["taskParams"] = {{"processDefinitionCode", child}};
    }
    Reply r = Send(
        "POST", "/projects/" + std::to_string(pc_) + "/process-definition",
        {{"name", name},
         {"taskDefinitionJson", json::array({t}).dump()},
         {"taskRelationJson", json::array({{{"preTaskCode", 0}, {"postTaskCode", task}}}).dump()},
         {"executionType", "PARALLEL"}});
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.data().at("code").get<int64_t>();
  }
  Reply Release(int64_t code, const std::string& state) {
    return Send("POST",
                "/projects/" + std::to_string(pc_) + "/process-definition/" + std::to_string(code) +
                    "/release",
                {{"releaseState", state}});
  }
  static std::string Times(const std::string& cron, const std::string& tz = "UTC",
                           const std::string& start = "2026-01-01 00:00:00",
                           const std::string& end = "2126-01-01 00:00:00") {
    return json{{"startTime", start}, {"endTime", end}, {"crontab", cron}, {"timezoneId", tz}}
        .dump();
  }
  Reply Create(int64_t def, const std::string& schedule, Pairs extra = {}) {
    Pairs form = {{"processDefinitionCode", std::to_string(def)},
                  {"schedule", schedule},
                  {"failureStrategy", "END"},
                  {"warningType", "FAILURE"},
                  {"warningGroupId", "3"},
                  {"processInstancePriority", "HIGH"},
                  {"workerGroup", "default"},
                  {"tenantCode", "default"},
                  {"environmentCode", "-1"}};
    form.insert(form.end(), extra.begin(), extra.end());
    return Send("POST", Sc(), form);
  }
  int64_t ListTotal() {
    Reply r = Send("GET", Sc(), {{"pageNo", "1"}, {"pageSize", "10"}});
    EXPECT_EQ(r.code(), 0) << r.body;
    return r.data().at("total").get<int64_t>();
  }

  apitest::NoMaster master_;
  int64_t pc_ = 0;
  std::atomic<int> changes_{0};
  int64_t next_task_ = 5001;
};

TEST_F(ScheduleApiTest, JourneyPreviewCreateOnlineListOfflineUpdateDelete) {
  int64_t wf = Workflow("daily");
  ASSERT_EQ(Release(wf, "ONLINE").code(), 0);

  Reply preview =
      Send("POST", Sc("/preview"), {{"schedule", Times("0 0 3 * * ? *", "Asia/Shanghai")}});
  ASSERT_EQ(preview.code(), 0) << preview.body;
  // Now is 08:00 in Shanghai: the next 03:00 there is tomorrow's, shown on its wall clock.
  EXPECT_EQ(preview.data(),
            json::array({"2026-01-02 03:00:00", "2026-01-03 03:00:00", "2026-01-04 03:00:00",
                         "2026-01-05 03:00:00", "2026-01-06 03:00:00"}));

  Reply created = Create(wf, Times("0/5 * * * * ? *"), {{"misfirePolicy", "FIRE_ONCE"}});
  ASSERT_EQ(created.code(), 0) << created.body;
  const json& s = created.data();
  int64_t id = s.at("id").get<int64_t>();
  EXPECT_EQ(s.at("processDefinitionCode"), wf);
  EXPECT_EQ(s.at("processDefinitionName"), "daily");
  EXPECT_EQ(s.at("projectName"), "p1");
  EXPECT_EQ(s.at("releaseState"), "OFFLINE");
  EXPECT_EQ(s.at("crontab"), "0/5 * * * * ? *");
  EXPECT_EQ(s.at("timezoneId"), "UTC");
  EXPECT_EQ(s.at("failureStrategy"), "END");
  EXPECT_EQ(s.at("warningType"), "FAILURE");
  EXPECT_EQ(s.at("warningGroupId"), 3);
  EXPECT_EQ(s.at("processInstancePriority"), "HIGH");
  EXPECT_EQ(s.at("misfirePolicy"), "FIRE_ONCE");
  EXPECT_EQ(s.at("userName"), "admin");
  EXPECT_FALSE(s.at("startTime").get<std::string>().empty());

  Reply again = Create(wf, Times("0 0 * * * ? *"));
  EXPECT_EQ(again.code(), 10204) << again.body;

  Reply online = Send("POST", Sc("/" + std::to_string(id) + "/online"));
  ASSERT_EQ(online.code(), 0) << online.body;
  EXPECT_EQ(changes_.load(), 1) << "the firer is told at once";
  EXPECT_EQ(Send("POST", Sc("/" + std::to_string(id) + "/online")).code(), 10126)
      << "already online";
  Reply list =
      Send("GET", Sc(),
           {{"processDefinitionCode", std::to_string(wf)}, {"pageNo", "1"}, {"pageSize", "10"}});
  ASSERT_EQ(list.code(), 0) << list.body;
  EXPECT_EQ(list.data().at("total"), 1);
  EXPECT_EQ(list.data().at("totalList").at(0).at("releaseState"), "ONLINE");
  EXPECT_EQ(Send("GET", Sc(), {{"searchVal", "DAI"}}).data().at("total"), 1);
  EXPECT_EQ(Send("GET", Sc(), {{"searchVal", "nope"}}).data().at("total"), 0);
  Reply all = Send("POST", Sc("/list"));
  ASSERT_EQ(all.code(), 0) << all.body;
  EXPECT_EQ(all.data().size(), 1u);

  Reply upd_online =
      Send("PUT", Sc("/" + std::to_string(id)), {{"schedule", Times("1 * * * * ? *")}});
  EXPECT_EQ(upd_online.code(), 10023) << upd_online.body;
  EXPECT_EQ(Send("DELETE", Sc("/" + std::to_string(id))).code(), 10023) << "online: not deleted";

  ASSERT_EQ(Send("POST", Sc("/" + std::to_string(id) + "/offline")).code(), 0);
  Reply upd =
      Send("PUT", Sc("/" + std::to_string(id)),
           {{"schedule", Times("1 * * * * ? *", "Europe/Paris")}, {"misfirePolicy", "FIRE_ALL"}});
  ASSERT_EQ(upd.code(), 0) << upd.body;
  EXPECT_EQ(upd.data().at("crontab"), "1 * * * * ? *");
  EXPECT_EQ(upd.data().at("timezoneId"), "Europe/Paris");
  EXPECT_EQ(upd.data().at("failureStrategy"), "END") << "update's default";
  EXPECT_EQ(upd.data().at("misfirePolicy"), "FIRE_ALL");
  Reply by_def = Send("PUT", Sc("/update/" + std::to_string(wf)),
                      {{"schedule", Times("2 * * * * ? *")}, {"failureStrategy", "CONTINUE"}});
  ASSERT_EQ(by_def.code(), 0) << by_def.body;
  EXPECT_EQ(by_def.data().at("crontab"), "2 * * * * ? *");
  EXPECT_EQ(by_def.data().at("misfirePolicy"), "FIRE_ALL") << "kept when not sent";

  ASSERT_EQ(Send("DELETE", Sc("/" + std::to_string(id))).code(), 0);
  EXPECT_EQ(ListTotal(), 0);
  EXPECT_EQ(Send("POST", Sc("/" + std::to_string(id) + "/online")).code(), 10203);
  EXPECT_EQ(Send("DELETE", Sc("/" + std::to_string(id))).code(), 10203);
}

TEST_F(ScheduleApiTest, BadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  int64_t wf = Workflow("w");
  struct Case {
    std::string schedule;
    Pairs extra;
    int code;
    std::string in_msg;
  };
  const Case cases[] = {
      {Times("0 0 0 32 * ? *"), {}, 10024, "field 4 (day of month): 32 is out of range 1-31"},
      {Times("0 0 0 * *"), {}, 10024, "expected 6 or 7 fields"},
      {Times("0 * * * * ? *", "Mars/Olympus"), {}, 10001, "schedule.timezoneId"},
      {Times("0 * * * * ? *", "UTC", "2026-02-01 00:00:00", "2026-01-01 00:00:00"),
       {},
       10001,
       "schedule.endTime"},
      {Times("0 * * * * ? *", "UTC", "2026-02-01 00:00:00", "2026-02-01 00:00:00"),
       {},
       10141,
       "must not be the same"},
      {Times("0 * * * * ? *", "UTC", "yesterday"), {}, 10001, "schedule.startTime"},
      {R"({"startTime":"2026-01-01 00:00:00","endTime":"2027-01-01 00:00:00"})",
       {},
       10001,
       "schedule.crontab"},
      {"{not json", {}, 10001, "schedule"},
      {Times("0 * * * * ? *"), {{"misfirePolicy", "SOMETIMES"}}, 10001, "misfirePolicy"},
      {Times("0 * * * * ? *"), {{"failureStrategy", "MAYBE"}}, 10001, "failureStrategy"},
  };
  for (const Case& c : cases) {
    Reply r = Create(wf, c.schedule, c.extra);
    EXPECT_EQ(r.code(), c.code) << c.schedule << " -> " << r.body;
    EXPECT_NE(r.msg().find(c.in_msg), std::string::npos) << c.schedule << " -> " << r.body;
  }
  Reply unknown = Create(123456789, Times("0 * * * * ? *"));
  EXPECT_EQ(unknown.code(), 50003) << unknown.body;
  Reply missing = Send("POST", Sc(), {{"processDefinitionCode", std::to_string(wf)}});
  EXPECT_EQ(missing.code(), 10001) << missing.body;
  EXPECT_EQ(ListTotal(), 0) << "nothing stored";
  Reply bad_preview = Send("POST", Sc("/preview"), {{"schedule", Times("0 0 0 32 * ? *")}});
  EXPECT_EQ(bad_preview.code(), 10024) << bad_preview.body;
}

TEST_F(ScheduleApiTest, OnlineNeedsTheWorkflowAndEverySubWorkflowOnline) {
  int64_t leaf = Workflow("leaf");
  int64_t mid = Workflow("mid", leaf);
  int64_t top = Workflow("top", mid);
  Reply c = Create(top, Times("0 * * * * ? *"));
  ASSERT_EQ(c.code(), 0) << c.body;
  std::string online = Sc("/" + std::to_string(c.data().at("id").get<int64_t>()) + "/online");

  Reply r = Send("POST", online);
  EXPECT_EQ(r.code(), 50004) << r.body;
  EXPECT_NE(r.msg().find("top"), std::string::npos) << r.body;
  ASSERT_EQ(Release(top, "ONLINE").code(), 0);
  ASSERT_EQ(Release(mid, "ONLINE").code(), 0);
  r = Send("POST", online);
  EXPECT_EQ(r.code(), 50004) << r.body;
  EXPECT_NE(r.msg().find("leaf"), std::string::npos) << "two levels down: " << r.body;
  EXPECT_EQ(Send("GET", Sc()).data().at("totalList").at(0).at("releaseState"), "OFFLINE");
  ASSERT_EQ(Release(leaf, "ONLINE").code(), 0);
  EXPECT_EQ(Send("POST", online).code(), 0);
}

TEST_F(ScheduleApiTest, TakingTheWorkflowOfflineTakesItsScheduleOffline) {
  int64_t wf = Workflow("w");
  ASSERT_EQ(Release(wf, "ONLINE").code(), 0);
  Reply c = Create(wf, Times("0 * * * * ? *"));
  ASSERT_EQ(c.code(), 0) << c.body;
  int64_t id = c.data().at("id").get<int64_t>();
  ASSERT_EQ(Send("POST", Sc("/" + std::to_string(id) + "/online")).code(), 0);
  int before = changes_.load();
  ASSERT_EQ(Release(wf, "OFFLINE").code(), 0);
  EXPECT_EQ(Send("GET", Sc()).data().at("totalList").at(0).at("releaseState"), "OFFLINE");
  EXPECT_EQ(changes_.load(), before + 1);
  // Idempotent: offline again changes nothing and says nothing to the firer.
  ASSERT_EQ(Release(wf, "OFFLINE").code(), 0);
  EXPECT_EQ(changes_.load(), before + 1);
}

// The workflow list page shows each workflow's schedule and its state (the UI's schedule
// buttons read them); deleting the workflow deletes its schedule.
TEST_F(ScheduleApiTest, WorkflowListShowsTheScheduleAndDeleteTakesItAlong) {
  int64_t wf = Workflow("listed");
  int64_t bare = Workflow("bare");
  ASSERT_EQ(Release(wf, "ONLINE").code(), 0);
  Reply c = Create(wf, Times("0 0 * * * ? *"));
  ASSERT_EQ(c.code(), 0) << c.body;
  int64_t id = c.data().at("id").get<int64_t>();
  ASSERT_EQ(Send("POST", Sc("/" + std::to_string(id) + "/online")).code(), 0);
  const std::string defs = "/projects/" + std::to_string(pc_) + "/process-definition";
  Reply list = Send("GET", defs, {{"pageNo", "1"}, {"pageSize", "10"}});
  ASSERT_EQ(list.code(), 0) << list.body;
  int seen = 0;
  for (const json& row : list.data().at("totalList")) {
    if (row.at("code").get<int64_t>() == wf) {
      ++seen;
      EXPECT_EQ(row.at("scheduleReleaseState"), "ONLINE");
      EXPECT_EQ(row.at("schedule").at("id").get<int64_t>(), id);
      EXPECT_EQ(row.at("schedule").at("crontab"), "0 0 * * * ? *");
    } else if (row.at("code").get<int64_t>() == bare) {
      ++seen;
      EXPECT_TRUE(row.at("schedule").is_null());
      EXPECT_TRUE(row.at("scheduleReleaseState").is_null());
    }
  }
  EXPECT_EQ(seen, 2);
  ASSERT_EQ(Release(wf, "OFFLINE").code(), 0);
  Reply del = Send("DELETE", defs + "/" + std::to_string(wf));
  ASSERT_EQ(del.code(), 0) << del.body;
  EXPECT_EQ(ListTotal(), 0);
  EXPECT_FALSE(store_->GetScheduleByDefinition(wf).ok());
}

}  // namespace
}  // namespace dsched::api
