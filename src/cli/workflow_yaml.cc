#include "cli/workflow_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace dsched::cli {
namespace {

using ojson = nlohmann::ordered_json;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

// How an unexpected value is shown in "expected X, got Y".
std::string Describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    default:
      return "nothing";
  }
}

StatusOr<std::string> ReadRealFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Task types PyDolphinScheduler knows and dsched does not run yet.
const std::set<std::string>& UnsupportedTaskTypes() {
  // clang-format off
  static const std::set<std::string> kTypes = {
      "Sql", "Procedure", "Http", "Spark", "Flink", "MR", "MapReduce", "DataX", "CustomDataX",
      "Sqoop", "Pytorch", "OpenMLDB", "SageMaker", "Kubernetes", "K8S", "DVCInit", "DVCUpload",
      "DVCDownload", "MLflowModels", "MLFlowProjectsCustom", "MLFlowProjectsAutoML",
      "MLFlowProjectsBasicAlgorithm", "Datasync", "DMS", "EMR", "Seatunnel", "Chunjun",
      "Zeppelin", "Jupyter", "Linkis", "Kubeflow", "HiveCli", "Java", "RemoteShell", "Dinky",
      "DataFactory"};
  // clang-format on
  return kTypes;
}

const std::vector<std::string> kCommonTaskKeys = {"name",
                                                  "task_type",
                                                  "description",
                                                  "deps",
                                                  "flag",
                                                  "task_priority",
                                                  "delay_time",
                                                  "fail_retry_times",
                                                  "fail_retry_interval",
                                                  "timeout",
                                                  "timeout_flag",
                                                  "timeout_notify_strategy",
                                                  "worker_group",
                                                  "environment_name",
                                                  "local_params",
                                                  "resource_list",
                                                  "task_group_id",
                                                  "task_group_priority"};

// DolphinScheduler's dependent dateValues with their cycle. A file may also spell them as
// PyDolphinScheduler's constants (LAST_WEDNESDAY, LAST_ONE_DAYS): see DateValue().
struct DateValue {
  const char* value;
  const char* cycle;
};
constexpr DateValue kDateValues[] = {
    {"currentHour", "hour"},  {"last1Hour", "hour"},      {"last2Hours", "hour"},
    {"last3Hours", "hour"},   {"last24Hours", "hour"},    {"today", "day"},
    {"last1Days", "day"},     {"last2Days", "day"},       {"last3Days", "day"},
    {"last7Days", "day"},     {"thisWeek", "week"},       {"lastWeek", "week"},
    {"lastMonday", "week"},   {"lastTuesday", "week"},    {"lastWednesday", "week"},
    {"lastThursday", "week"}, {"lastFriday", "week"},     {"lastSaturday", "week"},
    {"lastSunday", "week"},   {"thisMonth", "month"},     {"thisMonthBegin", "month"},
    {"lastMonth", "month"},   {"lastMonthBegin", "month"}, {"lastMonthEnd", "month"}};

// Upper case without '_', number words as digits: lastWednesday, LAST_WEDNESDAY and
// last_wednesday all become LASTWEDNESDAY; LAST_ONE_DAYS and last1Days become LAST1DAYS.
std::string NormalizeDate(const std::string& v) {
  std::string up;
  for (char c : v)
    if (c != '_' && c != ' ') up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::pair<const char*, const char*> kWords[] = {
      {"TWENTYFOUR", "24"}, {"SEVEN", "7"}, {"THREE", "3"}, {"TWO", "2"}, {"ONE", "1"}};
  for (const auto& [word, digits] : kWords) {
    size_t at = up.find(word);
    if (at != std::string::npos) up.replace(at, std::strlen(word), digits);
  }
  return up;
}

const DateValue* FindDateValue(const std::string& v) {
  std::string n = NormalizeDate(v);
  for (const DateValue& d : kDateValues)
    if (NormalizeDate(d.value) == n) return &d;
  return nullptr;
}

const std::vector<std::string> kWorkflowKeys = {
    "name",       "description",    "project",       "schedule",
    "start_time", "end_time",       "timezone",      "release_state",
    "run",        "param",          "tenant",        "user",
    "queue",      "worker_group",   "warning_type",  "warning_group_id",
    "timeout",    "execution_type", "resource_list", "resource_plugin"};

class Parser {
 public:
  explicit Parser(const YamlContext& ctx) : ctx_(ctx) {}

  StatusOr<WorkflowSpec> Parse(const std::string& text) {
    YAML::Node raw;
    try {
      raw = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return InvalidArgument(ctx_.display_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                             std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (!raw.IsDefined() || raw.IsNull()) return Fail("", "the file is empty");
    if (!raw.IsMap()) {
      return Fail("", "expected a map with keys 'workflow' and 'tasks', got " + Describe(raw));
    }
    DSCHED_ASSIGN_OR_RETURN(YAML::Node root, Substitute(raw, ""));
    DSCHED_RETURN_IF_ERROR(CheckKeys(root, "", {"workflow", "tasks"}));

    WorkflowSpec spec;
    spec.source = ctx_.display_name;
    YAML::Node wf = root["workflow"];
    if (!wf.IsDefined() || wf.IsNull()) return Fail("workflow", "missing");
    if (!wf.IsMap()) return Fail("workflow", "expected a map, got " + Describe(wf));
    DSCHED_RETURN_IF_ERROR(ParseWorkflow(wf, &spec));

    YAML::Node tasks = root["tasks"];
    if (!tasks.IsDefined() || tasks.IsNull()) return Fail("tasks", "missing");
    if (!tasks.IsSequence() || tasks.size() == 0) {
      return Fail("tasks", "expected a non-empty list, got " + Describe(tasks));
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      TaskSpec task;
      DSCHED_RETURN_IF_ERROR(ParseTask(tasks[i], "tasks[" + std::to_string(i) + "]", &task));
      spec.tasks.push_back(std::move(task));
    }
    DSCHED_RETURN_IF_ERROR(CheckGraph(spec));
    return spec;
  }

 private:
  Status Fail(const std::string& place, const std::string& what) const {
    return InvalidArgument(ctx_.display_name + ": " + (place.empty() ? "" : place + ": ") + what);
  }

  // --- substitutions -------------------------------------------------------------------------

  // A copy of n with every string scalar substituted; place names n for messages.
  StatusOr<YAML::Node> Substitute(const YAML::Node& n, const std::string& place) {
    switch (n.Type()) {
      case YAML::NodeType::Scalar: {
        const std::string& s = n.Scalar();
        if (s.find('$') == std::string::npos) return n;
        DSCHED_ASSIGN_OR_RETURN(std::string out, SubstituteString(s, place));
        return out == s ? n : YAML::Node(out);
      }
      case YAML::NodeType::Sequence: {
        YAML::Node out(YAML::NodeType::Sequence);
        for (size_t i = 0; i < n.size(); ++i) {
          DSCHED_ASSIGN_OR_RETURN(YAML::Node child,
                                  Substitute(n[i], place + "[" + std::to_string(i) + "]"));
          out.push_back(child);
        }
        return out;
      }
      case YAML::NodeType::Map: {
        YAML::Node out(YAML::NodeType::Map);
        for (const auto& kv : n) {
          std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
          DSCHED_ASSIGN_OR_RETURN(YAML::Node child,
                                  Substitute(kv.second, place.empty() ? key : place + "." + key));
          out[kv.first] = child;
        }
        return out;
      }
      default:
        return n;
    }
  }

  // Reads `"path"}` at s[pos...]: the quoted argument of $FILE{ / $WORKFLOW{.
  static std::optional<std::string> QuotedArg(const std::string& s, size_t pos, size_t* end) {
    if (pos >= s.size() || s[pos] != '"') return std::nullopt;
    size_t close = s.find("\"}", pos + 1);
    if (close == std::string::npos) return std::nullopt;
    *end = close + 2;
    return s.substr(pos + 1, close - pos - 1);
  }

  StatusOr<std::string> SubstituteString(const std::string& s, const std::string& place) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] != '$') {
        out.push_back(s[i++]);
        continue;
      }
      auto starts = [&](const char* prefix) {
        return s.compare(i, std::strlen(prefix), prefix) == 0;
      };
      if (starts("$FILE{")) {
        size_t end = 0;
        auto arg = QuotedArg(s, i + 6, &end);
        if (!arg) return Fail(place, "malformed $FILE: expected $FILE{\"path\"}");
        std::string path = JoinPath(ctx_.base_dir, *arg);
        auto content = ctx_.read_file ? ctx_.read_file(path) : ReadRealFile(path);
        if (!content.ok()) {
          return Fail(place, "$FILE{\"" + *arg + "\"}: " + content.status().message());
        }
        out += *content;
        i = end;
      } else if (starts("$WORKFLOW{")) {
        size_t end = 0;
        auto arg = QuotedArg(s, i + 10, &end);
        if (!arg) return Fail(place, "malformed $WORKFLOW: expected $WORKFLOW{\"file.yaml\"}");
        if (!ctx_.apply_workflow) {
          return Fail(place, "$WORKFLOW{\"" + *arg + "\"} cannot be used here");
        }
        auto name = ctx_.apply_workflow(JoinPath(ctx_.base_dir, *arg));
        if (!name.ok()) {
          return Fail(place, "$WORKFLOW{\"" + *arg + "\"}: " + name.status().message());
        }
        out += *name;
        i = end;
      } else if (starts("$ENV{")) {
        size_t close = s.find('}', i + 5);
        if (close == std::string::npos || close == i + 5) {
          return Fail(place, "malformed $ENV: expected $ENV{NAME}");
        }
        std::string name = s.substr(i + 5, close - i - 5);
        std::optional<std::string> value;
        if (ctx_.get_env) {
          value = ctx_.get_env(name);
        } else if (const char* v = std::getenv(name.c_str())) {
          value = v;
        }
        if (!value) return Fail(place, "environment variable '" + name + "' is not set");
        out += *value;
        i = close + 1;
      } else if (starts("${CONFIG.")) {
        size_t close = s.find('}', i + 9);
        if (close == std::string::npos) return Fail(place, "malformed ${CONFIG.KEY}: missing '}'");
        std::string key = s.substr(i + 9, close - i - 9);
        auto it = ctx_.config.find(key);
        if (it == ctx_.config.end()) {
          std::vector<std::string> known;
          for (const auto& [k, v] : ctx_.config) known.push_back(k);
          return Fail(place, "unknown config key '" + key + "' in ${CONFIG." + key +
                                 "} (known: " + Join(known, ", ") + ")");
        }
        out += it->second;
        i = close + 1;
      } else {
        out.push_back(s[i++]);  // ${param}, $[date], ... are runtime parameters: left as is
      }
    }
    return out;
  }

  // --- typed access --------------------------------------------------------------------------

  Status CheckKeys(const YAML::Node& map, const std::string& place,
                   const std::vector<std::string>& allowed) const {
    for (const auto& kv : map) {
      std::string key = kv.first.IsScalar() ? kv.first.Scalar() : Describe(kv.first);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return Fail(place, "unknown key '" + key + "'");
      }
    }
    return Status::Ok();
  }

  static std::string Field(const std::string& place, const std::string& key) {
    return place.empty() ? key : place + "." + key;
  }

  // nullopt when the key is absent or null.
  StatusOr<std::optional<std::string>> OptString(const YAML::Node& map, const std::string& key,
                                                 const std::string& place) const {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return std::optional<std::string>();
    if (!n.IsScalar()) return Fail(Field(place, key), "expected a string, got " + Describe(n));
    return std::optional<std::string>(n.Scalar());
  }

  Status GetString(const YAML::Node& map, const std::string& key, const std::string& place,
                   std::string* out) const {
    DSCHED_ASSIGN_OR_RETURN(auto v, OptString(map, key, place));
    if (v) *out = *v;
    return Status::Ok();
  }

  Status GetInt(const YAML::Node& map, const std::string& key, const std::string& place,
                int64_t* out) const {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return Status::Ok();
    std::string s = n.IsScalar() ? n.Scalar() : "";
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!n.IsScalar() || s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      return Fail(Field(place, key), "expected an integer, got " + Describe(n));
    }
    if (v < 0) return Fail(Field(place, key), "expected a non-negative integer, got " + s);
    *out = v;
    return Status::Ok();
  }

  Status GetBool(const YAML::Node& map, const std::string& key, const std::string& place,
                 std::optional<bool>* out) const {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return Status::Ok();
    std::string s = n.IsScalar() ? Upper(n.Scalar()) : "";
    if (s == "TRUE" || s == "YES" || s == "ON") {
      *out = true;
    } else if (s == "FALSE" || s == "NO" || s == "OFF") {
      *out = false;
    } else {
      return Fail(Field(place, key), "expected true or false, got " + Describe(n));
    }
    return Status::Ok();
  }

  // One of `allowed` (compared case-insensitively; stored upper-case).
  Status GetEnum(const YAML::Node& map, const std::string& key, const std::string& place,
                 const std::vector<std::string>& allowed, std::string* out) const {
    DSCHED_ASSIGN_OR_RETURN(auto v, OptString(map, key, place));
    if (!v) return Status::Ok();
    std::string up = Upper(*v);
    if (std::find(allowed.begin(), allowed.end(), up) == allowed.end()) {
      return Fail(Field(place, key),
                  "expected one of " + Join(allowed, ", ") + ", got '" + *v + "'");
    }
    *out = up;
    return Status::Ok();
  }

  Status GetStringList(const YAML::Node& map, const std::string& key, const std::string& place,
                       std::vector<std::string>* out) const {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return Status::Ok();
    if (!n.IsSequence()) return Fail(Field(place, key), "expected a list, got " + Describe(n));
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) {
        return Fail(Field(place, key) + "[" + std::to_string(i) + "]",
                    "expected a string, got " + Describe(n[i]));
      }
      out->push_back(n[i].Scalar());
    }
    return Status::Ok();
  }

  // --- the document --------------------------------------------------------------------------

  Status ParseWorkflow(const YAML::Node& wf, WorkflowSpec* spec) {
    DSCHED_RETURN_IF_ERROR(CheckKeys(wf, "workflow", kWorkflowKeys));
    DSCHED_ASSIGN_OR_RETURN(auto name, OptString(wf, "name", "workflow"));
    if (!name || name->empty()) return Fail("workflow.name", "missing");
    spec->name = *name;
    DSCHED_RETURN_IF_ERROR(GetString(wf, "description", "workflow", &spec->description));
    DSCHED_RETURN_IF_ERROR(GetString(wf, "project", "workflow", &spec->project));
    DSCHED_RETURN_IF_ERROR(GetString(wf, "worker_group", "workflow", &spec->worker_group));
    DSCHED_RETURN_IF_ERROR(GetString(wf, "schedule", "workflow", &spec->schedule));
    for (const char* key : {"start_time", "end_time", "timezone", "tenant", "user", "queue",
                            "warning_type", "resource_plugin"}) {
      std::string ignored;
      DSCHED_RETURN_IF_ERROR(GetString(wf, key, "workflow", &ignored));
    }
    int64_t ignored_int = 0;
    DSCHED_RETURN_IF_ERROR(GetInt(wf, "warning_group_id", "workflow", &ignored_int));
    DSCHED_RETURN_IF_ERROR(GetInt(wf, "timeout", "workflow", &spec->timeout));
    DSCHED_RETURN_IF_ERROR(GetEnum(wf, "execution_type", "workflow",
                                   {"PARALLEL", "SERIAL_WAIT", "SERIAL_DISCARD", "SERIAL_PRIORITY"},
                                   &spec->execution_type));
    std::string release = "ONLINE";
    DSCHED_RETURN_IF_ERROR(
        GetEnum(wf, "release_state", "workflow", {"ONLINE", "OFFLINE"}, &release));
    spec->online = release == "ONLINE";
    std::optional<bool> run;
    DSCHED_RETURN_IF_ERROR(GetBool(wf, "run", "workflow", &run));
    spec->run = run.value_or(false);

    YAML::Node params = wf["param"];
    if (params.IsDefined() && !params.IsNull()) {
      if (!params.IsMap()) return Fail("workflow.param", "expected a map, got " + Describe(params));
      for (const auto& kv : params) {
        std::string key = kv.first.Scalar();
        if (!kv.second.IsNull() && !kv.second.IsScalar()) {
          return Fail("workflow.param." + key, "expected a value, got " + Describe(kv.second));
        }
        spec->params.emplace_back(key, kv.second.IsNull() ? "" : kv.second.Scalar());
      }
    }
    return Status::Ok();
  }

  Status ParseTask(const YAML::Node& t, const std::string& index_place, TaskSpec* task) {
    if (!t.IsMap()) return Fail(index_place, "expected a map, got " + Describe(t));
    DSCHED_ASSIGN_OR_RETURN(auto name, OptString(t, "name", index_place));
    if (!name || name->empty()) return Fail(index_place + ".name", "missing");
    task->name = *name;
    const std::string place = index_place + " (name '" + task->name + "')";

    DSCHED_ASSIGN_OR_RETURN(auto type, OptString(t, "task_type", index_place));
    if (!type || type->empty()) return Fail(index_place + ".task_type", "missing");
    std::vector<std::string> keys = kCommonTaskKeys;
    std::string script_key;
    if (*type == "Shell") {
      task->task_type = "SHELL";
      script_key = "command";
    } else if (*type == "Python") {
      task->task_type = "PYTHON";
      script_key = "definition";
    } else if (*type == "SubWorkflow" || *type == "SubProcess") {
      task->task_type = "SUB_PROCESS";
      keys.push_back("workflow_name");
    } else if (*type == "Dependent") {
      task->task_type = "DEPENDENT";
      keys.insert(keys.end(), {"op", "groups"});
    } else if (*type == "Condition" || *type == "Conditions") {
      task->task_type = "CONDITIONS";
      keys.insert(keys.end(), {"op", "groups", "success_task", "failed_task"});
    } else if (*type == "Switch") {
      task->task_type = "SWITCH";
      keys.push_back("condition");
    } else if (UnsupportedTaskTypes().count(*type)) {
      return Fail(place, "task_type '" + *type +
                             "' is not supported yet (dsched runs Shell, Python, SubWorkflow, "
                             "Dependent, Condition and Switch)");
    } else {
      return Fail(place, "unknown task_type '" + *type + "'");
    }
    if (!script_key.empty()) keys.push_back(script_key);
    DSCHED_RETURN_IF_ERROR(CheckKeys(t, place, keys));

    if (!script_key.empty()) {
      DSCHED_ASSIGN_OR_RETURN(auto script, OptString(t, script_key, index_place));
      if (!script || script->find_first_not_of(" \t\r\n") == std::string::npos) {
        return Fail(index_place + "." + script_key, "missing");
      }
      task->raw_script = *script;
    }
    DSCHED_RETURN_IF_ERROR(ParseLogic(t, index_place, task));

    DSCHED_RETURN_IF_ERROR(GetString(t, "description", index_place, &task->description));
    DSCHED_RETURN_IF_ERROR(GetStringList(t, "deps", index_place, &task->deps));
    DSCHED_RETURN_IF_ERROR(GetEnum(t, "flag", index_place, {"YES", "NO"}, &task->flag));
    DSCHED_RETURN_IF_ERROR(GetEnum(t, "task_priority", index_place,
                                   {"HIGHEST", "HIGH", "MEDIUM", "LOW", "LOWEST"},
                                   &task->task_priority));
    DSCHED_RETURN_IF_ERROR(GetInt(t, "delay_time", index_place, &task->delay_time));
    DSCHED_RETURN_IF_ERROR(GetInt(t, "fail_retry_times", index_place, &task->fail_retry_times));
    DSCHED_RETURN_IF_ERROR(
        GetInt(t, "fail_retry_interval", index_place, &task->fail_retry_interval));
    DSCHED_RETURN_IF_ERROR(GetInt(t, "timeout", index_place, &task->timeout));
    std::optional<bool> timeout_flag;
    DSCHED_RETURN_IF_ERROR(GetBool(t, "timeout_flag", index_place, &timeout_flag));
    // As PyDolphinScheduler: a timeout switches the check on unless the file says otherwise.
    task->timeout_flag = timeout_flag.value_or(task->timeout > 0);
    std::string strategy = "WARN";
    DSCHED_RETURN_IF_ERROR(GetEnum(t, "timeout_notify_strategy", index_place,
                                   {"WARN", "FAILED", "WARNFAILED"}, &strategy));
    task->timeout_notify_strategy = task->timeout_flag ? strategy : "";
    DSCHED_RETURN_IF_ERROR(GetString(t, "worker_group", index_place, &task->worker_group));
    DSCHED_ASSIGN_OR_RETURN(auto env_name, OptString(t, "environment_name", index_place));
    if (env_name) return Fail(index_place + ".environment_name", "not supported yet");
    DSCHED_RETURN_IF_ERROR(GetStringList(t, "resource_list", index_place, &task->resource_list));
    DSCHED_RETURN_IF_ERROR(GetInt(t, "task_group_id", index_place, &task->task_group_id));
    DSCHED_RETURN_IF_ERROR(
        GetInt(t, "task_group_priority", index_place, &task->task_group_priority));

    YAML::Node lp = t["local_params"];
    if (lp.IsDefined() && !lp.IsNull()) {
      const std::string lp_place = index_place + ".local_params";
      if (!lp.IsSequence()) return Fail(lp_place, "expected a list, got " + Describe(lp));
      for (size_t i = 0; i < lp.size(); ++i) {
        const std::string p = lp_place + "[" + std::to_string(i) + "]";
        if (!lp[i].IsMap()) return Fail(p, "expected a map, got " + Describe(lp[i]));
        DSCHED_RETURN_IF_ERROR(CheckKeys(lp[i], p, {"prop", "direct", "type", "value"}));
        LocalParam param;
        DSCHED_ASSIGN_OR_RETURN(auto prop, OptString(lp[i], "prop", p));
        if (!prop || prop->empty()) return Fail(p + ".prop", "missing");
        param.prop = *prop;
        DSCHED_RETURN_IF_ERROR(GetEnum(lp[i], "direct", p, {"IN", "OUT"}, &param.direct));
        DSCHED_RETURN_IF_ERROR(GetEnum(lp[i], "type", p,
                                       {"VARCHAR", "INTEGER", "LONG", "FLOAT", "DOUBLE", "DATE",
                                        "TIME", "TIMESTAMP", "BOOLEAN", "LIST", "FILE"},
                                       &param.type));
        DSCHED_RETURN_IF_ERROR(GetString(lp[i], "value", p, &param.value));
        task->local_params.push_back(std::move(param));
      }
    }
    return Status::Ok();
  }

  // "AND" or "OR" (any case); AND when absent.
  Status GetOp(const YAML::Node& map, const std::string& place, std::string* out) const {
    *out = "AND";
    return GetEnum(map, "op", place, {"AND", "OR"}, out);
  }

  // A non-empty list of maps at map[key].
  StatusOr<YAML::Node> MapList(const YAML::Node& map, const std::string& key,
                               const std::string& place) const {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return Fail(Field(place, key), "missing");
    if (!n.IsSequence() || n.size() == 0)
      return Fail(Field(place, key), "expected a non-empty list, got " + Describe(n));
    for (size_t i = 0; i < n.size(); ++i)
      if (!n[i].IsMap())
        return Fail(Field(place, key) + "[" + std::to_string(i) + "]",
                    "expected a map, got " + Describe(n[i]));
    return n;
  }

  // A task name or a list of them (success_task / failed_task).
  Status GetNames(const YAML::Node& map, const std::string& key, const std::string& place,
                  std::vector<std::string>* out) const {
    YAML::Node n = map[key];
    if (n.IsDefined() && n.IsScalar()) {
      if (!n.Scalar().empty()) out->push_back(n.Scalar());
      return Status::Ok();
    }
    return GetStringList(map, key, place, out);
  }

  // The fields of the logic task types (SubWorkflow, Dependent, Condition, Switch).
  Status ParseLogic(const YAML::Node& t, const std::string& place, TaskSpec* task) {
    if (task->task_type == "SUB_PROCESS") {
      DSCHED_ASSIGN_OR_RETURN(auto wf, OptString(t, "workflow_name", place));
      if (!wf || wf->empty()) return Fail(place + ".workflow_name", "missing");
      task->sub_workflow_name = *wf;
    } else if (task->task_type == "DEPENDENT") {
      DSCHED_RETURN_IF_ERROR(GetOp(t, place, &task->depend_op));
      DSCHED_ASSIGN_OR_RETURN(YAML::Node groups, MapList(t, "groups", place));
      for (size_t g = 0; g < groups.size(); ++g) {
        const std::string gp = place + ".groups[" + std::to_string(g) + "]";
        DSCHED_RETURN_IF_ERROR(CheckKeys(groups[g], gp, {"op", "groups"}));
        DependGroupSpec group;
        DSCHED_RETURN_IF_ERROR(GetOp(groups[g], gp, &group.op));
        DSCHED_ASSIGN_OR_RETURN(YAML::Node items, MapList(groups[g], "groups", gp));
        for (size_t i = 0; i < items.size(); ++i) {
          const std::string ip = gp + ".groups[" + std::to_string(i) + "]";
          DSCHED_RETURN_IF_ERROR(CheckKeys(
              items[i], ip,
              {"project_name", "workflow_name", "dependent_task_name", "dependent_date"}));
          DependItemSpec item;
          item.place = ip;
          DSCHED_RETURN_IF_ERROR(GetString(items[i], "project_name", ip, &item.project_name));
          DSCHED_ASSIGN_OR_RETURN(auto wf, OptString(items[i], "workflow_name", ip));
          if (!wf || wf->empty()) return Fail(ip + ".workflow_name", "missing");
          item.workflow_name = *wf;
          DSCHED_RETURN_IF_ERROR(GetString(items[i], "dependent_task_name", ip, &item.task_name));
          if (item.task_name == "ALL" || item.task_name == "0") item.task_name.clear();
          std::string date = "today";
          DSCHED_RETURN_IF_ERROR(GetString(items[i], "dependent_date", ip, &date));
          const DateValue* dv = FindDateValue(date);
          if (!dv) {
            std::vector<std::string> known;
            for (const DateValue& d : kDateValues) known.push_back(d.value);
            return Fail(ip + ".dependent_date",
                        "unknown date '" + date + "', expected one of " + Join(known, ", "));
          }
          item.date_value = dv->value;
          item.cycle = dv->cycle;
          group.items.push_back(std::move(item));
        }
        task->depend_groups.push_back(std::move(group));
      }
    } else if (task->task_type == "CONDITIONS") {
      DSCHED_RETURN_IF_ERROR(GetOp(t, place, &task->condition_op));
      DSCHED_RETURN_IF_ERROR(GetNames(t, "success_task", place, &task->success_tasks));
      DSCHED_RETURN_IF_ERROR(GetNames(t, "failed_task", place, &task->failed_tasks));
      if (task->success_tasks.empty() && task->failed_tasks.empty())
        return Fail(place + " (name '" + task->name + "')",
                    "a Condition needs success_task or failed_task");
      DSCHED_ASSIGN_OR_RETURN(YAML::Node groups, MapList(t, "groups", place));
      for (size_t g = 0; g < groups.size(); ++g) {
        const std::string gp = place + ".groups[" + std::to_string(g) + "]";
        DSCHED_RETURN_IF_ERROR(CheckKeys(groups[g], gp, {"op", "groups"}));
        ConditionGroupSpec group;
        DSCHED_RETURN_IF_ERROR(GetOp(groups[g], gp, &group.op));
        DSCHED_ASSIGN_OR_RETURN(YAML::Node items, MapList(groups[g], "groups", gp));
        for (size_t i = 0; i < items.size(); ++i) {
          const std::string ip = gp + ".groups[" + std::to_string(i) + "]";
          DSCHED_RETURN_IF_ERROR(CheckKeys(items[i], ip, {"task", "flag"}));
          ConditionItemSpec item;
          DSCHED_ASSIGN_OR_RETURN(auto name, OptString(items[i], "task", ip));
          if (!name || name->empty()) return Fail(ip + ".task", "missing");
          item.task = *name;
          std::optional<bool> flag;
          DSCHED_RETURN_IF_ERROR(GetBool(items[i], "flag", ip, &flag));
          item.success = flag.value_or(true);
          group.items.push_back(std::move(item));
        }
        task->condition_groups.push_back(std::move(group));
      }
    } else if (task->task_type == "SWITCH") {
      DSCHED_ASSIGN_OR_RETURN(YAML::Node branches, MapList(t, "condition", place));
      for (size_t i = 0; i < branches.size(); ++i) {
        const std::string bp = place + ".condition[" + std::to_string(i) + "]";
        DSCHED_RETURN_IF_ERROR(CheckKeys(branches[i], bp, {"task", "condition"}));
        SwitchBranchSpec b;
        DSCHED_ASSIGN_OR_RETURN(auto name, OptString(branches[i], "task", bp));
        if (!name || name->empty()) return Fail(bp + ".task", "missing");
        b.task = *name;
        DSCHED_ASSIGN_OR_RETURN(auto cond, OptString(branches[i], "condition", bp));
        if (!cond || cond->find_first_not_of(" \t") == std::string::npos) {
          if (!task->switch_default.empty())
            return Fail(bp, "a second default branch (without condition); '" +
                                task->switch_default + "' is already the default");
          task->switch_default = b.task;
          continue;
        }
        b.condition = *cond;
        task->switch_branches.push_back(std::move(b));
      }
    }
    return Status::Ok();
  }

  // The names a logic task refers to exist; the condition follows the tasks it checks, and
  // the branches of a Condition or Switch follow it (deps added, not duplicated).
  Status LinkLogic(WorkflowSpec& spec, const std::map<std::string, size_t>& index) const {
    auto add_dep = [&](const std::string& task, const std::string& dep) {
      auto& deps = spec.tasks[index.at(task)].deps;
      if (std::find(deps.begin(), deps.end(), dep) == deps.end()) deps.push_back(dep);
    };
    for (size_t i = 0; i < spec.tasks.size(); ++i) {
      TaskSpec& t = spec.tasks[i];
      const std::string place = "tasks[" + std::to_string(i) + "] (name '" + t.name + "')";
      auto known = [&](const std::string& name, const std::string& field) -> Status {
        if (!index.count(name)) return Fail(place, field + " names unknown task '" + name + "'");
        if (name == t.name) return Fail(place, field + " names the task itself");
        return Status::Ok();
      };
      if (t.task_type == "SUB_PROCESS" && t.sub_workflow_name == spec.name)
        return Fail(place, "workflow_name names this workflow itself");
      std::vector<std::string> branches;
      if (t.task_type == "CONDITIONS") {
        for (size_t g = 0; g < t.condition_groups.size(); ++g)
          for (size_t k = 0; k < t.condition_groups[g].items.size(); ++k)
            DSCHED_RETURN_IF_ERROR(known(t.condition_groups[g].items[k].task,
                                         "groups[" + std::to_string(g) + "].groups[" +
                                             std::to_string(k) + "].task"));
        for (const auto& b : t.success_tasks) DSCHED_RETURN_IF_ERROR(known(b, "success_task"));
        for (const auto& b : t.failed_tasks) DSCHED_RETURN_IF_ERROR(known(b, "failed_task"));
        branches = t.success_tasks;
        branches.insert(branches.end(), t.failed_tasks.begin(), t.failed_tasks.end());
      }
      if (t.task_type == "SWITCH") {
        for (size_t k = 0; k < t.switch_branches.size(); ++k) {
          DSCHED_RETURN_IF_ERROR(known(t.switch_branches[k].task, "condition[].task"));
          branches.push_back(t.switch_branches[k].task);
        }
        if (!t.switch_default.empty()) {
          DSCHED_RETURN_IF_ERROR(known(t.switch_default, "condition[].task (default)"));
          branches.push_back(t.switch_default);
        }
      }
      std::vector<std::string> upstream = t.deps;
      for (const auto& g : t.condition_groups)
        for (const auto& item : g.items) upstream.push_back(item.task);
      for (const std::string& b : branches)
        if (std::find(upstream.begin(), upstream.end(), b) != upstream.end())
          return Fail(place, "'" + b + "' is both a branch and an upstream of this task");
    }
    for (TaskSpec& t : spec.tasks) {
      if (t.task_type == "CONDITIONS") {
        for (const auto& g : t.condition_groups)
          for (const auto& item : g.items) add_dep(t.name, item.task);
        for (const auto& b : t.success_tasks) add_dep(b, t.name);
        for (const auto& b : t.failed_tasks) add_dep(b, t.name);
      }
      if (t.task_type == "SWITCH") {
        for (const auto& b : t.switch_branches) add_dep(b.task, t.name);
        if (!t.switch_default.empty()) add_dep(t.switch_default, t.name);
      }
    }
    return Status::Ok();
  }

  Status CheckGraph(WorkflowSpec& spec) const {
    std::map<std::string, size_t> first;
    for (size_t i = 0; i < spec.tasks.size(); ++i) {
      const std::string place =
          "tasks[" + std::to_string(i) + "] (name '" + spec.tasks[i].name + "')";
      auto [it, inserted] = first.emplace(spec.tasks[i].name, i);
      if (!inserted) {
        return Fail(place, "duplicate task name, already used by tasks[" +
                               std::to_string(it->second) + "]");
      }
    }
    for (size_t i = 0; i < spec.tasks.size(); ++i) {
      const TaskSpec& t = spec.tasks[i];
      const std::string place = "tasks[" + std::to_string(i) + "] (name '" + t.name + "')";
      std::set<std::string> seen;
      for (const std::string& dep : t.deps) {
        if (!first.count(dep)) return Fail(place, "deps names unknown task '" + dep + "'");
        if (dep == t.name) return Fail(place, "deps names the task itself");
        if (!seen.insert(dep).second) return Fail(place, "deps names '" + dep + "' twice");
      }
    }
    return LinkLogic(spec, first);
  }

  const YamlContext& ctx_;
};

// Canvas positions for the web UI: one column per dependency level, tasks stacked in file order.
ojson Layout(const WorkflowSpec& spec, const std::map<std::string, int64_t>& codes) {
  std::map<std::string, int> level;
  // Longest-path levels by relaxation; at most n rounds, so a cycle (the server rejects it)
  // cannot loop forever.
  for (size_t round = 0; round < spec.tasks.size(); ++round) {
    bool changed = false;
    for (const TaskSpec& t : spec.tasks) {
      int l = 0;
      for (const std::string& d : t.deps) l = std::max(l, level[d] + 1);
      if (level[t.name] != l) {
        level[t.name] = l;
        changed = true;
      }
    }
    if (!changed) break;
  }
  std::map<int, int> rows;
  ojson out = ojson::array();
  for (const TaskSpec& t : spec.tasks) {
    int l = level[t.name];
    int row = rows[l]++;
    out.push_back({{"taskCode", codes.at(t.name)}, {"x", 140 + 260 * l}, {"y", 120 + 110 * row}});
  }
  return out;
}

ojson ParamList(const std::vector<LocalParam>& params) {
  ojson out = ojson::array();
  for (const LocalParam& p : params) {
    out.push_back({{"prop", p.prop}, {"direct", p.direct}, {"type", p.type}, {"value", p.value}});
  }
  return out;
}

}  // namespace

std::string JoinPath(const std::string& dir, const std::string& path) {
  if (dir.empty() || path.empty() || path[0] == '/') return path;
  return dir.back() == '/' ? dir + path : dir + "/" + path;
}

StatusOr<WorkflowSpec> ParseWorkflowYaml(const std::string& text, const YamlContext& ctx) {
  return Parser(ctx).Parse(text);
}

StatusOr<WorkflowSpec> LoadWorkflowFile(const std::string& path, YamlContext ctx) {
  if (ctx.display_name.empty()) ctx.display_name = path;
  if (ctx.base_dir.empty()) {
    size_t slash = path.rfind('/');
    ctx.base_dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  }
  auto text = ctx.read_file ? ctx.read_file(path) : ReadRealFile(path);
  if (!text.ok()) return InvalidArgument(text.status().message());
  return ParseWorkflowYaml(*text, ctx);
}

bool HasReferences(const WorkflowSpec& spec) {
  for (const TaskSpec& t : spec.tasks)
    if (t.task_type == "SUB_PROCESS" || t.task_type == "DEPENDENT") return true;
  return false;
}

Status ResolveReferences(WorkflowSpec* spec, const ReferenceResolver& resolver) {
  auto fail = [&](const std::string& place, const std::string& what) {
    return InvalidArgument(spec->source + ": " + place + ": " + what);
  };
  auto reason = [](const Status& s) { return s.message(); };
  std::optional<int64_t> own_project;
  auto project = [&](const std::string& name) -> StatusOr<int64_t> {
    if (name.empty() && own_project) return *own_project;
    if (!resolver.project_code) return FailedPrecondition("projects cannot be looked up here");
    DSCHED_ASSIGN_OR_RETURN(int64_t code, resolver.project_code(name));
    if (name.empty()) own_project = code;
    return code;
  };
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    TaskSpec& t = spec->tasks[i];
    const std::string place = "tasks[" + std::to_string(i) + "] (name '" + t.name + "')";
    if (t.task_type == "SUB_PROCESS") {
      auto pc = project("");
      if (!pc.ok()) return fail(place + ".workflow_name", reason(pc.status()));
      if (!resolver.workflow_code) return fail(place + ".workflow_name", "workflows cannot be looked up here");
      auto wc = resolver.workflow_code(*pc, t.sub_workflow_name);
      if (!wc.ok())
        return fail(place + ".workflow_name",
                    "workflow '" + t.sub_workflow_name + "': " + reason(wc.status()));
      t.sub_workflow_code = *wc;
    }
    if (t.task_type != "DEPENDENT") continue;
    for (DependGroupSpec& g : t.depend_groups) {
      for (DependItemSpec& item : g.items) {
        // item.place is "tasks[i].groups[..]..."; name the task as the other messages do.
        std::string where = place + item.place.substr(item.place.find(']') + 1);
        auto pc = project(item.project_name);
        if (!pc.ok())
          return fail(where + ".project_name",
                      "project '" + item.project_name + "': " + reason(pc.status()));
        item.project_code = *pc;
        if (!resolver.workflow_code) return fail(where + ".workflow_name", "workflows cannot be looked up here");
        auto wc = resolver.workflow_code(*pc, item.workflow_name);
        if (!wc.ok())
          return fail(where + ".workflow_name",
                      "workflow '" + item.workflow_name + "': " + reason(wc.status()));
        item.workflow_code = *wc;
        item.task_code = 0;
        if (item.task_name.empty()) continue;
        if (!resolver.task_code) return fail(where + ".dependent_task_name", "tasks cannot be looked up here");
        auto tc = resolver.task_code(*pc, *wc, item.task_name);
        if (!tc.ok())
          return fail(where + ".dependent_task_name",
                      "task '" + item.task_name + "' of workflow '" + item.workflow_name +
                          "': " + reason(tc.status()));
        item.task_code = *tc;
      }
    }
  }
  return Status::Ok();
}

// The taskParams of one task, by type.
static ojson TaskParams(const TaskSpec& t, const std::map<std::string, int64_t>& codes) {
  ojson tp = {{"localParams", ParamList(t.local_params)}};
  auto code_list = [&](const std::vector<std::string>& names) {
    ojson out = ojson::array();
    for (const std::string& n : names) out.push_back(codes.at(n));
    return out;
  };
  // An unresolved reference (ResolveReferences not called, code 0) goes out as null, which the
  // server refuses when the definition is saved rather than failing the task when it runs.
  auto code_or_null = [](int64_t code) { return code > 0 ? ojson(code) : ojson(nullptr); };
  if (t.task_type == "SUB_PROCESS") {
    tp["processDefinitionCode"] = code_or_null(t.sub_workflow_code);
  } else if (t.task_type == "DEPENDENT") {
    ojson groups = ojson::array();
    for (const DependGroupSpec& g : t.depend_groups) {
      ojson items = ojson::array();
      for (const DependItemSpec& item : g.items)
        items.push_back({{"projectCode", item.project_code},
                         {"definitionCode", code_or_null(item.workflow_code)},
                         {"depTaskCode", item.task_code},
                         {"cycle", item.cycle},
                         {"dateValue", item.date_value}});
      groups.push_back({{"relation", g.op}, {"dependItemList", items}});
    }
    tp["dependence"] = {{"relation", t.depend_op}, {"dependTaskList", groups}};
  } else if (t.task_type == "CONDITIONS") {
    ojson groups = ojson::array();
    for (const ConditionGroupSpec& g : t.condition_groups) {
      ojson items = ojson::array();
      for (const ConditionItemSpec& item : g.items)
        items.push_back({{"depTaskCode", codes.at(item.task)},
                         {"status", item.success ? "SUCCESS" : "FAILURE"}});
      groups.push_back({{"relation", g.op}, {"dependItemList", items}});
    }
    tp["dependence"] = {{"relation", t.condition_op}, {"dependTaskList", groups}};
    tp["conditionResult"] = {{"successNode", code_list(t.success_tasks)},
                             {"failedNode", code_list(t.failed_tasks)}};
  } else if (t.task_type == "SWITCH") {
    ojson branches = ojson::array();
    for (const SwitchBranchSpec& b : t.switch_branches)
      branches.push_back({{"condition", b.condition}, {"nextNode", codes.at(b.task)}});
    ojson sr = {{"dependTaskList", branches}};
    if (!t.switch_default.empty()) sr["nextNode"] = codes.at(t.switch_default);
    tp["switchResult"] = sr;
  } else {
    ojson resources = ojson::array();
    for (const std::string& r : t.resource_list) resources.push_back({{"resourceName", r}});
    tp["rawScript"] = t.raw_script;
    tp["resourceList"] = resources;
  }
  return tp;
}

std::vector<std::pair<std::string, std::string>> BuildDefinitionForm(
    const WorkflowSpec& spec, const std::map<std::string, int64_t>& codes) {
  for (const TaskSpec& t : spec.tasks) DSCHED_CHECK(codes.count(t.name) == 1);

  ojson global = ojson::array();
  for (const auto& [k, v] : spec.params) {
    global.push_back({{"prop", k}, {"direct", "IN"}, {"type", "VARCHAR"}, {"value", v}});
  }

  ojson defs = ojson::array();
  ojson relations = ojson::array();
  auto relation = [](int64_t pre, int64_t post) {
    return ojson{{"name", ""},
                 {"preTaskCode", pre},
                 {"preTaskVersion", 0},
                 {"postTaskCode", post},
                 {"postTaskVersion", 0},
                 {"conditionType", "NONE"},
                 {"conditionParams", ojson::object()}};
  };
  for (const TaskSpec& t : spec.tasks) {
    int64_t code = codes.at(t.name);
    defs.push_back({
        {"code", code},
        {"name", t.name},
        {"description", t.description},
        {"taskType", t.task_type},
        {"taskParams", TaskParams(t, codes)},
        {"flag", t.flag},
        {"isCache", "NO"},
        {"taskPriority", t.task_priority},
        {"workerGroup", t.worker_group.empty() ? spec.worker_group : t.worker_group},
        {"environmentCode", -1},
        {"failRetryTimes", t.fail_retry_times},
        {"failRetryInterval", t.fail_retry_interval},
        {"delayTime", t.delay_time},
        {"timeout", t.timeout},
        {"timeoutFlag", t.timeout_flag ? "OPEN" : "CLOSE"},
        {"timeoutNotifyStrategy", t.timeout_notify_strategy},
        {"taskExecuteType", "BATCH"},
        {"taskGroupId", t.task_group_id},
        {"taskGroupPriority", t.task_group_priority},
        {"cpuQuota", -1},
        {"memoryMax", -1},
    });
    if (t.deps.empty()) relations.push_back(relation(0, code));
    for (const std::string& d : t.deps) relations.push_back(relation(codes.at(d), code));
  }

  return {{"name", spec.name},
          {"description", spec.description},
          {"globalParams", global.dump()},
          {"locations", Layout(spec, codes).dump()},
          {"taskDefinitionJson", defs.dump()},
          {"taskRelationJson", relations.dump()},
          {"executionType", spec.execution_type},
          {"timeout", std::to_string(spec.timeout)}};
}

}  // namespace dsched::cli
