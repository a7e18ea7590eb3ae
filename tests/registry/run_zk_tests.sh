#!/usr/bin/env bash
# Runs the ZooKeeper registry suite against a real server: starts a throwaway ZooKeeper on a
# free loopback port (tests/db/services.sh zk_start), runs the test binary with its address in
# DSCHED_TEST_ZK, and stops the server and removes its files whatever happens. Registered with
# ctest as registry_zookeeper (tests/CMakeLists.txt).
#
#   run_zk_tests.sh ZK_REGISTRY_TEST [gtest args...]
#
# Exits 77 (ctest: skipped) when Java or the zookeeper package is missing.
set -euo pipefail
bin=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
. "$here/../db/services.sh"
svc_have_zookeeper || { echo "SKIP: zookeeper / java missing: run scripts/install-deps.sh"; exit 77; }
trap svc_stop_all EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs on ctest's timeout too
t0=$(date +%s)
zk_start
echo "zookeeper up in $(( $(date +%s) - t0 )) s on $ZK_CONNECT (in $SVC_ROOT)"
# The outage test stops and starts the same server (same port and data: sessions survive).
export SVC_ROOT ZK_PORT
export DSCHED_TEST_ZK_STOP="bash -c '. $here/../db/services.sh && zk_stop'"
export DSCHED_TEST_ZK_START="bash -c '. $here/../db/services.sh && zk_start'"
# Every wait inside has its own deadline; this bounds a hang all the same.
DSCHED_TEST_ZK=$ZK_CONNECT timeout 600 "$bin" "$@"
