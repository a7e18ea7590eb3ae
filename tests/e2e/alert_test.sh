#!/usr/bin/env bash
# Alerts end to end against the real binary and real receivers (issue 6): an SMTP sink (aiosmtpd,
# each mail a file of a Maildir) and a webhook receiver (python3 http.server, each request a
# file), both started here on loopback. An alert group with an Email and an Http plugin instance,
# made over the REST routes; a workflow that fails with warningType FAILURE -> exactly one mail
# naming the workflow and exactly one webhook request; a workflow that succeeds with warningType
# FAILURE -> no outbox row, nothing sent. About 10 s.
set -euo pipefail
BIN=$1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
WORK=$(mktemp -d); PORT=$(free_port)
SMTP_PID=; HOOK_PID=
trap 'stop_server; for p in $SMTP_PID $HOOK_PID; do kill $p 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
start_alert_receivers "$WORK"

# A "minute" of timeouts lasts 1 s here, so the timeout alerts come quickly.
export DSCHED_ENGINE_MINUTE_MS=1000
start_server "$BIN" "$WORK/data" "$PORT" "$WORK/server.log"
api_login "$PORT"
DB="$WORK/data/dsched.db"

# A plugin instance of each kind and a group of both: DolphinScheduler's routes.
alert_plugin_instances FAILURE
GROUP=$(call POST /alert-groups --data-urlencode groupName=ops \
  --data-urlencode "alertInstanceIds=$MAIL_ID,$HOOK_ID" --data-urlencode description=e2e | field id)
echo "group $GROUP: email instance $MAIL_ID, http instance $HOOK_ID"

PC=$(call POST /projects --data-urlencode projectName=alerts | field code)
workflow() { alert_workflow "$PC" "$@"; }
start() { alert_start "$PC" "$1" FAILURE "$GROUP"; }
# wait_state DEF_CODE STATE -> waits until the definition's instance reached STATE (code)
wait_state() {
  for _ in $(seq 1 600); do
    [ "$(sqlite3 "$DB" "select count(*) from t_ds_process_instance where process_definition_code=$1 and state=$2")" = 1 ] && return 0
    sleep 0.05
  done
  fail "instance of $1 did not reach state $2: $(sqlite3 "$DB" "select id,state from t_ds_process_instance")"
}

FAIL_WF=$(workflow nightly-load-fails 8101 "exit 3")
start "$FAIL_WF"
wait_state "$FAIL_WF" 6
echo "failing workflow ended FAILURE"
# The outbox row was written with the end; the sender marks it sent once both receivers had it.
for _ in $(seq 1 300); do
  [ "$(sqlite3 "$DB" "select alert_status from t_ds_alert where process_definition_code=$FAIL_WF")" = 1 ] && break
  sleep 0.05
done
sqlite3 "$DB" "select id, title, alert_status, alertgroup_id, log from t_ds_alert"
[ "$(sqlite3 "$DB" "select alert_status from t_ds_alert where process_definition_code=$FAIL_WF")" = 1 ] \
  || fail "alert row not sent: $(sqlite3 "$DB" "select * from t_ds_alert"); $(tail -20 "$WORK/server.log")"

MAILS=$(mail_count "$WORK"); HOOKS=$(hook_count "$WORK")
[ "$MAILS" = 1 ] || fail "want 1 mail, got $MAILS"
[ "$HOOKS" = 1 ] || fail "want 1 webhook request, got $HOOKS"
/usr/bin/python3 - "$WORK/mbox/new" "$WORK/hook/0.json" <<'PY' || fail "mail or webhook content"
import email, email.policy, json, os, sys
d = sys.argv[1]
msg = email.message_from_binary_file(open(os.path.join(d, os.listdir(d)[0]), "rb"), policy=email.policy.default)
body = msg.get_body().get_content()
print("mail:", msg["Subject"], "| to", msg["To"], "| cc", msg["Cc"], "| from", msg["From"])
assert msg["Subject"] == "start process failed", msg["Subject"]
assert msg["To"] == "ops@example.com" and msg["Cc"] == "lead@example.com", (msg["To"], msg["Cc"])
assert msg["From"] == "dsched@example.com"
assert "nightly-load-fails" in body, body
assert "FAILURE" in body and "step" in body, body
h = json.load(open(sys.argv[2]))
print("webhook:", h["method"], h["path"], h["body"][:120])
assert h["method"] == "POST" and h["path"] == "/alert", h
assert h["headers"].get("X-Token") == "t0k", h["headers"]
b = json.loads(h["body"])
assert b["channel"] == "ops" and b["title"] == "start process failed", b
content = json.loads(b["content"])
assert content[0]["processName"].startswith("nightly-load-fails"), content
assert content[0]["taskName"] == "step" and content[0]["taskState"] == "FAILURE", content
PY

OK_WF=$(workflow nightly-load-ok 8102 "echo fine")
start "$OK_WF"
wait_state "$OK_WF" 7
echo "succeeding workflow ended SUCCESS"
# The row would have been committed with the SUCCESS state: none now means none ever.
ROWS=$(sqlite3 "$DB" "select count(*) from t_ds_alert where process_definition_code=$OK_WF")
[ "$ROWS" = 0 ] || fail "a success with warningType FAILURE wrote $ROWS alert rows"
# Once sent, the failure alert is never sent again: still one mail and one request.
[ "$(sqlite3 "$DB" "select count(*) from t_ds_alert where alert_status=0")" = 0 ] || fail "alerts still waiting"
MAILS=$(mail_count "$WORK"); HOOKS=$(hook_count "$WORK")
[ "$MAILS" = 1 ] && [ "$HOOKS" = 1 ] || fail "after the success: $MAILS mails, $HOOKS webhook requests"

# Timeouts: the run and its task pass their 1-"minute" timeouts while the task sleeps; each sends
# one alert (both receivers take FAILURE-type alerts), the run is not stopped and ends SUCCESS,
# which warningType FAILURE does not report.
SLOW_WF=$(workflow slow-run 8103 "sleep 4" 1)
start "$SLOW_WF"
wait_state "$SLOW_WF" 7
for _ in $(seq 1 300); do
  [ "$(sqlite3 "$DB" "select count(*) from t_ds_alert where process_definition_code=$SLOW_WF and alert_status=1")" = 2 ] && break
  sleep 0.05
done
TITLES=$(sqlite3 "$DB" "select group_concat(title, '|') from (select title from t_ds_alert where process_definition_code=$SLOW_WF and alert_status=1 order by title)")
[ "$TITLES" = "Process Timeout Warn|Task Timeout Warn" ] \
  || fail "timeout alerts: $(sqlite3 "$DB" "select id,title,alert_status,log from t_ds_alert where process_definition_code=$SLOW_WF")"
MAILS=$(mail_count "$WORK"); HOOKS=$(hook_count "$WORK")
[ "$MAILS" = 3 ] && [ "$HOOKS" = 3 ] || fail "after the timeouts: $MAILS mails, $HOOKS webhook requests (want 3, 3)"
grep -l "slow-run" "$WORK"/hook/*.json | wc -l | grep -qx 2 || fail "timeout webhooks do not name slow-run"
echo "timeouts: one workflow and one task timeout alert, each sent once"
echo "1 passed, 0 failed: alert"
