#!/usr/bin/env bash
# kill -9 of a real `dsched standalone` in the middle of a run, then a restart: the instance
# resumes and succeeds, no finished task runs again and none is lost. Each task appends a line
# to a side-effect file; the test checks that file and the task instance rows.
set -euo pipefail
BIN=$1
. "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d); PORT=$(free_port)
trap 'stop_server; rm -rf "$WORK"' EXIT
SIDE="$WORK/side-effects.txt"
export DSCHED_SERVER="http://127.0.0.1:$PORT"

# Three layers: 4 quick tasks, 4 slow ones (the kill lands while they run), 4 quick ones.
{
  echo "workflow: {name: k9}"
  echo "tasks:"
  for i in 1 2 3 4; do echo "  - {name: a$i, task_type: Shell, command: \"echo a$i >> $SIDE\"}"; done
  for i in 1 2 3 4; do echo "  - {name: b$i, task_type: Shell, deps: [a$i], command: \"sleep 2; echo b$i >> $SIDE\"}"; done
  for i in 1 2 3 4; do echo "  - {name: c$i, task_type: Shell, deps: [b$i], command: \"echo c$i >> $SIDE\"}"; done
} > "$WORK/k9.yaml"

start_server "$BIN" "$WORK/data" "$PORT" "$WORK/server.log"
"$BIN" workflow apply -f "$WORK/k9.yaml" >/dev/null
"$BIN" workflow run k9 >/dev/null
DB="$WORK/data/dsched.db"
for _ in $(seq 1 200); do
  n=$(sqlite3 "$DB" "select count(*) from t_ds_task_instance where name like 'b%' and state=1" 2>/dev/null || echo 0)
  [ "$n" -ge 1 ] && break
  sleep 0.05
done
[ "$n" -ge 1 ] || fail "no b task started"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
echo "killed the server while $n b tasks ran"

start_server "$BIN" "$WORK/data" "$PORT" "$WORK/server.log"
for _ in $(seq 1 400); do
  st=$(sqlite3 "$DB" "select state from t_ds_process_instance limit 1")
  [ "$st" = 7 ] || [ "$st" = 6 ] && break
  sleep 0.05
done
[ "$st" = 7 ] || { cat "$WORK/server.log"; sqlite3 "$DB" "select id,name,state,flag from t_ds_task_instance"; fail "instance state $st, want 7 (SUCCESS)"; }

sort "$SIDE" > "$WORK/side.sorted"
printf '%s\n' a1 a2 a3 a4 b1 b2 b3 b4 c1 c2 c3 c4 | sort > "$WORK/want"
diff "$WORK/want" "$WORK/side.sorted" || fail "each task must have run exactly once"
rows=$(sqlite3 "$DB" "select count(*) from t_ds_task_instance")
ok=$(sqlite3 "$DB" "select count(*) from t_ds_task_instance where state=7 and flag=1")
[ "$rows" = 12 ] && [ "$ok" = 12 ] || { sqlite3 "$DB" "select id,name,state,flag from t_ds_task_instance"; fail "want 12 rows, all SUCCESS (got $rows rows, $ok SUCCESS)"; }
echo "1 passed, 0 failed: kill -9 mid-run and restart"
