# The deployment path of the seed document on PostgreSQL and on MariaDB, through the real
# binary and scripts: script/create-dolphinscheduler.sh on an empty database, then
# script/upgrade-dolphinscheduler.sh; create refusing a database with a schema; an upgrade from
# the oldest schema (tests/db/schema_v1 + v1_fill.sql) keeping every row, twice; a newer schema
# refused; `dsched standalone` serving a workflow from the created database; `dsched db clean`
# removing it again; and every bad
# config (wrong password, wrong port, unknown type) as one clear line and a non-zero exit.
# Sourced by run_db_tests.sh (cli mode) with the servers up and $bin = the dsched binary.

SRC=$DSCHED_SOURCE_DIR
WORK=$(mktemp -d)
trap 'stop_server; svc_stop_all; rm -rf "$WORK"' EXIT
# shellcheck disable=SC1091
. "$SRC/tests/e2e/lib.sh"
export DSCHED_BIN=$bin DSCHED_HOME=$SRC
NEWEST=$("$bin" db version --data-dir "$WORK/probe" | sed -n 's/.*serves version \([0-9]*\).*/\1/p')
[ -n "$NEWEST" ] || fail "cannot read the newest schema version from 'dsched db version'"
echo "this dsched serves schema version $NEWEST"

# expect_one_line NAME RC-WANTED SUBSTRING... -- CMD...: CMD fails with exit RC-WANTED and
# prints exactly one line to stderr containing every SUBSTRING.
expect_one_line() {
  local name=$1 want_rc=$2
  shift 2
  local subs=()
  while [ "$1" != "--" ]; do subs+=("$1"); shift; done
  shift
  local rc=0
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  [ "$rc" -eq "$want_rc" ] || { cat "$WORK/$name.out" "$WORK/$name.err"; fail "$name: exit $rc, want $want_rc"; }
  [ "$(wc -l <"$WORK/$name.err")" -eq 1 ] || { cat "$WORK/$name.err"; fail "$name: stderr is not one line"; }
  for s in "${subs[@]}"; do
    grep -qF -- "$s" "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: error lacks '$s'"; }
  done
  echo "ok $name: $(cat "$WORK/$name.err")"
}

for db in postgresql mysql; do
  if [ "$db" = postgresql ]; then
    URL=$PG_URL PORT=$PG_PORT reset=pg_reset DENIED="password authentication failed"
    sql() { pg_psql -c "$1"; }
    load() { psql -h 127.0.0.1 -p "$PG_PORT" -U ds -d ds -v ON_ERROR_STOP=1 -q -f "$1" >/dev/null; }
    export PGPASSWORD=ds
  else
    URL=$MY_URL PORT=$MY_PORT reset=maria_reset DENIED="Access denied"
    sql() { maria_sql "$1"; }
    load() { mariadb --no-defaults -h127.0.0.1 -P"$MY_PORT" -uds -pds ds <"$1"; }
  fi
  echo "== $db ($URL)"
  export SPRING_DATASOURCE_URL=$URL SPRING_DATASOURCE_USERNAME=ds SPRING_DATASOURCE_PASSWORD=ds
  $reset

  # An empty database: upgrade refuses, create creates, create again refuses, upgrade is a no-op.
  expect_one_line "$db-upgrade-empty" 1 "no dsched schema" "as user 'ds'" -- "$SRC/script/upgrade-dolphinscheduler.sh"
  "$SRC/script/create-dolphinscheduler.sh" | tee "$WORK/create.out"
  grep -q "created dsched schema version $NEWEST in the $db database 'ds' on 127.0.0.1:$PORT as user 'ds'" "$WORK/create.out" ||
    fail "$db: create did not report the version and the database"
  [ "$(sql "SELECT COUNT(*) FROM t_ds_user WHERE user_name = 'admin'")" = 1 ] || fail "$db: no admin user"
  [ "$(sql "SELECT COUNT(*) FROM t_ds_queue WHERE queue_name = 'default'")" = 1 ] || fail "$db: no default queue"
  [ "$(sql "SELECT COUNT(*) FROM t_ds_alertgroup")" = 1 ] || fail "$db: no default alert group"
  expect_one_line "$db-create-twice" 1 "already holds a schema" "127.0.0.1:$PORT" -- "$SRC/script/create-dolphinscheduler.sh"
  "$SRC/script/upgrade-dolphinscheduler.sh" | tee "$WORK/up.out"
  grep -q "nothing to do" "$WORK/up.out" || fail "$db: upgrade of a fresh create did something"
  "$bin" db version | grep -q "^schema version $NEWEST in the $db database" || fail "$db: db version"

  # The seed's deployment: a standalone server on the created database runs a workflow.
  PORT_API=$(free_port)
  start_server "$bin" "$WORK/data-$db" "$PORT_API" "$WORK/server-$db.log"
  export DSCHED_SERVER="http://127.0.0.1:$PORT_API"
  printf 'workflow: {name: on-%s}\ntasks:\n  - {name: a, task_type: Shell, command: "echo hello"}\n  - {name: b, task_type: Shell, deps: [a], command: "echo world"}\n' "$db" >"$WORK/wf.yaml"
  "$bin" workflow apply -f "$WORK/wf.yaml" >/dev/null
  "$bin" workflow run "on-$db" --watch >"$WORK/watch.out" || { cat "$WORK/watch.out" "$WORK/server-$db.log"; fail "$db: run failed"; }
  grep -q "workflow SUCCESS" "$WORK/watch.out" || fail "$db: no SUCCESS"
  [ "$(sql "SELECT COUNT(*) FROM t_ds_task_instance WHERE state = 7")" = 2 ] || fail "$db: task rows"
  stop_server
  echo "ok $db: standalone ran a workflow on the created database"

  # Retention: nothing ended before 2000; everything before tomorrow, logs included.
  "$bin" db clean --before 2000-01-01 | grep -q "^removed 0 workflow instances" || fail "$db: clean 2000"
  TOMORROW=$(date -d tomorrow +%F)
  "$bin" db clean --before "$TOMORROW" --dry-run | tee "$WORK/dry.out"
  grep -q "would remove 1 workflow instances and 2 task instances" "$WORK/dry.out" || fail "$db: dry run"
  logs=$(sql "SELECT log_path FROM t_ds_task_instance")
  "$bin" db clean --before "$TOMORROW" | tee "$WORK/clean.out"
  grep -q "removed 1 workflow instances and 2 task instances .*; 2 log files deleted" "$WORK/clean.out" || fail "$db: clean"
  for l in $logs; do [ ! -e "$l" ] || fail "$db: log $l is still there"; done
  [ "$(sql "SELECT COUNT(*) FROM t_ds_task_instance")" = 0 ] || fail "$db: task rows left after clean"
  expect_one_line "$db-clean-bad-date" 2 "--before" -- "$bin" db clean --before yesterday

  # A database at the oldest schema, filled, upgraded: every row survives; twice is a no-op.
  $reset
  load "$SRC/tests/db/schema_v1/$db.sql"
  load "$SRC/tests/db/v1_fill.sql"
  before=$(sql "SELECT (SELECT COUNT(*) FROM t_ds_project) + (SELECT COUNT(*) FROM t_ds_task_instance) + (SELECT COUNT(*) FROM t_ds_process_definition_log) + (SELECT COUNT(*) FROM t_ds_user) + (SELECT COUNT(*) FROM t_ds_command)")
  expect_one_line "$db-serve-old" 1 "older than this dsched" "upgrade-dolphinscheduler.sh" -- \
    "$bin" standalone --data-dir "$WORK/old-$db" --port 0
  "$SRC/script/upgrade-dolphinscheduler.sh" | tee "$WORK/up1.out"
  grep -q "from schema version 1 to $NEWEST" "$WORK/up1.out" || fail "$db: first upgrade"
  "$SRC/script/upgrade-dolphinscheduler.sh" | tee "$WORK/up2.out"
  grep -q "nothing to do" "$WORK/up2.out" || fail "$db: second upgrade was not a no-op"
  after=$(sql "SELECT (SELECT COUNT(*) FROM t_ds_project) + (SELECT COUNT(*) FROM t_ds_task_instance) + (SELECT COUNT(*) FROM t_ds_process_definition_log) + (SELECT COUNT(*) FROM t_ds_user) + (SELECT COUNT(*) FROM t_ds_command)")
  [ "$before" = "$after" ] || fail "$db: rows before upgrade $before, after $after"
  [ "$(sql "SELECT owner_epoch FROM t_ds_process_instance")" = 5000000000 ] || fail "$db: 64-bit epoch"
  echo "ok $db: upgrade from version 1 kept all $after rows; second upgrade did nothing"

  # A schema from a newer dsched is refused by upgrade and by the services.
  sql "INSERT INTO t_ds_version(id, version) VALUES($((NEWEST + 1)), $((NEWEST + 1)))" >/dev/null
  expect_one_line "$db-upgrade-newer" 1 "newer than this dsched" -- "$SRC/script/upgrade-dolphinscheduler.sh"
  expect_one_line "$db-serve-newer" 1 "newer than this dsched" "127.0.0.1:$PORT" -- \
    "$bin" standalone --data-dir "$WORK/new-$db" --port 0

  # Bad configuration: one line naming host and user and what failed, non-zero exit.
  expect_one_line "$db-wrong-password" 1 "127.0.0.1:$PORT" "as user 'ds'" "$DENIED" -- \
    env SPRING_DATASOURCE_PASSWORD=nope "$SRC/script/upgrade-dolphinscheduler.sh"
  CLOSED=$(free_port)
  expect_one_line "$db-wrong-port" 1 "127.0.0.1:$CLOSED" "as user 'ds'" "cannot connect" -- \
    env "SPRING_DATASOURCE_URL=${URL/:$PORT\//:$CLOSED/}" "$SRC/script/create-dolphinscheduler.sh"
  expect_one_line "$db-serve-wrong-password" 1 "127.0.0.1:$PORT" "as user 'ds'" -- \
    env SPRING_DATASOURCE_PASSWORD=nope "$bin" standalone --data-dir "$WORK/pw-$db" --port 0
done

unset SPRING_DATASOURCE_URL SPRING_DATASOURCE_USERNAME SPRING_DATASOURCE_PASSWORD
expect_one_line "unknown-type" 2 "unknown database type 'oracle'" -- env DATABASE=oracle "$SRC/script/create-dolphinscheduler.sh"
expect_one_line "unknown-type-serve" 1 "unknown database type 'oracle'" -- \
  env DATABASE=oracle "$bin" standalone --data-dir "$WORK/x" --port 0
expect_one_line "bad-url" 2 "db.url" -- env SPRING_DATASOURCE_URL=jdbc:oracle:thin:@h:1521:x "$bin" db version
echo "PASS: db cli"
