#!/usr/bin/env bash
# Entry point of `make bench`: bash bench/run.sh DSCHED_BIN [--quick] [dagbench.py options]
#
# Checks the tools, gives the sections a scratch directory, and guarantees cleanup: whatever
# happens to the Python processes, the trap below stops the dsched processes they left running
# (by the pids they recorded), their tasks, the database and registry servers started here, and
# removes the scratch directory. Figures go to stdout and bench/out/results.json.
# Exit status: 0 when everything was measured (missed targets included), non-zero when
# something broke.
#
# Sections, in order: dag (dagbench.py: DAGs, baselines, metadata databases), cron, api,
# cluster (clusterbench.py). BENCH_ONLY=cluster (or a comma-separated list) runs only those.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  echo "usage: bash bench/run.sh DSCHED_BIN [--quick]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
bin="$1"
shift
case "$bin" in -h|--help) usage ;; esac

if [ ! -x "$bin" ]; then
  echo "bench: dsched binary '$bin' not found or not executable (build it first: make)" >&2
  exit 2
fi
# A whole number in LO..HI (and a multiple of MULT) from environment variable NAME, or DEFAULT
# when it is unset or empty; exits with a message naming the variable otherwise.
env_int() {
  local name=$1 default=$2 lo=$3 hi=$4 mult=${5:-1} v
  v="${!name:-$default}"
  if ! [[ $v =~ ^[0-9]+$ ]] || [ "$((10#$v))" -lt "$lo" ] || [ "$((10#$v))" -gt "$hi" ] ||
      [ "$((10#$v % mult))" -ne 0 ]; then
    local also=""
    [ "$mult" = 1 ] || also=", a multiple of $mult"
    echo "bench: $name='$v': expected a whole number from $lo to $hi$also" >&2
    exit 2
  fi
  echo "$((10#$v))"
}

only="${BENCH_ONLY:-}"
for s in ${only//,/ }; do
  case "$s" in
    dag|cron|api|cluster) ;;
    *)
      echo "bench: BENCH_ONLY='$only': unknown section '$s' (sections: dag, cron, api, cluster)" >&2
      exit 2
      ;;
  esac
done
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
quick=""
for a in "$@"; do [ "$a" = "--quick" ] && quick=1; done

# The cluster section's knobs, checked before anything runs (bench/README.md).
case "${BENCH_CLUSTER:-1}" in
  0|1) ;;
  *)
    echo "bench: BENCH_CLUSTER='$BENCH_CLUSTER': expected 0 (skip the cluster section) or 1" >&2
    exit 2
    ;;
esac
cluster_rounds=$(env_int BENCH_CLUSTER_ROUNDS 4 1 20)
default_tasks=10000
[ -n "$quick" ] && default_tasks=1000
cluster_tasks=$(env_int BENCH_CLUSTER_TASKS "$default_tasks" 100 100000 100)
failover_reps=$(env_int BENCH_FAILOVER_REPS 3 0 20)
# ZooKeeper as tests/db/services.sh starts it (tickTime 2 s) grants sessions of 4 s to 60 s.
failover_session_s=$(env_int BENCH_FAILOVER_SESSION_S 4 4 60)

if want dag && ! command -v ninja >/dev/null 2>&1; then
  echo "bench: 'ninja' not found. It is the baseline the targets are set against; install the" >&2
  echo "       Debian package ninja-build (scripts/install-deps.sh installs it)." >&2
  exit 2
fi
for tool in make python3; do
  [ "$tool" = make ] && ! want dag && continue
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench: '$tool' not found on PATH" >&2
    exit 2
  fi
done

# Scratch space for dsched's data dir and for the make/ninja baselines alike, inside the
# checkout by default: file creation costs differ a lot between directories (on this kind of
# machine, creating files under /tmp is ~15x slower than under /work, because ext4 scans block
# groups full of recently deleted inodes), and both sides must pay the same price.
scratch_root="${BENCH_SCRATCH:-$(cd "$(dirname "$0")" && pwd)/out}"
mkdir -p "$scratch_root"
work="$(mktemp -d "$scratch_root/dsched-bench.XXXXXX")"
# Every dsched process the Python scripts start leaves its pid here while it runs.
pid_dir="$work/pids"
mkdir -p "$pid_dir"
pid_file="$pid_dir/server.pid"
# The results of this run only: each section adds its part (a stale file would mix runs).
rm -f "$here/out/results.json"

# shellcheck disable=SC2317  # (called from traps, which shellcheck does not follow)
cleanup() {
  local f pid d cwd left=()
  for f in "$pid_dir"/*.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f" 2>/dev/null || true)"
    # Only a process that is still ours: its command line names our scratch dir (its data dir
    # or config file), as pid files can outlive their pid.
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$work/"; then
      echo "bench: stopping leftover dsched process $pid" >&2
      kill -TERM -- "-$pid" 2>/dev/null || true  # its process group
      left+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 6))  # 5 to 6 s for all of them together
  for pid in "${left[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  # Tasks run in process groups of their own, in exec dirs under the scratch dir.
  for d in /proc/[0-9]*; do
    cwd="$(readlink "$d/cwd" 2>/dev/null || true)"
    if [[ $cwd == "$work"/* ]]; then
      kill -KILL -- "-${d#/proc/}" 2>/dev/null || kill -KILL "${d#/proc/}" 2>/dev/null || true
    fi
  done
  if [ -n "${SVC_ROOT:-}" ]; then svc_stop_all; fi
  rm -rf "$work"
}
trap cleanup EXIT

# tests/db/services.sh, once: throwaway PostgreSQL, MariaDB and ZooKeeper servers on loopback,
# with durability as dsched's SQLite default has it (see SVC_DURABILITY there). Needs root.
svc_loaded=""
pg_up=""
load_services() {
  [ -z "$svc_loaded" ] || return 0
  export SVC_DURABILITY=bench
  # shellcheck disable=SC1091
  . "$here/../tests/db/services.sh"
  svc_loaded=1
}

# python3 runs in the background so that a signal to this script is handled at once (bash
# defers traps while a foreground child runs). A background child of a non-interactive shell
# ignores Ctrl-C, so both INT and TERM are forwarded as SIGTERM, on which the scripts stop
# their servers in order; the EXIT trap then catches anything left.
py=""
# shellcheck disable=SC2317
forward() {
  if [ -n "$py" ]; then
    kill -TERM "$py" 2>/dev/null || true
    wait "$py" 2>/dev/null || true
  fi
  exit "$1"
}
trap 'forward 130' INT
trap 'forward 143' TERM
run_py() {
  python3 "$@" &
  py=$!
  local st=0
  wait "$py" || st=$?
  py=""
  return "$st"
}
rc=0

# The metadata-database figures: the largest DAG again on PostgreSQL 15 and on MariaDB, started
# here on loopback with throwaway data dirs (load_services). They need root (the servers run as
# their own users); without it, or with BENCH_SERVER_DBS=0, only SQLite is measured and the
# report says so.
db_args=()
if want dag && [ "${BENCH_SERVER_DBS:-1}" != 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: not root: PostgreSQL/MariaDB runs skipped (SQLite only)" >&2
  else
    load_services
    if svc_have_servers; then
      pg_start
      pg_up=1
      maria_start
      echo "bench: PostgreSQL on $PG_PORT, MariaDB on $MY_PORT (durability: $PG_DURABILITY / $MY_DURABILITY)"
      # One empty database per round (dagbench.py --db-rounds): {round} in the URLs.
      rounds=${BENCH_DB_ROUNDS:-3}
      for k in $(seq 1 "$rounds"); do pg_add_db "ds_r$k"; maria_add_db "ds_r$k"; done
      db_args=(--db-rounds "$rounds" --server-db "postgresql=${PG_URL%/ds}/ds_r{round}"
               --server-db "mariadb=${MY_URL%/ds}/ds_r{round}")
    else
      echo "bench: postgresql-15 / mariadb-server not installed: SQLite only" >&2
    fi
  fi
fi

if want dag; then
  run_py "$here/dagbench.py" --dsched "$bin" --work-dir "$work" --pid-file "$pid_file" \
    --out "$here/out" "${db_args[@]}" "$@" || rc=$?
fi

# Cron firing (issue 5): 10,000 schedules due in the same second, fired by the real scheduler
# into SQLite; lateness from each slot to its committed command, and commands per slot.
lateness_bin="$(dirname "$bin")/../../bench/schedule_lateness"
if want cron && [ "$rc" = 0 ]; then
  if [ -x "$lateness_bin" ]; then
    n=10000
    [ -n "$quick" ] && n=1000
    echo
    echo "== cron: $n schedules due in the same second (target: p99 <= 100 ms, exactly 1 command per slot)"
    "$lateness_bin" --schedules "$n" --slots 3 --work-dir "$work" || rc=$?
  else
    echo "bench: $lateness_bin is not built (ninja schedule_lateness): cron figures skipped" >&2
  fi
fi

# REST API (issue 3): with 100,000 workflow instances stored, the instance list page and
# start-process-instance under wrk, beside a constant route as the server's own ceiling.
if want api && [ "$rc" = 0 ]; then
  api_args=()
  [ -n "$quick" ] && api_args=(--quick)
  echo
  if command -v wrk >/dev/null 2>&1; then
    bash "$here/api_bench.sh" "$bin" "${api_args[@]}" || rc=$?
  else
    echo "bench: 'wrk' not found (scripts/install-deps.sh installs it): REST API figures skipped" >&2
  fi
fi
# Cluster mode (issue 6): the 10,000-task DAG on 1 master + 2 workers (PostgreSQL, ZooKeeper)
# beside dsched standalone on the same PostgreSQL, and the failover time after kill -9 of a
# master. Needs root and the PostgreSQL 15 and ZooKeeper packages; otherwise one "skipped" line.
if want cluster && [ "$rc" = 0 ]; then
  echo
  echo "== cluster: ${cluster_tasks}-task DAG on 1 master + 2 workers vs standalone" \
    "(target: >= 80 %), and failover"
  cl_args=(--dsched "$bin" --work-dir "$work" --pid-dir "$pid_dir" --out "$here/out")
  why=""
  if [ "${BENCH_CLUSTER:-1}" = 0 ]; then
    why="BENCH_CLUSTER=0"
  elif [ "$(id -u)" -ne 0 ]; then
    why="not root (PostgreSQL runs as its own user; tests/db/services.sh)"
  else
    load_services
    if [ ! -x "$PGBIN/initdb" ]; then
      why="PostgreSQL 15 is not installed ($PGBIN/initdb; scripts/install-deps.sh installs it)"
    elif ! svc_have_zookeeper; then
      why="ZooKeeper is not installed (packages zookeeper, default-jre-headless:"
      why+=" scripts/install-deps.sh)"
    fi
  fi
  if [ -n "$why" ]; then
    run_py "$here/clusterbench.py" "${cl_args[@]}" --skipped "$why" || rc=$?
  else
    [ -n "$pg_up" ] || { pg_start; pg_up=1; }
    zk_start
    echo "bench: PostgreSQL on $PG_PORT ($PG_DURABILITY), ZooKeeper on $ZK_PORT"
    # One empty database per run: round k's standalone and cluster runs, and the failover part.
    for k in $(seq 1 "$cluster_rounds"); do pg_add_db "cl_sa_r$k"; pg_add_db "cl_cl_r$k"; done
    pg_add_db cl_fo
    run_py "$here/clusterbench.py" "${cl_args[@]}" --zk-connect "$ZK_CONNECT" \
      --tasks "$cluster_tasks" --rounds "$cluster_rounds" --reps "$failover_reps" \
      --session-s "$failover_session_s" \
      --standalone-db "${PG_URL%/ds}/cl_sa_r{round}" --cluster-db "${PG_URL%/ds}/cl_cl_r{round}" \
      --failover-db "${PG_URL%/ds}/cl_fo" || rc=$?
  fi
fi
exit "$rc"
