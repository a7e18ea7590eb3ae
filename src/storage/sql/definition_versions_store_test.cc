// Conformance of SqlStore's definition versions (list, switch, delete, add without making
// current), move, task lookup, and the edits of finished instances, on every database of
// test_databases.h.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/store_test_fixture.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

constexpr int64_t kProject = 1, kOther = 2, kCode = 100;

class DefinitionVersionsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    for (auto [code, name] : {std::pair{kProject, "p1"}, std::pair{kOther, "p2"}}) {
      Project p;
      p.code = code;
      p.name = name;
      p.user_id = 1;
      ASSERT_TRUE(store_->CreateProject(p).ok());
    }
  }

  // wf (code 100): t1 -> t2, t2 echoes `script`.
  static WorkflowDefinition Wf(const std::string& name, const std::string& script) {
    WorkflowDefinition d;
    d.code = kCode;
    d.name = name;
    d.project_code = kProject;
    d.user_id = 1;
    for (int i = 1; i <= 2; ++i) {
      TaskDefinition t;
      t.code = 1000 + i;
      t.name = "t" + std::to_string(i);
      t.task_type = "SHELL";
      t.task_params = {{"rawScript", i == 2 ? script : "true"}};
      d.tasks.push_back(t);
    }
    d.relations.push_back({"", 0, 0, 1001, 0});
    d.relations.push_back({"", 1001, 0, 1002, 0});
    return d;
  }
  static std::string ScriptOf(const WorkflowDefinition& d) {
    for (const auto& t : d.tasks)
      if (t.name == "t2") return t.task_params["rawScript"];
    return "";
  }
  // Three versions: "wf" echo 1, "wf" echo 2, "wf-renamed" echo 3 (current).
  void ThreeVersions() {
    ASSERT_TRUE(store_->CreateWorkflow(Wf("wf", "echo 1")).ok());
    ASSERT_TRUE(store_->UpdateWorkflow(Wf("wf", "echo 2")).ok());
    ASSERT_TRUE(store_->UpdateWorkflow(Wf("wf-renamed", "echo 3")).ok());
  }
  // A finished instance of wf in state `state`, with one task instance logging to `log`.
  int64_t Instance(WorkflowState state, const std::string& log) {
    Command c;
    c.definition_code = kCode;
    c.definition_version = 1;
    c.project_code = kProject;
    auto id = store_->InsertCommand(c);
    EXPECT_TRUE(id.ok());
    WorkflowInstance wi;
    wi.name = "wf-1";
    wi.definition_code = kCode;
    wi.definition_version = 1;
    wi.project_code = kProject;
    wi.owner_epoch = 1;
    wi.state = state;
    EXPECT_TRUE(store_->ClaimCommand(*id, &wi, 0, {}).ok());
    TaskInstance ti;
    ti.name = "t1";
    ti.task_type = "SHELL";
    ti.workflow_instance_id = wi.id;
    ti.project_code = kProject;
    ti.task_code = 1001;
    ti.task_definition_version = 1;
    ti.state = TaskState::kSuccess;
    ti.log_path = log;
    WriteBatch b;
    b.InsertTask(1, &ti);
    EXPECT_TRUE(store_->Commit(b).ok());
    return wi.id;
  }
};

TEST_P(DefinitionVersionsTest, ListsVersionsNewestFirstAndPages) {
  ThreeVersions();
  auto page = store_->ListWorkflowVersions(kCode, {0, 2});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[0].version, 3);
  EXPECT_EQ(page->rows[0].name, "wf-renamed");
  EXPECT_EQ(page->rows[1].version, 2);
  auto rest = store_->ListWorkflowVersions(kCode, {2, 2});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->rows.size(), 1u);
  EXPECT_EQ(rest->rows[0].version, 1);
  EXPECT_EQ(store_->ListWorkflowVersions(999, {0, 10}).status().code(), StatusCode::kNotFound);
}

TEST_P(DefinitionVersionsTest, SwitchMakesAnOldVersionCurrentAndKeepsTheReleaseState) {
  ThreeVersions();
  ASSERT_TRUE(store_->SetReleaseState(kCode, ReleaseState::kOnline).ok());
  auto back = store_->SwitchWorkflowVersion(kCode, 1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, 1);
  auto cur = store_->GetWorkflow(kCode);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->version, 1);
  EXPECT_EQ(cur->name, "wf");
  EXPECT_EQ(ScriptOf(*cur), "echo 1");
  EXPECT_EQ(cur->relations.size(), 2u);
  EXPECT_EQ(cur->release_state, ReleaseState::kOnline);
  EXPECT_TRUE(store_->SwitchWorkflowVersion(kCode, 1).ok()) << "idempotent";
  EXPECT_EQ(store_->SwitchWorkflowVersion(kCode, 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWorkflow(kCode)->version, 1) << "a failed switch changes nothing";
  // The next update continues after the highest version, not after the current one.
  auto next = store_->UpdateWorkflow(Wf("wf", "echo 4"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, 4);
}

TEST_P(DefinitionVersionsTest, SwitchRefusesANameTakenMeanwhile) {
  ThreeVersions();
  WorkflowDefinition other = Wf("wf", "echo x");
  other.code = 200;
  for (auto& t : other.tasks) t.code += 1000;
  other.relations = {{"", 0, 0, 2001, 0}, {"", 2001, 0, 2002, 0}};
  ASSERT_TRUE(store_->CreateWorkflow(other).ok());
  EXPECT_EQ(store_->SwitchWorkflowVersion(kCode, 1).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetWorkflow(kCode)->version, 3);
}

TEST_P(DefinitionVersionsTest, DeleteVersionRefusesTheCurrentOne) {
  ThreeVersions();
  EXPECT_EQ(store_->DeleteWorkflowVersion(kCode, 3).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->DeleteWorkflowVersion(kCode, 2).ok());
  EXPECT_EQ(store_->GetWorkflowVersion(kCode, 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteWorkflowVersion(kCode, 2).code(), StatusCode::kNotFound);
  auto v1 = store_->GetWorkflowVersion(kCode, 1);
  ASSERT_TRUE(v1.ok()) << "the others keep their DAG";
  EXPECT_EQ(ScriptOf(*v1), "echo 1");
  EXPECT_EQ(store_->ListWorkflowVersions(kCode, {0, 10})->total, 2);
  EXPECT_EQ(store_->DeleteWorkflowVersion(999, 1).code(), StatusCode::kNotFound);
}

TEST_P(DefinitionVersionsTest, AddVersionLeavesTheCurrentOne) {
  ThreeVersions();
  auto added = store_->AddWorkflowVersion(Wf("wf-renamed", "echo edited"));
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->version, 4);
  auto cur = store_->GetWorkflow(kCode);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->version, 3);
  EXPECT_EQ(ScriptOf(*cur), "echo 3");
  auto v4 = store_->GetWorkflowVersion(kCode, 4);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(ScriptOf(*v4), "echo edited");
  WorkflowDefinition unknown = Wf("x", "echo");
  unknown.code = 999;
  EXPECT_EQ(store_->AddWorkflowVersion(unknown).status().code(), StatusCode::kNotFound);
}

TEST_P(DefinitionVersionsTest, MoveChangesTheProjectAsANewVersion) {
  ASSERT_TRUE(store_->CreateWorkflow(Wf("wf", "echo 1")).ok());
  auto moved = store_->MoveWorkflow(kCode, kOther);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->version, 2);
  auto cur = store_->GetWorkflow(kCode);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->project_code, kOther);
  for (const auto& t : cur->tasks) EXPECT_EQ(t.project_code, kOther);
  EXPECT_TRUE(store_->GetWorkflowByName(kOther, "wf").ok());
  EXPECT_EQ(store_->GetWorkflowByName(kProject, "wf").status().code(), StatusCode::kNotFound);
  auto same = store_->MoveWorkflow(kCode, kOther);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version, 2) << "moving to where it is changes nothing";
  // A name clash in the target moves nothing.
  WorkflowDefinition other = Wf("wf", "echo x");
  other.code = 200;
  for (auto& t : other.tasks) t.code += 1000;
  other.relations = {{"", 0, 0, 2001, 0}, {"", 2001, 0, 2002, 0}};
  ASSERT_TRUE(store_->CreateWorkflow(other).ok());
  EXPECT_EQ(store_->MoveWorkflow(kCode, kProject).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetWorkflow(kCode)->project_code, kOther);
  EXPECT_EQ(store_->MoveWorkflow(999, kOther).status().code(), StatusCode::kNotFound);
}

TEST_P(DefinitionVersionsTest, TaskDefinitionIsTheNewestVersion) {
  ASSERT_TRUE(store_->CreateWorkflow(Wf("wf", "echo 1")).ok());
  ASSERT_TRUE(store_->UpdateWorkflow(Wf("wf", "echo 2")).ok());
  auto t = store_->GetTaskDefinition(1002);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->version, 2);
  EXPECT_EQ(t->task_params["rawScript"], "echo 2");
  EXPECT_EQ(t->project_code, kProject);
  EXPECT_EQ(store_->GetTaskDefinition(5).status().code(), StatusCode::kNotFound);
}

TEST_P(DefinitionVersionsTest, DeleteInstanceOnlyWhenFinished) {
  ASSERT_TRUE(store_->CreateWorkflow(Wf("wf", "echo 1")).ok());
  int64_t running = Instance(WorkflowState::kRunningExecution, "/tmp/run.log");
  int64_t done = Instance(WorkflowState::kFailure, "/tmp/done.log");
  EXPECT_EQ(store_->DeleteWorkflowInstance(running).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ListTaskInstances(running)->size(), 1u) << "a running one keeps its tasks";
  auto logs = store_->DeleteWorkflowInstance(done);
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  EXPECT_EQ(*logs, std::vector<std::string>{"/tmp/done.log"});
  EXPECT_EQ(store_->GetWorkflowInstance(done).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListTaskInstances(done)->empty());
  auto again = store_->DeleteWorkflowInstance(done);
  ASSERT_TRUE(again.ok()) << "idempotent";
  EXPECT_TRUE(again->empty());
}

TEST_P(DefinitionVersionsTest, UpdateFinishedInstanceOnly) {
  ASSERT_TRUE(store_->CreateWorkflow(Wf("wf", "echo 1")).ok());
  int64_t running = Instance(WorkflowState::kRunningExecution, "");
  int64_t done = Instance(WorkflowState::kSuccess, "");
  WorkflowInstance edit = *store_->GetWorkflowInstance(done);
  edit.definition_version = 2;
  edit.schedule_time = 1700000000000;
  edit.global_params = R"([{"prop":"a","direct":"IN","type":"VARCHAR","value":"1"}])";
  edit.timeout = 5;
  edit.name = "not written";
  ASSERT_TRUE(store_->UpdateFinishedInstance(edit).ok());
  ASSERT_TRUE(store_->UpdateFinishedInstance(edit).ok()) << "idempotent";
  auto got = store_->GetWorkflowInstance(done);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->definition_version, 2);
  EXPECT_EQ(got->schedule_time, 1700000000000);
  EXPECT_EQ(got->global_params, edit.global_params);
  EXPECT_EQ(got->timeout, 5);
  EXPECT_EQ(got->name, "wf-1");
  WorkflowInstance r = *store_->GetWorkflowInstance(running);
  r.timeout = 9;
  EXPECT_EQ(store_->UpdateFinishedInstance(r).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetWorkflowInstance(running)->timeout, 0);
  r.id = 12345;
  EXPECT_EQ(store_->UpdateFinishedInstance(r).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Db, DefinitionVersionsTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
