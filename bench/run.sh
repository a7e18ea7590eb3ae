#!/usr/bin/env bash
# Entry point of `make bench`: bash bench/run.sh DSCHED_BIN [--quick] [dagbench.py options]
#
# Checks the tools, gives dagbench.py a scratch directory, and guarantees cleanup: whatever
# happens to the Python process, the trap below stops a server it left running (by the pid it
# recorded) and removes the scratch directory. Figures go to stdout and bench/out/results.json.
# Exit status: 0 when everything was measured (missed targets included), non-zero when
# something broke.
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
if ! command -v ninja >/dev/null 2>&1; then
  echo "bench: 'ninja' not found. It is the baseline the targets are set against; install the" >&2
  echo "       Debian package ninja-build (scripts/install-deps.sh installs it)." >&2
  exit 2
fi
for tool in make python3; do
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
pid_file="$work/server.pid"

# shellcheck disable=SC2317  # (called from traps, which shellcheck does not follow)
cleanup() {
  if [ -f "$pid_file" ]; then
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    # Only a process that is still our `dsched standalone` (pid files can outlive their pid).
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q standalone; then
      echo "bench: stopping leftover server $pid" >&2
      kill -TERM -- "-$pid" 2>/dev/null || true  # its process group: server + task processes
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  if [ -n "${SVC_ROOT:-}" ]; then svc_stop_all; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The metadata-database figures: the largest DAG again on PostgreSQL 15 and on MariaDB, started
# here on loopback with throwaway data dirs (tests/db/services.sh, durability as dsched's SQLite
# default has it: see SVC_DURABILITY there). They need root (the servers run as their own users);
# without it, or with BENCH_SERVER_DBS=0, only SQLite is measured and the report says so.
db_args=()
if [ "${BENCH_SERVER_DBS:-1}" != 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: not root: PostgreSQL/MariaDB runs skipped (SQLite only)" >&2
  else
    export SVC_DURABILITY=bench
    # shellcheck disable=SC1091
    . "$here/../tests/db/services.sh"
    if svc_have_servers; then
      pg_start
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

# python3 runs in the background so that a signal to this script is handled at once (bash
# defers traps while a foreground child runs). A background child of a non-interactive shell
# ignores Ctrl-C, so both INT and TERM are forwarded as SIGTERM, on which dagbench.py stops its
# server in order; the EXIT trap then catches anything left.
python3 "$here/dagbench.py" --dsched "$bin" --work-dir "$work" --pid-file "$pid_file" \
  --out "$here/out" "${db_args[@]}" "$@" &
py=$!
# shellcheck disable=SC2317
forward() {
  kill -TERM "$py" 2>/dev/null || true
  wait "$py" 2>/dev/null || true
  exit "$1"
}
trap 'forward 130' INT
trap 'forward 143' TERM

rc=0
wait "$py" || rc=$?

# Cron firing (issue 5): 10,000 schedules due in the same second, fired by the real scheduler
# into SQLite; lateness from each slot to its committed command, and commands per slot.
lateness_bin="$(dirname "$bin")/../../bench/schedule_lateness"
if [ "$rc" = 0 ]; then
  if [ -x "$lateness_bin" ]; then
    n=10000
    for a in "$@"; do [ "$a" = "--quick" ] && n=1000; done
    echo
    echo "== cron: $n schedules due in the same second (target: p99 <= 100 ms, exactly 1 command per slot)"
    "$lateness_bin" --schedules "$n" --slots 3 --work-dir "$work" || rc=$?
  else
    echo "bench: $lateness_bin is not built (ninja schedule_lateness): cron figures skipped" >&2
  fi
fi

# REST API (issue 3): with 100,000 workflow instances stored, the instance list page and
# start-process-instance under wrk, beside a constant route as the server's own ceiling.
if [ "$rc" = 0 ]; then
  api_args=()
  for a in "$@"; do [ "$a" = "--quick" ] && api_args=(--quick); done
  echo
  if command -v wrk >/dev/null 2>&1; then
    bash "$here/api_bench.sh" "$bin" "${api_args[@]}" || rc=$?
  else
    echo "bench: 'wrk' not found (scripts/install-deps.sh installs it): REST API figures skipped" >&2
  fi
fi
exit "$rc"
