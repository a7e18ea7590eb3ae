#include "cli/client_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "cli/http_client.h"
#include "cli/watch_view.h"
#include "cli/workflow_yaml.h"
#include "common/time_format.h"

namespace dsched::cli {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kRequestTimeout{30000};
constexpr std::chrono::milliseconds kTriggerPoll{100};
constexpr std::chrono::milliseconds kTriggerWait{30000};
constexpr std::chrono::milliseconds kWatchPoll{200};
constexpr std::chrono::milliseconds kLogPoll{200};
// A watch survives a server restart of up to this long before giving up.
constexpr std::chrono::milliseconds kWatchOutage{30000};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
// Options shared by every client command.

struct CommonOptions {
  std::string server = "http://127.0.0.1:12345";
  std::string user = "admin";
  std::string password = "dolphinscheduler123";
  std::string token;
  std::string output = "table";
  std::string project;  // "" = the command's default
};

void AddCommonOptions(CLI::App* cmd, CommonOptions* o, bool with_project) {
  cmd->add_option("--server", o->server, "dsched server URL")
      ->envname("DSCHED_SERVER")
      ->capture_default_str();
  cmd->add_option("--user", o->user, "user name")->envname("DSCHED_USER")->capture_default_str();
  cmd->add_option("--password", o->password, "password")->envname("DSCHED_PASSWORD");
  cmd->add_option("--token", o->token, "access token (instead of user and password)")
      ->envname("DSCHED_TOKEN");
  cmd->add_option("-o,--output", o->output, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  if (with_project) {
    cmd->add_option("--project", o->project, "project name (default: \"default\")");
  }
}

// One command's connection to the server, plus lookups several commands share.
class Session {
 public:
  static StatusOr<std::unique_ptr<Session>> Create(const CommonOptions& o) {
    std::string url = o.server;
    while (!url.empty() && url.back() == '/') url.pop_back();
    const std::string kSuffix = "/dolphinscheduler";
    if (url.size() > kSuffix.size() &&
        url.compare(url.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
      url.resize(url.size() - kSuffix.size());
    }
    DSCHED_ASSIGN_OR_RETURN(auto http, BeastHttpClient::Create(url, kRequestTimeout));
    return std::unique_ptr<Session>(new Session(
        o, std::make_unique<ApiClient>(std::move(http), Credentials{o.user, o.password, o.token})));
  }

  ApiClient& api() { return *api_; }
  const CommonOptions& options() const { return options_; }
  bool json_output() const { return options_.output == "json"; }
  std::string ProjectName() const {
    return options_.project.empty() ? "default" : options_.project;
  }

  // The code of project `name`; creates it when missing and create is set.
  StatusOr<int64_t> ProjectCode(const std::string& name, bool create) {
    auto cached = project_codes_.find(name);
    if (cached != project_codes_.end()) return cached->second;
    DSCHED_ASSIGN_OR_RETURN(
        json page,
        api_->Get("/projects", {{"pageNo", "1"}, {"pageSize", "100"}, {"searchVal", name}}));
    std::optional<int64_t> code;
    if (page.is_object() && page.contains("totalList") && page["totalList"].is_array()) {
      for (const json& p : page["totalList"]) {
        if (p.value("name", "") == name) code = JsonToInt(p.value("code", json()));
      }
    }
    if (!code && !create) return NotFound("project '" + name + "' not found");
    if (!code) {
      DSCHED_ASSIGN_OR_RETURN(json created, api_->Post("/projects", {{"projectName", name},
                                                                     {"description", ""},
                                                                     {"userName", options_.user}}));
      code = JsonToInt(created.value("code", json()));
      if (!code) return Internal("creating project '" + name + "': the answer has no code");
      if (!json_output()) std::cout << "created project '" << name << "'\n";
    }
    project_codes_[name] = *code;
    return *code;
  }

  // The processDefinition of workflow `name`, or nullopt when the project has none.
  StatusOr<std::optional<json>> FindDefinition(int64_t project_code, const std::string& name) {
    DSCHED_ASSIGN_OR_RETURN(
        Envelope env,
        api_->Call("GET", ProjectPath(project_code) + "/process-definition/query-by-name",
                   {{"name", name}}));
    if (env.code != 0 || !env.data.is_object()) return std::optional<json>();
    json def = env.data.contains("processDefinition") ? env.data["processDefinition"] : env.data;
    if (!JsonToInt(def.value("code", json()))) return std::optional<json>();
    return std::optional<json>(def);
  }

  // Like FindDefinition, but a missing workflow is an error.
  StatusOr<json> GetDefinition(int64_t project_code, const std::string& name) {
    DSCHED_ASSIGN_OR_RETURN(auto def, FindDefinition(project_code, name));
    if (!def)
      return NotFound("workflow '" + name + "' not found in project '" + ProjectName() + "'");
    return *def;
  }

  static std::string ProjectPath(int64_t project_code) {
    return "/projects/" + std::to_string(project_code);
  }

 private:
  Session(CommonOptions o, std::unique_ptr<ApiClient> api)
      : options_(std::move(o)), api_(std::move(api)) {}

  CommonOptions options_;
  std::unique_ptr<ApiClient> api_;
  std::map<std::string, int64_t> project_codes_;
};

// Prints an error and turns it into the exit code.
int Report(const Status& s) {
  if (s.ok()) return 0;
  std::cerr << "error: " << s.message() << "\n";
  return 1;
}
int Report(const StatusOr<int>& s) { return s.ok() ? *s : Report(s.status()); }

void PrintJson(const json& j) { std::cout << j.dump(2) << "\n"; }

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  for (const std::string& line : FormatTable(headers, rows)) std::cout << line << "\n";
}

std::string Str(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? JsonToText(obj[key]) : "";
}

const json& TotalList(const json& page) {
  static const json kEmpty = json::array();
  if (page.is_object() && page.contains("totalList") && page["totalList"].is_array()) {
    return page["totalList"];
  }
  return kEmpty;
}

// ---------------------------------------------------------------------------------------------
// workflow run (also used by apply when the file says run: true)

struct RunOptions {
  std::vector<std::string> params;  // KEY=VALUE
  bool watch = false;
  std::string failure_strategy = "CONTINUE";
  std::vector<std::string> start_nodes;  // task names
  std::string task_depend_type = "TASK_POST";
  bool dry_run = false;
};

// Polls the instance until it ends, rendering as it goes. Returns the exit code: 0 for SUCCESS.
StatusOr<int> WatchInstance(Session& s, int64_t project_code, int64_t instance_id, bool quiet,
                            std::string* final_state) {
  const std::string base =
      Session::ProjectPath(project_code) + "/process-instances/" + std::to_string(instance_id);
  const bool tty = isatty(STDOUT_FILENO) == 1;
  const bool color = tty && std::getenv("NO_COLOR") == nullptr;
  int previous_lines = 0;
  std::optional<WatchModel> before;
  int64_t failing_since = 0;
  while (true) {
    auto instance = s.api().Get(base);
    auto tasks = instance.ok() ? s.api().Get(base + "/tasks") : instance;
    if (!instance.ok() || !tasks.ok()) {
      const Status& err = instance.ok() ? tasks.status() : instance.status();
      if (err.code() != StatusCode::kUnavailable) return err;
      if (failing_since == 0) failing_since = NowMs();
      if (NowMs() - failing_since > kWatchOutage.count()) return err;
      std::this_thread::sleep_for(kWatchPoll);
      continue;
    }
    failing_since = 0;
    WatchModel model = BuildWatchModel(*instance, *tasks, NowMs());
    if (!quiet) {
      if (tty) {
        std::vector<std::string> frame = RenderWatchFrame(model, color);
        std::cout << RedrawInPlace(previous_lines, frame) << std::flush;
        previous_lines = static_cast<int>(frame.size());
      } else {
        for (const std::string& line : WatchEvents(before ? &*before : nullptr, model)) {
          std::cout << line << "\n";
        }
        std::cout << std::flush;
      }
    }
    if (IsFinalWorkflowState(model.state)) {
      *final_state = model.state;
      return model.state == "SUCCESS" ? 0 : 1;
    }
    before = std::move(model);
    std::this_thread::sleep_for(kWatchPoll);
  }
}

// Starts workflow `definition` (a processDefinition object) and returns the exit code.
StatusOr<int> StartWorkflow(Session& s, int64_t project_code, const json& definition,
                            const RunOptions& o) {
  const std::string name = Str(definition, "name");
  const int64_t code = JsonToInt(definition.value("code", json())).value_or(0);
  const std::string base = Session::ProjectPath(project_code);

  json start_params = json::object();
  for (const std::string& p : o.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--param '" + p + "': expected KEY=VALUE");
    }
    start_params[p.substr(0, eq)] = p.substr(eq + 1);
  }

  std::string start_nodes;
  if (!o.start_nodes.empty()) {
    DSCHED_ASSIGN_OR_RETURN(json dag,
                            s.api().Get(base + "/process-definition/" + std::to_string(code)));
    std::map<std::string, int64_t> by_name;
    if (dag.contains("taskDefinitionList") && dag["taskDefinitionList"].is_array()) {
      for (const json& t : dag["taskDefinitionList"]) {
        by_name[Str(t, "name")] = JsonToInt(t.value("code", json())).value_or(0);
      }
    }
    for (const std::string& node : o.start_nodes) {
      auto it = by_name.find(node);
      if (it == by_name.end()) {
        return NotFound("--start-node: workflow '" + name + "' has no task '" + node + "'");
      }
      start_nodes += (start_nodes.empty() ? "" : ",") + std::to_string(it->second);
    }
  }

  const std::string now = FormatDateTime(NowMs());
  Params form = {
      {"processDefinitionCode", std::to_string(code)},
      {"scheduleTime", json{{"complementStartDate", now}, {"complementEndDate", now}}.dump()},
      {"failureStrategy", o.failure_strategy},
      {"warningType", "NONE"},
      {"warningGroupId", ""},
      {"execType", "START_PROCESS"},
      {"taskDependType", o.task_depend_type},
      {"startNodeList", start_nodes},
      {"complementDependentMode", "OFF_MODE"},
      {"runMode", "RUN_MODE_SERIAL"},
      {"processInstancePriority", "MEDIUM"},
      {"workerGroup", "default"},
      {"tenantCode", "default"},
      {"environmentCode", ""},
      {"startParams", o.params.empty() ? "" : start_params.dump()},
      {"dryRun", o.dry_run ? "1" : "0"},
      {"testFlag", "0"},
      {"allLevelDependent", "false"},
      {"executionOrder", "DESC_ORDER"},
  };
  if (auto version = JsonToInt(definition.value("version", json()))) {
    form.emplace_back("version", std::to_string(*version));
  }
  DSCHED_ASSIGN_OR_RETURN(json trigger_data,
                          s.api().Post(base + "/executors/start-process-instance", form));
  auto trigger = JsonToInt(trigger_data);
  if (!trigger) return Internal("start-process-instance answered no trigger code");

  std::optional<int64_t> instance_id;
  const int64_t deadline = NowMs() + kTriggerWait.count();
  while (!instance_id) {
    DSCHED_ASSIGN_OR_RETURN(json list, s.api().Get(base + "/process-instances/trigger",
                                                   {{"triggerCode", std::to_string(*trigger)}}));
    if (list.is_array() && !list.empty()) {
      instance_id = JsonToInt(list[0].value("id", json()));
      if (!instance_id) return Internal("the triggered instance has no id");
      break;
    }
    if (NowMs() > deadline) {
      return Unavailable("workflow '" + name + "' was triggered (trigger code " +
                         std::to_string(*trigger) + ") but no instance appeared within " +
                         std::to_string(kTriggerWait.count() / 1000) + " s");
    }
    std::this_thread::sleep_for(kTriggerPoll);
  }

  json result = {{"triggerCode", *trigger}, {"processInstanceId", *instance_id}};
  if (!s.json_output()) std::cout << "started instance " << *instance_id << "\n" << std::flush;
  int exit_code = 0;
  if (o.watch) {
    std::string state;
    DSCHED_ASSIGN_OR_RETURN(exit_code,
                            WatchInstance(s, project_code, *instance_id, s.json_output(), &state));
    result["state"] = state;
  }
  if (s.json_output()) PrintJson(result);
  return exit_code;
}

struct RunArgs {
  CommonOptions common;
  std::string name;
  RunOptions run;
};

StatusOr<int> RunCommand(const RunArgs& a) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(a.common));
  DSCHED_ASSIGN_OR_RETURN(int64_t pc, s->ProjectCode(s->ProjectName(), false));
  DSCHED_ASSIGN_OR_RETURN(json def, s->GetDefinition(pc, a.name));
  return StartWorkflow(*s, pc, def, a.run);
}

// ---------------------------------------------------------------------------------------------
// workflow apply

struct ApplyArgs {
  CommonOptions common;
  std::string file;
};

// Book-keeping across the files one `apply` reaches through $WORKFLOW{...}.
struct ApplyState {
  std::vector<std::string> stack;              // files being read, outermost first
  std::map<std::string, std::string> applied;  // file -> workflow name, applied already
};

class Applier {
 public:
  explicit Applier(Session& s) : s_(s) {}

  // Reads `path` and everything it references. check_only: parse and validate the whole tree,
  // touching nothing; otherwise apply the referenced workflows first, then this one.
  // Returns the workflow's name.
  StatusOr<std::string> Apply(const std::string& path, bool check_only) {
    std::error_code ec;
    std::string key = std::filesystem::weakly_canonical(path, ec).string();
    if (ec) key = path;
    if (!check_only) {
      auto done = state_.applied.find(key);
      if (done != state_.applied.end()) return done->second;
    }
    for (const std::string& open : state_.stack) {
      if (open == key) {
        std::string chain;
        for (const std::string& f : state_.stack) chain += f + " -> ";
        return InvalidArgument("$WORKFLOW references form a cycle: " + chain + key);
      }
    }
    state_.stack.push_back(key);
    auto name = ApplyOne(path, check_only);
    state_.stack.pop_back();
    if (name.ok() && !check_only) state_.applied[key] = *name;
    return name;
  }

  // Set after the top-level file was applied with run: true.
  std::optional<int> run_exit_code;

 private:
  StatusOr<std::string> ApplyOne(const std::string& path, bool check_only) {
    const CommonOptions& o = s_.options();
    YamlContext ctx;
    ctx.display_name = path;
    const std::string project = o.project.empty() ? "default" : o.project;
    const std::string worker_group = "default";
    ctx.config = {{"PROJECT", project},
                  {"WORKFLOW_PROJECT", project},
                  {"USER", o.user},
                  {"WORKFLOW_USER", o.user},
                  {"WORKER_GROUP", worker_group},
                  {"WORKFLOW_WORKER_GROUP", worker_group},
                  {"TENANT", "default"},
                  {"WORKFLOW_TENANT", "default"},
                  {"SERVER", o.server}};
    ctx.apply_workflow = [this, check_only](const std::string& other) {
      return Apply(other, check_only);
    };
    DSCHED_ASSIGN_OR_RETURN(WorkflowSpec spec, LoadWorkflowFile(path, ctx));
    if (check_only) return spec.name;
    DSCHED_RETURN_IF_ERROR(Push(spec));
    return spec.name;
  }

  Status Push(const WorkflowSpec& spec) {
    const std::string project = !s_.options().project.empty() ? s_.options().project
                                : !spec.project.empty()       ? spec.project
                                                              : "default";
    DSCHED_ASSIGN_OR_RETURN(int64_t pc, s_.ProjectCode(project, /*create=*/true));
    const std::string base = Session::ProjectPath(pc) + "/process-definition";
    DSCHED_ASSIGN_OR_RETURN(auto existing, s_.FindDefinition(pc, spec.name));

    // Tasks keep their codes across applies, so instance history stays attached to them.
    std::map<std::string, int64_t> codes;
    int64_t def_code = 0;
    if (existing) {
      def_code = JsonToInt(existing->value("code", json())).value_or(0);
      DSCHED_ASSIGN_OR_RETURN(json dag, s_.api().Get(base + "/" + std::to_string(def_code)));
      if (dag.contains("taskDefinitionList") && dag["taskDefinitionList"].is_array()) {
        for (const json& t : dag["taskDefinitionList"]) {
          if (auto c = JsonToInt(t.value("code", json()))) codes[Str(t, "name")] = *c;
        }
      }
    }
    for (auto it = codes.begin(); it != codes.end();) {  // drop tasks no longer in the file
      bool kept = false;
      for (const TaskSpec& t : spec.tasks) kept = kept || t.name == it->first;
      it = kept ? std::next(it) : codes.erase(it);
    }
    size_t missing = spec.tasks.size() - codes.size();
    if (missing > 0) {
      DSCHED_ASSIGN_OR_RETURN(
          json fresh, s_.api().Get(Session::ProjectPath(pc) + "/task-definition/gen-task-codes",
                                   {{"genNum", std::to_string(missing)}}));
      if (!fresh.is_array() || fresh.size() < missing) {
        return Internal("gen-task-codes answered " + fresh.dump());
      }
      size_t next = 0;
      for (const TaskSpec& t : spec.tasks) {
        if (!codes.count(t.name)) codes[t.name] = JsonToInt(fresh[next++]).value_or(0);
      }
    }

    // SubWorkflow and Dependent tasks name other workflows (and their tasks): their codes are
    // looked up now, so that a wrong name is an error of `apply`, not of a run next week.
    WorkflowSpec resolved = spec;
    if (HasReferences(spec)) {
      ReferenceResolver r;
      r.project_code = [&](const std::string& name) -> StatusOr<int64_t> {
        if (name.empty() || name == project) return pc;
        return s_.ProjectCode(name, /*create=*/false);
      };
      r.workflow_code = [&](int64_t p, const std::string& name) -> StatusOr<int64_t> {
        DSCHED_ASSIGN_OR_RETURN(auto def, s_.FindDefinition(p, name));
        auto code = def ? JsonToInt(def->value("code", json())) : std::nullopt;
        if (!code) return NotFound("no workflow '" + name + "'");
        return *code;
      };
      r.task_code = [&](int64_t p, int64_t wc, const std::string& name) -> StatusOr<int64_t> {
        DSCHED_ASSIGN_OR_RETURN(json dag, s_.api().Get(Session::ProjectPath(p) +
                                                       "/process-definition/" + std::to_string(wc)));
        if (dag.contains("taskDefinitionList") && dag["taskDefinitionList"].is_array()) {
          for (const json& t : dag["taskDefinitionList"])
            if (Str(t, "name") == name)
              if (auto c = JsonToInt(t.value("code", json()))) return *c;
        }
        return NotFound("no task '" + name + "'");
      };
      DSCHED_RETURN_IF_ERROR(ResolveReferences(&resolved, r));
    }
    Params form = BuildDefinitionForm(resolved, codes);
    json saved;
    if (existing) {
      const std::string path = base + "/" + std::to_string(def_code);
      if (Str(*existing, "releaseState") == "ONLINE") {
        DSCHED_RETURN_IF_ERROR(
            s_.api()
                .Post(path + "/release", {{"name", spec.name}, {"releaseState", "OFFLINE"}})
                .status());
      }
      form.emplace_back("releaseState", "OFFLINE");
      DSCHED_ASSIGN_OR_RETURN(saved, s_.api().Put(path, form));
    } else {
      DSCHED_ASSIGN_OR_RETURN(saved, s_.api().Post(base, form));
    }
    if (saved.is_object() && saved.contains("processDefinition")) {
      saved = json(saved["processDefinition"]);
    }
    if (!saved.is_object() || !JsonToInt(saved.value("code", json()))) {
      DSCHED_ASSIGN_OR_RETURN(saved, s_.GetDefinition(pc, spec.name));
    }
    def_code = JsonToInt(saved.value("code", json())).value_or(def_code);
    if (spec.online) {
      DSCHED_RETURN_IF_ERROR(s_.api()
                                 .Post(base + "/" + std::to_string(def_code) + "/release",
                                       {{"name", spec.name}, {"releaseState", "ONLINE"}})
                                 .status());
      saved["releaseState"] = "ONLINE";
    }
    const std::string version = Str(saved, "version");
    if (s_.json_output()) {
      PrintJson(saved);
    } else {
      std::cout << "applied workflow '" << spec.name << "' (code " << def_code << ", version "
                << (version.empty() ? "?" : version) << ") in project '" << project << "'\n";
    }
    if (!spec.schedule.empty()) {
      std::cerr << "note: workflow '" << spec.name
                << "': schedule is not applied by dsched's client yet\n";
    }
    if (spec.run) {
      DSCHED_ASSIGN_OR_RETURN(int code, StartWorkflow(s_, pc, saved, RunOptions{}));
      if (!run_exit_code || *run_exit_code == 0) run_exit_code = code;
    }
    return Status::Ok();
  }

  Session& s_;
  ApplyState state_;
};

StatusOr<int> ApplyCommand(const ApplyArgs& a) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(a.common));
  Applier applier(*s);
  // Validate the file and everything it references before changing anything on the server.
  DSCHED_RETURN_IF_ERROR(applier.Apply(a.file, /*check_only=*/true).status());
  DSCHED_RETURN_IF_ERROR(applier.Apply(a.file, /*check_only=*/false).status());
  return applier.run_exit_code.value_or(0);
}

// ---------------------------------------------------------------------------------------------
// workflow list

Status WorkflowListCommand(const CommonOptions& o) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(o));
  DSCHED_ASSIGN_OR_RETURN(int64_t pc, s->ProjectCode(s->ProjectName(), false));
  DSCHED_ASSIGN_OR_RETURN(json page,
                          s->api().Get(Session::ProjectPath(pc) + "/process-definition",
                                       {{"pageNo", "1"}, {"pageSize", "100"}, {"searchVal", ""}}));
  if (s->json_output()) {
    PrintJson(page);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& d : TotalList(page)) {
    rows.push_back({Str(d, "name"), Str(d, "code"), Str(d, "version"), Str(d, "releaseState"),
                    Str(d, "updateTime")});
  }
  PrintTable({"NAME", "CODE", "VERSION", "RELEASE STATE", "UPDATE TIME"}, rows);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// instance list / show / actions

struct InstanceArgs {
  CommonOptions common;
  std::string workflow;  // list filter
  int64_t id = 0;
};

Status InstanceListCommand(const InstanceArgs& a) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(a.common));
  DSCHED_ASSIGN_OR_RETURN(int64_t pc, s->ProjectCode(s->ProjectName(), false));
  Params query = {{"pageNo", "1"}, {"pageSize", "50"}};
  if (!a.workflow.empty()) {
    DSCHED_ASSIGN_OR_RETURN(json def, s->GetDefinition(pc, a.workflow));
    query.emplace_back("processDefineCode", Str(def, "code"));
  }
  DSCHED_ASSIGN_OR_RETURN(json page,
                          s->api().Get(Session::ProjectPath(pc) + "/process-instances", query));
  if (s->json_output()) {
    PrintJson(page);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& i : TotalList(page)) {
    rows.push_back({Str(i, "id"), Str(i, "name"), Str(i, "state"), Str(i, "startTime"),
                    Str(i, "endTime"), Str(i, "duration")});
  }
  PrintTable({"ID", "NAME", "STATE", "START TIME", "END TIME", "DURATION"}, rows);
  return Status::Ok();
}

Status InstanceShowCommand(const InstanceArgs& a) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(a.common));
  DSCHED_ASSIGN_OR_RETURN(int64_t pc, s->ProjectCode(s->ProjectName(), false));
  const std::string base = Session::ProjectPath(pc) + "/process-instances/" + std::to_string(a.id);
  DSCHED_ASSIGN_OR_RETURN(json instance, s->api().Get(base));
  DSCHED_ASSIGN_OR_RETURN(json tasks, s->api().Get(base + "/tasks"));
  if (s->json_output()) {
    PrintJson({{"instance", instance}, {"tasks", tasks}});
    return Status::Ok();
  }
  WatchModel model = BuildWatchModel(instance, tasks, NowMs());
  std::cout << "instance " << a.id << "  " << Str(instance, "name") << "\n";
  PrintTable({"", ""}, {{"workflow", model.workflow_name},
                        {"state", Str(instance, "state")},
                        {"command", Str(instance, "commandType")},
                        {"start time", Str(instance, "startTime")},
                        {"end time", Str(instance, "endTime")},
                        {"duration", Str(instance, "duration")},
                        {"host", Str(instance, "host")}});
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows;
  if (tasks.contains("taskList") && tasks["taskList"].is_array()) {
    for (const json& t : tasks["taskList"]) {
      rows.push_back({Str(t, "id"), Str(t, "name"), Str(t, "taskType"), Str(t, "state"),
                      std::to_string(JsonToInt(t.value("retryTimes", json())).value_or(0) + 1),
                      Str(t, "startTime"), Str(t, "endTime"), Str(t, "host")});
    }
  }
  PrintTable(
      {"TASK INSTANCE", "NAME", "TYPE", "STATE", "ATTEMPT", "START TIME", "END TIME", "HOST"},
      rows);
  return Status::Ok();
}

Status InstanceActionCommand(const InstanceArgs& a, const std::string& execute_type) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(a.common));
  DSCHED_ASSIGN_OR_RETURN(int64_t pc, s->ProjectCode(s->ProjectName(), false));
  DSCHED_ASSIGN_OR_RETURN(json data, s->api().Post(Session::ProjectPath(pc) + "/executors/execute",
                                                   {{"processInstanceId", std::to_string(a.id)},
                                                    {"executeType", execute_type}}));
  if (s->json_output()) {
    PrintJson(data);
  } else {
    std::cout << execute_type << " requested for instance " << a.id << "\n";
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// log

struct LogArgs {
  CommonOptions common;
  int64_t task_instance_id = 0;
  bool follow = false;
};

Status LogCommand(const LogArgs& a) {
  DSCHED_ASSIGN_OR_RETURN(auto s, Session::Create(a.common));
  int64_t skip = 0;
  int empty_polls = 0;
  while (true) {
    DSCHED_ASSIGN_OR_RETURN(
        json page,
        s->api().Get("/log/detail", {{"taskInstanceId", std::to_string(a.task_instance_id)},
                                     {"skipLineNum", std::to_string(skip)},
                                     {"limit", "1000"}}));
    std::string message = Str(page, "message");
    if (!message.empty()) {
      empty_polls = 0;
      if (s->json_output()) {
        std::cout << page.dump() << "\n";
      } else {
        std::string text;
        for (size_t i = 0; i < message.size(); ++i) {  // CRLF -> LF
          if (!(message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n')) {
            text.push_back(message[i]);
          }
        }
        if (text.back() != '\n') text.push_back('\n');
        std::cout << text;
      }
      std::cout << std::flush;
      int64_t lines = JsonToInt(page.value("lineNum", json())).value_or(0);
      if (lines <= 0) {  // a server that does not count: count ourselves
        lines = static_cast<int64_t>(std::count(message.begin(), message.end(), '\n'));
        if (message.back() != '\n') ++lines;
      }
      skip += lines;
      continue;
    }
    if (!a.follow) break;
    // Stop once the task is over and two polls in a row found nothing more to print.
    ++empty_polls;
    bool finished = page.is_object() && page.value("finished", false);
    if (finished && empty_polls >= 2) break;
    std::this_thread::sleep_for(kLogPoll);
  }
  return Status::Ok();
}

}  // namespace

void RegisterClientCommands(CLI::App& app, int* exit_code) {
  // --- workflow ---
  CLI::App* workflow = app.add_subcommand("workflow", "Workflow definitions: apply, list, run");
  workflow->require_subcommand(1);
  {
    auto a = std::make_shared<ApplyArgs>();
    CLI::App* c = workflow->add_subcommand(
        "apply", "Create or update a workflow from a PyDolphinScheduler YAML file");
    AddCommonOptions(c, &a->common, true);
    c->add_option("-f,--file", a->file, "the workflow YAML file")->required();
    c->callback([a, exit_code] { *exit_code = Report(ApplyCommand(*a)); });
  }
  {
    auto a = std::make_shared<CommonOptions>();
    CLI::App* c = workflow->add_subcommand("list", "List the workflows of a project");
    AddCommonOptions(c, a.get(), true);
    c->callback([a, exit_code] { *exit_code = Report(WorkflowListCommand(*a)); });
  }
  {
    auto a = std::make_shared<RunArgs>();
    CLI::App* c = workflow->add_subcommand("run", "Start an instance of a workflow");
    AddCommonOptions(c, &a->common, true);
    c->add_option("name", a->name, "workflow name")->required();
    c->add_option("--param", a->run.params, "KEY=VALUE start parameter (repeatable)")
        ->allow_extra_args(false);
    c->add_flag("--watch", a->run.watch, "follow the instance until it ends");
    c->add_option("--failure-strategy", a->run.failure_strategy, "on a failed task")
        ->check(CLI::IsMember({"END", "CONTINUE"}))
        ->capture_default_str();
    c->add_option("--start-node", a->run.start_nodes, "start from this task (repeatable)")
        ->allow_extra_args(false);
    c->add_option("--task-depend-type", a->run.task_depend_type,
                  "with --start-node: also run upstream (TASK_PRE) or downstream (TASK_POST)")
        ->check(CLI::IsMember({"TASK_ONLY", "TASK_PRE", "TASK_POST"}))
        ->capture_default_str();
    c->add_flag("--dry-run", a->run.dry_run, "go through the workflow without running tasks");
    c->callback([a, exit_code] { *exit_code = Report(RunCommand(*a)); });
  }

  // --- instance ---
  CLI::App* instance = app.add_subcommand("instance", "Workflow instances: list, show, control");
  instance->require_subcommand(1);
  {
    auto a = std::make_shared<InstanceArgs>();
    CLI::App* c = instance->add_subcommand("list", "List recent workflow instances");
    AddCommonOptions(c, &a->common, true);
    c->add_option("--workflow", a->workflow, "only instances of this workflow");
    c->callback([a, exit_code] { *exit_code = Report(InstanceListCommand(*a)); });
  }
  {
    auto a = std::make_shared<InstanceArgs>();
    CLI::App* c = instance->add_subcommand("show", "Show an instance and its task instances");
    AddCommonOptions(c, &a->common, true);
    c->add_option("id", a->id, "workflow instance id")->required();
    c->callback([a, exit_code] { *exit_code = Report(InstanceShowCommand(*a)); });
  }
  const std::vector<std::pair<std::string, std::string>> actions = {
      {"stop", "STOP"},
      {"pause", "PAUSE"},
      {"resume", "RECOVER_SUSPENDED_PROCESS"},
      {"rerun", "REPEAT_RUNNING"},
      {"recover-failed", "START_FAILURE_TASK_PROCESS"}};
  for (const auto& [command, execute_type] : actions) {
    auto a = std::make_shared<InstanceArgs>();
    CLI::App* c = instance->add_subcommand(command, "Request " + execute_type + " of an instance");
    AddCommonOptions(c, &a->common, true);
    c->add_option("id", a->id, "workflow instance id")->required();
    c->callback([a, exit_code, type = execute_type] {
      *exit_code = Report(InstanceActionCommand(*a, type));
    });
  }

  // --- log ---
  {
    auto a = std::make_shared<LogArgs>();
    CLI::App* c = app.add_subcommand("log", "Print a task instance's log");
    AddCommonOptions(c, &a->common, false);
    c->add_option("task_instance_id", a->task_instance_id, "task instance id")->required();
    c->add_flag("-f,--follow", a->follow, "keep printing until the task instance ends");
    c->callback([a, exit_code] { *exit_code = Report(LogCommand(*a)); });
  }
}

}  // namespace dsched::cli
