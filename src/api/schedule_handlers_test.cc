// The schedule routes over real HTTP against a real SqlStore on a temp SQLite file: the J6
// journey (preview, create, online, list), every refusal with its DolphinScheduler code and
// nothing stored, the online rule over sub-workflows, and a workflow taking its schedule
// offline with it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>

#include "api/api_test_support.h"
#include "common/time_format.h"

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

// A backfill over a range runs the fire times of the workflow's schedule inside it, read in the
// schedule's zone (issue 5); a workflow without a schedule runs every day of the range.
TEST_F(ScheduleApiTest, BackfillOfAScheduledWorkflowRunsTheScheduleFireTimes) {
  setenv("TZ", "UTC", 1);  // the range's dates are read in the server's zone
  tzset();
  int64_t scheduled = Workflow("scheduled");
  int64_t daily = Workflow("daily");
  ASSERT_EQ(Release(scheduled, "ONLINE").code(), 0);
  ASSERT_EQ(Release(daily, "ONLINE").code(), 0);
  // 06:00 and 18:00 in Shanghai: 22:00 and 10:00 UTC. Left offline: it still gives the dates.
  ASSERT_EQ(Create(scheduled, Times("0 0 6,18 * * ? *", "Asia/Shanghai")).code(), 0);
  const std::string start = "/projects/" + std::to_string(pc_) + "/executors/start-process-instance";
  const std::string range =
      R"({"complementStartDate":"2026-01-01 00:00:00","complementEndDate":"2026-01-02 12:00:00"})";
  auto backfill = [&](int64_t code) {
    return Send("POST", start,
                {{"processDefinitionCode", std::to_string(code)},
                 {"execType", "COMPLEMENT_DATA"},
                 {"executionOrder", "ASC_ORDER"},
                 {"scheduleTime", range}});
  };
  auto dates = [&](int64_t code) {
    std::vector<std::string> out;
    auto cmds = store_->ListCommands(1000);
    EXPECT_TRUE(cmds.ok()) << cmds.status().ToString();
    if (!cmds.ok()) return out;
    for (const Command& c : *cmds) {
      if (c.definition_code != code) continue;
      EXPECT_EQ(c.command_type, CommandType::kComplementData);
      out.push_back(FormatDateTime(c.schedule_time));
    }
    return out;
  };
  Reply r = backfill(scheduled);
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(dates(scheduled),
            (std::vector<std::string>{"2026-01-01 10:00:00", "2026-01-01 22:00:00",
                                      "2026-01-02 10:00:00"}));
  r = backfill(daily);
  ASSERT_EQ(r.code(), 0) << r.body;
  EXPECT_EQ(dates(daily), (std::vector<std::string>{"2026-01-01 00:00:00", "2026-01-02 00:00:00"}));

  // A range without a fire time of the schedule is refused, naming scheduleTime.
  size_t before = store_->ListCommands(1000)->size();
  Reply none = Send("POST", start,
                    {{"processDefinitionCode", std::to_string(scheduled)},
                     {"execType", "COMPLEMENT_DATA"},
                     {"scheduleTime", R"({"complementStartDate":"2026-01-01 11:00:00",)"
                                      R"("complementEndDate":"2026-01-01 12:00:00"})"}});
  EXPECT_EQ(none.code(), 10001) << none.body;
  EXPECT_NE(none.msg().find("scheduleTime"), std::string::npos) << none.msg();
  EXPECT_EQ(store_->ListCommands(1000)->size(), before);
}

// complementDependentMode=ALL_DEPENDENT: the workflows whose DEPENDENT tasks wait on the
// backfilled one are backfilled too, for the same dates, when online and writable.
class DependentBackfillApiTest : public ScheduleApiTest {
 protected:
  void AddDeps(ApiDeps& deps) override {
    ScheduleApiTest::AddDeps(deps);
    deps.admin = store_.get();  // grants: a general user's permissions
  }
  // The tasks of a workflow whose one task is SHELL (no `upstreams`) or DEPENDENT on them.
  json Tasks(int64_t project, const std::vector<int64_t>& upstreams, int64_t task) {
    json t = {{"code", task},
              {"name", "t" + std::to_string(task)},
              {"taskType", "SHELL"},
              {"taskParams", {{"rawScript", "true"}}}};
    if (!upstreams.empty()) {
      json items = json::array();
      for (int64_t up : upstreams)
        items.push_back({{"projectCode", project},
                         {"definitionCode", up},
                         {"depTaskCode", 0},
                         {"cycle", "day"},
                         {"dateValue", "today"}});
      t["taskType"] = "DEPENDENT";
      t["taskParams"] = {
          {"dependence",
           {{"relation", "AND"},
            {"dependTaskList", json::array({{{"relation", "AND"}, {"dependItemList", items}}})}}}};
    }
    return json::array({t});
  }
  Pairs Form(const std::string& name, const json& tasks) {
    int64_t task = tasks[0]["code"].get<int64_t>();
    return {{"name", name},
            {"taskDefinitionJson", tasks.dump()},
            {"taskRelationJson", json::array({{{"preTaskCode", 0}, {"postTaskCode", task}}}).dump()},
            {"executionType", "PARALLEL"}};
  }
  // Creates (as `session`, in `project`) and releases a workflow; returns its code.
  int64_t Define(const std::string& session, int64_t project, const std::string& name,
                 const std::vector<int64_t>& upstreams, bool online = true) {
    std::string base = "/projects/" + std::to_string(project) + "/process-definition";
    Reply r = apitest::Send(server_->port(), session, "POST", base,
                            Form(name, Tasks(project, upstreams, next_task_++)));
    EXPECT_EQ(r.code(), 0) << r.body;
    if (r.code() != 0) return 0;
    int64_t code = r.data().at("code").get<int64_t>();
    if (online) {
      Reply rel = apitest::Send(server_->port(), session, "POST",
                                base + "/" + std::to_string(code) + "/release",
                                {{"releaseState", "ONLINE"}});
      EXPECT_EQ(rel.code(), 0) << rel.body;
    }
    return code;
  }
  Reply Backfill(const std::string& session, int64_t project, int64_t code, Pairs extra) {
    Pairs form = {{"processDefinitionCode", std::to_string(code)},
                  {"execType", "COMPLEMENT_DATA"},
                  {"executionOrder", "ASC_ORDER"},
                  {"runMode", "RUN_MODE_PARALLEL"},
                  {"expectedParallelismNumber", "3"},
                  {"failureStrategy", "END"},
                  {"workerGroup", "wg1"},
                  {"scheduleTime",
                   R"({"complementScheduleDateList":"2026-03-03 00:00:00,2026-03-01 00:00:00"})"}};
    form.insert(form.end(), extra.begin(), extra.end());
    return apitest::Send(server_->port(), session, "POST",
                         "/projects/" + std::to_string(project) +
                             "/executors/start-process-instance",
                         form);
  }
  // The commands of one backfill (its trigger code), as definition code -> business dates.
  std::map<int64_t, std::vector<std::string>> Commands(const Reply& r) {
    std::map<int64_t, std::vector<std::string>> out;
    EXPECT_EQ(r.code(), 0) << r.body;
    if (r.code() != 0) return out;
    int64_t trigger = r.data().get<int64_t>();
    auto cmds = store_->ListCommands(1000);
    EXPECT_TRUE(cmds.ok()) << cmds.status().ToString();
    if (!cmds.ok()) return out;
    for (const Command& c : *cmds) {
      if (c.trigger_code != trigger) continue;
      EXPECT_EQ(c.command_type, CommandType::kComplementData);
      EXPECT_EQ(c.failure_strategy, FailureStrategy::kEnd);
      EXPECT_EQ(c.worker_group, "wg1");
      EXPECT_EQ(json::parse(c.command_param).at("ComplementParallelism"), 3);
      auto def = store_->GetWorkflow(c.definition_code);
      EXPECT_TRUE(def.ok());
      if (def.ok()) {
        EXPECT_EQ(c.project_code, def->project_code);
        EXPECT_EQ(c.definition_version, def->version);
      }
      out[c.definition_code].push_back(FormatDateTime(c.schedule_time));
    }
    return out;
  }
  const std::vector<std::string> kDates = {"2026-03-01 00:00:00", "2026-03-03 00:00:00"};
};

TEST_F(DependentBackfillApiTest, OnlineDependentsBackfillTheSameDatesOneOrAllLevels) {
  setenv("TZ", "UTC", 1);
  tzset();
  int64_t w = Define(session_, pc_, "w", {});
  int64_t d1 = Define(session_, pc_, "d1", {w});
  int64_t d2 = Define(session_, pc_, "d2", {d1});
  int64_t d3 = Define(session_, pc_, "d3", {w}, /*online=*/false);
  int64_t u = Define(session_, pc_, "u", {});
  int64_t u_dep = Define(session_, pc_, "u_dep", {u});
  ASSERT_TRUE(w && d1 && d2 && d3 && u && u_dep);
  using Dates = std::map<int64_t, std::vector<std::string>>;

  // Without it, or OFF_MODE: the workflow alone.
  EXPECT_EQ(Commands(Backfill(session_, pc_, w, {})), (Dates{{w, kDates}}));
  EXPECT_EQ(Commands(Backfill(session_, pc_, w, {{"complementDependentMode", "OFF_MODE"}})),
            (Dates{{w, kDates}}));
  // One level: d1 (d3 is offline, d2 waits on d1 only).
  EXPECT_EQ(Commands(Backfill(session_, pc_, w, {{"complementDependentMode", "ALL_DEPENDENT"}})),
            (Dates{{w, kDates}, {d1, kDates}}));
  EXPECT_EQ(Commands(Backfill(session_, pc_, w,
                              {{"complementDependentMode", "ALL_DEPENDENT"},
                               {"allLevelDependent", "false"}})),
            (Dates{{w, kDates}, {d1, kDates}}));
  // All levels: d2 too.
  EXPECT_EQ(Commands(Backfill(session_, pc_, w,
                              {{"complementDependentMode", "ALL_DEPENDENT"},
                               {"allLevelDependent", "true"}})),
            (Dates{{w, kDates}, {d1, kDates}, {d2, kDates}}));
  // The dependents come after the workflow's dates (the master runs a trigger in command order).
  auto cmds = store_->ListCommands(1000);
  ASSERT_TRUE(cmds.ok());
  EXPECT_EQ(cmds->back().definition_code, d2);

  // d1 now also waits on d2: a cycle, each still backfilled once per date, d1 at its version 2.
  std::string d1_path = "/projects/" + std::to_string(pc_) + "/process-definition/" +
                        std::to_string(d1);
  ASSERT_EQ(Release(d1, "OFFLINE").code(), 0);
  Reply upd = Send("PUT", d1_path, Form("d1", Tasks(pc_, {w, d2}, next_task_++)));
  ASSERT_EQ(upd.code(), 0) << upd.body;
  ASSERT_EQ(Release(d1, "ONLINE").code(), 0);
  ASSERT_EQ(store_->GetWorkflow(d1)->version, 2);
  EXPECT_EQ(Commands(Backfill(session_, pc_, w,
                              {{"complementDependentMode", "ALL_DEPENDENT"},
                               {"allLevelDependent", "true"}})),
            (Dates{{w, kDates}, {d1, kDates}, {d2, kDates}}));
  // Backfilling d2 reaches d1 through the cycle, and w never (w waits on nothing).
  EXPECT_EQ(Commands(Backfill(session_, pc_, d2,
                              {{"complementDependentMode", "ALL_DEPENDENT"},
                               {"allLevelDependent", "true"}})),
            (Dates{{d2, kDates}, {d1, kDates}}));

  // Refusals name their field and store nothing.
  size_t before = store_->ListCommands(1000)->size();
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"complementDependentMode", "SOME_DEPENDENT"}, {"allLevelDependent", "yes please"}}) {
    Reply bad = Backfill(session_, pc_, w,
                         {{"complementDependentMode", "ALL_DEPENDENT"}, {field, value}});
    EXPECT_EQ(bad.code(), 10001) << bad.body;
    EXPECT_NE(bad.msg().find(field), std::string::npos) << bad.msg();
  }
  EXPECT_EQ(store_->ListCommands(1000)->size(), before);
}

TEST_F(DependentBackfillApiTest, DependentsTheUserCannotWriteAreSkipped) {
  setenv("TZ", "UTC", 1);
  tzset();
  Reply user = Send("POST", "/users/create",
                    {{"userName", "user1"},
                     {"userPassword", "secret12"},
                     {"tenantId", "-1"},
                     {"email", "user1@example.com"},
                     {"state", "1"}});
  ASSERT_EQ(user.code(), 0) << user.body;
  std::string u1 = apitest::Login(server_->port(), "user1", "secret12");
  ASSERT_FALSE(u1.empty());
  Reply p = apitest::Send(server_->port(), u1, "POST", "/projects", {{"projectName", "p_u1"}});
  ASSERT_EQ(p.code(), 0) << p.body;
  int64_t pu = p.data().at("code").get<int64_t>();
  int64_t w = Define(u1, pu, "w", {});
  int64_t mine = Define(u1, pu, "mine", {w});
  int64_t admins = Define(session_, pc_, "admins", {w});  // in p1, which u1 may not write
  ASSERT_TRUE(w && mine && admins);
  using Dates = std::map<int64_t, std::vector<std::string>>;
  EXPECT_EQ(Commands(Backfill(u1, pu, w, {{"complementDependentMode", "ALL_DEPENDENT"}})),
            (Dates{{w, kDates}, {mine, kDates}}));
  // The admin writes every project.
  EXPECT_EQ(Commands(Backfill(session_, pu, w, {{"complementDependentMode", "ALL_DEPENDENT"}})),
            (Dates{{w, kDates}, {mine, kDates}, {admins, kDates}}));
}

}  // namespace
}  // namespace dsched::api
