#!/usr/bin/env bash
# Starts a real `dsched standalone` on a free port with a throwaway data dir, runs the black-box
# REST suite (blackbox_test.py: journeys, api-test sequences, permission matrix, bad input)
# against it over HTTP, and stops the server whatever happens.
# Usage: run_blackbox.sh DSCHED_BINARY
set -euo pipefail
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"
WORK=$(mktemp -d); PORT=$(free_port)
trap 'stop_server; rm -rf "$WORK"' EXIT
start_server "$BIN" "$WORK/data" "$PORT" "$WORK/server.log"
if ! python3 "$HERE/blackbox_test.py" "http://127.0.0.1:$PORT/dolphinscheduler"; then
  echo "---- server log (last 50 lines)"; tail -n 50 "$WORK/server.log"
  exit 1
fi
