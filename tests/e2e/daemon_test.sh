#!/usr/bin/env bash
# bin/dolphinscheduler-daemon.sh against a real dsched, in an install directory laid out as the
# deployment guide has it (bin/ with the binary, conf/, script/): start, refusal to start twice,
# status, a stale pid file, stop, stop of a service that ignores SIGTERM (kill -9 after
# STOP_TIMEOUT), a config the service refuses, and bad arguments. Then logger-server: started by
# the script, a task log read through its gRPC service (curl over HTTP/2, messages encoded and
# decoded by protoc from proto/dsched.proto), a path outside its log directory refused, stop.
set -euo pipefail
BIN=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d); PORT=$(free_port); LPORT=$(free_port)
HOME_DIR=$WORK/install
daemon() { bash "$HOME_DIR/bin/dolphinscheduler-daemon.sh" "$@"; }
cleanup() {
  daemon stop standalone-server >/dev/null 2>&1 || true
  daemon stop logger-server >/dev/null 2>&1 || true
  [ -n "${STALE_PID:-}" ] && kill "$STALE_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$HOME_DIR/bin" "$HOME_DIR/conf"
cp "$SRC/bin/dolphinscheduler-daemon.sh" "$HOME_DIR/bin/"
cp "$BIN" "$HOME_DIR/bin/dsched"
cp -r "$SRC/script" "$HOME_DIR/"
cp -r "$SRC/conf/env" "$HOME_DIR/conf/"
{
  cat "$SRC/conf/datasource.conf"
  echo "api.port = $PORT"
  echo "logger.listen-port = $LPORT"
  echo "logger.metrics-port = $(free_port)"
} >"$HOME_DIR/conf/datasource.conf"
PID_FILE=$HOME_DIR/logs/dolphinscheduler-standalone-server.pid
LOG=$HOME_DIR/logs/dolphinscheduler-standalone-server.log
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
login() { curl -s -X POST "127.0.0.1:$PORT/dolphinscheduler/login" -d 'userName=admin&userPassword=dolphinscheduler123'; }
wait_login() {
  for _ in $(seq 1 200); do
    login | grep -q '"code":0' && return 0
    sleep 0.05
  done
  cat "$LOG"; fail "the started service never answered a login on port $PORT"
}

rc=0; out=$(daemon status standalone-server) || rc=$?
[ "$rc" = 3 ] && [[ $out == *"not running"* ]] || fail "status before start: rc $rc, '$out'"
ok "status of a stopped service: exit 3"

out=$(daemon start standalone-server) || { echo "$out"; cat "$LOG"; fail "start"; }
pid=$(cat "$PID_FILE")
[[ $out == *"started, pid $pid"* ]] || fail "start said '$out'"
wait_login
# The relative data.dir of conf/datasource.conf is under the install directory.
[ -f "$HOME_DIR/data/dsched.db" ] || fail "no database under the install directory's data/"
ok "start: pid file, log, answers on its port, data under the install dir"

rc=0; out=$(daemon start standalone-server 2>&1) || rc=$?
[ "$rc" = 1 ] && [[ $out == *"already running as pid $pid"* ]] || fail "second start: rc $rc, '$out'"
[ "$(cat "$PID_FILE")" = "$pid" ] && kill -0 "$pid" || fail "second start touched the running service"
ok "a second start is refused and leaves the first alone"

out=$(daemon status standalone-server) || fail "status of a running service: $out"
[[ $out == *"running, pid $pid"* ]] || fail "status said '$out'"
ok "status of a running service"

out=$(daemon stop standalone-server) || fail "stop: $out"
[[ $out == *"stopped (pid $pid)"* ]] || fail "stop said '$out'"
! kill -0 "$pid" 2>/dev/null || fail "pid $pid still alive after stop"
[ ! -f "$PID_FILE" ] || fail "pid file left after stop"
grep -q "stopping" "$LOG" || fail "the service did not log a clean stop: $(tail -n 3 "$LOG")"
ok "stop: SIGTERM, clean exit, pid file removed"

out=$(daemon stop standalone-server) || fail "stop of a stopped service must succeed: $out"
[[ $out == *"not running"* ]] || fail "second stop said '$out'"
ok "stop of a stopped service is a no-op"

# A pid file left by a crash, whose pid now belongs to another process: not ours, so start.
sleep 300 & STALE_PID=$!
echo "$STALE_PID" >"$PID_FILE"
rc=0; out=$(daemon status standalone-server) || rc=$?
[ "$rc" = 3 ] || fail "status with a foreign pid in the pid file: rc $rc, '$out'"
out=$(daemon start standalone-server) || { cat "$LOG"; fail "start over a stale pid file: $out"; }
pid=$(cat "$PID_FILE")
[ "$pid" != "$STALE_PID" ] && kill -0 "$STALE_PID" || fail "stale pid file handling"
wait_login
ok "a stale pid file naming another process does not block start, and that process is left alone"

# A service that does not react to SIGTERM (stopped here with SIGSTOP) is killed after the wait.
kill -STOP "$pid"
out=$(STOP_TIMEOUT=1 daemon stop standalone-server) || fail "stop of a stuck service: $out"
[[ $out == *"did not stop within 1s: kill -9 $pid"* ]] || fail "stuck stop said '$out'"
! kill -0 "$pid" 2>/dev/null || fail "stuck service $pid still alive"
ok "stop: kill -9 after STOP_TIMEOUT"

# ---- logger-server
# grpc_call METHOD REQUEST_TYPE REPLY_TYPE REQUEST_TEXT: one unary call to the logger on $LPORT;
# prints the reply in protobuf text format (its `bytes` fields C-escaped).
grpc_call() {
  local method=$1 req=$2 reply=$3 text=$4 proto=(--proto_path="$SRC" "$SRC/proto/dsched.proto")
  printf '%s' "$text" | protoc --encode="dsched.rpc.$req" "${proto[@]}" >"$WORK/req.pb" ||
    fail "protoc cannot encode $req"
  # The gRPC frame: an uncompressed flag byte, the length (4 bytes, big endian), the message.
  python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(b"\0" + struct.pack(">I", len(d)) + d)' "$WORK/req.pb" >"$WORK/req.grpc"
  curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary @"$WORK/req.grpc" -o "$WORK/reply.grpc" \
    "http://127.0.0.1:$LPORT/dsched.rpc.LoggerService/$method" || fail "$method: no answer"
  tail -c +6 "$WORK/reply.grpc" | protoc --decode="dsched.rpc.$reply" "${proto[@]}"
}
LLOG=$HOME_DIR/logs/dolphinscheduler-logger-server.log
mkdir -p "$HOME_DIR/data/logs/5"
printf 'line 1\nline 2\nline 3\n' >"$HOME_DIR/data/logs/5/8.log"
echo "not a task log" >"$HOME_DIR/outside.txt"
out=$(daemon start logger-server) || { echo "$out"; cat "$LLOG"; fail "start logger-server"; }
lpid=$(cat "$HOME_DIR/logs/dolphinscheduler-logger-server.pid")
out=$(daemon status logger-server) && [[ $out == *"running, pid $lpid"* ]] || fail "logger status: '$out'"
tr '\0' ' ' <"/proc/$lpid/cmdline" | grep -q "dsched logger" || fail "pid $lpid is not a dsched logger"
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$LPORT") 2>/dev/null && break
  sleep 0.05
done
ok "logger-server: started by the script, status, listening on logger.listen-port"

# log.dir defaults to <data.dir>/logs, the data dir of conf/datasource.conf (./data).
LOGP=$HOME_DIR/data/logs/5/8.log
for round in 1 2; do  # the same answer twice: reads are idempotent
  out=$(grpc_call RollViewLog RollViewLogRequest LogLinesReply "path: \"$LOGP\" skip_line_num: 1 limit: 5")
  [[ $out == *'message: "line 2\nline 3\n"'* && $out == *"line_num: 2"* ]] ||
    fail "RollViewLog through the logger said: $out"
done
out=$(grpc_call ViewLog LogPathRequest LogLinesReply "path: \"$LOGP\"")
[[ $out == *"line_num: 3"* ]] || fail "ViewLog said: $out"
out=$(grpc_call GetLogBytes LogPathRequest LogBytesReply "path: \"$LOGP\"")
[[ $out == *'data: "line 1\nline 2\nline 3\n"'* ]] || fail "GetLogBytes said: $out"
ok "a task log read through the logger: roll view (twice, the same), whole view, bytes"

out=$(grpc_call GetLogBytes LogPathRequest LogBytesReply "path: \"$HOME_DIR/data/logs/../../outside.txt\"")
[[ $out == *STATUS_PERMISSION_DENIED* && $out == *"outside the log directory"* && $out != *"not a task log"* ]] ||
  fail "a path outside the log directory was not refused: $out"
ok "a path outside the logger's log directory is refused"

out=$(daemon stop logger-server) && [[ $out == *"stopped (pid $lpid)"* ]] || fail "logger stop: '$out'"
! kill -0 "$lpid" 2>/dev/null || fail "logger pid $lpid alive after stop"
grep -q "stopping" "$LLOG" || fail "the logger did not log a clean stop: $(tail -n 3 "$LLOG")"
ok "logger-server: stop on SIGTERM"

# A config the service refuses: start fails and shows the service's own error line.
echo "no.such.key = 1" >>"$HOME_DIR/conf/datasource.conf"
rc=0; out=$(daemon start standalone-server 2>&1) || rc=$?
[ "$rc" = 1 ] && [[ $out == *"exited at start"* ]] && [[ $out == *"no.such.key"* ]] ||
  fail "start with a bad config: rc $rc, '$out'"
[ ! -f "$PID_FILE" ] || fail "pid file left by a failed start"
ok "a refused config: start fails with the service's error line, no pid file"

rc=0; daemon start no-such-server >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown service: rc $rc"
rc=0; daemon restart standalone-server >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown action: rc $rc"
rc=0; out=$(STOP_TIMEOUT=soon daemon stop standalone-server 2>&1) || rc=$?
[ "$rc" = 2 ] && [[ $out == *STOP_TIMEOUT* ]] || fail "bad STOP_TIMEOUT: rc $rc, '$out'"
ok "bad arguments: exit 2 with usage"

echo "$passed passed, 0 failed: dolphinscheduler-daemon.sh"
