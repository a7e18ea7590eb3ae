# The set-up shared by the cluster-mode end-to-end tests (sourced after lib.sh, with BIN and
# HERE set): a work dir, PostgreSQL on loopback (tests/db/services.sh) with a created metadata
# database, the registry, and helpers that start `dsched` services as processes and wait for them.
# CLUSTER_REGISTRY picks the registry: zookeeper (default; a ZooKeeper server is started) or jdbc
# (the database registry, in the same PostgreSQL). Exits 77 (skip) without root or without the
# servers. The caller's EXIT trap must call cluster_cleanup.
CLUSTER_REGISTRY=${CLUSTER_REGISTRY:-zookeeper}
# CLUSTER_DISCONNECT: the services' registry.disconnect-strategy, stop (default) or waiting.
CLUSTER_DISCONNECT=${CLUSTER_DISCONNECT:-stop}

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (the database servers run as their own users)"; exit 77; }
WORK=$(mktemp -d)
chmod 755 "$WORK"
export SVC_ROOT="$WORK/svc"
mkdir -p "$SVC_ROOT"
. "$HERE/../db/services.sh"
svc_have_servers && svc_have_zookeeper || { echo "SKIP: PostgreSQL/ZooKeeper not installed"; exit 77; }

declare -A PIDS METRICS
cluster_cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # Tasks run in their own process groups: end any the test left behind.
  pkill -9 -f "$WORK/exec" 2>/dev/null || true
  [ -d "$WORK/install" ] && bash "$WORK/install/bin/stop-all.sh" >/dev/null 2>&1 || true
  svc_stop_all
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}

[ "$CLUSTER_REGISTRY" = zookeeper ] && zk_start
pg_start
export DATABASE=postgresql SPRING_DATASOURCE_URL=$PG_URL SPRING_DATASOURCE_USERNAME=ds \
  SPRING_DATASOURCE_PASSWORD=ds
"$BIN" db create >"$WORK/db-create.log" 2>&1 || { cat "$WORK/db-create.log"; fail "db create"; }

# The registry keys every service of the test gets (4 s sessions, so failover tests are quick).
registry_conf() {
  echo "registry.disconnect-strategy = $CLUSTER_DISCONNECT"
  case "$CLUSTER_REGISTRY" in
    zookeeper)
      echo "registry.zookeeper.connect-string = $ZK_CONNECT"
      echo "registry.zookeeper.session-timeout = 4s"
      ;;
    jdbc)
      echo "registry.type = jdbc"
      echo "registry.session-timeout = 4s"
      echo "registry.heartbeat-refresh-interval = 500ms"
      ;;
    *) fail "CLUSTER_REGISTRY '$CLUSTER_REGISTRY' is not zookeeper or jdbc" ;;
  esac
}

# start_service NAME SUBCOMMAND [key = value ...]: one process with its own config and data dir;
# its pid in PIDS[NAME], its /metrics port in METRICS[NAME], its output in $WORK/NAME.log.
start_service() {
  local name=$1 sub=$2; shift 2
  METRICS[$name]=${METRICS[$name]:-$(free_port)}
  {
    echo "$sub.metrics-port = ${METRICS[$name]}"
    registry_conf
    echo "master.heartbeat-interval = 1s"
    echo "worker.heartbeat-interval = 1s"
    echo "scheduler.refresh_s = 5"
    # A 2-core machine running these tests sits above the default load limit (twice the
    # cores) much of the time; overload protection is tested on its own (cluster_test 1b).
    echo "master.max-cpu-load-avg = 1000"
    echo "worker.max-cpu-load-avg = 1000"
    echo "env.file = /nonexistent"
    echo "log.dir = $WORK/logs"
    echo "exec.basepath = $WORK/exec"
    for kv in "$@"; do echo "$kv"; done
  } >"$WORK/$name.conf"
  "$BIN" "$sub" --config "$WORK/$name.conf" --data-dir "$WORK/$name" >"$WORK/$name.log" 2>&1 &
  PIDS[$name]=$!
}

# wait_api PORT: waits until the API on PORT answers a login (failing when a started service
# exited meanwhile), then logs in (lib.sh api_login).
wait_api() {
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -X POST "127.0.0.1:$1/dolphinscheduler/login" \
      -d 'userName=admin&userPassword=dolphinscheduler123' && break
    for n in "${!PIDS[@]}"; do kill -0 "${PIDS[$n]}" 2>/dev/null || { cat "$WORK/$n.log"; fail "$n exited"; }; done
    sleep 0.1
  done
  api_login "$1"
}

# wait_registered TYPE N: waits until /monitor/TYPE (MASTER, WORKER, ALERT_SERVER) lists N servers.
wait_registered() {
  local n=""
  for _ in $(seq 1 100); do
    n=$(call GET "/monitor/$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    [ "$n" = "$2" ] && return 0
    sleep 0.1
  done
  fail "the registry shows $n servers of type $1, want $2"
}

# wait_final ID: the instance's final state (7 SUCCESS, 6 FAILURE, 5 STOP) within 180 s.
wait_final() {
  local st=""
  for _ in $(seq 1 1800); do
    st=$(pg_psql -c "SELECT state FROM t_ds_process_instance WHERE id = $1")
    case "$st" in 5 | 6 | 7) echo "$st"; return 0 ;; esac
    sleep 0.1
  done
  echo "$st"
}

# expect_session_end NAME: the service NAME, resumed after its session expired, ended that run:
# with strategy stop its process exits; with waiting it starts again in the same process and
# registers anew (TYPE and COUNT: the /monitor type and how many of it to wait for).
expect_session_end() {
  local name=$1 type=$2 count=$3
  if [ "$CLUSTER_DISCONNECT" = stop ]; then
    for _ in $(seq 1 300); do kill -0 "${PIDS[$name]}" 2>/dev/null || break; sleep 0.1; done
    kill -0 "${PIDS[$name]}" 2>/dev/null && fail "the resumed $name did not stand down after its session expired"
    grep -q "registry session expired" "$WORK/$name.log" || fail "$name stopped without saying its session expired"
  else
    for _ in $(seq 1 300); do grep -q "started again after the lost registry session" "$WORK/$name.log" && break; sleep 0.1; done
    grep -q "started again after the lost registry session" "$WORK/$name.log" ||
      { tail -5 "$WORK/$name.log"; fail "the resumed $name did not start again (disconnect strategy waiting)"; }
    kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name exited under disconnect strategy waiting"
    wait_registered "$type" "$count"
  fi
}

# new_instance_after ID: the id of the first workflow instance newer than ID.
new_instance_after() {
  local id=""
  for _ in $(seq 1 300); do
    id=$(pg_psql -c "SELECT MIN(id) FROM t_ds_process_instance WHERE id > $1")
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.1
  done
  fail "no workflow instance was created"
}
