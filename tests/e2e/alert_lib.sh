# The alert receivers and REST set-up shared by the alert end-to-end tests (sourced after lib.sh):
# an SMTP sink (aiosmtpd, each mail a file of a Maildir) and a webhook receiver (python3
# http.server, each request a file), both on loopback, and the Email and Http plugin instances
# that point at them, made over DolphinScheduler's REST routes.
# Exits 77 (skip) when python3-aiosmtpd is missing.
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd missing (scripts/install-deps.sh)"; exit 77; }

# start_alert_receivers DIR: mails go to DIR/mbox/new/, requests to DIR/hook/<n>.json
# {method, path, headers, body}. Sets SMTP_PORT, HOOK_PORT, SMTP_PID and HOOK_PID; returns once
# both listen.
start_alert_receivers() {
  local dir=$1
  SMTP_PORT=$(free_port); HOOK_PORT=$(free_port)
  mkdir -p "$dir/hook"
  /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$dir/mbox" \
    >"$dir/smtp.log" 2>&1 &
  SMTP_PID=$!
  cat >"$dir/hook.py" <<'PY'
import http.server, json, os, sys
out = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8") if n else ""
        rec = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        name = os.path.join(out, "%d.json" % len([f for f in os.listdir(out) if f.endswith(".json")]))
        with open(name + ".tmp", "w") as f: json.dump(rec, f)
        os.rename(name + ".tmp", name)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    do_POST = do_PUT = do_GET = handle_one
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  python3 "$dir/hook.py" "$HOOK_PORT" "$dir/hook" >"$dir/hook.log" 2>&1 &
  HOOK_PID=$!
  for _ in $(seq 1 100); do
    python3 -c "import socket,sys; [socket.create_connection(('127.0.0.1',p),1).close() for p in ($SMTP_PORT,$HOOK_PORT)]" \
      2>/dev/null && return 0
    sleep 0.1
  done
  fail "the SMTP sink or the webhook receiver did not start"
}

# mail_count DIR / hook_count DIR: what the receivers got so far.
mail_count() { ls "$1/mbox/new" 2>/dev/null | wc -l; }
hook_count() { ls "$1/hook" | grep -c '\.json$' || true; }

# alert_plugin_instances HOOK_WARNING_TYPE: an Email instance (warning type ALL) sending to the
# SMTP sink and an Http instance (the given warning type) posting to the webhook receiver.
# Sets MAIL_ID and HOOK_ID. Needs `call` logged in as admin.
alert_plugin_instances() {
  local plugins mail_params hook_params email_def http_def
  plugins=$(call GET /ui-plugins/query-by-type --data-urlencode pluginType=ALERT)
  email_def=$(echo "$plugins" | python3 -c "import json,sys; print([p['id'] for p in json.load(sys.stdin) if p['pluginName']=='Email'][0])")
  http_def=$(echo "$plugins" | python3 -c "import json,sys; print([p['id'] for p in json.load(sys.stdin) if p['pluginName']=='Http'][0])")
  mail_params=$(printf '{"receivers":"ops@example.com","receiverCcs":"lead@example.com","serverHost":"127.0.0.1","serverPort":"%s","sender":"dsched@example.com","enableSmtpAuth":"false","starttlsEnable":"false","sslEnable":"false","showType":"table"}' "$SMTP_PORT")
  hook_params=$(printf '{"WebHook":"http://127.0.0.1:%s/alert","requestType":"POST","headerParams":"{\\"X-Token\\":\\"t0k\\"}","bodyParams":"{\\"channel\\":\\"ops\\"}"}' "$HOOK_PORT")
  MAIL_ID=$(call POST /alert-plugin-instances --data-urlencode "pluginDefineId=$email_def" \
    --data-urlencode instanceName=ops-mail --data-urlencode instanceType=NORMAL \
    --data-urlencode warningType=ALL --data-urlencode "pluginInstanceParams=$mail_params" | field id)
  HOOK_ID=$(call POST /alert-plugin-instances --data-urlencode "pluginDefineId=$http_def" \
    --data-urlencode instanceName=ops-hook --data-urlencode instanceType=NORMAL \
    --data-urlencode warningType="$1" --data-urlencode "pluginInstanceParams=$hook_params" | field id)
}

# alert_workflow PROJECT NAME CODE SCRIPT [TIMEOUT_MINUTES] -> definition code (released): one
# SHELL task "step" running SCRIPT; with a timeout, the definition and its task both have it, the
# task's with strategy WARN.
alert_workflow() {
  local pc=$1 extra="" timeout=${5:-0}
  [ "$timeout" -gt 0 ] && extra=",\"timeoutFlag\":\"OPEN\",\"timeoutNotifyStrategy\":\"WARN\",\"timeout\":$timeout"
  local t="[{\"code\":$3,\"name\":\"step\",\"taskType\":\"SHELL\",\"taskParams\":{\"rawScript\":\"$4\"}$extra}]"
  local wf
  wf=$(call POST "/projects/$pc/process-definition" --data-urlencode "name=$2" \
    --data-urlencode "timeout=$timeout" \
    --data-urlencode "taskDefinitionJson=$t" \
    --data-urlencode "taskRelationJson=[{\"preTaskCode\":0,\"postTaskCode\":$3}]" \
    --data-urlencode executionType=PARALLEL | field code)
  call POST "/projects/$pc/process-definition/$wf/release" --data-urlencode releaseState=ONLINE >/dev/null
  echo "$wf"
}

# alert_start PROJECT DEF_CODE WARNING_TYPE GROUP_ID: starts a run of the definition.
alert_start() {
  call POST "/projects/$1/executors/start-process-instance" --data-urlencode "processDefinitionCode=$2" \
    --data-urlencode scheduleTime= --data-urlencode failureStrategy=END \
    --data-urlencode "warningType=$3" --data-urlencode "warningGroupId=$4" >/dev/null
}
