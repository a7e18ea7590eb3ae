# Shared helpers of the end-to-end tests: start a real `dsched standalone` on a free port with a
# throwaway data dir, wait for it, log in, stop it. Sourced, not run.
set -euo pipefail

E2E_FREE_PORT_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/free_port.py"
free_port() { python3 "$E2E_FREE_PORT_PY"; }  # below the ephemeral range: see free_port.py

# start_server DSCHED DATA_DIR PORT LOG -> sets SERVER_PID
start_server() {
  local bin=$1 data=$2 port=$3 log=$4
  DSCHED_ENGINE_MINUTE_MS=${DSCHED_ENGINE_MINUTE_MS:-60000} "$bin" standalone --data-dir "$data" --port "$port" >>"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null -X POST "127.0.0.1:$port/dolphinscheduler/login" \
        -d 'userName=admin&userPassword=dolphinscheduler123'; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:"; cat "$log"; return 1; }
    sleep 0.05
  done
  echo "server did not answer on port $port"; cat "$log"; return 1
}

stop_server() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

fail() { echo "FAIL: $*"; exit 1; }

# api_login PORT -> sets API (the REST root) and SID (an admin session) for `call`.
api_login() {
  API="127.0.0.1:$1/dolphinscheduler"
  SID=$(curl -s -X POST "$API/login" -d 'userName=admin&userPassword=dolphinscheduler123' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["sessionId"])')
}

# call METHOD PATH [curl args...] -> the data of a code-0 answer, else fail
call() {
  local method=$1 path=$2; shift 2
  local out
  out=$(curl -s -H "sessionId: $SID" -X "$method" "$API$path" "$@")
  echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("code") != 0:
    sys.exit("FAIL: " + json.dumps(r))
d = r.get("data")
print(d if not isinstance(d, (dict, list)) else json.dumps(d))' || fail "$method $path: $out"
}

# field NAME: the NAME field of the JSON object on stdin.
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

# chains_yaml NAME CHAINS LENGTH COMMAND: a workflow of CHAINS independent chains of LENGTH
# Shell tasks c<chain>t<i>, each waiting for the one before it; in COMMAND, @T@ stands for the
# task's name. Prints the YAML.
chains_yaml() {
  local name=$1 chains=$2 length=$3 command=$4 c i deps
  echo "workflow: {name: $name}"
  echo "tasks:"
  for c in $(seq 1 "$chains"); do
    for i in $(seq 1 "$length"); do
      deps=""
      [ "$i" -gt 1 ] && deps=", deps: [c${c}t$((i - 1))]"
      echo "  - {name: c${c}t${i}, task_type: Shell${deps}, command: \"${command//@T@/c${c}t${i}}\"}"
    done
  done
}
