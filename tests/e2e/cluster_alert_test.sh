#!/usr/bin/env bash
# Alerts in cluster mode (issue 6): real processes on loopback, started here: ZooKeeper,
# PostgreSQL, two `dsched master`, two `dsched worker`, one `dsched api` and TWO `dsched alert`,
# plus an SMTP sink and a webhook receiver (alert_lib.sh). An alert group with an Email and an
# Http plugin instance, made over REST (the default group 1, where fault-tolerance alerts go,
# gets the same two).
#   1. A workflow that fails (warningType FAILURE) and one that succeeds (warningType ALL): one
#      mail and one webhook request per alert, naming the workflow; only the alert server holding
#      the registry lock sends.
#   2. kill -9 of that alert server; another failing run: one mail and one request more, sent by
#      the other alert server once the lock is its.
#   3. kill -9 of the worker running a task: its task runs again on the other worker, and one
#      fault-tolerance alert (alert type 4) reaches each receiver although both masters heard
#      of the loss.
# Skipped (77) without root, the servers or python3-aiosmtpd. About 60 s.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/alert_lib.sh"
. "$HERE/cluster_lib.sh"
trap cluster_cleanup EXIT

RX="$WORK/rx"
mkdir -p "$RX"
start_alert_receivers "$RX"
PIDS[smtp]=$SMTP_PID PIDS[hook]=$HOOK_PID

API_PORT=$(free_port)
W1=$(free_port); W2=$(free_port)
start_service master1 master "master.listen-port = $(free_port)"
start_service master2 master "master.listen-port = $(free_port)"
start_service worker1 worker "worker.listen-port = $W1"
start_service worker2 worker "worker.listen-port = $W2"
start_service alert1 alert "alert.listen-port = $(free_port)"
start_service alert2 alert "alert.listen-port = $(free_port)"
start_service api api "api.port = $API_PORT"
wait_api "$API_PORT"
wait_registered MASTER 2
wait_registered WORKER 2
wait_registered ALERT_SERVER 2

alert_plugin_instances ALL
GROUP=$(call POST /alert-groups --data-urlencode groupName=ops \
  --data-urlencode "alertInstanceIds=$MAIL_ID,$HOOK_ID" --data-urlencode description=e2e | field id)
call PUT /alert-groups/1 --data-urlencode "groupName=default admin warning group" \
  --data-urlencode "alertInstanceIds=$MAIL_ID,$HOOK_ID" \
  --data-urlencode "description=default admin warning group" >/dev/null
PC=$(call POST /projects --data-urlencode projectName=cluster-alerts | field code)

# holder: the alert server (alert1 or alert2) that says it holds the sender lock; fails unless
# exactly one does.
holder() {
  local h=""
  for _ in $(seq 1 100); do
    h=$(grep -l "holds the sender lock" "$WORK/alert1.log" "$WORK/alert2.log" 2>/dev/null || true)
    [ -n "$h" ] && break
    sleep 0.1
  done
  [ "$(echo "$h" | grep -c .)" = 1 ] || fail "alert servers holding the sender lock: '$h'"
  basename "$h" .log
}
# run WF WARNING_TYPE: starts a run and waits for its end; LAST is its instance id, ST its final
# state.
LAST=0
run() {
  alert_start "$PC" "$1" "$2" "$GROUP"
  LAST=$(new_instance_after "$LAST")
  ST=$(wait_final "$LAST")
}
# wait_delivered MAILS HOOKS: waits until no alert waits and the receivers got that many; then,
# a scan interval of both senders later, checks they got no more.
wait_delivered() {
  local m h
  for _ in $(seq 1 300); do
    m=$(mail_count "$RX"); h=$(hook_count "$RX")
    [ "$(pg_psql -c "SELECT COUNT(*) FROM t_ds_alert WHERE alert_status = 0")" = 0 ] &&
      [ "$m" -ge "$1" ] && [ "$h" -ge "$2" ] && break
    sleep 0.1
  done
  sleep 1.5  # longer than a sender's scan: a second sender of a row would have sent it by now
  m=$(mail_count "$RX"); h=$(hook_count "$RX")
  [ "$m" = "$1" ] && [ "$h" = "$2" ] || {
    pg_psql -c "SELECT id, title, alert_status, alert_type, log FROM t_ds_alert ORDER BY id"
    fail "the receivers got $m mails and $h webhook requests, want $1 and $2"
  }
}
# check_last TITLE NAME...: the newest mail and the newest webhook request have TITLE and name
# every NAME in their content.
check_last() {
  /usr/bin/python3 - "$RX" "$@" <<'PY' || fail "the last mail or webhook request: want $*"
import email, email.policy, json, os, sys
rx, title, names = sys.argv[1], sys.argv[2], sys.argv[3:]
d = os.path.join(rx, "mbox", "new")
newest = max((os.path.join(d, f) for f in os.listdir(d)), key=os.path.getmtime)
msg = email.message_from_binary_file(open(newest, "rb"), policy=email.policy.default)
body = msg.get_body().get_content()
hooks = [f for f in os.listdir(os.path.join(rx, "hook")) if f.endswith(".json")]
h = json.load(open(os.path.join(rx, "hook", "%d.json" % (len(hooks) - 1))))
b = json.loads(h["body"])
print("   mail %r, webhook %r" % (msg["Subject"], b["title"]))
assert msg["Subject"] == title, msg["Subject"]
assert b["title"] == title and b["channel"] == "ops", b
for n in names:
    assert n in body, (n, body)
    assert n in b["content"], (n, b["content"])
PY
}

# ---- 1. a failure and a success, each alert sent once by the lock holder
FAIL_WF=$(alert_workflow "$PC" cl-load-fails 9101 "exit 3")
OK_WF=$(alert_workflow "$PC" cl-load-ok 9102 "echo fine")
run "$FAIL_WF" FAILURE
[ "$ST" = 6 ] || fail "cl-load-fails: instance $LAST ended in state $ST, want 6 (FAILURE)"
wait_delivered 1 1
check_last "start process failed" cl-load-fails
run "$OK_WF" ALL
[ "$ST" = 7 ] || fail "cl-load-ok: instance $LAST ended in state $ST, want 7 (SUCCESS)"
wait_delivered 2 2
check_last "start process success" cl-load-ok
SENDER=$(holder)
echo "ok 1: one mail and one webhook request per workflow alert, sent by $SENDER"

# ---- 2. kill -9 of the sending alert server: the other sends from then on
OTHER=$([ "$SENDER" = alert1 ] && echo alert2 || echo alert1)
kill -9 "${PIDS[$SENDER]}"
unset "PIDS[$SENDER]"
run "$FAIL_WF" FAILURE
[ "$ST" = 6 ] || fail "cl-load-fails (2): instance $LAST ended in state $ST, want 6"
wait_delivered 3 3
check_last "start process failed" cl-load-fails
grep -q "holds the sender lock" "$WORK/$OTHER.log" || fail "$OTHER never took the sender lock"
echo "ok 2: kill -9 of $SENDER; $OTHER sent the next alert, once"

# ---- 3. kill -9 of the worker running a task: one fault-tolerance alert
SLOW_WF=$(alert_workflow "$PC" cl-slow 9103 "sleep 3")
alert_start "$PC" "$SLOW_WF" NONE "$GROUP"
LAST=$(new_instance_after "$LAST")
host=""
for _ in $(seq 1 300); do
  host=$(pg_psql -c "SELECT host FROM t_ds_task_instance WHERE process_instance_id = $LAST AND state = 1")
  [ -n "$host" ] && break
  sleep 0.05
done
case "$host" in
  *":$W1") victim=worker1 ;;
  *":$W2") victim=worker2 ;;
  *) fail "the task of instance $LAST is not running on a worker (host '$host')" ;;
esac
kill -9 "${PIDS[$victim]}"
unset "PIDS[$victim]"
echo "   killed $victim ($host) while it ran cl-slow"
st=$(wait_final "$LAST")
[ "$st" = 7 ] || fail "cl-slow: instance $LAST ended in state $st after the failover, want 7"
attempts=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE process_instance_id = $LAST")
[ "$attempts" = 2 ] || fail "cl-slow: $attempts task attempts, want 2 (the lost one and its rerun)"
wait_delivered 4 4
check_last "Fault tolerance warning" cl-slow "$host" SERVER_DOWN
ft=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_alert WHERE alert_type = 4")
[ "$ft" = 1 ] || fail "$ft fault-tolerance alert rows, want 1"
echo "ok 3: kill -9 of $victim mid-run; the task ran again, one fault-tolerance alert reached each receiver"
echo "1 passed, 0 failed: cluster_alert"
