#include "cli/watch_view.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/time_format.h"

namespace dsched::cli {
namespace {

using nlohmann::json;

// Visible width: ANSI escape sequences take none, UTF-8 continuation bytes add nothing.
size_t VisibleWidth(const std::string& s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string Text(const json& j) {
  if (j.is_null()) return "";
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

std::string Field(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return "";
  return Text(obj[key]);
}

int64_t Int(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return 0;
  const json& v = obj[key];
  if (v.is_number()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

// Dates arrive as "yyyy-MM-dd HH:mm:ss" strings; epoch milliseconds are accepted too.
int64_t TimeMs(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return 0;
  const json& v = obj[key];
  if (v.is_number()) return v.get<int64_t>();
  if (v.is_string()) return ParseDateTime(v.get<std::string>()).value_or(0);
  return 0;
}

const char* StateColor(const std::string& state) {
  if (state == "SUCCESS" || state == "FORCED_SUCCESS") return "\x1b[32m";  // green
  if (state == "FAILURE" || state == "KILL" || state == "NEED_FAULT_TOLERANCE") {
    return "\x1b[31m";  // red
  }
  if (state == "PAUSE" || state == "STOP" || state == "READY_PAUSE" || state == "READY_STOP") {
    return "\x1b[33m";  // yellow
  }
  if (state == "RUNNING_EXECUTION" || state == "DISPATCH" || state == "SUBMITTED_SUCCESS") {
    return "\x1b[36m";  // cyan
  }
  if (state == "DELAY_EXECUTION" || state == "SERIAL_WAIT" || state == "WAIT_TO_RUN") {
    return "\x1b[35m";  // magenta
  }
  return "";
}

std::string Colored(const std::string& state, bool color) {
  const char* c = color ? StateColor(state) : "";
  if (*c == '\0') return state;
  return std::string(c) + state + "\x1b[0m";
}

std::string RightTrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::vector<std::string> FormatTable(const std::vector<std::string>& headers,
                                     const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], VisibleWidth(row[i]));
    }
  };
  measure(headers);
  for (const auto& row : rows) measure(row);
  auto line = [&widths](const std::vector<std::string>& row) {
    std::string out;
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      out += cell;
      if (i + 1 < widths.size()) out += std::string(widths[i] - VisibleWidth(cell) + 2, ' ');
    }
    return RightTrim(out);
  };
  std::vector<std::string> out;
  bool has_header =
      std::any_of(headers.begin(), headers.end(), [](const std::string& h) { return !h.empty(); });
  if (has_header) out.push_back(line(headers));
  for (const auto& row : rows) out.push_back(line(row));
  return out;
}

bool IsFinalWorkflowState(std::string_view s) {
  return s == "SUCCESS" || s == "FAILURE" || s == "STOP" || s == "PAUSE";
}

bool IsFinalTaskState(std::string_view s) {
  return s == "SUCCESS" || s == "FAILURE" || s == "KILL" || s == "FORCED_SUCCESS" || s == "PAUSE" ||
         s == "STOP";
}

WatchModel BuildWatchModel(const json& instance, const json& tasks_data, int64_t now_ms) {
  WatchModel m;
  m.now_ms = now_ms;
  m.instance_id = Int(instance, "id");
  m.state = Field(instance, "state");
  if (m.state.empty()) m.state = Field(tasks_data, "processInstanceState");
  m.start_ms = TimeMs(instance, "startTime");
  m.end_ms = TimeMs(instance, "endTime");

  std::vector<std::string> defined;  // runnable tasks of the definition, in its order
  if (instance.is_object() && instance.contains("dagData") && instance["dagData"].is_object()) {
    const json& dag = instance["dagData"];
    if (dag.contains("processDefinition"))
      m.workflow_name = Field(dag["processDefinition"], "name");
    if (dag.contains("taskDefinitionList") && dag["taskDefinitionList"].is_array()) {
      for (const json& t : dag["taskDefinitionList"]) {
        if (Field(t, "flag") == "NO") continue;  // forbidden: never runs
        defined.push_back(Field(t, "name"));
      }
    }
  }
  if (m.workflow_name.empty()) m.workflow_name = Field(instance, "processDefinitionName");
  if (m.workflow_name.empty()) m.workflow_name = Field(instance, "name");

  // Latest task instance per task name; first-seen order for tasks outside the definition.
  std::map<std::string, std::pair<int64_t, TaskRow>> latest;
  std::vector<std::string> seen_order;
  if (tasks_data.is_object() && tasks_data.contains("taskList") &&
      tasks_data["taskList"].is_array()) {
    std::vector<json> list(tasks_data["taskList"].begin(), tasks_data["taskList"].end());
    std::stable_sort(list.begin(), list.end(),
                     [](const json& a, const json& b) { return Int(a, "id") < Int(b, "id"); });
    for (const json& t : list) {
      TaskRow row;
      row.name = Field(t, "name");
      row.state = Field(t, "state");
      row.attempt = static_cast<int>(Int(t, "retryTimes")) + 1;
      row.start_ms = TimeMs(t, "startTime");
      row.end_ms = TimeMs(t, "endTime");
      int64_t id = Int(t, "id");
      auto it = latest.find(row.name);
      if (it == latest.end()) {
        seen_order.push_back(row.name);
        latest.emplace(row.name, std::make_pair(id, row));
      } else if (id >= it->second.first) {
        it->second = {id, row};
      }
    }
  }

  for (const std::string& name : defined) {
    auto it = latest.find(name);
    if (it != latest.end()) {
      m.tasks.push_back(it->second.second);
      latest.erase(it);
    } else {
      m.tasks.push_back(TaskRow{name, "", 0, 0, 0});
    }
  }
  for (const std::string& name : seen_order) {
    auto it = latest.find(name);
    if (it != latest.end()) m.tasks.push_back(it->second.second);
  }
  m.total_tasks = static_cast<int>(defined.empty() ? m.tasks.size() : defined.size());
  return m;
}

std::string FormatElapsed(int64_t start_ms, int64_t end_ms, int64_t now_ms) {
  if (start_ms == 0) return "";
  int64_t ms = std::max<int64_t>(0, (end_ms != 0 ? end_ms : now_ms) - start_ms);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%llds", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000 / 100));
  return buf;
}

std::vector<std::string> RenderWatchFrame(const WatchModel& m, bool color) {
  std::vector<std::string> lines;
  std::string elapsed = FormatElapsed(m.start_ms, m.end_ms, m.now_ms);
  lines.push_back("workflow " + m.workflow_name + "  instance " + std::to_string(m.instance_id) +
                  "  " + Colored(m.state.empty() ? "-" : m.state, color) +
                  (elapsed.empty() ? "" : "  " + elapsed));

  int done = 0;
  for (const TaskRow& t : m.tasks) done += IsFinalTaskState(t.state) ? 1 : 0;
  constexpr int kBarWidth = 30;
  int total = std::max(m.total_tasks, 1);
  int filled = std::min(kBarWidth, done * kBarWidth / total);
  lines.push_back("[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "]  " +
                  std::to_string(done) + "/" + std::to_string(m.total_tasks) + " tasks done");
  lines.push_back("");

  std::vector<std::vector<std::string>> rows;
  for (const TaskRow& t : m.tasks) {
    rows.push_back({t.name, t.state.empty() ? "-" : Colored(t.state, color),
                    t.attempt > 0 ? std::to_string(t.attempt) : "",
                    FormatElapsed(t.start_ms, t.end_ms, m.now_ms)});
  }
  for (std::string& l : FormatTable({"TASK", "STATE", "ATTEMPT", "ELAPSED"}, rows)) {
    lines.push_back(std::move(l));
  }
  return lines;
}

std::string RedrawInPlace(int previous_lines, const std::vector<std::string>& lines) {
  std::string out;
  if (previous_lines > 0) out += "\x1b[" + std::to_string(previous_lines) + "A\r";
  for (const std::string& l : lines) out += "\x1b[2K" + l + "\n";
  out += "\x1b[J";
  return out;
}

std::vector<std::string> WatchEvents(const WatchModel* before, const WatchModel& now) {
  std::vector<std::string> out;
  const std::string time = FormatDateTime(now.now_ms);
  for (const TaskRow& t : now.tasks) {
    if (t.state.empty()) continue;
    const TaskRow* old = nullptr;
    if (before) {
      for (const TaskRow& b : before->tasks) {
        if (b.name == t.name) old = &b;
      }
    }
    if (old && old->state == t.state && old->attempt == t.attempt) continue;
    out.push_back(time + " task " + t.name + " " + t.state +
                  (t.attempt > 1 ? " (attempt " + std::to_string(t.attempt) + ")" : ""));
  }
  if (!now.state.empty() && (!before || before->state != now.state)) {
    out.push_back(time + " workflow " + now.state);
  }
  return out;
}

}  // namespace dsched::cli
