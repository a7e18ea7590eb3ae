// The cron firer on a FakeClock against a real SQLite store: slots fire once each, restarts
// across missed slots follow each misfire policy, and two firers on one database never start
// a slot twice. The pure planning functions are tested on their own first.
#include "master/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <map>

#include "storage/sql/sql_store.h"

namespace dsched {
namespace {

constexpr int64_t kT0 = 1767225600000;  // 2026-01-01 00:00:00 UTC, FakeClock's start
constexpr int64_t kS = 1000;

Schedule EveryFiveSeconds(int64_t def_code) {
  Schedule s;
  s.definition_code = def_code;
  s.project_code = 1;
  s.start_time = kT0 - 3600 * kS;
  s.end_time = kT0 + 24 * 3600 * kS;
  s.timezone_id = "UTC";
  s.crontab = "0/5 * * * * ? *";
  s.user_id = 1;
  return s;
}

std::vector<int64_t> Slots(int64_t from_s, int64_t to_s, int64_t step_s = 5) {
  std::vector<int64_t> out;
  for (int64_t t = from_s; t <= to_s; t += step_s) out.push_back(kT0 + t * kS);
  return out;
}

TEST(ScheduleTimesTest, SlotsStayInsideStartAndEnd) {
  cron::TimeZoneCache zones;
  Schedule s = EveryFiveSeconds(1);
  s.start_time = kT0 + 12 * kS;
  s.end_time = kT0 + 20 * kS;
  auto t = ScheduleTimes::Of(s, zones);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->NextAfter(kT0), kT0 + 15 * kS) << "nothing before start";
  EXPECT_EQ(t->NextAfter(kT0 + 15 * kS), kT0 + 20 * kS) << "a slot exactly at end fires";
  EXPECT_EQ(t->NextAfter(kT0 + 20 * kS), std::nullopt);
  s.start_time = kT0 + 10 * kS;
  EXPECT_EQ(ScheduleTimes::Of(s, zones)->NextAfter(kT0), kT0 + 10 * kS) << "a slot at start";

  s.crontab = "0 0 0 32 * ? *";
  auto bad = ScheduleTimes::Of(s, zones);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("field 4 (day of month)"), std::string::npos)
      << bad.status().message();
  s.crontab = "0 0 * * * ? *";
  s.timezone_id = "Mars/Olympus_Mons";
  EXPECT_FALSE(ScheduleTimes::Of(s, zones).ok());
}

TEST(PlanStartTest, EachPolicyOverMissedSlots) {
  cron::TimeZoneCache zones;
  auto t = *ScheduleTimes::Of(EveryFiveSeconds(1), zones);
  // Last fired at +15 s, restarted at +32 s: +20, +25 and +30 were missed.
  const int64_t since = kT0 + 15 * kS, now = kT0 + 32 * kS;
  StartPlan none = PlanStart(t, MisfirePolicy::kDoNothing, since, now, 100);
  EXPECT_TRUE(none.fire_now.empty());
  EXPECT_EQ(none.next, kT0 + 35 * kS);
  StartPlan once = PlanStart(t, MisfirePolicy::kFireOnce, since, now, 100);
  EXPECT_EQ(once.fire_now, Slots(30, 30));
  EXPECT_EQ(once.next, kT0 + 35 * kS);
  EXPECT_EQ(PlanStart(t, MisfirePolicy::kFireAll, since, now, 100).fire_now, Slots(20, 30));
  EXPECT_EQ(PlanStart(t, MisfirePolicy::kFireAll, since, now, 2).fire_now, Slots(25, 30))
      << "the newest max_catch_up";
  // A slot exactly at start-up time is due, not missed.
  StartPlan at_slot = PlanStart(t, MisfirePolicy::kFireAll, since, kT0 + 30 * kS, 100);
  EXPECT_EQ(at_slot.fire_now, Slots(20, 25));
  EXPECT_EQ(at_slot.next, kT0 + 30 * kS);
  // Nothing missed.
  EXPECT_TRUE(PlanStart(t, MisfirePolicy::kFireAll, now, now, 100).fire_now.empty());
  // Every second for ten days missed: only the newest three, found without walking them all.
  Schedule per_second = EveryFiveSeconds(1);
  per_second.crontab = "* * * * * ? *";
  per_second.start_time = 0;
  auto ps = *ScheduleTimes::Of(per_second, zones);
  EXPECT_EQ(PlanStart(ps, MisfirePolicy::kFireAll, kT0 - 10 * 86400 * kS, kT0, 3).fire_now,
            Slots(-3, -1, 1));
}

class RecordingMaster : public MasterControl {
 public:
  void WakeCommands() override { ++wakes; }
  Status Execute(int64_t, ExecuteType) override { return Status::Ok(); }
  // Not marked override: they join MasterControl in a parallel change.
  Status ForceTaskSuccess(int64_t) { return Status::Ok(); }
  Status ExecuteTask(int64_t, const std::vector<int64_t>&, TaskDependType) { return Status::Ok(); }
  std::atomic<int> wakes{0};
};

class SchedulerTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-scheduler-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = Open();
  }
  void TearDown() override {
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  std::unique_ptr<SqlStore> Open() {
    DbOptions o;
    o.type = DbType::kSqlite;
    o.sqlite_path = dir_ + "/db.sqlite";
    o.pool_size = 2;
    auto s = SqlStore::Open(o, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // An online workflow with an online schedule; returns the schedule id.
  int64_t OnlineSchedule(int64_t def_code, Schedule s) {
    WorkflowDefinition d;
    d.code = def_code;
    d.name = "wf" + std::to_string(def_code);
    d.project_code = 1;
    TaskDefinition t;
    t.code = def_code * 10;
    t.name = "t";
    t.task_type = "SHELL";
    t.task_params = {{"rawScript", "true"}};
    d.tasks.push_back(t);
    d.relations.push_back({"", 0, 0, t.code, 0});
    EXPECT_TRUE(store_->CreateWorkflow(d).ok());
    EXPECT_TRUE(store_->SetReleaseState(def_code, ReleaseState::kOnline).ok());
    auto created = store_->CreateSchedule(s);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_TRUE(store_->SetScheduleReleaseState(created->id, ReleaseState::kOnline).ok());
    return created->id;
  }
  std::unique_ptr<Scheduler> NewScheduler(SqlStore& store, size_t max_catch_up = 1000) {
    SchedulerOptions o;
    o.refresh_ms = 60 * kS;
    o.max_catch_up = max_catch_up;
    o.on_fired = [this](const std::vector<FireSlot>&, const FireResult& r, int64_t) {
      fire_calls_.push_back(r);
    };
    return std::make_unique<Scheduler>(o, clock_, store, &master_);
  }
  // Advances the clock in `step` increments up to `until` (ms after kT0), letting each
  // scheduler handle every step.
  void RunUntil(int64_t until, int64_t step, std::vector<Scheduler*> schedulers) {
    while (clock_.NowMs() < kT0 + until) {
      clock_.Advance(std::min(step, kT0 + until - clock_.NowMs()));
      for (Scheduler* s : schedulers) s->Sync();
    }
  }
  // The schedule times of the commands of a definition, in order.
  std::vector<int64_t> Fired(int64_t def_code) {
    std::vector<int64_t> out;
    auto commands = store_->ListCommands(1000000);
    EXPECT_TRUE(commands.ok()) << commands.status().ToString();
    if (!commands.ok()) return out;
    for (const Command& c : *commands) {
      EXPECT_EQ(c.command_type, CommandType::kScheduler);
      if (c.definition_code == def_code) out.push_back(c.schedule_time);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  FakeClock clock_;
  RecordingMaster master_;
  std::vector<FireResult> fire_calls_;  // scheduler thread only, read after Sync()
  std::string dir_;
  std::unique_ptr<SqlStore> store_;
};

TEST_F(SchedulerTest, EachSlotFiresExactlyOnce) {
  OnlineSchedule(100, EveryFiveSeconds(100));
  Schedule sparse = EveryFiveSeconds(200);
  sparse.crontab = "7 * * * * ? *";  // second 7 of each minute
  OnlineSchedule(200, sparse);
  auto sched = NewScheduler(*store_);
  ASSERT_TRUE(sched->Start().ok());
  sched->Sync();
  // Uneven steps: sometimes several timers in one step, sometimes none.
  RunUntil(130 * kS, 700, {sched.get()});
  RunUntil(200 * kS, 3300, {sched.get()});
  EXPECT_EQ(Fired(100), Slots(0, 200)) << "online at +0 s: that slot is due at start-up";
  EXPECT_EQ(Fired(200),
            (std::vector<int64_t>{kT0 + 7 * kS, kT0 + 67 * kS, kT0 + 127 * kS, kT0 + 187 * kS}));
  EXPECT_GT(master_.wakes.load(), 0);
  auto last = store_->LastFire(1);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, kT0 + 200 * kS);
}

TEST_F(SchedulerTest, RefreshPicksUpOnlineAndOfflineAndEndTime) {
  auto sched = NewScheduler(*store_);
  ASSERT_TRUE(sched->Start().ok());
  RunUntil(2 * kS, 1000, {sched.get()});
  int64_t id = OnlineSchedule(100, EveryFiveSeconds(100));  // online at +2 s
  Schedule ending = EveryFiveSeconds(200);
  ending.end_time = kT0 + 10 * kS;
  OnlineSchedule(200, ending);
  sched->Refresh();
  RunUntil(21 * kS, 1000, {sched.get()});
  ASSERT_TRUE(store_->SetScheduleReleaseState(id, ReleaseState::kOffline).ok());
  sched->Refresh();
  RunUntil(40 * kS, 1000, {sched.get()});
  EXPECT_EQ(Fired(100), Slots(5, 20));
  EXPECT_EQ(Fired(200), Slots(5, 10)) << "nothing after endTime";
}

TEST_F(SchedulerTest, FallbackRefreshFindsChangesNobodySignalled) {
  auto sched = NewScheduler(*store_);  // refresh every 60 s
  ASSERT_TRUE(sched->Start().ok());
  OnlineSchedule(100, EveryFiveSeconds(100));  // online at +0, no Refresh()
  RunUntil(59 * kS, 1000, {sched.get()});
  EXPECT_TRUE(Fired(100).empty());
  RunUntil(75 * kS, 1000, {sched.get()});
  // Read at +60 s: the slots since it went online (at +0, a slot) fire then, late, each once.
  EXPECT_EQ(Fired(100), Slots(0, 75));
}

class SchedulerRestartTest : public SchedulerTest,
                             public testing::WithParamInterface<MisfirePolicy> {};

TEST_P(SchedulerRestartTest, MissedSlotsFollowThePolicy) {
  Schedule s = EveryFiveSeconds(100);
  s.misfire_policy = GetParam();
  OnlineSchedule(100, s);
  {
    auto first = NewScheduler(*store_);
    ASSERT_TRUE(first->Start().ok());
    RunUntil(17 * kS, 1000, {first.get()});
  }  // down from +17 s to +32 s: +20, +25, +30 missed
  clock_.Advance(15 * kS);
  store_.reset();
  store_ = Open();
  auto second = NewScheduler(*store_);
  ASSERT_TRUE(second->Start().ok());
  second->Sync();
  RunUntil(40 * kS, 1000, {second.get()});

  std::vector<int64_t> want = Slots(0, 15);
  switch (GetParam()) {
    case MisfirePolicy::kDoNothing:
      break;
    case MisfirePolicy::kFireOnce:
      want.push_back(kT0 + 30 * kS);
      break;
    case MisfirePolicy::kFireAll:
      for (int64_t t : Slots(20, 30)) want.push_back(t);
      break;
  }
  for (int64_t t : Slots(35, 40)) want.push_back(t);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Fired(100), want);
}

INSTANTIATE_TEST_SUITE_P(Policies, SchedulerRestartTest,
                         testing::Values(MisfirePolicy::kDoNothing, MisfirePolicy::kFireOnce,
                                         MisfirePolicy::kFireAll),
                         [](const testing::TestParamInfo<MisfirePolicy>& i) {
                           return std::string(Name(i.param)) == "DO_NOTHING"  ? "DoNothing"
                                  : std::string(Name(i.param)) == "FIRE_ONCE" ? "FireOnce"
                                                                              : "FireAll";
                         });

// A long outage: the server is down for ten hours (7,200 slots of a five-second schedule) and
// restarts twice. DO_NOTHING fires none of the missed slots, FIRE_ONCE the newest, FIRE_ALL the
// newest max_catch_up; all of them in the first Fire after start-up, and a second restart fires
// none of them again.
TEST_P(SchedulerRestartTest, LongOutageFollowsThePolicyAndARestartDoesNotRepeatIt) {
  Schedule s = EveryFiveSeconds(100);
  s.misfire_policy = GetParam();
  OnlineSchedule(100, s);
  {
    auto first = NewScheduler(*store_);
    ASSERT_TRUE(first->Start().ok());
    RunUntil(10 * kS, 1000, {first.get()});
  }
  clock_.Advance(10 * 3600 * kS - 7 * kS);  // down until +10 h +3 s
  const int64_t down_s = 10 * 3600 + 3;
  for (int restart = 0; restart < 2; ++restart) {
    store_.reset();
    store_ = Open();
    fire_calls_.clear();
    auto next = NewScheduler(*store_, /*max_catch_up=*/50);
    ASSERT_TRUE(next->Start().ok());
    next->Sync();
    if (restart == 0) {
      const int64_t missed = GetParam() == MisfirePolicy::kDoNothing ? 0
                             : GetParam() == MisfirePolicy::kFireOnce ? 1
                                                                      : 50;
      if (missed == 0) {
        EXPECT_TRUE(fire_calls_.empty());
      } else {
        ASSERT_EQ(fire_calls_.size(), 1u) << "the missed slots go in one Fire";
        EXPECT_EQ(fire_calls_[0].fired, missed);
      }
    } else {
      for (const FireResult& r : fire_calls_) EXPECT_EQ(r.fired, 0) << "fired again on restart";
    }
    RunUntil((down_s + 7 + restart * 5) * kS, 1000, {next.get()});
  }

  std::vector<int64_t> want = Slots(0, 10);
  switch (GetParam()) {
    case MisfirePolicy::kDoNothing:
      break;
    case MisfirePolicy::kFireOnce:
      want.push_back(kT0 + 36000 * kS);
      break;
    case MisfirePolicy::kFireAll:
      for (int64_t t : Slots(36000 - 49 * 5, 36000)) want.push_back(t);
      break;
  }
  for (int64_t t : Slots(36005, 36015)) want.push_back(t);
  EXPECT_EQ(Fired(100), want);
}

TEST_F(SchedulerTest, FireAllDoesNotCatchUpTheTimeTheScheduleWasOffline) {
  Schedule s = EveryFiveSeconds(100);
  s.misfire_policy = MisfirePolicy::kFireAll;
  int64_t id = OnlineSchedule(100, s);
  {
    auto first = NewScheduler(*store_);
    ASSERT_TRUE(first->Start().ok());
    RunUntil(12 * kS, 1000, {first.get()});
  }
  // Offline from +12 s to +41 s, then online again; the master is down until +52 s.
  ASSERT_TRUE(store_->SetScheduleReleaseState(id, ReleaseState::kOffline).ok());
  clock_.Advance(29 * kS);
  ASSERT_TRUE(store_->SetScheduleReleaseState(id, ReleaseState::kOnline).ok());
  clock_.Advance(11 * kS);
  auto second = NewScheduler(*store_);
  ASSERT_TRUE(second->Start().ok());
  RunUntil(56 * kS, 1000, {second.get()});
  std::vector<int64_t> want = Slots(0, 10);
  for (int64_t t : Slots(45, 55)) want.push_back(t);
  EXPECT_EQ(Fired(100), want);
}

TEST_F(SchedulerTest, TwoSchedulersOnOneDatabaseStartEachSlotOnce) {
  for (int i = 0; i < 5; ++i) OnlineSchedule(100 + i, EveryFiveSeconds(100 + i));
  auto other_store = Open();
  auto a = NewScheduler(*store_);
  auto b = NewScheduler(*other_store);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b->Start().ok());
  RunUntil(60 * kS, 1000, {a.get(), b.get()});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Fired(100 + i), Slots(0, 60)) << "workflow " << 100 + i;
}

TEST(FirstFirerTest, OneMasterFirstPerScheduleAndALeaverMovesOnlyItsShare) {
  const std::vector<std::string> three = {"10.0.0.1:5678", "10.0.0.2:5678", "10.0.0.3:5678"};
  const std::vector<std::string> two = {"10.0.0.1:5678", "10.0.0.2:5678"};
  std::map<std::string, int> share;
  for (int64_t id = 1; id <= 3000; ++id) {
    int first = 0;
    std::string who;
    for (const auto& m : three)
      if (FirstFirer(id, m, three)) ++first, who = m;
    ASSERT_EQ(first, 1) << "schedule " << id;
    ++share[who];
    // 10.0.0.3 leaves: the schedules of the other two stay where they were.
    if (who != three[2]) {
      EXPECT_TRUE(FirstFirer(id, who, two)) << "schedule " << id;
    }
    // A master alone (or not yet listed) fires everything first.
    EXPECT_TRUE(FirstFirer(id, "10.0.0.9:5678", {}));
  }
  for (const auto& m : three) EXPECT_GT(share[m], 600) << m << " fires too few first";
}

// Two masters spread the slots; when one stops, the other fires its share after the backup
// delay: every slot once, none lost.
TEST_F(SchedulerTest, SpreadOverTwoMastersAndTheSurvivorCoversTheOther) {
  for (int i = 0; i < 6; ++i) OnlineSchedule(100 + i, EveryFiveSeconds(100 + i));
  auto other_store = Open();
  std::vector<std::string> live = {"a:1", "b:1"};
  std::mutex live_mu;
  std::atomic<int> fired_a{0}, fired_b{0};
  auto make = [&](SqlStore& store, const std::string& me, std::atomic<int>& fired) {
    SchedulerOptions o;
    o.refresh_ms = 60 * kS;
    o.backup_delay_ms = 7 * kS;
    o.fires_first = [&, me](int64_t id) {
      std::lock_guard<std::mutex> l(live_mu);
      return FirstFirer(id, me, live);
    };
    o.on_fired = [&fired](const std::vector<FireSlot>&, const FireResult& r, int64_t) {
      fired += r.fired;
    };
    return std::make_unique<Scheduler>(o, clock_, store, &master_);
  };
  auto a = make(*store_, "a:1", fired_a);
  auto b = make(*other_store, "b:1", fired_b);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b->Start().ok());
  RunUntil(27 * kS, 1000, {a.get(), b.get()});
  // Both fired first some schedules' slots (start-up's due slot is fired by both at once).
  EXPECT_GT(fired_a.load(), 6);
  EXPECT_GT(fired_b.load(), 6);
  // b dies before its slot at 30 s; a learns of it at 33 s (the session timeout), keeps that
  // slot as a backup due at 37 s, and becomes its first firer at 35 s: the 30 s slot must go
  // before the 35 s one, as the ledger drops a slot older than one fired.
  b->Stop();
  RunUntil(33 * kS, 1000, {a.get()});
  {
    std::lock_guard<std::mutex> l(live_mu);
    live = {"a:1"};
  }
  RunUntil(60 * kS, 1000, {a.get()});
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Fired(100 + i), Slots(0, 60)) << "workflow " << 100 + i;
  EXPECT_EQ(fired_a.load() + fired_b.load(), 6 * 13);
}

}  // namespace
}  // namespace dsched
