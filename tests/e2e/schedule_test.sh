#!/usr/bin/env bash
# A cron schedule over REST against the real binary (issue 5's "done when"): `0/5 * * * * ? *`
# put online starts one workflow instance per 5 s slot, each with scheduleTime exactly on its
# slot and no slot twice; offline stops it. About 25 s.
set -euo pipefail
BIN=$1
. "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d); PORT=$(free_port)
trap 'stop_server; rm -rf "$WORK"' EXIT
start_server "$BIN" "$WORK/data" "$PORT" "$WORK/server.log"
api_login "$PORT"
DB="$WORK/data/dsched.db"

PC=$(call POST /projects --data-urlencode projectName=sched | field code)
T='[{"code":7001,"name":"tick","taskType":"SHELL","taskParams":{"rawScript":"echo tick"}}]'
WF=$(call POST "/projects/$PC/process-definition" --data-urlencode name=every5s \
  --data-urlencode "taskDefinitionJson=$T" \
  --data-urlencode 'taskRelationJson=[{"preTaskCode":0,"postTaskCode":7001}]' \
  --data-urlencode executionType=PARALLEL | field code)
call POST "/projects/$PC/process-definition/$WF/release" --data-urlencode releaseState=ONLINE >/dev/null

SCHED='{"startTime":"2020-01-01 00:00:00","endTime":"2100-01-01 00:00:00","crontab":"0/5 * * * * ? *","timezoneId":"UTC"}'
PREVIEW=$(call POST "/projects/$PC/schedules/preview" --data-urlencode "schedule=$SCHED")
echo "preview: $PREVIEW"
ID=$(call POST "/projects/$PC/schedules" --data-urlencode "processDefinitionCode=$WF" \
  --data-urlencode "schedule=$SCHED" --data-urlencode failureStrategy=END \
  --data-urlencode warningType=NONE --data-urlencode processInstancePriority=MEDIUM | field id)
call POST "/projects/$PC/schedules/$ID/online" >/dev/null
echo "schedule $ID online"

sleep 16
instances() { sqlite3 "$DB" "select count(*) from t_ds_process_instance where command_type=6"; }
N=$(instances)
echo "instances after 16 s: $N"
[ "$N" -ge 3 ] && [ "$N" -le 4 ] || fail "want 3-4 scheduled instances after 16 s, got $N"

# Each instance's scheduleTime is a 5 s slot, none twice, one slot after the other.
call GET "/projects/$PC/process-instances" --data-urlencode pageNo=1 --data-urlencode pageSize=50 \
  > "$WORK/instances.json"
python3 - "$WORK/instances.json" <<'PY' || fail "schedule times"
import json, sys, datetime
rows = json.load(open(sys.argv[1]))["totalList"]
times = sorted(r["scheduleTime"] for r in rows if r["commandType"] == "SCHEDULER")
print("schedule times:", times)
secs = [datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S").timestamp() for t in times]
assert len(secs) >= 3, "too few"
assert len(set(secs)) == len(secs), "a slot twice"
assert all(int(s) % 5 == 0 for s in secs), "off the 5 s grid"
assert all(b - a == 5 for a, b in zip(secs, secs[1:])), "not one slot after the other"
PY
# Stored to the millisecond, on the slot.
OFF=$(sqlite3 "$DB" "select count(*) from t_ds_process_instance where command_type=6 and schedule_time % 5000 != 0")
[ "$OFF" = 0 ] || fail "$OFF instances have a schedule_time off the slot"

call POST "/projects/$PC/schedules/$ID/offline" >/dev/null
# The fire ledger keeps each schedule's last fired slot: it must not move once offline.
last() { sqlite3 "$DB" "select coalesce(max(fire_time), 0) from t_ds_schedule_fire where schedule_id=$ID"; }
BEFORE=$(last)
sleep 7
AFTER=$(last)
[ "$BEFORE" = "$AFTER" ] || fail "fired after offline: last slot $BEFORE -> $AFTER"
# Every slot up to the last one fired became exactly one instance, none after it.
q() { sqlite3 "$DB" "select $1 from t_ds_process_instance where command_type=6"; }
for _ in $(seq 1 100); do [ "$(q 'max(schedule_time)')" = "$AFTER" ] && break; sleep 0.05; done
[ "$(q 'max(schedule_time)')" = "$AFTER" ] || fail "last instance $(q 'max(schedule_time)'), last slot $AFTER"
N=$(q 'count(*)'); D=$(q 'count(distinct schedule_time)'); SPAN=$(q '(max(schedule_time) - min(schedule_time)) / 5000 + 1')
[ "$N" = "$D" ] && [ "$N" = "$SPAN" ] || fail "$N instances, $D distinct slots, $SPAN slots in their span"
echo "offline: $N instances, one per slot, none after"
echo "1 passed, 0 failed: schedule"
