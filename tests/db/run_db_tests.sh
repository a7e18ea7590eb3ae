#!/usr/bin/env bash
# Runs database tests against real servers: starts PostgreSQL 15 and MariaDB on loopback (free
# ports, throwaway data dirs: services.sh), runs one suite, stops the servers and removes their
# files whatever happens. Registered with ctest by tests/CMakeLists.txt.
#
#   run_db_tests.sh storage   STORAGE_TEST   conformance + schema suites on SQLite, PG, MariaDB
#   run_db_tests.sh registry  DB_REGISTRY_TEST  the database registry on SQLite, PG, MariaDB
#   run_db_tests.sh scenarios SCENARIO_TEST  the scenario files on PostgreSQL, then on MariaDB
#   run_db_tests.sh cli       DSCHED         db create/upgrade/version, the scripts, bad config
#   run_db_tests.sh outage    DSCHED         PostgreSQL restarted in the middle of a run
#
# Needs root (the servers run as the postgres and mysql users); exits 77 (ctest: skipped)
# without it. DSCHED_SOURCE_DIR must name the source tree.
set -euo pipefail
mode=$1
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
export DSCHED_SOURCE_DIR=${DSCHED_SOURCE_DIR:-$(cd "$here/../.." && pwd)}

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the database tests start PostgreSQL and MariaDB as their users and need root"
  exit 77
fi
# shellcheck disable=SC1091
. "$here/services.sh"
svc_have_servers || { echo "FAIL: postgresql-15 / mariadb-server missing: run scripts/install-deps.sh"; exit 1; }
trap svc_stop_all EXIT
t0=$(date +%s)
pg_start
[ "$mode" = outage ] || maria_start
echo "servers up in $(( $(date +%s) - t0 )) s: PostgreSQL on $PG_PORT, MariaDB on ${MY_PORT:-(none)} (in $SVC_ROOT)"
export DSCHED_TEST_DB_USER=ds DSCHED_TEST_DB_PASSWORD=ds

case "$mode" in
  storage | registry)
    DSCHED_TEST_PG_URL=$PG_URL DSCHED_TEST_MYSQL_URL=$MY_URL DSCHED_TEST_REQUIRE_SERVERS=1 "$bin"
    ;;
  scenarios)
    for url in "$PG_URL" "$MY_URL"; do
      echo "== scenarios on $url"
      DATABASE="" SPRING_DATASOURCE_URL=$url SPRING_DATASOURCE_USERNAME=ds \
        SPRING_DATASOURCE_PASSWORD=ds "$bin"
    done
    ;;
  cli)
    # shellcheck disable=SC1091
    . "$here/db_cli_test.sh"
    ;;
  outage)
    # shellcheck disable=SC1091
    . "$here/outage_test.sh"
    ;;
  *)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
