// Text rendering for the dsched CLI: plain tables, and the live view of `workflow run --watch`.
// Pure functions from values to lines, so they are unit-tested without a server or a terminal;
// polling and writing to stdout belong to client_commands.cc.
//
// The watch view has two modes:
//  - terminal: a table redrawn in place (RedrawInPlace moves the cursor up over the previous
//    frame), one row per task with a colour per state, a progress bar and the workflow state;
//  - plain (stdout is a pipe or file): one line per change, "<time> task <name> <STATE>" and
//    "<time> workflow <STATE>" (WatchEvents).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dsched::cli {

// Columns padded to the widest cell; headers first (no header line when all are empty: a
// key/value list). Cells may contain ANSI colour codes, which take no width. No line ends in
// blanks.
std::vector<std::string> FormatTable(const std::vector<std::string>& headers,
                                     const std::vector<std::vector<std::string>>& rows);

// Workflow states that end an instance: SUCCESS, FAILURE, STOP, PAUSE.
bool IsFinalWorkflowState(std::string_view state);
// Task states that end a task instance: SUCCESS, FAILURE, KILL, FORCED_SUCCESS, PAUSE, STOP.
bool IsFinalTaskState(std::string_view state);

struct TaskRow {
  std::string name;
  std::string state;  // "" = not started yet
  int attempt = 0;    // 1 for the first run; 0 when not started
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // 0 while running
};

struct WatchModel {
  int64_t instance_id = 0;
  std::string workflow_name;
  std::string state;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int total_tasks = 0;         // tasks of the definition, for the progress bar
  std::vector<TaskRow> tasks;  // stable order: the definition's, else first seen
  int64_t now_ms = 0;          // when the answers were read; elapsed times run to it
};

// Builds the model from GET .../process-instances/{id} (instance) and .../{id}/tasks
// (tasks_data = {processInstanceState, taskList}). Tolerates missing fields. When a task ran
// more than once (retries) its latest task instance wins.
WatchModel BuildWatchModel(const nlohmann::json& instance, const nlohmann::json& tasks_data,
                           int64_t now_ms);

// "12.3s": the time from start to end (or to now while running); "" when not started.
std::string FormatElapsed(int64_t start_ms, int64_t end_ms, int64_t now_ms);

// The terminal frame: a header line, a progress bar line, a blank line, then the task table.
// color adds ANSI colours to states.
std::vector<std::string> RenderWatchFrame(const WatchModel& model, bool color);

// What to write to replace a frame of previous_lines lines (0 = first frame) by lines: cursor up,
// each line cleared and rewritten, and anything below cleared.
std::string RedrawInPlace(int previous_lines, const std::vector<std::string>& lines);

// Plain-mode lines for what changed from before (nullptr = nothing seen yet) to now: tasks whose
// state or attempt changed, then the workflow if its state changed. Time is model.now_ms.
std::vector<std::string> WatchEvents(const WatchModel* before, const WatchModel& now);

}  // namespace dsched::cli
