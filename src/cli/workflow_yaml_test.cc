#include "cli/workflow_yaml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace dsched::cli {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The example of shared/reference/workflow-yaml.md.
constexpr const char* kDocExample = R"(
workflow:
  name: nightly_etl
  schedule: "0 30 2 * * ? *"
  start_time: "2026-01-01"
  param:
    region: eu
tasks:
  - name: extract
    task_type: Shell
    command: |
      echo "extracting ${region}"
      echo '${setValue(rows=42)}'
  - name: load
    task_type: Shell
    deps: [extract]
    fail_retry_times: 2
    command: echo "loading ${rows} rows for $[yyyyMMdd-1]"
)";

YamlContext TestContext() {
  YamlContext ctx;
  ctx.display_name = "etl.yaml";
  ctx.base_dir = "/flows/";
  ctx.read_file = [](const std::string& path) -> StatusOr<std::string> {
    if (path == "/flows/scripts/extract.sh") return std::string("echo from file\n");
    return NotFound("cannot read " + path + ": No such file or directory");
  };
  ctx.get_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TARGET_DB") return std::string("warehouse");
    return std::nullopt;
  };
  ctx.config = {{"PROJECT", "analytics"}, {"WORKFLOW_PROJECT", "analytics"}};
  return ctx;
}

std::string ErrorOf(const std::string& yaml, const YamlContext& ctx = TestContext()) {
  auto spec = ParseWorkflowYaml(yaml, ctx);
  if (spec.ok()) return "(parsed fine)";
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  return spec.status().message();
}

// A valid file with one Shell task whose extra lines are `task_extra` (indented 4 spaces).
std::string OneTask(const std::string& task_extra) {
  return "workflow:\n  name: w\ntasks:\n  - name: a\n    task_type: Shell\n    command: echo\n" +
         task_extra;
}

TEST(WorkflowYamlTest, ParsesTheReferenceExample) {
  auto spec = ParseWorkflowYaml(kDocExample, TestContext());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name, "nightly_etl");
  EXPECT_EQ(spec->schedule, "0 30 2 * * ? *");
  EXPECT_TRUE(spec->online);
  EXPECT_FALSE(spec->run);
  EXPECT_EQ(spec->execution_type, "PARALLEL");
  ASSERT_EQ(spec->params.size(), 1u);
  EXPECT_EQ(spec->params[0], std::make_pair(std::string("region"), std::string("eu")));
  ASSERT_EQ(spec->tasks.size(), 2u);
  const TaskSpec& extract = spec->tasks[0];
  EXPECT_EQ(extract.name, "extract");
  EXPECT_EQ(extract.task_type, "SHELL");
  // Runtime parameters stay for the worker to resolve.
  EXPECT_EQ(extract.raw_script, "echo \"extracting ${region}\"\necho '${setValue(rows=42)}'\n");
  EXPECT_TRUE(extract.deps.empty());
  const TaskSpec& load = spec->tasks[1];
  EXPECT_THAT(load.deps, ElementsAre("extract"));
  EXPECT_EQ(load.fail_retry_times, 2);
  EXPECT_EQ(load.fail_retry_interval, 1);
  EXPECT_EQ(load.raw_script, "echo \"loading ${rows} rows for $[yyyyMMdd-1]\"");
}

TEST(WorkflowYamlTest, ParsesTheShippedExample) {
  const char* dir = std::getenv("DSCHED_SOURCE_DIR");  // set by CTest
  if (dir == nullptr) GTEST_SKIP() << "DSCHED_SOURCE_DIR is not set; run through ctest";
  YamlContext ctx;  // real file system and environment
  auto spec = LoadWorkflowFile(std::string(dir) + "/examples/etl.yaml", ctx);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name, "etl");
  ASSERT_EQ(spec->tasks.size(), 4u);
  EXPECT_EQ(spec->tasks[1].task_type, "PYTHON");
  EXPECT_THAT(spec->tasks[2].deps, ElementsAre("extract", "transform"));
  ASSERT_EQ(spec->tasks[0].local_params.size(), 1u);
  EXPECT_EQ(spec->tasks[0].local_params[0].direct, "OUT");
}

TEST(WorkflowYamlTest, MapsEveryTaskField) {
  auto spec = ParseWorkflowYaml(R"(
workflow:
  name: full
  description: all the fields
  project: p1
  worker_group: wg
  timeout: 30
  execution_type: serial_wait
  release_state: offline
  run: true
  param: {a: 1, b: "x y", c: }
tasks:
  - name: t1
    task_type: Python
    description: d
    definition: print(1)
    flag: "NO"
    task_priority: high
    delay_time: 3
    fail_retry_times: 4
    fail_retry_interval: 5
    timeout: 6
    timeout_notify_strategy: failed
    worker_group: special
    resource_list: [a.sh]
    local_params:
      - {prop: p, direct: out, type: integer, value: 7}
      - {prop: q}
  - {name: t2, task_type: Shell, command: "echo", timeout: 2, timeout_flag: false}
)",
                                TestContext());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->description, "all the fields");
  EXPECT_EQ(spec->project, "p1");
  EXPECT_EQ(spec->timeout, 30);
  EXPECT_EQ(spec->execution_type, "SERIAL_WAIT");
  EXPECT_FALSE(spec->online);
  EXPECT_TRUE(spec->run);
  ASSERT_EQ(spec->params.size(), 3u);
  EXPECT_EQ(spec->params[1].second, "x y");
  EXPECT_EQ(spec->params[2].second, "");
  const TaskSpec& t = spec->tasks[0];
  EXPECT_EQ(t.flag, "NO");
  EXPECT_EQ(t.task_priority, "HIGH");
  EXPECT_EQ(t.delay_time, 3);
  EXPECT_EQ(t.fail_retry_times, 4);
  EXPECT_EQ(t.fail_retry_interval, 5);
  EXPECT_EQ(t.timeout, 6);
  EXPECT_TRUE(t.timeout_flag);  // implied by the timeout
  EXPECT_EQ(t.timeout_notify_strategy, "FAILED");
  EXPECT_EQ(t.worker_group, "special");
  EXPECT_THAT(t.resource_list, ElementsAre("a.sh"));
  ASSERT_EQ(t.local_params.size(), 2u);
  EXPECT_EQ(t.local_params[0].direct, "OUT");
  EXPECT_EQ(t.local_params[0].type, "INTEGER");
  EXPECT_EQ(t.local_params[0].value, "7");
  EXPECT_EQ(t.local_params[1].direct, "IN");
  EXPECT_EQ(t.local_params[1].type, "VARCHAR");
  EXPECT_FALSE(spec->tasks[1].timeout_flag);  // said so explicitly
  EXPECT_EQ(spec->tasks[1].timeout_notify_strategy, "");

  std::map<std::string, int64_t> codes = {{"t1", 1001}, {"t2", 1002}};
  auto form = BuildDefinitionForm(*spec, codes);
  std::map<std::string, std::string> f(form.begin(), form.end());
  EXPECT_EQ(f["executionType"], "SERIAL_WAIT");
  EXPECT_EQ(f["timeout"], "30");
  json defs = json::parse(f["taskDefinitionJson"]);
  EXPECT_EQ(defs[0]["taskType"], "PYTHON");
  EXPECT_EQ(defs[0]["taskParams"]["rawScript"], "print(1)");
  EXPECT_EQ(defs[0]["taskParams"]["resourceList"][0]["resourceName"], "a.sh");
  EXPECT_EQ(defs[0]["taskParams"]["localParams"][0]["prop"], "p");
  EXPECT_EQ(defs[0]["flag"], "NO");
  EXPECT_EQ(defs[0]["taskPriority"], "HIGH");
  EXPECT_EQ(defs[0]["workerGroup"], "special");
  EXPECT_EQ(defs[0]["timeoutFlag"], "OPEN");
  EXPECT_EQ(defs[0]["timeoutNotifyStrategy"], "FAILED");
  EXPECT_EQ(defs[0]["failRetryTimes"], 4);
  EXPECT_EQ(defs[1]["workerGroup"], "wg");  // the workflow's
  EXPECT_EQ(defs[1]["timeoutFlag"], "CLOSE");
}

TEST(WorkflowYamlTest, BuildsTheDefinitionForm) {
  auto spec = ParseWorkflowYaml(kDocExample, TestContext());
  ASSERT_TRUE(spec.ok());
  auto form = BuildDefinitionForm(*spec, {{"extract", 11}, {"load", 22}});
  std::vector<std::string> names;
  for (const auto& [k, v] : form) names.push_back(k);
  EXPECT_THAT(names,
              ElementsAre("name", "description", "globalParams", "locations", "taskDefinitionJson",
                          "taskRelationJson", "executionType", "timeout"));
  std::map<std::string, std::string> f(form.begin(), form.end());
  EXPECT_EQ(f["name"], "nightly_etl");
  EXPECT_EQ(json::parse(f["globalParams"]),
            json::parse(R"([{"prop":"region","direct":"IN","type":"VARCHAR","value":"eu"}])"));

  json defs = json::parse(f["taskDefinitionJson"]);
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[0]["code"], 11);
  EXPECT_EQ(defs[0]["name"], "extract");
  EXPECT_EQ(defs[0]["taskType"], "SHELL");
  EXPECT_EQ(defs[0]["taskParams"]["localParams"], json::array());
  EXPECT_EQ(defs[0]["taskParams"]["resourceList"], json::array());
  EXPECT_EQ(defs[0]["flag"], "YES");
  EXPECT_EQ(defs[0]["taskPriority"], "MEDIUM");
  EXPECT_EQ(defs[0]["workerGroup"], "default");
  EXPECT_EQ(defs[0]["environmentCode"], -1);
  EXPECT_EQ(defs[0]["timeoutFlag"], "CLOSE");
  EXPECT_EQ(defs[1]["failRetryTimes"], 2);

  json rel = json::parse(f["taskRelationJson"]);
  ASSERT_EQ(rel.size(), 2u);
  EXPECT_EQ(rel[0]["preTaskCode"], 0);  // the root's row
  EXPECT_EQ(rel[0]["postTaskCode"], 11);
  EXPECT_EQ(rel[1]["preTaskCode"], 11);
  EXPECT_EQ(rel[1]["postTaskCode"], 22);
  EXPECT_EQ(rel[1]["conditionType"], "NONE");

  json loc = json::parse(f["locations"]);
  ASSERT_EQ(loc.size(), 2u);
  EXPECT_EQ(loc[0]["taskCode"], 11);
  EXPECT_LT(loc[0]["x"].get<int>(), loc[1]["x"].get<int>());  // downstream is to the right
}

TEST(WorkflowYamlTest, SubstitutesFileEnvConfigAndWorkflow) {
  YamlContext ctx = TestContext();
  std::vector<std::string> applied;
  ctx.apply_workflow = [&applied](const std::string& path) -> StatusOr<std::string> {
    applied.push_back(path);
    return std::string("sub_flow");
  };
  auto spec = ParseWorkflowYaml(R"(
workflow:
  name: w_$ENV{TARGET_DB}
  project: ${CONFIG.PROJECT}
  param:
    db: $ENV{TARGET_DB}
tasks:
  - name: a
    task_type: Shell
    command: $FILE{"scripts/extract.sh"}
  - name: b
    task_type: Shell
    description: after $WORKFLOW{"sub.yaml"}
    command: echo "${CONFIG.WORKFLOW_PROJECT} ${db} $ENV{TARGET_DB}" $[yyyyMMdd] ${x}
)",
                                ctx);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name, "w_warehouse");
  EXPECT_EQ(spec->project, "analytics");
  EXPECT_EQ(spec->params[0].second, "warehouse");
  EXPECT_EQ(spec->tasks[0].raw_script, "echo from file\n");
  EXPECT_EQ(spec->tasks[1].description, "after sub_flow");
  EXPECT_EQ(spec->tasks[1].raw_script, "echo \"analytics ${db} warehouse\" $[yyyyMMdd] ${x}");
  EXPECT_THAT(applied, ElementsAre("/flows/sub.yaml"));  // relative to the file's folder
}

TEST(WorkflowYamlTest, FileSubstitutionReadsRealFilesNextToTheYaml) {
  auto dir =
      std::filesystem::temp_directory_path() / ("dsched_yaml_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "step.sh") << "echo real\n";
  std::ofstream(dir / "w.yaml") << "workflow: {name: w}\n"
                                   "tasks:\n  - {name: a, task_type: Shell, command: "
                                   "'$FILE{\"step.sh\"}'}\n";
  YamlContext ctx;
  auto spec = LoadWorkflowFile((dir / "w.yaml").string(), ctx);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->tasks[0].raw_script, "echo real\n");
}

TEST(WorkflowYamlTest, BadSubstitutionsNameThePlace) {
  EXPECT_EQ(ErrorOf(OneTask("    description: $ENV{NOPE}\n")),
            "etl.yaml: tasks[0].description: environment variable 'NOPE' is not set");
  EXPECT_EQ(ErrorOf(OneTask("    description: ${CONFIG.COLOR}\n")),
            "etl.yaml: tasks[0].description: unknown config key 'COLOR' in ${CONFIG.COLOR} "
            "(known: PROJECT, WORKFLOW_PROJECT)");
  EXPECT_EQ(ErrorOf(OneTask("    description: $FILE{\"missing.sh\"}\n")),
            "etl.yaml: tasks[0].description: $FILE{\"missing.sh\"}: cannot read "
            "/flows/missing.sh: No such file or directory");
  EXPECT_EQ(ErrorOf(OneTask("    description: $FILE{missing.sh}\n")),
            "etl.yaml: tasks[0].description: malformed $FILE: expected $FILE{\"path\"}");
  EXPECT_EQ(ErrorOf(OneTask("    description: $WORKFLOW{\"sub.yaml\"}\n")),
            "etl.yaml: tasks[0].description: $WORKFLOW{\"sub.yaml\"} cannot be used here");
  YamlContext ctx = TestContext();
  ctx.apply_workflow = [](const std::string&) -> StatusOr<std::string> {
    return InvalidArgument("/flows/sub.yaml: workflow.name: missing");
  };
  EXPECT_EQ(ErrorOf("workflow:\n  name: $WORKFLOW{\"sub.yaml\"}\ntasks: []\n", ctx),
            "etl.yaml: workflow.name: $WORKFLOW{\"sub.yaml\"}: /flows/sub.yaml: "
            "workflow.name: missing");
}

TEST(WorkflowYamlTest, BadInputGivesOneLineNamingThePlace) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::string wf = "workflow:\n  name: w\n";
  const std::vector<Case> cases = {
      {"", "etl.yaml: the file is empty"},
      {"- a\n", "etl.yaml: expected a map with keys 'workflow' and 'tasks', got a list"},
      {"workflow: {name: w\ntasks: [", "etl.yaml:"},  // line:column and yaml-cpp's own text follow
      {"tasks: []\n", "etl.yaml: workflow: missing"},
      {"workflow: {description: x}\ntasks: []\n", "etl.yaml: workflow.name: missing"},
      {"workflow: {name: w, colour: red}\ntasks: []\n", "etl.yaml: workflow: unknown key 'colour'"},
      {wf + "extra: 1\n", "etl.yaml: unknown key 'extra'"},
      {wf, "etl.yaml: tasks: missing"},
      {wf + "tasks: []\n", "etl.yaml: tasks: expected a non-empty list, got a list"},
      {wf + "tasks: {a: 1}\n", "etl.yaml: tasks: expected a non-empty list, got a map"},
      {wf + "  execution_type: random\ntasks: []\n",
       "etl.yaml: workflow.execution_type: expected one of PARALLEL, SERIAL_WAIT, "
       "SERIAL_DISCARD, SERIAL_PRIORITY, got 'random'"},
      {wf + "  release_state: maybe\ntasks: []\n",
       "etl.yaml: workflow.release_state: expected one of ONLINE, OFFLINE, got 'maybe'"},
      {wf + "  run: sometimes\ntasks: []\n",
       "etl.yaml: workflow.run: expected true or false, got 'sometimes'"},
      {wf + "  timeout: [1]\ntasks: []\n",
       "etl.yaml: workflow.timeout: expected an integer, got a list"},
      {wf + "  param: [a]\ntasks: []\n", "etl.yaml: workflow.param: expected a map, got a list"},
      {wf + "  param: {a: [1]}\ntasks: []\n",
       "etl.yaml: workflow.param.a: expected a value, got a list"},
      {wf + "tasks:\n  - just a string\n",
       "etl.yaml: tasks[0]: expected a map, got 'just a string'"},
      {wf + "tasks:\n  - {task_type: Shell, command: echo}\n", "etl.yaml: tasks[0].name: missing"},
      {wf + "tasks:\n  - {name: x, command: echo}\n", "etl.yaml: tasks[0].task_type: missing"},
      {wf + "tasks:\n  - {name: x, task_type: Shell}\n", "etl.yaml: tasks[0].command: missing"},
      {wf + "tasks:\n  - {name: x, task_type: Python, definition: '  '}\n",
       "etl.yaml: tasks[0].definition: missing"},
      {wf + "tasks:\n  - {name: a, task_type: Shell, command: e}\n"
            "  - {name: x, task_type: Foo}\n",
       "etl.yaml: tasks[1] (name 'x'): unknown task_type 'Foo'"},
      {wf + "tasks:\n  - {name: x, task_type: Sql, sql: select 1}\n",
       "etl.yaml: tasks[0] (name 'x'): task_type 'Sql' is not supported yet (dsched runs Shell, "
       "Python, SubWorkflow, Dependent, Condition and Switch)"},
      {wf + "tasks:\n  - {name: x, task_type: Shell, comand: echo}\n",
       "etl.yaml: tasks[0] (name 'x'): unknown key 'comand'"},
      {wf + "tasks:\n  - {name: x, task_type: Shell, command: echo, definition: y}\n",
       "etl.yaml: tasks[0] (name 'x'): unknown key 'definition'"},
      {OneTask("    fail_retry_times: abc\n"),
       "etl.yaml: tasks[0].fail_retry_times: expected an integer, got 'abc'"},
      {OneTask("    fail_retry_times: 1.5\n"),
       "etl.yaml: tasks[0].fail_retry_times: expected an integer, got '1.5'"},
      {OneTask("    delay_time: -1\n"),
       "etl.yaml: tasks[0].delay_time: expected a non-negative integer, got -1"},
      {OneTask("    flag: maybe\n"),
       "etl.yaml: tasks[0].flag: expected one of YES, NO, got 'maybe'"},
      {OneTask("    task_priority: urgent\n"),
       "etl.yaml: tasks[0].task_priority: expected one of HIGHEST, HIGH, MEDIUM, LOW, LOWEST, "
       "got 'urgent'"},
      {OneTask("    timeout_flag: 3\n"),
       "etl.yaml: tasks[0].timeout_flag: expected true or false, got '3'"},
      {OneTask("    timeout_notify_strategy: email\n"),
       "etl.yaml: tasks[0].timeout_notify_strategy: expected one of WARN, FAILED, WARNFAILED, "
       "got 'email'"},
      {OneTask("    description: [x]\n"),
       "etl.yaml: tasks[0].description: expected a string, got a list"},
      {OneTask("    deps: a\n"), "etl.yaml: tasks[0].deps: expected a list, got 'a'"},
      {OneTask("    deps: [{a: 1}]\n"), "etl.yaml: tasks[0].deps[0]: expected a string, got a map"},
      {OneTask("    environment_name: prod\n"),
       "etl.yaml: tasks[0].environment_name: not supported yet"},
      {OneTask("    local_params: {prop: x}\n"),
       "etl.yaml: tasks[0].local_params: expected a list, got a map"},
      {OneTask("    local_params: [{value: 1}]\n"),
       "etl.yaml: tasks[0].local_params[0].prop: missing"},
      {OneTask("    local_params: [{prop: x, direct: INOUT}]\n"),
       "etl.yaml: tasks[0].local_params[0].direct: expected one of IN, OUT, got 'INOUT'"},
      {OneTask("    local_params: [{prop: x, type: BLOB}]\n"),
       "etl.yaml: tasks[0].local_params[0].type: expected one of VARCHAR, INTEGER, LONG, FLOAT, "
       "DOUBLE, DATE, TIME, TIMESTAMP, BOOLEAN, LIST, FILE, got 'BLOB'"},
      {OneTask("    local_params: [{prop: x, dir: IN}]\n"),
       "etl.yaml: tasks[0].local_params[0]: unknown key 'dir'"},
      {wf + "tasks:\n  - {name: extract, task_type: Shell, command: e}\n"
            "  - {name: t, task_type: Shell, command: e}\n"
            "  - {name: load, task_type: Shell, command: e, deps: [extrct]}\n",
       "etl.yaml: tasks[2] (name 'load'): deps names unknown task 'extrct'"},
      {wf + "tasks:\n  - {name: a, task_type: Shell, command: e, deps: [a]}\n",
       "etl.yaml: tasks[0] (name 'a'): deps names the task itself"},
      {wf + "tasks:\n  - {name: a, task_type: Shell, command: e}\n"
            "  - {name: b, task_type: Shell, command: e, deps: [a, a]}\n",
       "etl.yaml: tasks[1] (name 'b'): deps names 'a' twice"},
      {wf + "tasks:\n  - {name: a, task_type: Shell, command: e}\n"
            "  - {name: b, task_type: Shell, command: e}\n"
            "  - {name: a, task_type: Python, definition: e}\n",
       "etl.yaml: tasks[2] (name 'a'): duplicate task name, already used by tasks[0]"},
  };
  for (const Case& c : cases) {
    std::string error = ErrorOf(c.yaml);
    EXPECT_THAT(error, HasSubstr(c.error)) << "input:\n" << c.yaml;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    if (c.error.back() != ':') {
      EXPECT_EQ(error, c.error) << "input:\n" << c.yaml;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Logic task types

// The four logic types in one file, in PyDolphinScheduler's spelling.
constexpr const char* kLogicExample = R"(
workflow:
  name: logic
tasks:
  - {name: pre_1, task_type: Shell, command: echo 1}
  - {name: pre_2, task_type: Shell, command: echo 2}
  - name: cond
    task_type: Condition
    success_task: on_ok
    failed_task: [on_fail]
    op: OR
    groups:
      - op: AND
        groups:
          - {task: pre_1, flag: true}
          - {task: pre_2, flag: false}
      - groups:
          - {task: pre_1}
  - {name: on_ok, task_type: Shell, command: echo ok}
  - {name: on_fail, task_type: Shell, command: echo fail}
  - name: sw
    task_type: Switch
    deps: [on_ok]
    condition:
      - {task: big, condition: "${n} > 10"}
      - {task: small}
  - {name: big, task_type: Shell, command: echo big}
  - {name: small, task_type: Shell, command: echo small, task_group_id: 3, task_group_priority: 2}
  - {name: child, task_type: SubWorkflow, workflow_name: loader, deps: [big]}
  - name: wait
    task_type: Dependent
    op: and
    groups:
      - op: or
        groups:
          - {project_name: other, workflow_name: upstream, dependent_task_name: extract, dependent_date: LAST_WEDNESDAY}
          - {workflow_name: loader, dependent_date: last24Hours}
      - groups:
          - {workflow_name: loader, dependent_task_name: ALL}
)";

// A resolver over fixed tables, standing in for the server: project "" is the workflow's own
// (code 1), "other" is 2.
ReferenceResolver TableResolver() {
  ReferenceResolver r;
  r.project_code = [](const std::string& p) -> StatusOr<int64_t> {
    if (p.empty()) return int64_t{1};
    if (p == "other") return int64_t{2};
    return NotFound("no such project");
  };
  r.workflow_code = [](int64_t pc, const std::string& w) -> StatusOr<int64_t> {
    if (pc == 1 && w == "loader") return int64_t{500};
    if (pc == 2 && w == "upstream") return int64_t{600};
    return NotFound("no such workflow in project " + std::to_string(pc));
  };
  r.task_code = [](int64_t pc, int64_t wc, const std::string& t) -> StatusOr<int64_t> {
    if (pc == 2 && wc == 600 && t == "extract") return int64_t{601};
    return NotFound("no such task");
  };
  return r;
}

std::map<std::string, int64_t> LogicCodes() {
  return {{"pre_1", 1}, {"pre_2", 2}, {"cond", 3}, {"on_ok", 4}, {"on_fail", 5},
          {"sw", 6},    {"big", 7},   {"small", 8}, {"child", 9}, {"wait", 10}};
}

json TaskNamed(const json& defs, const std::string& name) {
  for (const json& d : defs)
    if (d["name"] == name) return d;
  ADD_FAILURE() << "no task " << name;
  return json::object();
}

TEST(WorkflowYamlLogicTest, ParsesEveryLogicType) {
  auto spec = ParseWorkflowYaml(kLogicExample, TestContext());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->tasks.size(), 10u);
  const TaskSpec& cond = spec->tasks[2];
  EXPECT_EQ(cond.task_type, "CONDITIONS");
  EXPECT_EQ(cond.condition_op, "OR");
  ASSERT_EQ(cond.condition_groups.size(), 2u);
  EXPECT_EQ(cond.condition_groups[0].op, "AND");
  EXPECT_EQ(cond.condition_groups[1].op, "AND");  // the default
  EXPECT_FALSE(cond.condition_groups[0].items[1].success);
  EXPECT_TRUE(cond.condition_groups[1].items[0].success);
  EXPECT_THAT(cond.success_tasks, ElementsAre("on_ok"));
  EXPECT_THAT(cond.failed_tasks, ElementsAre("on_fail"));
  // The condition follows the tasks it checks; its branches follow it.
  EXPECT_THAT(cond.deps, ElementsAre("pre_1", "pre_2"));
  EXPECT_THAT(spec->tasks[3].deps, ElementsAre("cond"));
  EXPECT_THAT(spec->tasks[4].deps, ElementsAre("cond"));

  const TaskSpec& sw = spec->tasks[5];
  EXPECT_EQ(sw.task_type, "SWITCH");
  ASSERT_EQ(sw.switch_branches.size(), 1u);
  EXPECT_EQ(sw.switch_branches[0].condition, "${n} > 10");
  EXPECT_EQ(sw.switch_default, "small");
  EXPECT_THAT(spec->tasks[6].deps, ElementsAre("sw"));
  EXPECT_THAT(spec->tasks[7].deps, ElementsAre("sw"));
  EXPECT_EQ(spec->tasks[7].task_group_id, 3);
  EXPECT_EQ(spec->tasks[7].task_group_priority, 2);

  EXPECT_EQ(spec->tasks[8].task_type, "SUB_PROCESS");
  EXPECT_EQ(spec->tasks[8].sub_workflow_name, "loader");

  const TaskSpec& wait = spec->tasks[9];
  EXPECT_EQ(wait.task_type, "DEPENDENT");
  EXPECT_EQ(wait.depend_op, "AND");
  ASSERT_EQ(wait.depend_groups.size(), 2u);
  EXPECT_EQ(wait.depend_groups[0].op, "OR");
  const DependItemSpec& first = wait.depend_groups[0].items[0];
  EXPECT_EQ(first.project_name, "other");
  EXPECT_EQ(first.task_name, "extract");
  EXPECT_EQ(first.date_value, "lastWednesday");  // PyDolphinScheduler's constant, mapped
  EXPECT_EQ(first.cycle, "week");
  EXPECT_EQ(wait.depend_groups[0].items[1].date_value, "last24Hours");
  EXPECT_EQ(wait.depend_groups[0].items[1].cycle, "hour");
  EXPECT_EQ(wait.depend_groups[1].items[0].task_name, "");  // ALL: the whole workflow
  EXPECT_EQ(wait.depend_groups[1].items[0].date_value, "today");
  EXPECT_TRUE(HasReferences(*spec));
  EXPECT_FALSE(HasReferences(*ParseWorkflowYaml(kDocExample, TestContext())));
}

TEST(WorkflowYamlLogicTest, ResolvesNamesAndBuildsDolphinSchedulerTaskParams) {
  auto spec = ParseWorkflowYaml(kLogicExample, TestContext());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Status resolved = ResolveReferences(&*spec, TableResolver());
  ASSERT_TRUE(resolved.ok()) << resolved.ToString();
  auto form = BuildDefinitionForm(*spec, LogicCodes());
  std::map<std::string, std::string> f(form.begin(), form.end());
  json defs = json::parse(f["taskDefinitionJson"]);

  json cond = TaskNamed(defs, "cond");
  EXPECT_EQ(cond["taskType"], "CONDITIONS");
  EXPECT_EQ(cond["taskParams"]["conditionResult"],
            json::parse(R"({"successNode":[4],"failedNode":[5]})"));
  EXPECT_EQ(cond["taskParams"]["dependence"],
            json::parse(R"({"relation":"OR","dependTaskList":[
              {"relation":"AND","dependItemList":[{"depTaskCode":1,"status":"SUCCESS"},
                                                  {"depTaskCode":2,"status":"FAILURE"}]},
              {"relation":"AND","dependItemList":[{"depTaskCode":1,"status":"SUCCESS"}]}]})"));
  EXPECT_FALSE(cond["taskParams"].contains("rawScript"));

  json sw = TaskNamed(defs, "sw");
  EXPECT_EQ(sw["taskParams"]["switchResult"],
            json::parse(R"({"dependTaskList":[{"condition":"${n} > 10","nextNode":7}],"nextNode":8})"));
  EXPECT_EQ(TaskNamed(defs, "small")["taskGroupId"], 3);
  EXPECT_EQ(TaskNamed(defs, "small")["taskGroupPriority"], 2);
  EXPECT_EQ(TaskNamed(defs, "big")["taskGroupId"], 0);

  json child = TaskNamed(defs, "child");
  EXPECT_EQ(child["taskType"], "SUB_PROCESS");
  EXPECT_EQ(child["taskParams"]["processDefinitionCode"], 500);

  json wait = TaskNamed(defs, "wait");
  EXPECT_EQ(wait["taskType"], "DEPENDENT");
  EXPECT_EQ(wait["taskParams"]["dependence"],
            json::parse(R"({"relation":"AND","dependTaskList":[
              {"relation":"OR","dependItemList":[
                 {"projectCode":2,"definitionCode":600,"depTaskCode":601,"cycle":"week","dateValue":"lastWednesday"},
                 {"projectCode":1,"definitionCode":500,"depTaskCode":0,"cycle":"hour","dateValue":"last24Hours"}]},
              {"relation":"AND","dependItemList":[
                 {"projectCode":1,"definitionCode":500,"depTaskCode":0,"cycle":"day","dateValue":"today"}]}]})"));

  // Relations: the branch edges the parser added are there, each once.
  json rel = json::parse(f["taskRelationJson"]);
  auto has_edge = [&](int64_t pre, int64_t post) {
    int n = 0;
    for (const json& r : rel) n += r["preTaskCode"] == pre && r["postTaskCode"] == post;
    return n;
  };
  EXPECT_EQ(has_edge(1, 3), 1);
  EXPECT_EQ(has_edge(2, 3), 1);
  EXPECT_EQ(has_edge(3, 4), 1);
  EXPECT_EQ(has_edge(3, 5), 1);
  EXPECT_EQ(has_edge(6, 7), 1);
  EXPECT_EQ(has_edge(6, 8), 1);
  EXPECT_EQ(has_edge(4, 6), 1);
  EXPECT_EQ(has_edge(0, 10), 1);  // the Dependent task is a root
}

TEST(WorkflowYamlLogicTest, UnresolvedReferencesGoOutAsNull) {
  auto spec = ParseWorkflowYaml(kLogicExample, TestContext());
  ASSERT_TRUE(spec.ok());
  auto form = BuildDefinitionForm(*spec, LogicCodes());
  std::map<std::string, std::string> f(form.begin(), form.end());
  json defs = json::parse(f["taskDefinitionJson"]);
  EXPECT_TRUE(TaskNamed(defs, "child")["taskParams"]["processDefinitionCode"].is_null());
  EXPECT_TRUE(TaskNamed(defs, "wait")["taskParams"]["dependence"]["dependTaskList"][0]
                  ["dependItemList"][0]["definitionCode"]
                      .is_null());
}

TEST(WorkflowYamlLogicTest, UnresolvableNamesNameThePlace) {
  auto spec = ParseWorkflowYaml(kLogicExample, TestContext());
  ASSERT_TRUE(spec.ok());
  ReferenceResolver r = TableResolver();
  auto no_loader = r;
  no_loader.workflow_code = [](int64_t pc, const std::string& w) -> StatusOr<int64_t> {
    if (pc == 2 && w == "upstream") return int64_t{600};
    return NotFound("not found");
  };
  WorkflowSpec a = *spec;
  EXPECT_EQ(ResolveReferences(&a, no_loader).message(),
            "etl.yaml: tasks[8] (name 'child').workflow_name: workflow 'loader': not found");
  auto no_task = r;
  no_task.task_code = [](int64_t, int64_t, const std::string&) -> StatusOr<int64_t> {
    return NotFound("not found");
  };
  WorkflowSpec b = *spec;
  EXPECT_EQ(ResolveReferences(&b, no_task).message(),
            "etl.yaml: tasks[9] (name 'wait').groups[0].groups[0].dependent_task_name: task "
            "'extract' of workflow 'upstream': not found");
  auto no_project = r;
  no_project.project_code = [](const std::string& p) -> StatusOr<int64_t> {
    if (p.empty()) return int64_t{1};
    return NotFound("not found");
  };
  WorkflowSpec c = *spec;
  EXPECT_EQ(ResolveReferences(&c, no_project).message(),
            "etl.yaml: tasks[9] (name 'wait').groups[0].groups[0].project_name: project 'other': "
            "not found");
  WorkflowSpec d = *spec;
  EXPECT_THAT(ResolveReferences(&d, ReferenceResolver{}).message(),
              HasSubstr("tasks[8] (name 'child').workflow_name: "));
}

TEST(WorkflowYamlLogicTest, BadLogicTasksNameThePlace) {
  const std::string wf = "workflow:\n  name: w\ntasks:\n  - {name: a, task_type: Shell, command: e}\n";
  struct Case {
    std::string yaml, error;
  };
  const std::vector<Case> cases = {
      {wf + "  - {name: s, task_type: SubWorkflow}\n",
       "etl.yaml: tasks[1].workflow_name: missing"},
      {wf + "  - {name: s, task_type: SubWorkflow, workflow_name: w}\n",
       "etl.yaml: tasks[1] (name 's'): workflow_name names this workflow itself"},
      {wf + "  - {name: s, task_type: SubWorkflow, workflow_name: x, command: e}\n",
       "etl.yaml: tasks[1] (name 's'): unknown key 'command'"},
      {wf + "  - {name: d, task_type: Dependent}\n", "etl.yaml: tasks[1].groups: missing"},
      {wf + "  - {name: d, task_type: Dependent, op: XOR, groups: [{groups: [{workflow_name: x}]}]}\n",
       "etl.yaml: tasks[1].op: expected one of AND, OR, got 'XOR'"},
      {wf + "  - {name: d, task_type: Dependent, groups: [{groups: []}]}\n",
       "etl.yaml: tasks[1].groups[0].groups: expected a non-empty list, got a list"},
      {wf + "  - {name: d, task_type: Dependent, groups: [{groups: [{project_name: p}]}]}\n",
       "etl.yaml: tasks[1].groups[0].groups[0].workflow_name: missing"},
      {wf + "  - {name: d, task_type: Dependent, groups: [{groups: [{workflow_name: x, "
            "dependent_date: yesterday}]}]}\n",
       "etl.yaml: tasks[1].groups[0].groups[0].dependent_date: unknown date 'yesterday', expected "
       "one of"},
      {wf + "  - {name: d, task_type: Dependent, groups: [{groups: [{workflow_name: x, "
            "cycle: day}]}]}\n",
       "etl.yaml: tasks[1].groups[0].groups[0]: unknown key 'cycle'"},
      {wf + "  - {name: c, task_type: Condition, groups: [{groups: [{task: a}]}]}\n",
       "etl.yaml: tasks[1] (name 'c'): a Condition needs success_task or failed_task"},
      {wf + "  - {name: c, task_type: Condition, success_task: a, groups: [{groups: [{task: zz}]}]}\n",
       "etl.yaml: tasks[1] (name 'c'): groups[0].groups[0].task names unknown task 'zz'"},
      {wf + "  - {name: c, task_type: Condition, success_task: nope, groups: [{groups: [{task: a}]}]}\n",
       "etl.yaml: tasks[1] (name 'c'): success_task names unknown task 'nope'"},
      {wf + "  - {name: c, task_type: Condition, success_task: a, groups: [{groups: [{task: a}]}]}\n",
       "etl.yaml: tasks[1] (name 'c'): 'a' is both a branch and an upstream of this task"},
      {wf + "  - {name: c, task_type: Condition, failed_task: a, groups: [{groups: [{task: a, "
            "flag: maybe}]}]}\n",
       "etl.yaml: tasks[1].groups[0].groups[0].flag: expected true or false, got 'maybe'"},
      {wf + "  - {name: s, task_type: Switch}\n", "etl.yaml: tasks[1].condition: missing"},
      {wf + "  - {name: s, task_type: Switch, condition: [{condition: x > 1}]}\n",
       "etl.yaml: tasks[1].condition[0].task: missing"},
      {wf + "  - {name: s, task_type: Switch, condition: [{task: a}, {task: a}]}\n",
       "etl.yaml: tasks[1].condition[1]: a second default branch (without condition); 'a' is "
       "already the default"},
      {wf + "  - {name: s, task_type: Switch, condition: [{task: q, condition: x}]}\n",
       "etl.yaml: tasks[1] (name 's'): condition[].task names unknown task 'q'"},
      {wf + "  - {name: s, task_type: Switch, condition: [{task: s, condition: x}]}\n",
       "etl.yaml: tasks[1] (name 's'): condition[].task names the task itself"},
      {wf + "  - {name: g, task_type: Shell, command: e, task_group_id: -1}\n",
       "etl.yaml: tasks[1].task_group_id: expected a non-negative integer, got -1"},
  };
  for (const Case& c : cases) {
    std::string error = ErrorOf(c.yaml);
    EXPECT_THAT(error, HasSubstr(c.error)) << "input:\n" << c.yaml;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

TEST(WorkflowYamlTest, JoinPath) {
  EXPECT_EQ(JoinPath("", "a.sh"), "a.sh");
  EXPECT_EQ(JoinPath("dir", "a.sh"), "dir/a.sh");
  EXPECT_EQ(JoinPath("dir/", "a.sh"), "dir/a.sh");
  EXPECT_EQ(JoinPath("dir", "/abs/a.sh"), "/abs/a.sh");
}

}  // namespace
}  // namespace dsched::cli
