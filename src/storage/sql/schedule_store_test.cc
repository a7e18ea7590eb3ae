// Conformance of SqlStore's ScheduleStore on every database of test_databases.h: schedule rows
// and the fire ledger (a slot fires once, whatever calls Fire and how often).
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <soci/soci.h>
#include <thread>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

class ScheduleStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    Project p;
    p.code = kProject;
    p.name = "proj";
    p.user_id = 1;
    ASSERT_TRUE(store_->CreateProject(p).ok());
  }
  // An online one-task workflow `code` named `name`.
  void Workflow(int64_t code, const std::string& name, bool online = true) {
    WorkflowDefinition d;
    d.code = code;
    d.name = name;
    d.description = "about " + name;
    d.project_code = kProject;
    d.user_id = 1;
    TaskDefinition t;
    t.code = code * 10;
    t.name = "t";
    t.task_type = "SHELL";
    t.task_params = {{"rawScript", "true"}, {"localParams", nlohmann::json::array()}};
    d.tasks.push_back(t);
    d.relations.push_back({"", 0, 0, t.code, 0});
    auto c = store_->CreateWorkflow(d);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (online) {
      ASSERT_TRUE(store_->SetReleaseState(code, ReleaseState::kOnline).ok());
    }
  }
  Schedule Sched(int64_t def_code) {
    Schedule s;
    s.definition_code = def_code;
    s.project_code = kProject;
    s.start_time = 1000;
    s.end_time = 4102444800000;
    s.timezone_id = "Asia/Shanghai";
    s.crontab = "0 0 3/6 * * ? *";
    s.failure_strategy = FailureStrategy::kEnd;
    s.warning_type = WarningType::kFailure;
    s.warning_group_id = 7;
    s.priority = Priority::kHigh;
    s.worker_group = "wg1";
    s.tenant_code = "tenant1";
    s.environment_code = 55;
    s.misfire_policy = MisfirePolicy::kFireAll;
    s.user_id = 1;
    return s;
  }
  // Creates and puts online the schedule of def_code; returns its id.
  int64_t OnlineSchedule(int64_t def_code) {
    auto s = store_->CreateSchedule(Sched(def_code));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE(store_->SetScheduleReleaseState(s->id, ReleaseState::kOnline).ok());
    return s->id;
  }
  std::vector<Command> Commands() {
    auto c = store_->ListCommands(100000);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::vector<Command>{};
  }

  static constexpr int64_t kProject = 77;
};

TEST_P(ScheduleStoreTest, CreateReadUpdateListDelete) {
  Workflow(100, "daily_load");
  Workflow(200, "hourly_sync");
  auto a = store_->CreateSchedule(Sched(100));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_GT(a->id, 0);
  EXPECT_EQ(a->release_state, ReleaseState::kOffline);
  EXPECT_EQ(a->definition_name, "daily_load");
  EXPECT_EQ(a->definition_description, "about daily_load");
  EXPECT_EQ(a->project_name, "proj");
  EXPECT_EQ(a->timezone_id, "Asia/Shanghai");
  EXPECT_EQ(a->crontab, "0 0 3/6 * * ? *");
  EXPECT_EQ(a->end_time, 4102444800000);
  EXPECT_EQ(a->failure_strategy, FailureStrategy::kEnd);
  EXPECT_EQ(a->warning_type, WarningType::kFailure);
  EXPECT_EQ(a->warning_group_id, 7);
  EXPECT_EQ(a->priority, Priority::kHigh);
  EXPECT_EQ(a->worker_group, "wg1");
  EXPECT_EQ(a->tenant_code, "tenant1");
  EXPECT_EQ(a->environment_code, 55);
  EXPECT_EQ(a->misfire_policy, MisfirePolicy::kFireAll);
  EXPECT_EQ(a->create_time, clock_.NowMs());

  auto dup = store_->CreateSchedule(Sched(100));
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << "one schedule per workflow";

  Schedule changed = *a;
  changed.crontab = "0 0 * * * ? *";
  changed.timezone_id = "UTC";
  changed.misfire_policy = MisfirePolicy::kDoNothing;
  clock_.Advance(5000);
  auto u = store_->UpdateSchedule(changed);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->crontab, "0 0 * * * ? *");
  EXPECT_EQ(u->timezone_id, "UTC");
  EXPECT_EQ(u->misfire_policy, MisfirePolicy::kDoNothing);
  EXPECT_EQ(u->update_time, clock_.NowMs());
  EXPECT_EQ(u->create_time, a->create_time);
  changed.id = 999999;
  EXPECT_EQ(store_->UpdateSchedule(changed).status().code(), StatusCode::kNotFound);

  auto b = store_->CreateSchedule(Sched(200));
  ASSERT_TRUE(b.ok());
  auto by_def = store_->GetScheduleByDefinition(200);
  ASSERT_TRUE(by_def.ok());
  EXPECT_EQ(by_def->id, b->id);
  EXPECT_EQ(store_->GetScheduleByDefinition(300).status().code(), StatusCode::kNotFound);

  ScheduleFilter f;
  f.project_code = kProject;
  auto all = store_->ListSchedules(f, {0, 10});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->total, 2);
  ASSERT_EQ(all->rows.size(), 2u);
  f.search = "HOURLY";
  auto found = store_->ListSchedules(f, {0, 10});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->total, 1) << "search by the definition's name, any case";
  EXPECT_EQ(found->rows[0].id, b->id);
  f.search.clear();
  f.definition_code = 100;
  EXPECT_EQ(store_->ListSchedules(f, {0, 10})->rows.at(0).id, a->id);
  f.definition_code = 0;
  // The workflow list page's lookup: the schedules of a set of definitions, in one query.
  f.definition_codes = {200, 300, 100};
  auto some = store_->ListSchedules(f, {0, 3});
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->total, 2);
  std::set<int64_t> ids;
  for (const auto& s : some->rows) ids.insert(s.id);
  EXPECT_EQ(ids, (std::set<int64_t>{a->id, b->id}));
  f.definition_codes = {200};
  ASSERT_EQ(store_->ListSchedules(f, {0, 10})->rows.at(0).id, b->id);
  f.definition_codes = {300};
  EXPECT_EQ(store_->ListSchedules(f, {0, 10})->total, 0);
  f.definition_codes.clear();
  auto page2 = store_->ListSchedules(f, {1, 1});
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->total, 2);
  EXPECT_EQ(page2->rows.size(), 1u);
  f.project_code = kProject + 1;
  EXPECT_EQ(store_->ListSchedules(f, {0, 10})->total, 0);

  EXPECT_TRUE(store_->ListOnlineSchedules()->empty());
  ASSERT_TRUE(store_->SetScheduleReleaseState(b->id, ReleaseState::kOnline).ok());
  auto online = store_->ListOnlineSchedules();
  ASSERT_TRUE(online.ok());
  ASSERT_EQ(online->size(), 1u);
  EXPECT_EQ((*online)[0].id, b->id);
  EXPECT_EQ(store_->SetScheduleReleaseState(999999, ReleaseState::kOnline).code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(store_->DeleteSchedule(a->id).ok());
  EXPECT_EQ(store_->GetSchedule(a->id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->DeleteSchedule(a->id).ok()) << "deleting twice is fine";
}

TEST_P(ScheduleStoreTest, FiringTheSameSlotTwiceCreatesOneCommand) {
  Workflow(100, "wf");
  // The command names the definition's version at fire time.
  auto def = store_->GetWorkflow(100);
  ASSERT_TRUE(def.ok());
  def->description = "v2";
  ASSERT_TRUE(store_->UpdateWorkflow(*def).ok());
  int64_t id = OnlineSchedule(100);
  EXPECT_EQ(*store_->LastFire(id), std::nullopt);

  const int64_t slot = 1767225600000;
  clock_.Advance(42);
  auto first = store_->Fire({{id, slot}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->fired, 1);
  auto again = store_->Fire({{id, slot}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->fired, 0);
  EXPECT_EQ(again->duplicate, 1);
  // Twice in one call as well.
  auto twice = store_->Fire({{id, slot + 1000}, {id, slot + 1000}});
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  EXPECT_EQ(twice->fired, 1);
  EXPECT_EQ(twice->duplicate, 1);

  auto cmds = Commands();
  ASSERT_EQ(cmds.size(), 2u);
  const Command& c = cmds[0].schedule_time == slot ? cmds[0] : cmds[1];
  EXPECT_EQ(c.schedule_time, slot);
  EXPECT_EQ(c.command_type, CommandType::kScheduler);
  EXPECT_EQ(c.definition_code, 100);
  EXPECT_EQ(c.definition_version, 2);
  EXPECT_EQ(c.project_code, kProject);
  EXPECT_EQ(c.failure_strategy, FailureStrategy::kEnd);
  EXPECT_EQ(c.warning_type, WarningType::kFailure);
  EXPECT_EQ(c.warning_group_id, 7);
  EXPECT_EQ(c.priority, Priority::kHigh);
  EXPECT_EQ(c.worker_group, "wg1");
  EXPECT_EQ(c.tenant_code, "tenant1");
  EXPECT_EQ(c.environment_code, 55);
  EXPECT_EQ(c.executor_id, 1);
  EXPECT_EQ(c.task_depend_type, TaskDependType::kTaskPost);
  EXPECT_EQ(c.start_time, clock_.NowMs());
  EXPECT_EQ(*store_->LastFire(id), slot + 1000);

  // The ledger outlives the command: once the master has claimed (deleted) it, the slot still
  // does not fire again.
  WorkflowInstance wi;
  wi.name = "claimed";
  ASSERT_TRUE(store_->ClaimCommand(c.id, &wi, 0, {}).ok());
  auto after_claim = store_->Fire({{id, slot}});
  ASSERT_TRUE(after_claim.ok());
  EXPECT_EQ(after_claim->duplicate, 1);
  EXPECT_EQ(Commands().size(), 1u);

  // A slot older than the last one fired never fires, also one that never did (a lagging
  // master's): the ledger keeps only the last slot of each schedule.
  auto older = store_->Fire({{id, slot + 500}});
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->duplicate, 1);
  EXPECT_EQ(older->fired, 0);
  EXPECT_EQ(Commands().size(), 1u);
  EXPECT_EQ(store_->Fire({{id, slot + 2000}, {id, slot + 3000}})->fired, 2) << "oldest first";
  EXPECT_EQ(*store_->LastFire(id), slot + 3000);
}

TEST_P(ScheduleStoreTest, OfflineSchedulesAndWorkflowsFireNothing) {
  Workflow(100, "a");
  Workflow(200, "b");
  auto off = store_->CreateSchedule(Sched(100));  // stays offline
  ASSERT_TRUE(off.ok());
  int64_t on = OnlineSchedule(200);
  ASSERT_TRUE(store_->SetReleaseState(200, ReleaseState::kOffline).ok());
  auto r = store_->Fire({{off->id, 5000}, {on, 5000}, {123456, 5000}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fired, 0);
  EXPECT_EQ(r->offline, 3);
  EXPECT_TRUE(Commands().empty());
  EXPECT_EQ(*store_->LastFire(on), std::nullopt) << "nothing enters the ledger";
  // Online again: the slot fires.
  ASSERT_TRUE(store_->SetReleaseState(200, ReleaseState::kOnline).ok());
  EXPECT_EQ(store_->Fire({{on, 5000}})->fired, 1);
}

TEST_P(ScheduleStoreTest, ManySchedulesInOneCall) {
  constexpr int kN = 150;
  std::vector<FireSlot> slots;
  for (int i = 0; i < kN; ++i) {
    Workflow(1000 + i, "wf" + std::to_string(i));
    slots.push_back({OnlineSchedule(1000 + i), 60000});
  }
  auto r = store_->Fire(slots);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fired, kN);
  std::set<int64_t> defs;
  for (const auto& c : Commands()) {
    EXPECT_EQ(c.schedule_time, 60000);
    defs.insert(c.definition_code);
  }
  EXPECT_EQ(defs.size(), static_cast<size_t>(kN)) << "one command per schedule";
}

TEST_P(ScheduleStoreTest, TwoMastersFiringTheSameSlotsMakeOneCommandEach) {
  // Two stores on one database are two masters firing the same slots at the same time.
  constexpr int kSchedules = 20, kSlots = 10;
  std::vector<FireSlot> slots;
  for (int i = 0; i < kSchedules; ++i) {
    Workflow(1000 + i, "wf" + std::to_string(i));
    int64_t id = OnlineSchedule(1000 + i);
    for (int k = 0; k < kSlots; ++k) slots.push_back({id, 1000 * (k + 1)});
  }
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  // Each master fires slot by slot, retrying when the database says it is busy (SQLite's
  // single writer, a server's lock wait), as the firer does.
  auto run = [&slots](SqlStore* s, int64_t* fired) {
    for (const FireSlot& slot : slots) {
      for (int attempt = 0; attempt < 200; ++attempt) {
        auto r = s->Fire({slot});
        if (r.ok()) {
          *fired += r->fired;
          break;
        }
        ASSERT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
        usleep(1000);
      }
    }
  };
  int64_t fa = 0, fb = 0;
  std::thread ta([&] { run(store_.get(), &fa); });
  std::thread tb([&] { run(other.get(), &fb); });
  ta.join();
  tb.join();
  EXPECT_EQ(fa + fb, kSchedules * kSlots);
  auto cmds = Commands();
  EXPECT_EQ(cmds.size(), static_cast<size_t>(kSchedules * kSlots));
  std::set<std::pair<int64_t, int64_t>> distinct;
  for (const auto& c : cmds) distinct.insert({c.definition_code, c.schedule_time});
  EXPECT_EQ(distinct.size(), cmds.size()) << "no (schedule, slot) twice";
}

TEST_P(ScheduleStoreTest, TwoMastersFiringTheSameBatchAtOnceMakeOneCommandPerSlot) {
  // The firer's real shape: every due slot in one call, from two masters at the same moment.
  constexpr int kSchedules = 60, kSlots = 4;
  std::vector<FireSlot> slots;
  for (int i = 0; i < kSchedules; ++i) {
    Workflow(1000 + i, "wf" + std::to_string(i));
    int64_t id = OnlineSchedule(1000 + i);
    for (int k = 0; k < kSlots; ++k) slots.push_back({id, 1000 * (k + 1)});
  }
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  auto run = [&slots](SqlStore* s, FireResult* total) {
    for (int attempt = 0; attempt < 500; ++attempt) {
      auto r = s->Fire(slots);
      if (r.ok()) {
        total->fired += r->fired;
        total->duplicate += r->duplicate;
        total->offline += r->offline;
        return;
      }
      ASSERT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
      usleep(1000);
    }
    ADD_FAILURE() << "the database stayed busy";
  };
  FireResult ra, rb;
  std::thread ta([&] { run(store_.get(), &ra); });
  std::thread tb([&] { run(other.get(), &rb); });
  ta.join();
  tb.join();
  EXPECT_EQ(ra.fired + rb.fired, kSchedules * kSlots);
  EXPECT_EQ(ra.duplicate + rb.duplicate, kSchedules * kSlots);
  EXPECT_EQ(ra.offline + rb.offline, 0);
  auto cmds = Commands();
  EXPECT_EQ(cmds.size(), static_cast<size_t>(kSchedules * kSlots));
  std::set<std::pair<int64_t, int64_t>> distinct;
  for (const auto& c : cmds) distinct.insert({c.definition_code, c.schedule_time});
  EXPECT_EQ(distinct.size(), cmds.size()) << "no (schedule, slot) twice";
  // A master restarted after a crash fires the same batch again: nothing new.
  auto again = other->Fire(slots);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->fired, 0);
  EXPECT_EQ(again->duplicate, kSchedules * kSlots);
  EXPECT_EQ(Commands().size(), cmds.size());
}

// Once a minute a fire drops the ledger rows of the schedules it fires that are more than an hour
// older than their new slot; the newest row of every schedule stays.
TEST_P(ScheduleStoreTest, LedgerKeepsAnHourPerScheduleAndEachScheduleNewestRow) {
  Workflow(100, "busy");
  Workflow(200, "idle");
  int64_t busy = OnlineSchedule(100), idle = OnlineSchedule(200);
  const int64_t hour = 3600 * 1000;
  ASSERT_EQ(store_->Fire({{busy, 1000}, {busy, 4000}, {idle, 1000}})->fired, 3);
  clock_.Advance(61 * 1000);
  ASSERT_EQ(store_->Fire({{busy, 1000 + hour}, {busy, 3000 + hour}})->fired, 2);
  auto sql = Connect(opts_, /*read_only=*/true);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  std::set<std::pair<long long, long long>> rows;
  soci::rowset<soci::row> rs = (*sql)->prepare
                               << "SELECT schedule_id, fire_time FROM t_ds_schedule_fire";
  for (const soci::row& row : rs) {
    auto num = [&](size_t i) {
      return row.get_properties(i).get_data_type() == soci::dt_integer
                 ? static_cast<long long>(row.get<int>(i))
                 : row.get<long long>(i);
    };
    rows.insert({num(0), num(1)});
  }
  EXPECT_EQ(rows, (std::set<std::pair<long long, long long>>{
                      {busy, 4000}, {busy, 1000 + hour}, {busy, 3000 + hour}, {idle, 1000}}))
      << "busy's row at 1000 is more than an hour older than its new slot 3000 + 1 h, 4000 is not";
  EXPECT_EQ(store_->Fire({{busy, 1000}})->duplicate, 1) << "pruned, and still never fires again";
}

// One call with every kind of slot, as the firer sends after an outage: fresh ones (two of one
// schedule), a slot fired already, one older than the last fired, one repeated in the call, an
// offline schedule and a deleted one. Each is counted once; each fired slot gets one command,
// and its ledger row names that command.
TEST_P(ScheduleStoreTest, MixedBatchCountsEachSlotOnceAndLinksItsCommand) {
  for (int64_t code : {100, 200, 300, 400}) Workflow(code, "wf" + std::to_string(code));
  int64_t a = OnlineSchedule(100), b = OnlineSchedule(200), c = OnlineSchedule(300);
  auto off = store_->CreateSchedule(Sched(400));  // stays offline
  ASSERT_TRUE(off.ok());
  ASSERT_EQ(store_->Fire({{b, 50000}})->fired, 1);
  auto r = store_->Fire({{a, 10000},
                         {a, 20000},
                         {b, 50000},  // fired already
                         {b, 40000},  // older than the last fired
                         {c, 30000},
                         {c, 30000},  // repeated in the call
                         {c, 25000},  // older than one earlier in the call
                         {off->id, 30000},
                         {987654, 30000}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fired, 3);
  EXPECT_EQ(r->duplicate, 4);
  EXPECT_EQ(r->offline, 2);
  std::set<std::pair<int64_t, int64_t>> got;
  std::map<std::pair<int64_t, int64_t>, int64_t> command_of;
  for (const Command& cmd : Commands()) {
    EXPECT_TRUE(got.insert({cmd.definition_code, cmd.schedule_time}).second);
    command_of[{cmd.definition_code, cmd.schedule_time}] = cmd.id;
  }
  EXPECT_EQ(got, (std::set<std::pair<int64_t, int64_t>>{
                     {100, 10000}, {100, 20000}, {200, 50000}, {300, 30000}}));
  EXPECT_EQ(*store_->LastFire(a), 20000);
  EXPECT_EQ(*store_->LastFire(c), 30000);
  EXPECT_EQ(*store_->LastFire(off->id), std::nullopt);

  auto sql = Connect(opts_, /*read_only=*/true);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  std::map<std::pair<int64_t, int64_t>, int64_t> ledger;
  soci::rowset<soci::row> rows = (*sql)->prepare
                                 << "SELECT f.fire_time, f.command_id, s.process_definition_code "
                                    "FROM t_ds_schedule_fire f JOIN t_ds_schedules s "
                                    "ON s.id = f.schedule_id";
  for (const soci::row& row : rows) {
    auto num = [&](size_t i) {
      return row.get_properties(i).get_data_type() == soci::dt_integer
                 ? static_cast<int64_t>(row.get<int>(i))
                 : static_cast<int64_t>(row.get<long long>(i));
    };
    ledger[{num(2), num(0)}] = num(1);
  }
  EXPECT_EQ(ledger, command_of) << "each ledger row names the command of its slot";
}

INSTANTIATE_TEST_SUITE_P(Db, ScheduleStoreTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
