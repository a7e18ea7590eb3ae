#!/usr/bin/env bash
# The README's quickstart against a real server: apply examples/etl.yaml, run it with --watch
# (exit 0 on SUCCESS), read a task log; then each bad input gets a one-line error naming the
# place, over the CLI and over REST, and nothing is stored.
set -euo pipefail
BIN=$1; SRC=$2
. "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d); PORT=$(free_port)
trap 'stop_server; rm -rf "$WORK"' EXIT
start_server "$BIN" "$WORK/data" "$PORT" "$WORK/server.log"
export DSCHED_SERVER="http://127.0.0.1:$PORT"
cd "$SRC"

"$BIN" workflow apply -f examples/etl.yaml | tee "$WORK/apply.out"
grep -q "applied workflow 'etl'" "$WORK/apply.out" || fail "apply did not report the workflow"
"$BIN" workflow run etl --watch > "$WORK/watch.out" || { cat "$WORK/watch.out"; fail "run --watch exited non-zero"; }
cat "$WORK/watch.out"
grep -q "workflow SUCCESS" "$WORK/watch.out" || fail "watch output lacks 'workflow SUCCESS'"

# The report task's log shows the value handed over by extract's setValue.
DB="$WORK/data/dsched.db"
TID=$(sqlite3 "$DB" "select id from t_ds_task_instance where name='report' and flag=1")
"$BIN" log "$TID" > "$WORK/log.out"
grep -q "report: 42 rows loaded into eu" "$WORK/log.out" || { cat "$WORK/log.out"; fail "log of report"; }

# Workflows that name other workflows: apply looks the names up (a SubWorkflow by workflow name,
# a Dependent by workflow and task name), and the run uses them: etl as a child, then a check
# that etl's extract succeeded today.
cat > "$WORK/nightly.yaml" <<'YAML'
workflow: {name: nightly}
tasks:
  - {name: run_etl, task_type: SubWorkflow, workflow_name: etl}
  - name: etl_done
    task_type: Dependent
    deps: [run_etl]
    groups:
      - groups:
          - {workflow_name: etl, dependent_task_name: extract, dependent_date: today}
YAML
"$BIN" workflow apply -f "$WORK/nightly.yaml" >/dev/null
"$BIN" workflow run nightly --watch > "$WORK/nightly.out" || { cat "$WORK/nightly.out"; fail "nightly: run --watch exited non-zero"; }
grep -q "workflow SUCCESS" "$WORK/nightly.out" || { cat "$WORK/nightly.out"; fail "nightly did not succeed"; }
[ "$(sqlite3 "$DB" "select count(*) from t_ds_process_instance where is_sub_process = 1 and state = 7")" = 1 ] ||
  fail "nightly: no successful etl child instance"
sed 's/workflow_name: etl, dependent_task_name: extract/workflow_name: etl, dependent_task_name: nosuch/' \
  "$WORK/nightly.yaml" > "$WORK/nightly-bad.yaml"
if "$BIN" workflow apply -f "$WORK/nightly-bad.yaml" > "$WORK/nightly-bad.out" 2>&1; then fail "a Dependent on a missing task applied"; fi
grep -q "nosuch" "$WORK/nightly-bad.out" || { cat "$WORK/nightly-bad.out"; fail "the error does not name the missing task"; }
echo "ok nightly: SubWorkflow and Dependent by name; $(head -1 "$WORK/nightly-bad.out")"

# A failing workflow makes run --watch exit non-zero.
cat > "$WORK/bad-run.yaml" <<'YAML'
workflow: {name: failing}
tasks:
  - {name: boom, task_type: Shell, command: "exit 3"}
YAML
"$BIN" workflow apply -f "$WORK/bad-run.yaml" >/dev/null
if "$BIN" workflow run failing --watch > "$WORK/fail.out"; then fail "run --watch of a failing workflow exited 0"; fi
grep -q "workflow FAILURE" "$WORK/fail.out" || fail "watch output lacks 'workflow FAILURE'"

count() { sqlite3 "$DB" "select count(*) from t_ds_process_definition"; }
BEFORE=$(count)

# Over the CLI: cycle, dangling edge, duplicate name, wrong YAML type, unknown task type.
check_cli() {  # check_cli NAME EXPECTED-SUBSTRING YAML
  printf '%s\n' "$3" > "$WORK/$1.yaml"
  if "$BIN" workflow apply -f "$WORK/$1.yaml" > "$WORK/$1.out" 2>&1; then fail "$1: apply succeeded"; fi
  [ "$(wc -l < "$WORK/$1.out")" -eq 1 ] || { cat "$WORK/$1.out"; fail "$1: error is not one line"; }
  grep -q -- "$2" "$WORK/$1.out" || { cat "$WORK/$1.out"; fail "$1: error lacks '$2'"; }
  echo "ok $1: $(cat "$WORK/$1.out")"
}
check_cli cycle "cycle between tasks" 'workflow: {name: c1}
tasks:
  - {name: a, task_type: Shell, command: "true", deps: [b]}
  - {name: b, task_type: Shell, command: "true", deps: [a]}'
check_cli dangling "unknown task 'nope'" 'workflow: {name: c2}
tasks:
  - {name: a, task_type: Shell, command: "true", deps: [nope]}'
check_cli duplicate "duplicate" 'workflow: {name: c3}
tasks:
  - {name: a, task_type: Shell, command: "true"}
  - {name: a, task_type: Shell, command: "true"}'
check_cli wrongtype "fail_retry_times" 'workflow: {name: c4}
tasks:
  - {name: a, task_type: Shell, command: "true", fail_retry_times: lots}'
check_cli unknowntype "Fancy" 'workflow: {name: c5}
tasks:
  - {name: a, task_type: Fancy, command: "true"}'

# Over REST.
SID=$(curl -s -X POST "127.0.0.1:$PORT/dolphinscheduler/login" -d 'userName=admin&userPassword=dolphinscheduler123' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["sessionId"])')
PC=$(sqlite3 "$DB" "select code from t_ds_project limit 1")
check_rest() {  # check_rest NAME EXPECTED-SUBSTRING TASKS RELATIONS
  out=$(curl -s -H "sessionId: $SID" -X POST "127.0.0.1:$PORT/dolphinscheduler/projects/$PC/process-definition" \
    --data-urlencode "name=rest_$1" --data-urlencode "taskDefinitionJson=$3" --data-urlencode "taskRelationJson=$4" \
    --data-urlencode "executionType=PARALLEL" --data-urlencode "globalParams=[]" --data-urlencode "locations=[]")
  code=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
  [ "$code" != 0 ] || fail "REST $1 accepted: $out"
  echo "$out" | grep -q -- "$2" || fail "REST $1: message lacks '$2': $out"
  echo "ok REST $1: $out"
}
T='{"code":11,"name":"a","taskType":"SHELL","taskParams":{"rawScript":"true"}}'
U='{"code":12,"name":"b","taskType":"SHELL","taskParams":{"rawScript":"true"}}'
check_rest cycle "cycle between tasks" "[$T,$U]" '[{"preTaskCode":11,"postTaskCode":12},{"preTaskCode":12,"postTaskCode":11}]'
check_rest dangling "unknown task code 99" "[$T]" '[{"preTaskCode":99,"postTaskCode":11}]'
check_rest duplicate "duplicate task name" "[$T,${U/\"b\"/\"a\"}]" '[{"preTaskCode":0,"postTaskCode":11},{"preTaskCode":0,"postTaskCode":12}]'
check_rest wrongtype "failRetryTimes" '[{"code":11,"name":"a","taskType":"SHELL","failRetryTimes":"lots","taskParams":{"rawScript":"true"}}]' '[{"preTaskCode":0,"postTaskCode":11}]'
check_rest unknowntype "unknown task type" '[{"code":11,"name":"a","taskType":"FANCY","taskParams":{"rawScript":"true"}}]' '[{"preTaskCode":0,"postTaskCode":11}]'

# A serial backfill of two days over REST: two instances, one per business date, in order.
WF=$(sqlite3 "$DB" "select code from t_ds_process_definition where name='etl'")
out=$(curl -s -H "sessionId: $SID" -X POST "127.0.0.1:$PORT/dolphinscheduler/projects/$PC/executors/start-process-instance" \
  --data-urlencode "processDefinitionCode=$WF" --data-urlencode "execType=COMPLEMENT_DATA" \
  --data-urlencode 'scheduleTime={"complementStartDate":"2026-01-01 00:00:00","complementEndDate":"2026-01-02 00:00:00"}' \
  --data-urlencode "runMode=RUN_MODE_SERIAL" --data-urlencode "executionOrder=ASC_ORDER")
echo "$out" | grep -q '"code":0' || fail "backfill refused: $out"
for _ in $(seq 1 300); do
  n=$(sqlite3 "$DB" "select count(*) from t_ds_process_instance where command_type=5 and state=7")
  [ "$n" = 2 ] && break
  sleep 0.05
done
[ "$n" = 2 ] || fail "backfill: want 2 SUCCESS instances, got $n"
got=$(sqlite3 "$DB" "select group_concat(strftime('%Y-%m-%d', schedule_time/1000, 'unixepoch', 'localtime'), ' ') from (select schedule_time from t_ds_process_instance where command_type=5 order by id)")
[ "$got" = "2026-01-01 2026-01-02" ] || fail "backfill dates in run order: $got"
echo "ok backfill: $got"

AFTER=$(count)
[ "$BEFORE" = "$AFTER" ] || fail "bad input stored a definition ($BEFORE -> $AFTER)"
echo "1 passed, 0 failed: quickstart"
