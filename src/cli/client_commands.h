// The client subcommands of the `dsched` binary: workflow apply/list/run, instance
// list/show/stop/pause/resume/rerun/recover-failed, and log. They talk to a running server over
// its DolphinScheduler REST API (http_client.h). The `standalone` command and the server itself
// do not belong here; main.cc registers those.
#pragma once

namespace CLI {
class App;
}

namespace dsched::cli {

// Adds the client subcommands to app. Each subcommand, when run, sets *exit_code: 0 when it
// succeeded, 1 on an error (printed to stderr as "error: ...") and, for `workflow run --watch`,
// 1 when the instance ended in any state but SUCCESS. exit_code must outlive app's parsing.
void RegisterClientCommands(CLI::App& app, int* exit_code);

}  // namespace dsched::cli
