# PostgreSQL restarts in the middle of a 200-task run of a real `dsched standalone`: the run
# completes, every task ran exactly once (a side-effect file and the task rows say so), and the
# server logs the outage instead of dying. Sourced by run_db_tests.sh (outage mode) with
# PostgreSQL up and $bin = the dsched binary.

SRC=$DSCHED_SOURCE_DIR
WORK=$(mktemp -d)
chmod 755 "$WORK"
trap 'stop_server; svc_stop_all; rm -rf "$WORK"' EXIT
# shellcheck disable=SC1091
. "$SRC/tests/e2e/lib.sh"
export SPRING_DATASOURCE_URL=$PG_URL SPRING_DATASOURCE_USERNAME=ds SPRING_DATASOURCE_PASSWORD=ds
"$bin" db create >/dev/null
SIDE="$WORK/side-effects.txt"

# 10 chains of 20 tasks; each task leaves one line and takes a moment, so the restart lands mid-run.
chains_yaml outage 10 20 "echo @T@ >> $SIDE; sleep 0.05" >"$WORK/outage.yaml"

PORT=$(free_port)
start_server "$bin" "$WORK/data" "$PORT" "$WORK/server.log"
export DSCHED_SERVER="http://127.0.0.1:$PORT"
"$bin" workflow apply -f "$WORK/outage.yaml" >/dev/null
"$bin" workflow run outage >/dev/null
for _ in $(seq 1 400); do
  n=0
  [ -f "$SIDE" ] && n=$(wc -l <"$SIDE")
  [ "$n" -ge 40 ] && break
  sleep 0.05
done
[ "$n" -ge 40 ] || { cat "$WORK/server.log"; fail "the run did not get going"; }
pg_restart
echo "restarted PostgreSQL after $n of 200 tasks"

state=""
for _ in $(seq 1 1200); do
  state=$(pg_psql -c "SELECT state FROM t_ds_process_instance" 2>/dev/null || true)
  [ "$state" = 7 ] || [ "$state" = 6 ] && break
  sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log"; fail "the server died"; }
[ "$state" = 7 ] || { tail -30 "$WORK/server.log"; fail "workflow ended in state '$state', not SUCCESS (7)"; }
lines=$(wc -l <"$SIDE")
unique=$(sort -u "$SIDE" | wc -l)
[ "$lines" = 200 ] && [ "$unique" = 200 ] || { sort "$SIDE" | uniq -d | head; fail "$lines side effects ($unique distinct), want 200 once each"; }
rows=$(pg_psql -c "SELECT COUNT(*) FROM t_ds_task_instance WHERE flag = 1 AND state = 7")
dups=$(pg_psql -c "SELECT COUNT(*) FROM (SELECT task_code FROM t_ds_task_instance GROUP BY task_code HAVING COUNT(*) > 1) d")
[ "$rows" = 200 ] && [ "$dups" = 0 ] || fail "$rows successful task rows, $dups tasks with several rows"
grep -q "lost the connection to the postgresql database" "$WORK/server.log" ||
  { tail -30 "$WORK/server.log"; fail "the outage was not logged"; }
outage_lines=$(grep -c "lost the connection" "$WORK/server.log" || true)
echo "server log: $outage_lines 'lost the connection' line(s), $(grep -c "reconnected" "$WORK/server.log" || true) 'reconnected'"
# What the server said about it (the first lines).
grep -E "warn|error" "$WORK/server.log" | cut -c1-200 | head -5 || true
echo "PASS: outage (PostgreSQL restarted mid-run; 200 tasks, each once)"
