// Conformance of SqlStore's TaskGroupStore on every test database: groups, the queue's serving
// order, the slot count under concurrent acquirers (two stores on one database stand for two
// masters), idempotent release, force start and priority changes.
#include <gtest/gtest.h>

#include <chrono>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

class TaskGroupStoreTest : public StoreTest {
 protected:
  TaskGroup Group(const std::string& name, int64_t size, int64_t project = 0) {
    TaskGroup g;
    g.name = name;
    g.description = "d";
    g.group_size = size;
    g.project_code = project;
    g.user_id = 1;
    auto c = store_->CreateTaskGroup(g);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : g;
  }
  TaskGroupQueue Enqueue(int64_t task_id, int64_t group_id, int priority = 0) {
    TaskGroupQueue q;
    q.task_id = task_id;
    q.task_name = "t" + std::to_string(task_id);
    q.group_id = group_id;
    q.process_id = 1;
    q.priority = priority;
    auto r = store_->Enqueue(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : q;
  }
  bool Acquire(int64_t task_id) {
    auto a = store_->Acquire(task_id);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() && *a;
  }
  int64_t UseSize(int64_t group_id) {
    auto g = store_->GetTaskGroup(group_id);
    EXPECT_TRUE(g.ok());
    return g.ok() ? g->use_size : -1;
  }
};

TEST_P(TaskGroupStoreTest, CreateUpdateListAndStatus) {
  TaskGroup a = Group("etl-slots", 2, 7);
  Group("global", 1, 0);
  Group("other-project", 1, 8);
  EXPECT_GT(a.id, 0);
  EXPECT_EQ(a.use_size, 0);
  EXPECT_EQ(a.status, 1);
  // The name is unique.
  TaskGroup dup;
  dup.name = "etl-slots";
  dup.group_size = 1;
  EXPECT_EQ(store_->CreateTaskGroup(dup).status().code(), StatusCode::kAlreadyExists);

  a.name = "etl";
  a.description = "new";
  a.group_size = 5;
  auto u = store_->UpdateTaskGroup(a);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->name, "etl");
  EXPECT_EQ(u->group_size, 5);
  EXPECT_EQ(u->project_code, 7);
  TaskGroup missing = a;
  missing.id = 999;
  EXPECT_EQ(store_->UpdateTaskGroup(missing).status().code(), StatusCode::kNotFound);

  auto all = store_->ListTaskGroups({}, {0, 10});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 3);
  EXPECT_EQ(all->rows.front().name, "other-project");  // newest first
  TaskGroupFilter by_name;
  by_name.name = "ET";
  EXPECT_EQ(store_->ListTaskGroups(by_name, {0, 10})->total, 1);
  TaskGroupFilter by_project;
  by_project.project_code = 7;
  auto proj = store_->ListTaskGroups(by_project, {0, 10});
  ASSERT_TRUE(proj.ok());
  ASSERT_EQ(proj->total, 2);  // its own and the global one
  EXPECT_EQ(proj->rows[0].name, "global");
  EXPECT_EQ(proj->rows[1].name, "etl");
  auto page2 = store_->ListTaskGroups({}, {2, 2});
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->total, 3);
  ASSERT_EQ(page2->rows.size(), 1u);

  ASSERT_TRUE(store_->SetTaskGroupStatus(a.id, 0).ok());
  EXPECT_EQ(store_->SetTaskGroupStatus(a.id, 0).code(), StatusCode::kFailedPrecondition);
  TaskGroupFilter closed;
  closed.status = 0;
  EXPECT_EQ(store_->ListTaskGroups(closed, {0, 10})->total, 1);
  ASSERT_TRUE(store_->SetTaskGroupStatus(a.id, 1).ok());
  EXPECT_EQ(store_->SetTaskGroupStatus(a.id, 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->SetTaskGroupStatus(999, 1).code(), StatusCode::kNotFound);
}

TEST_P(TaskGroupStoreTest, SlotsAreServedByPriorityThenArrival) {
  TaskGroup g = Group("g", 1);
  Enqueue(1, g.id);
  EXPECT_TRUE(Acquire(1));
  EXPECT_TRUE(Acquire(1));  // holding already: still true, no second slot
  EXPECT_EQ(UseSize(g.id), 1);
  Enqueue(2, g.id, 0);
  Enqueue(3, g.id, 5);
  Enqueue(4, g.id, 5);
  // Enqueue is idempotent per task.
  TaskGroupQueue again = Enqueue(3, g.id, 9);
  EXPECT_EQ(again.priority, 5);
  EXPECT_FALSE(Acquire(3));  // full
  auto waiters = store_->ListWaiters(g.id);
  ASSERT_TRUE(waiters.ok());
  ASSERT_EQ(waiters->size(), 3u);
  EXPECT_EQ((*waiters)[0].task_id, 3);
  EXPECT_EQ((*waiters)[1].task_id, 4);
  EXPECT_EQ((*waiters)[2].task_id, 2);

  auto rel = store_->Release(1);
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(*rel, g.id);
  EXPECT_EQ(UseSize(g.id), 0);
  // A waiter behind others does not jump the queue.
  EXPECT_FALSE(Acquire(2));
  EXPECT_FALSE(Acquire(4));
  EXPECT_TRUE(Acquire(3));
  EXPECT_EQ(UseSize(g.id), 1);
  ASSERT_TRUE(store_->Release(3).ok());
  EXPECT_TRUE(Acquire(4));
  ASSERT_TRUE(store_->Release(4).ok());
  EXPECT_TRUE(Acquire(2));
  EXPECT_EQ(UseSize(g.id), 1);
  EXPECT_EQ(store_->Acquire(77).status().code(), StatusCode::kNotFound);
}

TEST_P(TaskGroupStoreTest, ReleaseIsIdempotentAndNeverBelowZero) {
  TaskGroup g = Group("g", 2);
  Enqueue(1, g.id);
  Enqueue(2, g.id);
  ASSERT_TRUE(Acquire(1));
  ASSERT_TRUE(Acquire(2));
  EXPECT_EQ(UseSize(g.id), 2);
  ASSERT_TRUE(store_->Release(1).ok());
  auto twice = store_->Release(1);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(*twice, 0);  // nothing left to release
  EXPECT_EQ(UseSize(g.id), 1);
  // Releasing a task that never asked is fine and changes nothing.
  EXPECT_EQ(*store_->Release(555), 0);
  // A waiter that leaves (its task was stopped) frees no slot it never had.
  Enqueue(3, g.id);
  ASSERT_TRUE(store_->Release(3).ok());
  EXPECT_EQ(UseSize(g.id), 1);
  ASSERT_TRUE(store_->Release(2).ok());
  EXPECT_EQ(UseSize(g.id), 0);
  // A released row queues again on re-enqueue (a paused task resumed in place).
  TaskGroupQueue back = Enqueue(3, g.id);
  EXPECT_EQ(back.status, TaskGroupQueueStatus::kWaitQueue);
  EXPECT_TRUE(Acquire(3));
  EXPECT_EQ(UseSize(g.id), 1);
}

TEST_P(TaskGroupStoreTest, ClosedGroupHandsOutNoSlotAndSizeChangesApply) {
  TaskGroup g = Group("g", 1);
  ASSERT_TRUE(store_->SetTaskGroupStatus(g.id, 0).ok());
  Enqueue(1, g.id);
  EXPECT_FALSE(Acquire(1));
  ASSERT_TRUE(store_->SetTaskGroupStatus(g.id, 1).ok());
  EXPECT_TRUE(Acquire(1));
  Enqueue(2, g.id);
  EXPECT_FALSE(Acquire(2));
  g.group_size = 2;
  ASSERT_TRUE(store_->UpdateTaskGroup(g).ok());
  EXPECT_TRUE(Acquire(2));
  // An unknown group is an error, not an endless wait.
  Enqueue(3, 4242);
  EXPECT_EQ(store_->Acquire(3).status().code(), StatusCode::kNotFound);
}

TEST_P(TaskGroupStoreTest, ForceStartAndPriorityChangeApplyToWaitersOnly) {
  TaskGroup g = Group("g", 1);
  Enqueue(1, g.id);
  ASSERT_TRUE(Acquire(1));
  TaskGroupQueue w2 = Enqueue(2, g.id);
  TaskGroupQueue w3 = Enqueue(3, g.id);
  // Raising 3's priority puts it ahead of 2.
  ASSERT_TRUE(store_->SetQueuePriority(w3.id, 3).ok());
  ASSERT_TRUE(store_->SetQueuePriority(w3.id, 3).ok());  // twice: same outcome
  auto waiters = store_->ListWaiters(g.id);
  ASSERT_TRUE(waiters.ok());
  ASSERT_EQ(waiters->size(), 2u);
  EXPECT_EQ((*waiters)[0].task_id, 3);
  // Force start: runs without a slot, the count stays at the group's size.
  ASSERT_TRUE(store_->ForceStart(w2.id).ok());
  ASSERT_TRUE(store_->ForceStart(w2.id).ok());
  EXPECT_TRUE(Acquire(2));
  EXPECT_EQ(UseSize(g.id), 1);
  auto row = store_->GetQueueRow(w2.id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, TaskGroupQueueStatus::kAcquireSuccess);
  EXPECT_EQ(row->force_start, 1);
  // Its release gives back no slot it did not take.
  ASSERT_TRUE(store_->Release(2).ok());
  EXPECT_EQ(UseSize(g.id), 1);
  // Rows that no longer wait refuse both actions; unknown rows are NotFound.
  EXPECT_EQ(store_->ForceStart(w2.id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->SetQueuePriority(w2.id, 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ForceStart(999).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetQueuePriority(999, 1).code(), StatusCode::kNotFound);
}

TEST_P(TaskGroupStoreTest, QueuePageFiltersAndJoinsNames) {
  TaskGroup g = Group("g", 1);
  TaskGroup h = Group("h", 1);
  Enqueue(1, g.id);
  Enqueue(2, g.id, 4);
  Enqueue(3, h.id);
  EXPECT_FALSE(Acquire(1));  // 2 has the higher priority
  ASSERT_TRUE(Acquire(2));
  TaskGroupQueueFilter f;
  f.group_id = g.id;
  auto page = store_->ListQueue(f, {0, 10});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[0].task_id, 2);  // higher priority first
  f.status = TaskGroupQueueStatus::kAcquireSuccess;
  page = store_->ListQueue(f, {0, 10});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->rows[0].task_id, 2);
  TaskGroupQueueFilter by_name;
  by_name.task_name = "T3";
  page = store_->ListQueue(by_name, {0, 10});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->rows[0].group_id, h.id);
  EXPECT_EQ(store_->ListQueue({}, {0, 10})->total, 3);
}

// Two stores on one database stand for two masters: however their acquires interleave, no more
// than group_size tasks ever hold a slot at once.
TEST_P(TaskGroupStoreTest, ConcurrentAcquirersNeverExceedTheSize) {
  auto second = SqlStore::Open(opts_, clock_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  TaskGroup g = Group("g", 3);
  constexpr int kTasks = 12;
  for (int t = 1; t <= kTasks; ++t) Enqueue(t, g.id);
  std::atomic<int> holding{0}, peak{0}, done{0}, errors{0};
  auto worker = [&](SqlStore* s, int first) {
    // Each master serves its own tasks (odd or even ids): it takes what it can, holds it while
    // the other master tries too, then gives it back.
    std::set<int> finished;
    // Until every task has run once, or a deadline far beyond what it takes (the masters'
    // calls serialise on the database's write lock, so rounds are not a measure of time).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (done.load() < kTasks && std::chrono::steady_clock::now() < deadline) {
      std::vector<int> held;
      for (int t = first; t <= kTasks; t += 2) {
        if (finished.count(t)) continue;
        auto got = s->Acquire(t);
        if (!got.ok()) ++errors;
        if (!got.ok() || !*got) continue;
        held.push_back(t);
        int now = ++holding;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
      }
      std::this_thread::yield();
      for (int t : held) {
        --holding;
        auto rel = s->Release(t);
        ASSERT_TRUE(rel.ok()) << rel.status().ToString();
        finished.insert(t);
        ++done;
      }
    }
  };
  std::thread a(worker, store_.get(), 1), b(worker, second->get(), 2);
  a.join();
  b.join();
  EXPECT_EQ(done.load(), kTasks);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_LE(peak.load(), 3);
  EXPECT_EQ(UseSize(g.id), 0);
}

INSTANTIATE_TEST_SUITE_P(Db, TaskGroupStoreTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
