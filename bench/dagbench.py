#!/usr/bin/env python3
"""DAG throughput and scheduling-latency benchmark for `dsched standalone`.

Runs generated workflows of no-op SHELL tasks through a fresh standalone server over the
DolphinScheduler 3.2.2 REST API, measures wall time, per-task "dependency met -> started"
latency, per-hop overhead of a chain and the server's RSS, and times the same DAGs under
`make -j2` and `ninja -j2` as baselines. Prints a table and writes results.json.

Benchmarks never assert: missed targets are printed, not failed. The exit status is non-zero
only when something broke (server did not start, an API call failed, an instance FAILED).

Python 3 standard library only. Normally started by bench/run.sh, which owns the scratch
directory and kills a leftover server if this script dies without cleaning up.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shutil
import signal
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

# The tests' port picker (below the kernel's ephemeral range, so no outgoing connection of the
# bench's own servers takes a port before the service meant for it binds it).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from free_port import free_port  # noqa: E402  (after the path it needs)

BASE = "/dolphinscheduler"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "dolphinscheduler123"
LAYER_WIDTH = 100
GEN_CODES_MAX = 1000  # gen-task-codes refuses genNum above this (DolphinScheduler's limit)
PAGE_SIZE = 1000
POLL_INTERVAL_S = 0.1
MIB = 1024 * 1024

# Workflow instance states that end a run (DolphinScheduler names and numeric codes).
SUCCESS_STATES = {"SUCCESS", 7}
FAILED_STATES = {"FAILURE", 6, "STOP", 5, "PAUSE", 3, "KILL", 9}

# Targets from the issue. Printed beside the figures, never asserted.
TARGET_DAG10K_VS_NINJA = 1.25
TARGET_HOP_P50_MS = 2.0
TARGET_HOP_P99_MS = 10.0
TARGET_IDLE_RSS_MB = 50.0


def discard(path):
    """Puts a finished run's scratch dir out of the way; run.sh deletes the work dir at the end.

    Not deleted now: on a file system without a journal (ext4 "nojournal", as on the bench
    VM) the inode allocator steps over every inode freed in the last 5 to 35 seconds one at a
    time, so deleting a 10,000-task run slows each file creation of the run that follows it,
    and the figure of whichever side runs second would carry the cost of the first.
    """
    if not os.path.exists(path):
        return
    for k in range(1000):
        target = "%s.discarded%s" % (path, "" if k == 0 else "-%d" % k)
        if not os.path.exists(target):
            try:
                os.rename(path, target)
                return
            except OSError:
                break
    shutil.rmtree(path, ignore_errors=True)


def settle():
    """Writes back what earlier runs left dirty in the page cache. The kernel does it about 30 s
    after the writes, which is while the next run is timed: without this, every run but the
    first pays for part of its predecessor's files (the cluster section's second run of a round
    for the first's 10,000 logs and exec dirs, and a database's data files)."""
    os.sync()


class BenchError(Exception):
    """Something broke (as opposed to "slow"): the run cannot produce a figure."""


class StartError(BenchError):
    """The server did not come up: the next runs would not either, so they are skipped."""


# --------------------------------------------------------------------------------------------
# Workflow shapes (pure). A DAG is a list `preds` where preds[i] lists the predecessors of task
# i by index; tasks are named t_<i> everywhere (dsched, make, ninja) so results line up.
# --------------------------------------------------------------------------------------------

class Dag:
    def __init__(self, name, kind, preds):
        self.name = name
        self.kind = kind  # "dag" or "chain"
        self.preds = preds

    @property
    def n(self):
        return len(self.preds)

    def edges(self):
        return [(p, i) for i, ps in enumerate(self.preds) for p in ps]

    def sinks(self):
        has_succ = set(p for ps in self.preds for p in ps)
        return [i for i in range(self.n) if i not in has_succ]


def layered_dag(n, width=LAYER_WIDTH):
    """`width` tasks per layer; task i of layer L>0 waits for tasks i and (i+1)%width of L-1."""
    if n % width:
        raise ValueError("layered DAG size %d is not a multiple of %d" % (n, width))
    preds = []
    for idx in range(n):
        layer, pos = divmod(idx, width)
        if layer == 0:
            preds.append([])
        else:
            prev = (layer - 1) * width
            preds.append([prev + pos, prev + (pos + 1) % width])
    return Dag("dag_%d" % n, "dag", preds)


def chain(n):
    return Dag("chain_%d" % n, "chain", [[]] + [[i - 1] for i in range(1, n)])


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list: always an observed value."""
    s = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(s)))
    return s[rank - 1]


def summarize(values):
    if not values:
        return None
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values), "min": min(values)}


# --------------------------------------------------------------------------------------------
# Baselines: the same DAG for make and ninja. Each task is `touch t_<i>`, so both tools really
# spawn one process per task, as dsched does (a recipe of plain `true` would leave ninja
# nothing to stat, and `@true` vs `touch` would not compare like with like).
# --------------------------------------------------------------------------------------------

def write_makefile(dag, path):
    with open(path, "w") as f:
        f.write(".PHONY: all\n")
        f.write("all: %s\n" % " ".join("t_%d" % i for i in dag.sinks()))
        for i, ps in enumerate(dag.preds):
            f.write("t_%d:%s\n\t@touch $@\n" % (i, "".join(" t_%d" % p for p in ps)))


def write_ninja(dag, path):
    with open(path, "w") as f:
        f.write("rule run\n  command = touch $out\n")
        for i, ps in enumerate(dag.preds):
            f.write("build t_%d: run%s\n" % (i, "".join(" t_%d" % p for p in ps)))
        f.write("build all: phony %s\n" % " ".join("t_%d" % i for i in dag.sinks()))
        f.write("default all\n")


def run_baseline(tool, dag, scratch):
    """Times `make -j2` or `ninja -j2` over `dag` in a fresh directory; returns seconds."""
    d = tempfile.mkdtemp(prefix="%s-%s-" % (tool, dag.name), dir=scratch)
    try:
        if tool == "make":
            write_makefile(dag, os.path.join(d, "Makefile"))
            cmd = ["make", "-j2", "-f", "Makefile", "all"]
        else:
            write_ninja(dag, os.path.join(d, "build.ninja"))
            cmd = ["ninja", "-j2", "-f", "build.ninja", "all"]
        settle()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise BenchError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                      p.stderr.decode(errors="replace")[-2000:]))
        made = sum(1 for name in os.listdir(d) if name.startswith("t_"))
        if made != dag.n:
            raise BenchError("%s built %d of %d targets" % (tool, made, dag.n))
        return wall
    finally:
        discard(d)


# --------------------------------------------------------------------------------------------
# REST client: form-encoded requests, {code,msg,data} envelope, sessionId header.
# --------------------------------------------------------------------------------------------

class ApiError(BenchError):
    pass


class Api:
    def __init__(self, port):
        self.port = port
        self.session = None

    def call(self, method, path, query=None, form=None, timeout=600):
        """Sends one request and returns the envelope's `data`; raises ApiError unless code 0.

        One connection per request: polling and paging are a few dozen requests, and it keeps
        the client free of keep-alive corner cases in a server that is still being written.
        """
        url = BASE + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.session:
            headers["sessionId"] = self.session
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, url, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        where = "%s %s" % (method, BASE + path)
        if resp.status != 200:
            raise ApiError("%s: HTTP %d %s" % (where, resp.status, raw[:500]))
        try:
            env = json.loads(raw)
        except ValueError:
            raise ApiError("%s: response is not JSON: %r" % (where, raw[:500]))
        if not isinstance(env, dict) or env.get("code") != 0:
            code = env.get("code") if isinstance(env, dict) else None
            msg = env.get("msg") if isinstance(env, dict) else env
            raise ApiError("%s: code %s: %s" % (where, code, msg))
        return env.get("data")

    def login(self):
        data = self.call("POST", "/login",
                         form={"userName": ADMIN_USER, "userPassword": ADMIN_PASSWORD}, timeout=5)
        self.session = data["sessionId"]


# --------------------------------------------------------------------------------------------
# The server process.
# --------------------------------------------------------------------------------------------


def proc_status_kb(pid, field):
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), in kB; None if unreadable."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """One `dsched standalone` with its own data dir and port.

    It runs in its own session (process group) so that stopping it also stops any task
    process it left behind, and so the terminal's Ctrl-C reaches only this script, which then
    stops the server in order. Its pid is written to `pid_file` so run.sh's trap can kill it if
    this script is killed outright.
    """

    def __init__(self, binary, scratch, pid_file, ready_timeout, env=None):
        self.binary = binary
        self.env = env  # None: the embedded SQLite database; else the server database's vars
        self.data_dir = tempfile.mkdtemp(prefix="data-", dir=scratch)
        self.log_path = os.path.join(scratch, "server-%s.log" % os.path.basename(self.data_dir))
        self.pid_file = pid_file
        self.ready_timeout = ready_timeout
        self.port = free_port()
        self.proc = None
        self.api = Api(self.port)
        self.ready_s = None
        self.stopped = False

    def start(self):
        cmd = [self.binary, "standalone", "--data-dir", self.data_dir, "--port", str(self.port)]
        log = open(self.log_path, "wb")
        t0 = time.perf_counter()
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        log.close()
        if self.pid_file:
            with open(self.pid_file, "w") as f:
                f.write("%d\n" % self.proc.pid)
        # Ready = the login endpoint answers with code 0 (the port alone may open before the
        # database and the admin user exist).
        deadline = t0 + self.ready_timeout
        last_err = None
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise StartError("server exited with status %d before answering login\n%s"
                                 % (self.proc.returncode, self.log_tail()))
            try:
                self.api.login()
                self.ready_s = time.perf_counter() - t0
                return
            except (OSError, http.client.HTTPException, ApiError) as e:
                last_err = e
                time.sleep(0.05)
        raise StartError("server did not answer login within %.0f s (last error: %s)\n%s"
                         % (self.ready_timeout, last_err, self.log_tail()))

    def rss_kb(self, field):
        return proc_status_kb(self.proc.pid, field) if self.proc else None

    def stop(self):
        """SIGTERM to the process group, SIGKILL after 15 s. Idempotent."""
        if self.proc is None or self.stopped:
            return
        # Set first: a second call must never signal a process group id that may be reused.
        self.stopped = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print("bench: server did not stop within 15 s of SIGTERM; killing it",
                      file=sys.stderr)
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        else:
            # The server is gone, but task processes of its group may remain.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.pid_file and os.path.exists(self.pid_file):
            os.remove(self.pid_file)

    def cleanup(self):
        discard(self.data_dir)
        try:
            os.remove(self.log_path)
        except OSError:
            pass

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace").splitlines()
            return "---- server log (last %d lines) ----\n%s" % (lines, "\n".join(text[-lines:]))
        except OSError:
            return "(no server log)"


# --------------------------------------------------------------------------------------------
# One dsched run.
# --------------------------------------------------------------------------------------------

def task_definition(code, i, script="true"):
    return {"code": code, "name": "t_%d" % i, "description": "", "taskType": "SHELL",
            "taskParams": {"localParams": [], "rawScript": script, "resourceList": []},
            "flag": "YES", "taskPriority": "MEDIUM", "workerGroup": "default",
            "failRetryTimes": 0, "failRetryInterval": 1, "delayTime": 0,
            "timeout": 0, "timeoutFlag": "CLOSE"}


def relation(pre, post):
    return {"name": "", "preTaskCode": pre, "preTaskVersion": 0, "postTaskCode": post,
            "postTaskVersion": 0, "conditionType": "NONE", "conditionParams": {}}


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def parse_ds_time(s):
    """'yyyy-MM-dd HH:mm:ss' -> epoch ms (as UTC; only differences of these are used)."""
    if not s:
        return None
    dt = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def gen_codes(api, project, n):
    codes = []
    while len(codes) < n:
        k = min(GEN_CODES_MAX, n - len(codes))
        got = api.call("GET", "/projects/%d/task-definition/gen-task-codes" % project,
                       query={"genNum": k})
        if not isinstance(got, list) or len(got) != k:
            raise BenchError(("gen-task-codes?genNum=%d returned %r" % (k, got))[:300])
        codes.extend(int(c) for c in got)
    if len(set(codes)) != n:
        raise BenchError("gen-task-codes returned duplicate codes")
    return codes


def create_workflow(api, project, dag, codes, script="true"):
    """Defines `dag` in `project`, every task a SHELL task running `script`; returns its code."""
    tasks = [task_definition(codes[i], i, script) for i in range(dag.n)]
    rels = [relation(0, codes[i]) for i, ps in enumerate(dag.preds) if not ps]
    rels += [relation(codes[p], codes[i]) for p, i in dag.edges()]
    data = api.call("POST", "/projects/%d/process-definition" % project, form={
        "name": dag.name, "description": "dsched bench", "globalParams": "[]",
        "locations": "[]", "timeout": "0", "executionType": "PARALLEL",
        "taskDefinitionJson": compact(tasks), "taskRelationJson": compact(rels)})
    return int(data["code"])


def wait_for_instance(api, project, trigger, timeout_s, poll_by_id):
    """Polls every 100 ms until the run of `trigger` is final.

    Returns (instance row as last polled, perf_counter at the poll that saw the final state).
    By default the state is polled through process-instances/trigger, which returns the same
    instance row as process-instances/{id} but without dagData: {id} embeds the whole
    definition (megabytes for 10,000 tasks), and serialising that ten times a second would
    load the server we are timing. --poll-by-id switches to {id}.
    """
    deadline = time.perf_counter() + timeout_s
    inst_id = None
    while True:
        t_req = time.perf_counter()
        if inst_id is None or not poll_by_id:
            rows = api.call("GET", "/projects/%d/process-instances/trigger" % project,
                            query={"triggerCode": trigger})
            row = rows[0] if rows else None
            if row is not None:
                inst_id = int(row["id"])
        else:
            row = api.call("GET", "/projects/%d/process-instances/%d" % (project, inst_id))
        seen = time.perf_counter()
        if row is not None:
            state = row.get("state")
            if state in SUCCESS_STATES or state in FAILED_STATES:
                return row, seen
        if seen > deadline:
            raise BenchError("instance of trigger %d not finished after %.0f s (state %s)"
                             % (trigger, timeout_s, row.get("state") if row else "no instance"))
        time.sleep(max(0.0, POLL_INTERVAL_S - (time.perf_counter() - t_req)))


def fetch_task_instances(api, project, inst_id):
    rows, page = [], 1
    while True:
        data = api.call("GET", "/projects/%d/task-instances" % project, query={
            "processInstanceId": inst_id, "pageNo": page, "pageSize": PAGE_SIZE})
        rows.extend(data.get("totalList") or [])
        if page >= int(data.get("totalPage") or 1):
            return rows
        page += 1


def find_db(data_dir):
    path = os.path.join(data_dir, "dsched.db")
    if os.path.exists(path):
        return path
    for root, _, files in os.walk(data_dir):  # tolerate a different file name or subfolder
        for name in files:
            if name.endswith((".db", ".sqlite", ".sqlite3")):
                return os.path.join(root, name)
    return None


def read_db(db_path, inst_id):
    """Millisecond timings of one instance from the server's SQLite file (server stopped).

    Returns (instance {start,end,def_code,def_version}, edges [(pre,post)], tasks {code: row}).
    A task with several attempts keeps its last one.
    """
    con = sqlite3.connect(db_path)
    try:
        r = con.execute("SELECT start_time, end_time, process_definition_code, "
                        "process_definition_version FROM t_ds_process_instance WHERE id = ?",
                        (inst_id,)).fetchone()
        if r is None:
            raise BenchError("instance %d not in %s" % (inst_id, db_path))
        inst = {"start": r[0], "end": r[1], "def_code": r[2], "def_version": r[3]}
        edges = con.execute(
            "SELECT pre_task_code, post_task_code FROM t_ds_process_task_relation_log "
            "WHERE process_definition_code = ? AND process_definition_version = ? "
            "AND pre_task_code <> 0", (r[2], r[3])).fetchall()
        tasks = {}
        for code, state, submit, start, end in con.execute(
                "SELECT task_code, state, submit_time, start_time, end_time "
                "FROM t_ds_task_instance WHERE process_instance_id = ? ORDER BY id", (inst_id,)):
            tasks[code] = {"state": state, "submit": submit, "start": start, "end": end}
        return inst, edges, tasks
    except sqlite3.Error as e:  # e.g. a schema that moved on: say where, don't crash the run
        raise BenchError("reading %s: %s" % (db_path, e))
    finally:
        con.close()


def rest_timings(inst_row, task_rows):
    """The same shape as read_db from REST rows: a fallback at 1 s resolution."""
    inst = {"start": parse_ds_time(inst_row.get("startTime")),
            "end": parse_ds_time(inst_row.get("endTime"))}
    tasks = {}
    for t in task_rows:
        tasks[int(t["taskCode"])] = {"state": t.get("state"),
                                     "submit": parse_ds_time(t.get("submitTime")),
                                     "start": parse_ds_time(t.get("startTime")),
                                     "end": parse_ds_time(t.get("endTime"))}
    return inst, tasks


def latencies(dag, codes, inst, tasks, edges, problems):
    """Per-task scheduling latencies (ms) from the stored timings.

    dependency met = the latest end of the task's predecessors (the instance start for a root);
    latency = task start - dependency met, split at submit (task instance created by the master)
    into submit lag and dispatch (submit -> started on the worker).
    """
    by_code = {c: i for i, c in enumerate(codes)}
    preds = [[] for _ in range(dag.n)]
    for pre, post in edges:
        if pre in by_code and post in by_code:
            preds[by_code[post]].append(by_code[pre])
    if sorted(map(tuple, (sorted(p) for p in preds))) != sorted(
            map(tuple, (sorted(p) for p in dag.preds))):
        problems.append("%s: stored relations differ from the generated DAG" % dag.name)
    missing = [i for i in range(dag.n) if codes[i] not in tasks or not tasks[codes[i]]["start"]]
    if missing:
        problems.append("%s: %d tasks have no started task instance (e.g. t_%d)"
                        % (dag.name, len(missing), missing[0]))
        return None
    t = [tasks[c] for c in codes]
    lat, lag, disp, run = [], [], [], []
    for i in range(dag.n):
        met = max(t[p]["end"] for p in preds[i]) if preds[i] else inst["start"]
        lat.append(t[i]["start"] - met)
        if t[i]["submit"]:
            lag.append(t[i]["submit"] - met)
            disp.append(t[i]["start"] - t[i]["submit"])
        run.append(t[i]["end"] - t[i]["start"])
    out = {"dep_met_to_start_ms": summarize(lat), "dep_met_to_submit_ms": summarize(lag),
           "submit_to_start_ms": summarize(disp), "task_run_ms": summarize(run),
           "negative_latencies": sum(1 for x in lat if x < 0)}
    if out["negative_latencies"]:
        # A task that started before a predecessor ended is a scheduling bug, not a speed-up.
        problems.append("%s: %d tasks started before their dependencies ended"
                        % (dag.name, out["negative_latencies"]))
    if dag.kind == "chain":
        out["hop_ms"] = summarize([t[k]["start"] - t[k - 1]["end"] for k in range(1, dag.n)])
    return out


def server_db_env(url):
    """The environment that points every dsched command at a server database (the variables
    of conf/env/dolphinscheduler_env.sh); the bench servers' user and password are ds/ds."""
    return {"DATABASE": "", "SPRING_DATASOURCE_URL": url, "SPRING_DATASOURCE_USERNAME": "ds",
            "SPRING_DATASOURCE_PASSWORD": "ds"}


def create_schema(binary, env, scratch):
    p = subprocess.run([binary, "db", "create", "--data-dir", os.path.join(scratch, "db-create")],
                       env=dict(os.environ, **env), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise BenchError("dsched db create on %s failed: %s"
                         % (env["SPRING_DATASOURCE_URL"], p.stdout.decode(errors="replace")))


def define_workflow(api, dag, script="true"):
    """A new project `bench` holding `dag` as an online workflow (each task runs `script`).

    Returns (project code, workflow code, task codes by task index, create-workflow POST s).
    """
    project = int(api.call("POST", "/projects",
                           form={"projectName": "bench", "description": ""})["code"])
    codes = gen_codes(api, project, dag.n)
    t0 = time.perf_counter()
    wf = create_workflow(api, project, dag, codes, script)
    create_s = time.perf_counter() - t0
    api.call("POST", "/projects/%d/process-definition/%d/release" % (project, wf),
             form={"name": dag.name, "releaseState": "ONLINE"})
    return project, wf, codes, create_s


def start_workflow(api, project, wf):
    """start-process-instance as the UI sends it for a plain run; returns the trigger code."""
    today = datetime.date.today().strftime("%Y-%m-%d 00:00:00")
    start_form = {
        "processDefinitionCode": wf, "failureStrategy": "CONTINUE", "warningType": "NONE",
        "execType": "START_PROCESS", "taskDependType": "TASK_POST",
        # DolphinScheduler requires scheduleTime; the UI sends today..today for a plain run.
        "scheduleTime": compact({"complementStartDate": today, "complementEndDate": today})}
    return int(api.call("POST", "/projects/%d/executors/start-process-instance" % project,
                        form=start_form))


def run_workflow(api, dag, args, problems, res, log_tail):
    """Defines `dag` through `api` (a standalone server's or a cluster's API server), runs it
    once and waits for the end, timed as every dsched figure of the bench is: from sending
    start-process-instance to the poll that saw the final state.

    Fills res (create_s, wall_s, instance_id, state, instance_rest_s, task_instances) and
    returns (task codes, the instance row with dagData, the task-instance rows, time.time() at
    the start POST).
    Raises BenchError unless the instance ended SUCCESS (log_tail() goes into the message); a
    task list that does not show every task SUCCESS once is added to `problems`.
    """
    project, wf, codes, res["create_s"] = define_workflow(api, dag)
    settle()
    t_post_epoch = time.time()
    t_post = time.perf_counter()
    trigger = start_workflow(api, project, wf)
    row, t_final = wait_for_instance(api, project, trigger, args.instance_timeout,
                                     args.poll_by_id)
    res["wall_s"] = t_final - t_post
    inst_id = int(row["id"])
    res["instance_id"] = inst_id
    res["state"] = row.get("state")
    if row.get("state") not in SUCCESS_STATES:
        raise BenchError("%s: instance %d ended in state %s\n%s"
                         % (dag.name, inst_id, row.get("state"), log_tail()))

    # The row as process-instances/{id} shows it (second resolution).
    full = api.call("GET", "/projects/%d/process-instances/%d" % (project, inst_id))
    s, e = parse_ds_time(full.get("startTime")), parse_ds_time(full.get("endTime"))
    res["instance_rest_s"] = (e - s) / 1000.0 if s and e else None

    task_rows = fetch_task_instances(api, project, inst_id)
    res["task_instances"] = len(task_rows)
    not_ok = [t for t in task_rows if t.get("state") not in SUCCESS_STATES]
    if len(task_rows) != dag.n or not_ok:
        problems.append("%s: task-instances lists %d rows for %d tasks, %d not SUCCESS"
                        % (dag.name, len(task_rows), dag.n, len(not_ok)))
    return codes, full, task_rows, t_post_epoch


def run_dsched(binary, dag, args, problems, db_env=None):
    """One fresh server, one workflow, one run. Returns the figures of this run. db_env: run on
    that (empty) server database instead of the embedded SQLite file."""
    res = {}
    if db_env:
        create_schema(binary, db_env, args.work_dir)
    srv = Server(binary, args.work_dir, args.pid_file, args.ready_timeout, db_env)
    try:
        srv.start()
        api = srv.api
        res["server_ready_s"] = srv.ready_s
        # Idle RSS: logged in, nothing defined yet; a short settle so lazily started threads
        # and pools are counted.
        time.sleep(1.0)
        res["idle_rss_kb"] = srv.rss_kb("VmRSS")

        codes, full, task_rows, t_post_epoch = run_workflow(api, dag, args, problems, res,
                                                            srv.log_tail)
        inst_id = res["instance_id"]

        res["peak_rss_kb"] = srv.rss_kb("VmHWM")  # right before stopping: the run's peak
        srv.stop()

        db = None if db_env else find_db(srv.data_dir)
        if db_env:
            return res  # wall time only: the millisecond timings below read the SQLite file
        if db:
            inst, edges, tasks = read_db(db, inst_id)
            res["timing_source"] = "sqlite (ms)"
        else:
            problems.append("%s: no SQLite file under the data dir; latencies from REST at 1 s "
                            "resolution" % dag.name)
            inst, tasks = rest_timings(full, task_rows)
            edges = [(codes[p], codes[i]) for p, i in dag.edges()]
            res["timing_source"] = "rest (1 s)"
        if inst["start"] and inst["end"]:
            res["instance_s"] = (inst["end"] - inst["start"]) / 1000.0
            if db:  # same host, same clock: the POST -> end figure at ms resolution
                res["wall_db_s"] = inst["end"] / 1000.0 - t_post_epoch
        lat = latencies(dag, codes, inst, tasks, edges, problems)
        if lat:
            res.update(lat)
        return res
    except BenchError:
        # Keep the server's log for the post-mortem before the scratch dir goes away.
        if os.path.exists(srv.log_path):
            os.makedirs(args.out, exist_ok=True)
            kept = os.path.join(args.out, "server-%s.log" % dag.name)
            shutil.copyfile(srv.log_path, kept)
            print("bench: server log kept in %s" % kept, file=sys.stderr)
        raise
    finally:
        srv.stop()
        srv.cleanup()


# --------------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------------

def fmt(v, spec="%.3f"):
    return "-" if v is None else spec % v


def ratio(a, b):
    return a / b if a is not None and b else None


def pct(stats, key):
    return stats[key] if stats else None


def mb(kb):
    return kb / 1024.0 if kb is not None else None


def print_table(headers, rows):
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h)
              for k, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.rjust(w) if k else c.ljust(w)
                                   for k, (c, w) in enumerate(zip(cells, widths)))
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def targets(results, idle_rss_kb):
    out = []
    big = next((r for r in results if r["kind"] == "dag" and r["tasks"] == 10000), None)
    if big:
        v = ratio(big["dsched"].get("wall_s"), big["ninja_s"])
        out.append(("10,000-task DAG wall / ninja -j2", v, "<= %.2f" % TARGET_DAG10K_VS_NINJA,
                    None if v is None else v <= TARGET_DAG10K_VS_NINJA))
    else:
        out.append(("10,000-task DAG wall / ninja -j2", None, "<= %.2f" % TARGET_DAG10K_VS_NINJA,
                    None))
    ch = next((r for r in results if r["kind"] == "chain"), None)
    hop = ch["dsched"].get("hop_ms") if ch else None
    for key, lim in (("p50", TARGET_HOP_P50_MS), ("p99", TARGET_HOP_P99_MS)):
        v = hop[key] if hop else None
        out.append(("chain per-hop %s (ms)" % key, v, "<= %g" % lim,
                    None if v is None else v <= lim))
    v = mb(idle_rss_kb)
    out.append(("idle RSS (MB)", v, "<= %g" % TARGET_IDLE_RSS_MB,
                None if v is None else v <= TARGET_IDLE_RSS_MB))
    return [{"target": t, "value": v, "goal": g, "met": m} for t, v, g, m in out]


def report(results, idle_rss_kb, tgts):
    print()
    print("== Throughput (wall seconds; make/ninja: same DAG, `touch` per task, -j2) ==")
    rows = []
    for r in results:
        d = r["dsched"]
        w = d.get("wall_s")
        rows.append([r["name"], str(r["tasks"]), fmt(w), fmt(ratio(r["tasks"], w), "%.1f"),
                     fmt(d.get("instance_s")), fmt(r["make_s"]), fmt(r["ninja_s"]),
                     fmt(ratio(w, r["ninja_s"]), "%.2f"), fmt(ratio(w, r["make_s"]), "%.2f")])
    print_table(["workflow", "tasks", "dsched s", "tasks/s", "inst run s", "make -j2 s",
                 "ninja -j2 s", "dsched/ninja", "dsched/make"], rows)

    print()
    print("== Latency (ms) and memory ==")
    rows = []
    for r in results:
        d = r["dsched"]
        lat, hop = d.get("dep_met_to_start_ms"), d.get("hop_ms")
        sub, disp = d.get("dep_met_to_submit_ms"), d.get("submit_to_start_ms")
        rows.append([r["name"], fmt(pct(lat, "p50"), "%.0f"), fmt(pct(lat, "p99"), "%.0f"),
                     fmt(pct(sub, "p50"), "%.0f"), fmt(pct(disp, "p50"), "%.0f"),
                     fmt(pct(hop, "p50"), "%.0f"), fmt(pct(hop, "p99"), "%.0f"),
                     fmt(mb(d.get("peak_rss_kb")), "%.1f"), fmt(d.get("create_s"), "%.2f")])
    print_table(["workflow", "dep->start p50", "p99", "dep->submit p50", "submit->start p50",
                 "hop p50", "hop p99", "peak RSS MB", "create s"], rows)
    print()
    print("idle RSS after login: %s MB" % fmt(mb(idle_rss_kb), "%.1f"))

    print()
    print("== Targets (from the issue; informational, never asserted) ==")
    rows = [[t["target"], fmt(t["value"], "%.2f"), t["goal"],
             {True: "met", False: "MISSED", None: "n/a"}[t["met"]]] for t in tgts]
    print_table(["target", "value", "goal", ""], rows)


def tool_version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return None


TARGET_SERVER_DB_VS_SQLITE = 1.3


def run_server_dbs(binary, dags, args, problems):
    """The largest layered DAG on each --server-db, in paired rounds: each round runs it on
    SQLite, then on each server database, one right after the other. The machine's speed
    drifts (on this 2-core VM, the same SQLite run took from 5 s to 14 s within the same
    hour), so a server database is compared with the SQLite run next to it, never with one
    minutes away; the figure is the median of the rounds' ratios."""
    if not args.server_db or args.only == "baselines":
        return []
    dag = max((d for d in dags if d.kind == "dag"), key=lambda d: d.n)
    specs = []
    for spec in args.server_db:
        label, _, url = spec.partition("=")
        if not url:
            problems.append("--server-db %s: expected LABEL=JDBC_URL" % spec)
            continue
        specs.append((label, url))
    runs = {label: {"database": label, "url": url, "workflow": dag.name, "rounds": []}
            for label, url in specs}
    for k in range(args.db_rounds):
        print("bench: %s, metadata database round %d of %d" % (dag.name, k + 1, args.db_rounds),
              flush=True)
        try:
            sqlite_wall = run_dsched(binary, dag, args, problems)["wall_s"]
            print("bench:   dsched on sqlite %.3f s" % sqlite_wall, flush=True)
        except (BenchError, OSError, http.client.HTTPException, KeyError, TypeError,
                ValueError) as e:
            problems.append("%s on sqlite, round %d: dsched run failed: %s" % (dag.name, k + 1, e))
            continue
        for label, url in specs:
            try:
                r = run_dsched(binary, dag, args, problems,
                               server_db_env(url.replace("{round}", str(k + 1))))
                runs[label]["rounds"].append({"sqlite_wall_s": sqlite_wall, "wall_s": r["wall_s"],
                                              "peak_rss_kb": r.get("peak_rss_kb")})
                print("bench:   dsched on %s %.3f s" % (label, r["wall_s"]), flush=True)
            except (BenchError, OSError, http.client.HTTPException, KeyError, TypeError,
                    ValueError) as e:
                problems.append("%s on %s, round %d: dsched run failed: %s"
                                % (dag.name, label, k + 1, e))
    out = []
    for label, _ in specs:
        run = runs[label]
        rs = run["rounds"]
        if rs:
            run["x_sqlite_median"] = statistics.median(r["wall_s"] / r["sqlite_wall_s"] for r in rs)
            run["sqlite_wall_s"] = statistics.median(r["sqlite_wall_s"] for r in rs)
            run["wall_s"] = statistics.median(r["wall_s"] for r in rs)
            run["peak_rss_kb"] = max(r["peak_rss_kb"] or 0 for r in rs)
        out.append(run)
    return out


def report_server_dbs(db_runs):
    if not db_runs:
        return
    print()
    print("Metadata database (same workflow, same binary; each round runs SQLite then each server "
          "database back to back; x SQLite = median of the rounds' ratios; target: <= %.1f)"
          % TARGET_SERVER_DB_VS_SQLITE)
    rows = []
    for r in db_runs:
        rel = r.get("x_sqlite_median")
        ratios = ["%.2f" % (x["wall_s"] / x["sqlite_wall_s"]) for x in r["rounds"]]
        rows.append([r["workflow"], r["database"], str(len(r["rounds"])),
                     fmt(r.get("sqlite_wall_s")), fmt(r.get("wall_s")), " ".join(ratios) or "-",
                     fmt(rel, "%.2f"),
                     "-" if rel is None else
                     ("met" if rel <= TARGET_SERVER_DB_VS_SQLITE else "MISSED"),
                     fmt(mb(r.get("peak_rss_kb")), "%.0f")])
    print_table(["workflow", "database", "rounds", "SQLite wall s (median)", "wall s (median)",
                 "ratio per round", "x SQLite", "target", "peak RSS MB"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsched", required=True, help="path to the dsched binary")
    ap.add_argument("--quick", action="store_true",
                    help="smoke sizes: 200 and 1,000-task DAGs, 200-task chain")
    ap.add_argument("--work-dir", help="scratch directory (default: a new temp dir)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "out"))
    ap.add_argument("--pid-file", help="where to write the running server's pid (for run.sh)")
    ap.add_argument("--ready-timeout", type=float, default=60.0,
                    help="seconds to wait for login to answer after starting the server")
    ap.add_argument("--instance-timeout", type=float, default=3600.0,
                    help="seconds to wait for one workflow instance to finish")
    ap.add_argument("--poll-by-id", action="store_true",
                    help="poll process-instances/{id} (with dagData) instead of .../trigger")
    ap.add_argument("--server-db", action="append", default=[], metavar="LABEL=JDBC_URL",
                    help="also run the largest layered DAG on this empty server database "
                         "(user ds, password ds), beside the SQLite run; repeatable. {round} in "
                         "the URL is replaced by the round number (1, 2, ...): each round needs "
                         "an empty database")
    ap.add_argument("--db-rounds", type=int, default=3, metavar="N",
                    help="paired rounds (SQLite, then each --server-db) of the metadata-database "
                         "comparison (default 3)")
    ap.add_argument("--only", choices=["dsched", "baselines"],
                    help="run only one side (for debugging the harness)")
    ap.add_argument("--sizes", metavar="N[,N...]",
                    help="only layered DAGs of these sizes (multiples of %d), no chain: e.g. "
                         "--sizes 10000 --only dsched --server-db ... to iterate on the "
                         "metadata-database figures alone" % LAYER_WIDTH)
    args = ap.parse_args()

    # SIGTERM (e.g. from run.sh's parent) unwinds through the finally blocks that stop servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    own_work = args.work_dir is None
    if own_work:
        args.work_dir = tempfile.mkdtemp(prefix="dsched-bench-")
    binary = os.path.abspath(args.dsched)
    if args.only != "baselines" and not os.access(binary, os.X_OK):
        print("bench: %s is not an executable file" % args.dsched, file=sys.stderr)
        return 2

    if args.sizes:
        try:
            dags = [layered_dag(int(n)) for n in args.sizes.split(",")]
        except ValueError as e:
            print("bench: --sizes %s: %s" % (args.sizes, e), file=sys.stderr)
            return 2
    elif args.quick:
        dags = [layered_dag(200), layered_dag(1000), chain(200)]
    else:
        dags = [layered_dag(1000), layered_dag(10000), chain(1000)]

    # Server logs kept by an earlier failed run would be mistaken for this run's.
    if os.path.isdir(args.out):
        for name in os.listdir(args.out):
            if name.startswith("server-") and name.endswith(".log"):
                os.remove(os.path.join(args.out, name))

    problems, results, idle_rss_kb = [], [], None
    server_broken = False
    try:
        for dag in dags:
            print("bench: %s (%d tasks, %d edges)" % (dag.name, dag.n, len(dag.edges())),
                  flush=True)
            r = {"name": dag.name, "kind": dag.kind, "tasks": dag.n, "edges": len(dag.edges()),
                 "dsched": {}, "make_s": None, "ninja_s": None}
            if args.only != "baselines" and server_broken:
                problems.append("%s: dsched run skipped (the server did not start)" % dag.name)
            elif args.only != "baselines":
                try:
                    r["dsched"] = run_dsched(binary, dag, args, problems)
                    if idle_rss_kb is None:
                        idle_rss_kb = r["dsched"].get("idle_rss_kb")
                    print("bench:   dsched %.3f s" % r["dsched"]["wall_s"], flush=True)
                except (BenchError, OSError, http.client.HTTPException, KeyError, TypeError,
                        ValueError) as e:
                    server_broken = isinstance(e, StartError)
                    problems.append("%s: dsched run failed: %s" % (dag.name, e))
                    print("bench:   dsched FAILED: %s" % e, file=sys.stderr, flush=True)
            if args.only != "dsched":
                for tool in ("make", "ninja"):
                    try:
                        r[tool + "_s"] = run_baseline(tool, dag, args.work_dir)
                        print("bench:   %s -j2 %.3f s" % (tool, r[tool + "_s"]), flush=True)
                    except (BenchError, OSError) as e:
                        problems.append("%s: %s baseline failed: %s" % (dag.name, tool, e))
            results.append(r)
    finally:
        if own_work:
            shutil.rmtree(args.work_dir, ignore_errors=True)

    db_runs = run_server_dbs(binary, dags, args, problems)

    tgts = targets(results, idle_rss_kb)
    report(results, idle_rss_kb, tgts)
    report_server_dbs(db_runs)

    os.makedirs(args.out, exist_ok=True)
    doc = {
        "meta": {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                 "command": "bench/run.sh %s%s" % (args.dsched, " --quick" if args.quick else ""),
                 "host": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
                 "python": platform.python_version(), "make": tool_version(["make", "--version"]),
                 "ninja": tool_version(["ninja", "--version"]), "quick": args.quick,
                 "poll": "process-instances/{id}" if args.poll_by_id
                 else "process-instances/trigger", "poll_interval_s": POLL_INTERVAL_S},
        "idle_rss_kb": idle_rss_kb, "runs": results, "server_db_runs": db_runs,
        "targets": tgts, "problems": problems}
    path = os.path.join(args.out, "results.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print()
    print("results: %s" % path)
    return exit_status(problems, "the benchmark")


def exit_status(problems, what):
    """Lists `problems` (first lines) on stderr; the exit status: 1 if any, else 0."""
    if not problems:
        return 0
    print()
    print("PROBLEMS (%s could not measure everything):" % what, file=sys.stderr)
    for p in problems:
        print("  - " + p.splitlines()[0], file=sys.stderr)
    return 1


def run_main(main_fn):
    """Exits with main_fn()'s status; Ctrl-C exits 130 (the finally blocks on the way out
    stopped the servers)."""
    try:
        sys.exit(main_fn())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    run_main(main)
