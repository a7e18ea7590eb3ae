#!/usr/bin/env bash
# Starts, stops and reports one dsched service on this host, with the command line of
# DolphinScheduler's deployment guide:
#
#   bin/dolphinscheduler-daemon.sh (start|stop|status) \
#       <master-server|worker-server|logger-server|api-server|alert-server|standalone-server>
#
# Output goes to logs/dolphinscheduler-<name>.log and the pid to logs/dolphinscheduler-<name>.pid
# under the install directory (DSCHED_LOG_DIR overrides the folder). start refuses a service
# whose pid file names a live dsched; stop sends SIGTERM, waits STOP_TIMEOUT seconds (default
# 5, as DolphinScheduler) for a clean exit, then SIGKILL. A killed service loses nothing: its
# successor takes over its running instances and re-attaches their tasks.
# Config: conf/datasource.conf (DSCHED_CONF overrides), conf/env/dolphinscheduler_env.sh.
# Exit status: 0 done; 1 failed (the line before says why); 2 usage; 3 `status` of a stopped
# service (as LSB init scripts answer).
set -uo pipefail

usage() {
  echo "usage: $(basename "$0") (start|stop|status) <master-server|worker-server|logger-server|api-server|alert-server|standalone-server>" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
name=$2
case "$action" in start | stop | status) ;; *) usage ;; esac
# The dsched subcommand that runs each service.
case "$name" in
  master-server) service=master ;;
  worker-server) service=worker ;;
  logger-server) service=logger ;;
  api-server) service=api ;;
  alert-server) service=alert ;;
  standalone-server) service=standalone ;;
  *) echo "error: unknown service '$name'" >&2; usage ;;
esac

# Finds the install directory and binary, and loads conf/env/dolphinscheduler_env.sh (the
# database variables among them); leaves us in the install directory.
# shellcheck disable=SC1091
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/script/dsched-db-common.sh"

log_dir=${DSCHED_LOG_DIR:-$DSCHED_HOME/logs}
pid_file=$log_dir/dolphinscheduler-$name.pid
log_file=$log_dir/dolphinscheduler-$name.log
stop_timeout=${STOP_TIMEOUT:-5}
case "$stop_timeout" in '' | *[!0-9]*) echo "error: STOP_TIMEOUT must be whole seconds, got '$stop_timeout'" >&2; exit 2 ;; esac

# The pid in the pid file when that process is alive and still a dsched (a pid file can
# outlive its process, and the pid can be reused by something else); empty otherwise.
running_pid() {
  [ -f "$pid_file" ] || return 0
  local pid
  pid=$(tr -cd '0-9' <"$pid_file")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dsched $service"; then
    echo "$pid"
  fi
}

start() {
  local pid
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    echo "error: $name is already running as pid $pid (pid file $pid_file)" >&2
    return 1
  fi
  # Ask the binary rather than assume: an older or newer dsched may not have the service.
  if ! "$DSCHED_BIN" "$service" --help >/dev/null 2>&1; then
    echo "error: $DSCHED_BIN has no '$service' service" >&2
    return 1
  fi
  mkdir -p "$log_dir" || return 1
  echo "$(date '+%F %T') starting $name: $DSCHED_BIN $service --config $DSCHED_CONF" >>"$log_file"
  # Its own session, so that the shell that started it (an ssh session of start-all.sh) can
  # end; stdin from /dev/null for the same reason.
  setsid "$DSCHED_BIN" "$service" --config "$DSCHED_CONF" </dev/null >>"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"
  # A service that cannot start (bad config, database unreachable, port taken) says so in one
  # line and exits at once: report that line here instead of a pid that is already gone.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.2
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      echo "error: $name exited at start; the end of $log_file:" >&2
      tail -n 5 "$log_file" >&2
      return 1
    fi
  done
  echo "$name started, pid $pid, log $log_file"
}

stop() {
  local pid
  pid=$(running_pid)
  if [ -z "$pid" ]; then
    rm -f "$pid_file"
    echo "$name is not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((stop_timeout * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name did not stop within ${stop_timeout}s: kill -9 $pid"
    kill -KILL "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$pid_file"
  echo "$name stopped (pid $pid)"
}

status() {
  local pid
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    echo "$name is running, pid $pid"
    return 0
  fi
  echo "$name is not running"
  return 3
}

"$action"
