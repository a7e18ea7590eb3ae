#!/usr/bin/env bash
# Cron across master failover (issue 6): two `dsched master`, a worker and the api as processes
# (cluster_lib.sh: PostgreSQL, and ZooKeeper or the database registry per CLUSTER_REGISTRY).
# 200 schedules fire every second for about 60 s; one master is killed (kill -9) half-way. Each
# (schedule, slot) from the moment the schedules went online to the moment they went offline
# has exactly one workflow instance: none twice, none missing, also across the kill.
# The workflows' one task is forbidden (flag NO: passed through, instance SUCCESS at once), so
# that 200 instances a second do not need 200 task processes a second on a 2-core machine: what
# is under test is slot -> command -> instance. About 100 s.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"
trap cluster_cleanup EXIT

API_PORT=$(free_port)
M1=$(free_port); M2=$(free_port)
# The masters' fallback re-read of the online schedules is 10 minutes away: the schedules go
# online and offline through the api's word to the masters.
start_service master1 master "master.listen-port = $M1" "scheduler.refresh_s = 600"
start_service master2 master "master.listen-port = $M2" "scheduler.refresh_s = 600"
start_service worker1 worker "worker.listen-port = $(free_port)"
start_service api api "api.port = $API_PORT"
wait_api "$API_PORT"
wait_registered MASTER 2

# schedules.py ACTION: creates the 200 workflows and their every-second schedules and puts them
# online (create), or puts them offline (offline), over REST in one process.
cat >"$WORK/schedules.py" <<'PY'
import json, sys, urllib.parse, urllib.request
api, sid, action, state = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def call(method, path, **params):
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(api + path, data=data if method != "GET" else None,
                                 method=method, headers={"sessionId": sid})
    r = json.load(urllib.request.urlopen(req))
    if r["code"] != 0:
        sys.exit("%s %s: %s" % (method, path, r))
    return r["data"]
if action == "create":
    pc = call("POST", "/projects", projectName="cron")["code"]
    ids = []
    for i in range(200):
        task = [{"code": 900000 + i, "name": "t", "taskType": "SHELL", "flag": "NO",
                 "taskParams": {"rawScript": "true"}}]
        wf = call("POST", "/projects/%d/process-definition" % pc, name="every1s-%d" % i,
                  taskDefinitionJson=json.dumps(task),
                  taskRelationJson=json.dumps([{"preTaskCode": 0, "postTaskCode": 900000 + i}]),
                  executionType="PARALLEL")["code"]
        call("POST", "/projects/%d/process-definition/%d/release" % (pc, wf), releaseState="ONLINE")
        sched = {"startTime": "2020-01-01 00:00:00", "endTime": "2100-01-01 00:00:00",
                 "crontab": "* * * * * ? *", "timezoneId": "UTC"}
        sid_ = call("POST", "/projects/%d/schedules" % pc, processDefinitionCode=wf,
                    schedule=json.dumps(sched), failureStrategy="END", warningType="NONE",
                    processInstancePriority="MEDIUM")["id"]
        ids.append(sid_)
    for s in ids:
        call("POST", "/projects/%d/schedules/%d/online" % (pc, s))
    json.dump({"project": pc, "ids": ids}, open(state, "w"))
else:
    st = json.load(open(state))
    for s in st["ids"]:
        call("POST", "/projects/%d/schedules/%d/offline" % (st["project"], s))
PY
python3 "$WORK/schedules.py" "http://127.0.0.1:$API_PORT/dolphinscheduler" "$SID" create "$WORK/state.json" ||
  fail "creating the schedules"
t_online=$(date +%s)
echo "200 schedules online"

scheduled() { pg_psql -c "SELECT COUNT(*) FROM t_ds_process_instance WHERE command_type = 6"; }
for _ in $(seq 1 100); do [ "$(scheduled)" -gt 0 ] && break; sleep 0.1; done
[ "$(scheduled)" -gt 0 ] || fail "no scheduled instance 10 s after the schedules went online"
sleep 30
kill -9 "${PIDS[master1]}"
t_kill=$(date +%s%N)
echo "killed master1 after $(( $(date +%s) - t_online )) s; $(scheduled) scheduled instances so far"
sleep 30
python3 "$WORK/schedules.py" "http://127.0.0.1:$API_PORT/dolphinscheduler" "$SID" offline "$WORK/state.json" ||
  fail "putting the schedules offline"
t_offline_ms=$(( $(date +%s%N) / 1000000 ))
echo "offline after $(( $(date +%s) - t_online )) s"
# Quiet: the count stops moving and every instance ended.
prev=-1
for _ in $(seq 1 60); do
  n=$(scheduled)
  open=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_process_instance WHERE command_type = 6 AND state NOT IN (5, 6, 7)")
  [ "$n" = "$prev" ] && [ "$open" = 0 ] && break
  prev=$n
  sleep 2
done
[ "$open" = 0 ] || fail "$open scheduled instances did not end"
# Offline reached the masters at once (not at a refresh 10 minutes away): no slot fired after.
late=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_process_instance WHERE command_type = 6 AND schedule_time > $t_offline_ms + 3000")
[ "$late" = 0 ] || fail "$late slots fired more than 3 s after the schedules went offline"

pg_psql -c "SELECT process_definition_code, schedule_time FROM t_ds_process_instance WHERE command_type = 6" \
  >"$WORK/instances.txt"
pg_psql -c "SELECT COUNT(*) FROM t_ds_schedule_fire" >"$WORK/ledger.txt"
# For a failure's diagnosis: the ledger per slot, commands left, commands refused.
pg_psql -c "SELECT fire_time, COUNT(*) FROM t_ds_schedule_fire GROUP BY fire_time ORDER BY fire_time" \
  >"$WORK/ledger-by-slot.txt"
pg_psql -c "SELECT COUNT(*) FROM t_ds_command" >"$WORK/commands-left.txt"
pg_psql -c "SELECT start_time, message FROM t_ds_error_command" >"$WORK/error-commands.txt"
if ! python3 - "$WORK/instances.txt" "$WORK/ledger.txt" "$t_kill" <<'PY'
import collections, sys
slots = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    code, t = line.split("|")
    slots[code].append(int(t))
ledger = int(open(sys.argv[2]).read())
kill_ms = int(sys.argv[3]) // 1000000
bad = []
if len(slots) != 200:
    bad.append("%d workflows have scheduled instances, want 200" % len(slots))
total = 0
for code, ts in slots.items():
    ts.sort()
    total += len(ts)
    if len(set(ts)) != len(ts):
        bad.append("%s: a slot ran twice: %s" % (code, [t for t, n in collections.Counter(ts).items() if n > 1][:3]))
    elif (ts[-1] - ts[0]) // 1000 + 1 != len(ts) or any(t % 1000 for t in ts):
        bad.append("%s: slots missing between %d and %d (%d instances)" % (code, ts[0], ts[-1], len(ts)))
    elif not (ts[0] < kill_ms - 20000 and ts[-1] > kill_ms + 20000):
        bad.append("%s: its slots %d..%d do not span the kill at %d" % (code, ts[0], ts[-1], kill_ms))
if ledger != total:
    bad.append("fire ledger has %d rows, instances %d" % (ledger, total))
if bad:
    missing = collections.Counter()
    for code, ts in slots.items():
        have = set(ts)
        for t in range(ts[0], ts[-1] + 1000, 1000):
            if t not in have:
                missing[t] += 1
    sys.exit("FAIL: %s; missing slots (slot: schedules): %s" % ("; ".join(bad[:4]), sorted(missing.items())[:10]))
print("%d scheduled instances, %d..%d per schedule, each slot once" %
      (total, min(len(v) for v in slots.values()), max(len(v) for v in slots.values())))
PY
then
  echo "ledger per slot: $(tail -n 75 "$WORK/ledger-by-slot.txt" | tr '\n' ' ')"
  echo "commands left: $(cat "$WORK/commands-left.txt"); refused: $(head -5 "$WORK/error-commands.txt")"
  echo "killed at $t_kill"
  fail "scheduled instances"
fi
echo "ok: 200 schedules x ~60 s on 2 masters, one killed half-way: exactly one instance per (schedule, slot), none missing"
