#!/usr/bin/env bash
# REST API throughput (issue 3 target): bash bench/api_bench.sh DSCHED_BIN [--quick]
#
# Starts `dsched standalone` on a scratch data dir, stores 100,000 finished workflow instances
# in one project (straight into its SQLite file, one transaction), then drives three routes
# with wrk on loopback (2 threads, 20 connections, 10 s each; --quick: 3 s, 10,000 instances):
#   list   GET  /projects/{code}/process-instances?pageNo=1&pageSize=20   (sessionId header)
#   start  POST /projects/{code}/executors/start-process-instance (a one-task dry run)
#   static GET  /ui-plugins/query-by-type (sessionId header; a constant answer: the server's
#               own ceiling, login check included)
# and prints req/s and p99 of each beside the goal (list >= 5,000 req/s, p99 <= 20 ms).
# Figures only: the exit status is 0 whenever everything was measured, goal met or not.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 1 ] || { echo "usage: bash bench/api_bench.sh DSCHED_BIN [--quick]" >&2; exit 2; }
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
duration=10
instances=100000
for a in "$@"; do
  case "$a" in
    --quick) duration=3; instances=10000 ;;
    *) echo "api_bench: unknown option $a" >&2; exit 2 ;;
  esac
done
for tool in wrk sqlite3 curl python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "api_bench: '$tool' not found (scripts/install-deps.sh installs it)" >&2
    exit 2
  fi
done
[ -x "$bin" ] || { echo "api_bench: dsched binary '$bin' not found" >&2; exit 2; }

scratch_root="${BENCH_SCRATCH:-$here/out}"
mkdir -p "$scratch_root"
work="$(mktemp -d "$scratch_root/api-bench.XXXXXX")"
server_pid=""
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true  # its process group: server + tasks
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port/dolphinscheduler"
mkdir -p "$work/data"
# A process group of its own, so that cleanup stops the server and whatever it started.
setsid "$bin" standalone --data-dir "$work/data" --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  curl -sf "$base/openapi.json" -o /dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "api_bench: the server died:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
session="$(curl -sf -X POST "$base/login" -d 'userName=admin&userPassword=dolphinscheduler123' |
  json_field 'd["data"]["sessionId"]')"
auth=(-H "sessionId: $session")
project="$(curl -sf "${auth[@]}" -X POST "$base/projects" -d 'projectName=api-bench' |
  json_field 'd["data"]["code"]')"
task_code="$(curl -sf "${auth[@]}" "$base/projects/$project/task-definition/gen-task-codes?genNum=1" |
  json_field 'd["data"][0]')"
tasks="[{\"code\":$task_code,\"name\":\"noop\",\"taskType\":\"SHELL\",\"taskParams\":{\"rawScript\":\"true\",\"localParams\":[],\"resourceList\":[]}}]"
relations="[{\"preTaskCode\":0,\"postTaskCode\":$task_code}]"
workflow="$(curl -sf "${auth[@]}" -X POST "$base/projects/$project/process-definition" \
  --data-urlencode name=bench --data-urlencode "taskDefinitionJson=$tasks" \
  --data-urlencode "taskRelationJson=$relations" | json_field 'd["data"]["code"]')"
curl -sf "${auth[@]}" -X POST "$base/projects/$project/process-definition/$workflow/release" \
  -d releaseState=ONLINE -o /dev/null

# The stored history: finished instances only (SUCCESS, one in ten FAILURE), so the engine has
# nothing to take over; one transaction, straight into the file the server uses (WAL mode lets
# it read meanwhile).
t0=$(date +%s.%N)
sqlite3 "$work/data/dsched.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $instances)
INSERT INTO t_ds_process_instance(name, process_definition_code, process_definition_version,
  project_code, state, start_time, end_time, host, owner_epoch, command_type, executor_id,
  executor_name, schedule_time, command_start_time)
SELECT 'bench-1-' || x, $workflow, 1, $project, CASE WHEN x % 10 = 0 THEN 6 ELSE 7 END,
  1700000000000 + x * 60000, 1700000000000 + x * 60000 + 1500, '127.0.0.1:5678', 1, 0, 1,
  'admin', 0, 1700000000000 + x * 60000
FROM n;
COMMIT;
SQL
t1=$(date +%s.%N)
stored="$(sqlite3 "$work/data/dsched.db" "SELECT COUNT(*) FROM t_ds_process_instance WHERE project_code = $project")"
echo "api_bench: $stored workflow instances stored in $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"

cat >"$work/start.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["sessionId"] = "$session"
wrk.body = "processDefinitionCode=$workflow&failureStrategy=END&warningType=NONE&dryRun=1"
LUA

# Runs wrk; prints "req/s p99_ms".
measure() {
  local out
  out="$(wrk --latency -t2 -c20 -d"${duration}s" "$@")"
  echo "$out" >>"$work/wrk.log"
  local rps p99
  rps="$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')"
  p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
  # wrk prints latencies with a unit (us, ms, s): in ms.
  p99="$(echo "$p99" | awk '/us$/ {sub("us",""); printf "%.2f", $1/1000; next}
                             /ms$/ {sub("ms",""); printf "%.2f", $1; next}
                             /s$/  {sub("s","");  printf "%.2f", $1*1000; next}')"
  echo "$rps $p99"
}

list_url="$base/projects/$project/process-instances?pageNo=1&pageSize=20"
check="$(curl -sf "${auth[@]}" "$list_url" | json_field 'len(d["data"]["totalList"]), d["data"]["total"]')"
echo "api_bench: the list page answers (rows, total) = $check"

read -r static_rps static_p99 < <(measure -H "sessionId: $session" "$base/ui-plugins/query-by-type")
read -r list_rps list_p99 < <(measure -H "sessionId: $session" "$list_url")
read -r start_rps start_p99 < <(measure -s "$work/start.lua" "$base/projects/$project/executors/start-process-instance")

echo
echo "== REST API under wrk (2 threads, 20 connections, ${duration} s each; $stored instances stored)"
printf '%-48s %12s %10s   %s\n' "route" "req/s" "p99 ms" "goal"
printf '%-48s %12s %10s   %s\n' "GET process-instances (20 rows)" "$list_rps" "$list_p99" ">= 5000 req/s, p99 <= 20 ms"
printf '%-48s %12s %10s   %s\n' "POST start-process-instance (dry run)" "$start_rps" "$start_p99" "-"
printf '%-48s %12s %10s   %s\n' "GET ui-plugins/query-by-type (constant)" "$static_rps" "$static_p99" "ceiling"
python3 - "$list_rps" "$list_p99" <<'PY'
import sys
rps, p99 = float(sys.argv[1] or 0), float(sys.argv[2] or 1e9)
print("list goal: " + ("met" if rps >= 5000 and p99 <= 20 else "NOT met"))
PY
