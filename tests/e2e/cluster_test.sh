#!/usr/bin/env bash
# Cluster mode end to end (issue 6): real processes on loopback, started here: the registry
# (ZooKeeper, or the database registry with CLUSTER_REGISTRY=jdbc),
# PostgreSQL 15, two `dsched master`, two `dsched worker`, a `dsched logger`, one `dsched api`,
# one `dsched alert`.
#   1. A 200-task DAG (10 chains of 20) succeeds; both workers ran tasks; every task ran once;
#      a task's log reads back over REST (the api reads it through the logger).
#   1b. A worker started with a memory reserve its host cannot keep (overload protection) shows
#      BUSY on /monitor/WORKER and gets none of a workflow's tasks.
#   2. The same DAG again; kill -9 of the master that owns the instance mid-run: the other
#      master takes it over after the registry session ends, the instance ends SUCCESS, no task
#      ran twice and no task had two runs at once (each run appends start/end lines to a file).
#   2b. The killed master restarts and joins; the owner of a new run is frozen (SIGSTOP) past its
#      session timeout: the other takes over, the resumed one stands down (CLUSTER_DISCONNECT stop)
#      or starts again as a new registration (waiting), each task ran once.
#   2c. kill -9 of a worker mid-run: its tasks die with its lease, run again on the other worker
#      after the session timeout, never two runs of a task at once; SUCCESS.
#   2d. A worker frozen (SIGSTOP) past its session timeout mid-run: its tasks were killed by their
#      watchdogs before running again on the other worker (no overlap); resumed, it stands down.
#   3. The seed's scripts in an install directory: bin/start-all.sh starts master, worker,
#      logger, alert and api servers on this host (install_config.conf: localhost), bin/status-all.sh
#      shows them, a workflow runs through them, bin/stop-all.sh leaves no process behind.
# Skipped (77) without root or without the servers (scripts/install-deps.sh). About 60 s.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"
trap cluster_cleanup EXIT

API_PORT=$(free_port)
M1=$(free_port); M2=$(free_port); W1=$(free_port); W2=$(free_port)
LOGGER_PORT=$(free_port)
start_service master1 master "master.listen-port = $M1"
start_service master2 master "master.listen-port = $M2"
start_service worker1 worker "worker.listen-port = $W1"
start_service worker2 worker "worker.listen-port = $W2"
# The workers share one log.dir here, so one logger serves both workers' logs to the api.
start_service logger logger "logger.listen-port = $LOGGER_PORT"
start_service alert alert "alert.listen-port = $(free_port)"
start_service api api "api.port = $API_PORT" "logger.listen-port = $LOGGER_PORT"
wait_api "$API_PORT"
# Both masters and both workers registered, as the monitor routes see the registry.
wait_registered MASTER 2
wait_registered WORKER 2

# The DAG: 10 chains of 20 (c<chain>t<i>), so 10 tasks run at a time. Each run appends its start
# and end.
RUNS="$WORK/runs.txt"
# A run killed by its watchdog (TERM) still records its end.
chains_yaml wide 10 20 \
  "trap 'echo @T@ end \$(date +%s%N) >> $RUNS; exit 143' TERM; echo @T@ start \$(date +%s%N) >> $RUNS; sleep 0.2; echo @T@ end \$(date +%s%N) >> $RUNS" \
  >"$WORK/wide.yaml"
export DSCHED_SERVER="http://127.0.0.1:$API_PORT"
"$BIN" workflow apply -f "$WORK/wide.yaml" >/dev/null

# check_runs [once|again [CHAINS LENGTH]]: every task of the chains_yaml workflow (default 10
# chains of 20) ran exactly once, start before end, in $RUNS. With `again`: a task may have run
# more than once (its worker died), but its runs never overlap; prints how many ran again.
check_runs() {
  python3 - "$RUNS" "${1:-once}" "${2:-10}" "${3:-20}" <<'PY'
import collections, sys
starts, ends = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, what, t = line.split()
    (starts if what == "start" else ends)[name].append(int(t))
chains, length = int(sys.argv[3]), int(sys.argv[4])
want = {"c%dt%d" % (c, i) for c in range(1, chains + 1) for i in range(1, length + 1)}
bad, again = [], 0
for n in sorted(want):
    s, e = sorted(starts[n]), sorted(ends[n])
    if len(s) != len(e) or not s:
        bad.append("%s: %d starts, %d ends" % (n, len(s), len(e)))
    elif sys.argv[2] == "once" and len(s) != 1:
        bad.append("%s: ran %d times" % (n, len(s)))
    elif any(e[k] < s[k] or (k + 1 < len(s) and s[k + 1] < e[k]) for k in range(len(s))):
        bad.append("%s: runs overlap: starts %s ends %s" % (n, s, e))
    again += len(s) > 1
extra = set(starts) - want
if bad or extra:
    sys.exit("FAIL: %s %s" % (bad[:10], sorted(extra)[:5]))
if sys.argv[2] == "again":
    print(again)
PY
}
# mid_run_owner ID: waits until 40 of instance ID's tasks succeeded; then OWNER is the master
# (master1 or master2) that owns it, OTHER the other one, done_n the tasks done by then.
mid_run_owner() {
  for _ in $(seq 1 600); do
    done_n=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $1 AND state = 7")
    [ "$done_n" -ge 40 ] && break
    sleep 0.05
  done
  local owner
  owner=$(pg_psql -c "SELECT host FROM t_ds_process_instance WHERE id = $1")
  case "$owner" in
    *":$M1") OWNER=master1 OTHER=master2 ;;
    *":$M2") OWNER=master2 OTHER=master1 ;;
    *) fail "instance $1 is owned by '$owner', neither master" ;;
  esac
}

# ---- 1. the DAG on two masters and two workers
"$BIN" workflow run wide >/dev/null
ID=$(new_instance_after 0)
st=$(wait_final "$ID")
[ "$st" = 7 ] || { tail -20 "$WORK"/master*.log; fail "instance $ID ended in state $st, want 7 (SUCCESS)"; }
ok=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $ID AND state = 7")
[ "$ok" = 200 ] || fail "instance $ID: $ok task instances SUCCESS, want 200"
hosts=$(pg_psql -c "SELECT COUNT(DISTINCT host) FROM t_ds_task_instance WHERE process_instance_id = $ID")
[ "$hosts" = 2 ] || fail "tasks ran on $hosts workers, want both"
check_runs
TI=$(pg_psql -c "SELECT id FROM t_ds_task_instance WHERE process_instance_id = $ID AND name = 'c4t3'")
log=$(call GET "/log/detail?taskInstanceId=$TI&skipLineNum=0&limitLineNum=100")
echo "$log" | grep -q "c4t3" || fail "the log of task c4t3 over REST does not show its script's run: $log"
# Each service's Prometheus metrics, with the values of its kind.
for pair in master1:dsched_master_dispatched_total worker1:dsched_worker_running_tasks \
  alert:dsched_alert_sender api:dsched_registry_session_state logger:dsched_process_start_time_seconds; do
  name=${pair%%:*} metric=${pair#*:}
  curl -sf "127.0.0.1:${METRICS[$name]}/metrics" | grep -q "^$metric " ||
    fail "$name's /metrics on port ${METRICS[$name]} has no $metric"
done
dispatched=$(( $(curl -sf "127.0.0.1:${METRICS[master1]}/metrics" | awk '/^dsched_master_dispatched_total /{print int($2)}') +
  $(curl -sf "127.0.0.1:${METRICS[master2]}/metrics" | awk '/^dsched_master_dispatched_total /{print int($2)}') ))
[ "$dispatched" -ge 200 ] || fail "the masters' /metrics count $dispatched dispatches, want at least 200"
echo "ok 1: 200-task DAG on 2 masters and 2 workers, each task once, logs over REST, /metrics on each service"

# ---- 1b. overload protection: a worker whose host cannot keep its reserved memory free reports
# BUSY in its heartbeat and gets no task, while the others run the workflow.
W3=$(free_port)
start_service worker3 worker "worker.listen-port = $W3" "worker.reserved-memory = 1000000"
wait_registered WORKER 3
call GET /monitor/WORKER | python3 -c '
import json, sys
port = int(sys.argv[1])
for w in json.load(sys.stdin):
    status = json.loads(w["resInfo"]).get("serverStatus")
    if (w["port"] == port) != (status == "BUSY"):
        sys.exit("worker on port %d says %s" % (w["port"], status))
' "$W3" || fail "/monitor/WORKER does not show the overloaded worker BUSY and only it"
chains_yaml small 4 3 "echo @T@" >"$WORK/small.yaml"
"$BIN" workflow apply -f "$WORK/small.yaml" >/dev/null
"$BIN" workflow run small >/dev/null
ID1B=$(new_instance_after "$ID")
st=$(wait_final "$ID1B")
[ "$st" = 7 ] || fail "instance $ID1B ended in state $st with a BUSY worker beside the others, want 7"
on_busy=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $ID1B AND host = '127.0.0.1:$W3'")
[ "$on_busy" = 0 ] || fail "$on_busy tasks were dispatched to the BUSY worker"
kill "${PIDS[worker3]}"
wait "${PIDS[worker3]}" 2>/dev/null || true
unset "PIDS[worker3]"
wait_registered WORKER 2
echo "ok 1b: a worker over its reserved memory is BUSY on /monitor and gets no task"

# ---- 2. kill -9 of the owning master mid-run
: >"$RUNS"
"$BIN" workflow run wide >/dev/null
ID2=$(new_instance_after "$ID1B")
mid_run_owner "$ID2"
victim=$OWNER survivor=$OTHER
kill -9 "${PIDS[$victim]}"
t_kill=$(date +%s%N)
echo "killed $victim (owner of instance $ID2) after $done_n tasks had succeeded"
st=$(wait_final "$ID2")
[ "$st" = 7 ] || { tail -30 "$WORK/$survivor.log"; fail "instance $ID2 ended in state $st after the takeover, want 7"; }
new_owner=$(pg_psql -c "SELECT host FROM t_ds_process_instance WHERE id = $ID2")
[[ $new_owner == *":${M1}" && $survivor == master1 ]] || [[ $new_owner == *":${M2}" && $survivor == master2 ]] ||
  fail "instance $ID2 is owned by $new_owner after the takeover, want the surviving $survivor"
ok=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $ID2 AND state = 7")
[ "$ok" = 200 ] || fail "instance $ID2: $ok task instances SUCCESS, want 200"
check_runs
took=$(grep -m1 "taking over its workflow instances" "$WORK/$survivor.log" >/dev/null && echo yes || echo no)
[ "$took" = yes ] || fail "$survivor never said it took over"
echo "ok 2: kill -9 of the owning master; $survivor took instance $ID2 over, SUCCESS, each task once, no overlap ($(( ($(date +%s%N) - t_kill) / 1000000 )) ms from kill to end)"

# takeover_ms LOG T0_NS INSTANCE: ms from T0 to the LOG line saying INSTANCE was taken over.
takeover_ms() {
  python3 - "$1" "$2" "$3" <<'PY'
import datetime, re, sys
log, t0, inst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for line in open(log):
    if "takeover: workflow instance %s " % inst in line:
        ts = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]", line).group(1)
        t = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        print(int(t * 1000 - t0 / 1e6))
        break
else:
    print("?")
PY
}
echo "   failover: kill -9 to takeover $(takeover_ms "$WORK/$survivor.log" "$t_kill" "$ID2") ms (session timeout 4 s)"

# ---- 2b. the killed master comes back; the owner is frozen (SIGSTOP) past its session timeout
start_service "$victim" master "master.listen-port = $([ "$victim" = master1 ] && echo "$M1" || echo "$M2")"
wait_registered MASTER 2
: >"$RUNS"
"$BIN" workflow run wide >/dev/null
ID4=$(new_instance_after "$ID2")
mid_run_owner "$ID4"
frozen=$OWNER other=$OTHER
kill -STOP "${PIDS[$frozen]}"
t_stop=$(date +%s%N)
for _ in $(seq 1 300); do
  grep -q "takeover: workflow instance $ID4 " "$WORK/$other.log" && break
  sleep 0.1
done
grep -q "takeover: workflow instance $ID4 " "$WORK/$other.log" || fail "$other did not take over instance $ID4 from the frozen $frozen"
kill -CONT "${PIDS[$frozen]}"
echo "froze $frozen (owner of instance $ID4) after $done_n tasks; $other took over in $(takeover_ms "$WORK/$other.log" "$t_stop" "$ID4") ms; resumed $frozen"
st=$(wait_final "$ID4")
[ "$st" = 7 ] || { tail -30 "$WORK/$other.log"; fail "instance $ID4 ended in state $st after the freeze, want 7"; }
check_runs
# The resumed master learns its session expired: it stands down (disconnect strategy stop) or
# starts again as a new registration (waiting).
expect_session_end "$frozen" MASTER 2
echo "ok 2b: a master frozen past its session timeout: taken over, ended that run when resumed ($CLUSTER_DISCONNECT), each task once"

# ---- 2c. kill -9 of a worker mid-run: its task watchdog kills its tasks when its lease runs
# out; after the session timeout the master runs them again on the other worker. Tasks of 8 s,
# so that the killed worker's tasks are still running when its lease runs out (2 s of limit, up
# to 2 s more of lease age and polling).
# pick_victim ID: until a worker runs tasks of the instance (its task watchdog lists them: seen
# at the task's start, where the database only learns of it when the master has its event), then
# VICTIM/VPORT name the worker running the most of them and SURVIVOR/SPORT the other. Which worker
# gets a task depends on the load each last reported, so both need not have one.
pick_victim() {
  local n1=0 n2=0 e
  for _ in $(seq 1 200); do
    n1=0 n2=0
    for e in "$WORK/exec/worker-$W1.lease.tasks"/*; do [ -e "$e" ] && n1=$((n1 + 1)); done
    for e in "$WORK/exec/worker-$W2.lease.tasks"/*; do [ -e "$e" ] && n2=$((n2 + 1)); done
    if [ $((n1 + n2)) -ge 1 ]; then
      if [ "$n1" -ge "$n2" ]; then
        VICTIM=worker1 VPORT=$W1 SURVIVOR=worker2 SPORT=$W2
      else
        VICTIM=worker2 VPORT=$W2 SURVIVOR=worker1 SPORT=$W1
      fi
      echo "instance $1 runs $n1 tasks on worker1 and $n2 on worker2"
      return 0
    fi
    sleep 0.05
  done
  fail "instance $1: no task started on either worker"
}
: >"$RUNS"
chains_yaml long 4 2 \
  "trap 'echo @T@ end \$(date +%s%N) >> $RUNS; exit 143' TERM; echo @T@ start \$(date +%s%N) >> $RUNS; sleep 8 & wait; echo @T@ end \$(date +%s%N) >> $RUNS" \
  >"$WORK/long.yaml"
"$BIN" workflow apply -f "$WORK/long.yaml" >/dev/null
"$BIN" workflow run long >/dev/null
ID5=$(new_instance_after "$ID4")
pick_victim "$ID5"
kill -9 "${PIDS[$VICTIM]}"
echo "killed $VICTIM while the first tasks of instance $ID5 ran"
st=$(wait_final "$ID5")
[ "$st" = 7 ] || { tail -n 30 "$WORK"/master*.log; fail "instance $ID5 ended in state $st after the worker died, want 7"; }
again=$(check_runs again 4 2) || fail "$again"
grep -rqs "its lease ran out" "$WORK/logs" || fail "no task log says its watchdog killed it"
[ "$again" -ge 1 ] || fail "no task ran again after $VICTIM was killed mid-run"
ft=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $ID5 AND state = 8")
[ "$ft" -ge 1 ] || fail "no task attempt of instance $ID5 ended NEED_FAULT_TOLERANCE"
hosts=$(pg_psql -c "SELECT DISTINCT host FROM t_ds_task_instance WHERE process_instance_id = $ID5 AND flag = 1 AND task_code IN (SELECT task_code FROM t_ds_task_instance WHERE process_instance_id = $ID5 AND state = 8)")
[ "$hosts" = "127.0.0.1:$SPORT" ] || fail "the failed-over tasks ran again on '$hosts', want only $SURVIVOR (127.0.0.1:$SPORT)"
echo "ok 2c: kill -9 of a worker: $ft attempts failed over to $SURVIVOR, $again tasks ran again, never two runs at once, SUCCESS"

# ---- 2d. a worker frozen (SIGSTOP) past its session timeout mid-run: its tasks' watchdogs (their
# own processes) kill them when its lease runs out, before the master runs them again elsewhere;
# resumed, the worker learns its session is over and stands down.
start_service "$VICTIM" worker "worker.listen-port = $VPORT"
wait_registered WORKER 2
: >"$RUNS"
"$BIN" workflow run long >/dev/null
ID6=$(new_instance_after "$ID5")
pick_victim "$ID6"
kill -STOP "${PIDS[$VICTIM]}"
echo "froze $VICTIM while the first tasks of instance $ID6 ran"
for _ in $(seq 1 300); do
  [ "$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $ID6 AND state = 8")" -ge 1 ] && break
  sleep 0.1
done
kill -CONT "${PIDS[$VICTIM]}"
st=$(wait_final "$ID6")
[ "$st" = 7 ] || { tail -n 30 "$WORK"/master*.log; fail "instance $ID6 ended in state $st after the worker froze, want 7"; }
again=$(check_runs again 4 2) || fail "$again"
[ "$again" -ge 1 ] || fail "no task ran again after $VICTIM froze mid-run"
expect_session_end "$VICTIM" WORKER 2
echo "ok 2d: a worker frozen past its session timeout: its tasks died with its lease before running again on $SURVIVOR ($again), never two runs at once, SUCCESS; it ended that run when resumed ($CLUSTER_DISCONNECT)"

# ---- 3. start-all / status-all / stop-all in an install directory
for n in "${!PIDS[@]}"; do kill "${PIDS[$n]}" 2>/dev/null || true; done
for n in "${!PIDS[@]}"; do wait "${PIDS[$n]}" 2>/dev/null || true; done
PIDS=()
INST=$WORK/install
mkdir -p "$INST/bin" "$INST/conf/config"
cp "$SRC"/bin/*.sh "$INST/bin/"
cp "$BIN" "$INST/bin/dsched"
cp -r "$SRC/script" "$INST/"
cp -r "$SRC/conf/env" "$INST/conf/"
cp "$SRC/conf/config/install_config.conf" "$INST/conf/config/"
API3=$(free_port)
IW=$(free_port)
{
  cat "$SRC/conf/datasource.conf"
  registry_conf
  echo "api.port = $API3"
  echo "master.listen-port = $(free_port)"
  echo "worker.listen-port = $IW"
  echo "alert.listen-port = $(free_port)"
  echo "logger.listen-port = $(free_port)"
  echo "master.max-cpu-load-avg = 1000"  # see cluster_lib.sh
  echo "worker.max-cpu-load-avg = 1000"
} >"$INST/conf/datasource.conf"
bash "$INST/bin/start-all.sh" >"$WORK/start-all.out" 2>&1 || { cat "$WORK/start-all.out"; fail "start-all.sh"; }
bash "$INST/bin/status-all.sh" >"$WORK/status-all.out" 2>&1 || { cat "$WORK/status-all.out"; fail "status-all.sh: not every service runs"; }
for svc in master-server worker-server logger-server alert-server api-server; do
  grep -q "$svc is running, pid" "$WORK/status-all.out" || { cat "$WORK/status-all.out"; fail "status-all.sh does not show $svc running"; }
done
for _ in $(seq 1 300); do
  curl -s -o /dev/null -X POST "127.0.0.1:$API3/dolphinscheduler/login" \
    -d 'userName=admin&userPassword=dolphinscheduler123' && break
  sleep 0.1
done
export DSCHED_SERVER="http://127.0.0.1:$API3"
: >"$RUNS"
last=$(pg_psql -c "SELECT MAX(id) FROM t_ds_process_instance")
"$BIN" workflow run wide >/dev/null
ID3=$(new_instance_after "$last")
st=$(wait_final "$ID3")
[ "$st" = 7 ] || { tail -20 "$INST"/logs/*.log; fail "instance $ID3 (started through start-all.sh's services) ended in state $st"; }
check_runs
pids=$(cat "$INST"/logs/*.pid)
# The worker's task watchdog is a process of its own (it outlives a killed worker): stop-all
# leaves none either, once the stopped worker has no task left to watch.
watchdog="dsched-task-watchdog .*worker-$IW\.lease"
pgrep -f "$watchdog" >/dev/null || fail "the worker started by start-all.sh runs no task watchdog"
bash "$INST/bin/stop-all.sh" >"$WORK/stop-all.out" 2>&1 || { cat "$WORK/stop-all.out"; fail "stop-all.sh"; }
for p in $pids; do kill -0 "$p" 2>/dev/null && fail "stop-all.sh left pid $p running"; done
for _ in $(seq 1 50); do pgrep -f "$watchdog" >/dev/null || break; sleep 0.1; done
pgrep -f "$watchdog" >/dev/null && fail "the worker's task watchdog is still running 5 s after stop-all.sh"
ls "$INST"/logs/*.pid >/dev/null 2>&1 && fail "stop-all.sh left pid files: $(ls "$INST"/logs/*.pid)"
bash "$INST/bin/status-all.sh" >/dev/null 2>&1 && fail "status-all.sh says all run after stop-all.sh"
echo "ok 3: start-all.sh, status-all.sh, a workflow through them, stop-all.sh leaves no process"
echo "7 passed, 0 failed"
