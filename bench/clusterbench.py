#!/usr/bin/env python3
"""Cluster-mode figures (issue 6): throughput and failover of dsched's separate services.

1. Throughput: the layered DAG of dagbench.py (10,000 tasks) on `dsched standalone` and on a
   cluster of 1 `dsched master`, 2 `dsched worker` and 1 `dsched api` process, both on the same
   PostgreSQL server (a fresh database for each run) and the cluster over ZooKeeper, in paired
   rounds: each round runs both back to back, standalone first in odd rounds and the cluster
   first in even ones, and the figure is the median of the rounds' ratios (the machine's speed
   drifts; see bench/README.md).
2. Failover: a cluster of 2 masters and 2 workers with a short registry session; a workflow of
   sleeping tasks is started, the master that owns its instance is killed with SIGKILL, and
   the time from the kill to the other master's "takeover: workflow instance N" log line, and
   to the instance's end, is measured. The session timeout is printed beside them: a takeover
   cannot come sooner.

The servers (PostgreSQL, ZooKeeper) and the empty databases are started and created by
bench/run.sh (tests/db/services.sh); this script starts and stops the dsched processes. Each
process runs in a session of its own and leaves its pid in --pid-dir, so run.sh's trap can end
it if this script is killed outright. Figures are printed and merged into results.json under
"cluster". Benchmarks never assert: the exit status is non-zero only when something broke.

Python 3 standard library only; the REST client, the DAG and the timing are dagbench.py's.
"""

import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import dagbench
from dagbench import BenchError, StartError, fmt, print_table

TARGET_CLUSTER_VS_STANDALONE = 0.80
# worker.exec_threads of dsched standalone (the default of src/common/config.cc). The throughput
# cluster's workers share this one machine, so each gets an equal part of it: the machine runs as
# many tasks at once in both modes, and the ratio measures what the cluster's processes, RPC and
# registry cost, not twice the processes competing for the same cores.
STANDALONE_EXEC_THREADS = 100
# The failover workflow: layers of sleeping tasks, long enough that the kill falls mid-run and
# the surviving master still has tasks to dispatch after its takeover.
FAILOVER_LAYERS = 3
FAILOVER_WIDTH = 10
FAILOVER_SCRIPT = "sleep 1"
# How long a failover run may take beyond the session timeout before it counts as broken.
FAILOVER_SLACK_S = 120
RUNNING_STATES = {"RUNNING_EXECUTION", 1}
POLL_S = 0.05
ERRORS = (BenchError, OSError, http.client.HTTPException, KeyError, TypeError, ValueError)


def kill_tasks_under(path):
    """SIGKILL to the process group of every process whose working directory is under `path`.

    Tasks run in their exec dirs, each in a process group of its own, so stopping a worker can
    leave them behind; `path` is this run's own scratch dir, so nothing else matches.
    """
    prefix = os.path.realpath(path) + os.sep
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if (cwd + os.sep).startswith(prefix):
            for kill in (os.killpg, os.kill):
                try:
                    kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


class Cluster:
    """dsched master, worker and api processes on one database and one ZooKeeper.

    Each service gets a config file with only what must differ from the defaults: its port,
    the registry address, the shared log and exec dirs under its scratch dir (so the API reads
    the workers' task logs) and, when given, the registry session timeout. The database comes
    from the environment (dagbench.server_db_env). Not thread-safe; stop() is idempotent.
    """

    def __init__(self, binary, args, db_env, masters, workers, session_s=None,
                 exec_threads=None):
        self.binary = binary
        self.args = args
        self.db_env = db_env
        self.session_s = session_s
        self.exec_threads = exec_threads
        self.dir = tempfile.mkdtemp(prefix="cluster-", dir=args.work_dir)
        self.log_dir = os.path.join(self.dir, "logs")
        self.exec_dir = os.path.join(self.dir, "exec")
        self.services = {"api": ("api", "api.port", dagbench.free_port())}
        for k in range(1, masters + 1):
            self.services["master%d" % k] = ("master", "master.listen-port", dagbench.free_port())
        for k in range(1, workers + 1):
            self.services["worker%d" % k] = ("worker", "worker.listen-port", dagbench.free_port())
        self.masters, self.workers = masters, workers
        self.procs = {}
        self.api = dagbench.Api(self.services["api"][2])
        self.ready_s = None

    def log_path(self, name):
        return os.path.join(self.dir, name + ".log")

    def start_service(self, name):
        sub, port_key, port = self.services[name]
        conf = os.path.join(self.dir, name + ".conf")
        with open(conf, "w") as f:
            f.write("registry.zookeeper.connect-string = %s\n" % self.args.zk_connect)
            if self.session_s:
                f.write("registry.zookeeper.session-timeout = %ds\n" % self.session_s)
            if self.exec_threads and sub == "worker":
                f.write("worker.exec_threads = %d\n" % self.exec_threads)
            f.write("%s = %d\nlog.dir = %s\nexec.basepath = %s\n"
                    % (port_key, port, self.log_dir, self.exec_dir))
            f.write("%s.metrics-port = %d\n" % (sub, dagbench.free_port()))
            # Standalone has no overload protection, and a 2-core machine running this DAG
            # sits above its default limit (twice the cores): off, so both sides compare the
            # scheduling alone.
            f.write("master.max-cpu-load-avg = 1000\nworker.max-cpu-load-avg = 1000\n")
        # Appending: a restarted master keeps its earlier lines (the takeover search names the
        # instance, so old lines never match).
        log = open(self.log_path(name), "ab")
        self.procs[name] = subprocess.Popen(
            [self.binary, sub, "--config", conf, "--data-dir", os.path.join(self.dir, name)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=dict(os.environ, **self.db_env))
        log.close()
        with open(self.pid_file(name), "w") as f:
            f.write("%d\n" % self.procs[name].pid)

    def pid_file(self, name):
        return os.path.join(self.args.pid_dir, "%s-%s.pid" % (os.path.basename(self.dir), name))

    def start(self):
        """Starts every service; returns when the API answers a login and the registry (as
        /monitor shows it) lists every master and worker. StartError otherwise."""
        t0 = time.perf_counter()
        for name in self.services:
            self.start_service(name)
        self.wait_ready(t0)
        self.ready_s = time.perf_counter() - t0

    def wait_ready(self, t0):
        deadline = t0 + self.args.ready_timeout
        last_err = None
        while time.perf_counter() < deadline:
            self.check_alive()
            try:
                if self.api.session is None:
                    self.api.login()
                if (len(self.api.call("GET", "/monitor/MASTER")) == self.masters
                        and len(self.api.call("GET", "/monitor/WORKER")) == self.workers):
                    return
            except (OSError, http.client.HTTPException, dagbench.ApiError) as e:
                last_err = e
            time.sleep(POLL_S)
        raise StartError("cluster not ready within %.0f s (%d masters, %d workers wanted; last "
                         "error: %s)\n%s" % (self.args.ready_timeout, self.masters, self.workers,
                                             last_err, self.log_tail()))

    def check_alive(self):
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise StartError("dsched %s exited with status %d\n%s"
                                 % (name, p.returncode, self.log_tail(name)))

    def address(self, name):
        return "127.0.0.1:%d" % self.services[name][2]

    def kill9(self, name):
        """SIGKILL to one service (a crash); returns time.time() right after the signal."""
        p = self.procs.pop(name)
        p.send_signal(signal.SIGKILL)
        t = time.time()
        p.wait()
        os.remove(self.pid_file(name))
        return t

    def stop(self):
        """SIGTERM to every service's process group, SIGKILL after 15 s; then any task left."""
        procs, self.procs = self.procs, {}
        for p in procs.values():
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.perf_counter() + 15
        for name, p in procs.items():
            try:
                p.wait(timeout=max(0.1, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                print("bench: dsched %s did not stop within 15 s of SIGTERM; killing it" % name,
                      file=sys.stderr)
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            if os.path.exists(self.pid_file(name)):
                os.remove(self.pid_file(name))
        kill_tasks_under(self.exec_dir)

    def keep_logs(self, label):
        """Copies the services' logs to --out for the post-mortem of a failed run."""
        os.makedirs(self.args.out, exist_ok=True)
        for name in self.services:
            if os.path.exists(self.log_path(name)):
                kept = os.path.join(self.args.out, "server-%s-%s.log" % (label, name))
                shutil.copyfile(self.log_path(name), kept)
        print("bench: cluster logs kept in %s/server-%s-*.log" % (self.args.out, label),
              file=sys.stderr)

    def cleanup(self):
        dagbench.discard(self.dir)

    def log_tail(self, only=None, lines=15):
        out = []
        for name in [only] if only else self.services:
            try:
                with open(self.log_path(name), "rb") as f:
                    text = f.read().decode(errors="replace").splitlines()
            except OSError:
                continue
            out.append("---- %s log (last %d lines) ----\n%s"
                       % (name, lines, "\n".join(text[-lines:])))
        return "\n".join(out) or "(no service logs)"


# --------------------------------------------------------------------------------------------
# 1. Throughput: standalone vs cluster on PostgreSQL, paired rounds.
# --------------------------------------------------------------------------------------------

def run_cluster(binary, dag, args, problems, url):
    """One fresh 1-master/2-worker cluster on the empty database `url`, one run of `dag`."""
    env = dagbench.server_db_env(url)
    dagbench.create_schema(binary, env, args.work_dir)
    cl = Cluster(binary, args, env, masters=1, workers=2,
                 exec_threads=STANDALONE_EXEC_THREADS // 2)
    try:
        cl.start()
        res = {"cluster_ready_s": cl.ready_s}
        _, _, task_rows, _ = dagbench.run_workflow(cl.api, dag, args, problems, res, cl.log_tail)
        res["workers_used"] = len({t.get("host") for t in task_rows})
        return res
    except BenchError:
        cl.keep_logs(dag.name)
        raise
    finally:
        cl.stop()
        # BENCH_KEEP_LOGS=1: the services' logs of every run, not only of a failed one.
        if os.environ.get("BENCH_KEEP_LOGS") == "1":
            cl.keep_logs(dag.name)
        cl.cleanup()


def throughput(binary, args, problems):
    dag = dagbench.layered_dag(args.tasks)
    out = {"workflow": dag.name, "tasks": dag.n, "rounds": []}
    for k in range(1, args.rounds + 1):
        print("bench: %s, standalone vs cluster, round %d of %d" % (dag.name, k, args.rounds),
              flush=True)
        def standalone():
            r = dagbench.run_dsched(binary, dag, args, problems, dagbench.server_db_env(
                args.standalone_db.replace("{round}", str(k))))
            print("bench:   standalone on postgresql %.3f s" % r["wall_s"], flush=True)
            return r

        def cluster():
            r = run_cluster(binary, dag, args, problems,
                            args.cluster_db.replace("{round}", str(k)))
            print("bench:   cluster on postgresql    %.3f s (tasks ran on %d workers)"
                  % (r["wall_s"], r["workers_used"]), flush=True)
            return r

        # Each side goes first in every other round: what one run leaves behind for the next
        # (the database server's background writes, a warm or a cold cache) then weighs on both
        # sides alike.
        standalone_first = k % 2 == 1
        try:
            if standalone_first:
                sa = standalone()
                cl = cluster()
            else:
                cl = cluster()
                sa = standalone()
        except ERRORS as e:
            problems.append("%s, cluster round %d: run failed: %s" % (dag.name, k, e))
            print("bench:   FAILED: %s" % str(e).splitlines()[0], file=sys.stderr, flush=True)
            if isinstance(e, StartError):
                break  # the next rounds would not start either
            continue
        if cl["workers_used"] < 2:
            problems.append("%s, cluster round %d: tasks ran on %d worker(s), not both"
                            % (dag.name, k, cl["workers_used"]))
        out["rounds"].append({
            "standalone_wall_s": sa["wall_s"], "cluster_wall_s": cl["wall_s"],
            "standalone_tasks_per_s": dag.n / sa["wall_s"],
            "cluster_tasks_per_s": dag.n / cl["wall_s"],
            "ratio": sa["wall_s"] / cl["wall_s"], "cluster_ready_s": cl["cluster_ready_s"],
            "first": "standalone" if standalone_first else "cluster",
            "workers_used": cl["workers_used"]})
    rs = out["rounds"]
    if rs:
        for key in ("standalone_tasks_per_s", "cluster_tasks_per_s", "ratio"):
            out[key + "_median"] = statistics.median(r[key] for r in rs)
        out["met"] = out["ratio_median"] >= TARGET_CLUSTER_VS_STANDALONE
    return out


def report_throughput(t):
    print()
    print("Cluster throughput: %s on 1 master + 2 workers (+ api) over ZooKeeper vs dsched "
          "standalone, both on PostgreSQL; worker.exec_threads %d per worker, %d in standalone "
          "(one machine runs as many tasks at once either way); each round runs both back to back, "
          "standalone first in odd rounds, the cluster first in even ones; ratio = cluster "
          "tasks/s / standalone tasks/s, median of the rounds' ratios" % (t["workflow"], STANDALONE_EXEC_THREADS // 2, STANDALONE_EXEC_THREADS))
    rows = [[t["workflow"], str(len(t["rounds"])),
             fmt(t.get("standalone_tasks_per_s_median"), "%.1f"),
             fmt(t.get("cluster_tasks_per_s_median"), "%.1f"),
             " ".join("%.2f" % r["ratio"] for r in t["rounds"]) or "-",
             fmt(t.get("ratio_median"), "%.2f"), ">= %.2f" % TARGET_CLUSTER_VS_STANDALONE,
             {True: "met", False: "MISSED", None: "n/a"}[t.get("met")]]]
    print_table(["workflow", "rounds", "standalone tasks/s", "cluster tasks/s", "ratio per round",
                 "ratio", "target", ""], rows)


# --------------------------------------------------------------------------------------------
# 2. Failover: kill -9 of the master that owns a running instance.
# --------------------------------------------------------------------------------------------

def takeover_time(log_path, instance_id):
    """time.time() of the first "takeover: workflow instance N " line of a master's log (its
    local-time timestamp, as tests/e2e/cluster_test.sh reads it), or None."""
    needle = "takeover: workflow instance %d " % instance_id
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                if needle in line:
                    m = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]", line)
                    if m:
                        return datetime.datetime.strptime(
                            m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    except OSError:
        pass
    return None


def instance_row(api, project, trigger):
    rows = api.call("GET", "/projects/%d/process-instances/trigger" % project,
                    query={"triggerCode": trigger})
    return rows[0] if rows else None


def wait_running(cl, project, trigger, timeout_s):
    """Waits until the run of `trigger` has a task RUNNING; returns the instance row."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        cl.check_alive()
        row = instance_row(cl.api, project, trigger)
        if row is not None and row.get("host"):
            tasks = dagbench.fetch_task_instances(cl.api, project, int(row["id"]))
            if any(t.get("state") in RUNNING_STATES for t in tasks):
                return row
        time.sleep(POLL_S)
    raise BenchError("no task of the failover workflow was running after %.0f s\n%s"
                     % (timeout_s, cl.log_tail()))


def failover_once(cl, project, wf, dag, args):
    """One start, kill -9 of the owning master, takeover, end; the killed master is started
    again afterwards. Returns the figures of this repetition."""
    t_post = time.perf_counter()
    trigger = dagbench.start_workflow(cl.api, project, wf)
    row = wait_running(cl, project, trigger, args.ready_timeout)
    inst_id = int(row["id"])
    owner = next((n for n in cl.services if n.startswith("master")
                  and cl.address(n) == row["host"]), None)
    if owner is None:
        raise BenchError("instance %d is owned by %r, none of the masters" % (inst_id, row["host"]))
    survivor = next(n for n in cl.services if n.startswith("master") and n != owner)
    t_kill_epoch = cl.kill9(owner)
    t_kill = time.perf_counter()
    print("bench:   killed %s (owner of instance %d) %.1f s after the start"
          % (owner, inst_id, t_kill - t_post), flush=True)
    end, t_final = dagbench.wait_for_instance(cl.api, project, trigger,
                                              args.session_s + FAILOVER_SLACK_S, False)
    res = {"instance_id": inst_id, "killed": owner, "kill_after_start_s": t_kill - t_post,
           "kill_to_end_s": t_final - t_kill, "start_to_end_s": t_final - t_post}
    took = takeover_time(cl.log_path(survivor), inst_id)
    res["kill_to_takeover_ms"] = None if took is None else (took - t_kill_epoch) * 1000.0
    if end.get("state") not in dagbench.SUCCESS_STATES:
        raise BenchError("instance %d ended in state %s after the failover\n%s"
                         % (inst_id, end.get("state"), cl.log_tail(survivor)))
    if end.get("host") != cl.address(survivor):
        raise BenchError("instance %d ended owned by %r, not by the surviving %s"
                         % (inst_id, end.get("host"), survivor))
    if took is None:
        raise BenchError("%s's log has no takeover line for instance %d" % (survivor, inst_id))
    done = {int(t["taskCode"]) for t in dagbench.fetch_task_instances(cl.api, project, inst_id)
            if t.get("state") in dagbench.SUCCESS_STATES}
    if len(done) != dag.n:
        raise BenchError("instance %d: %d of %d tasks SUCCESS" % (inst_id, len(done), dag.n))
    cl.start_service(owner)
    cl.wait_ready(time.perf_counter())
    return res


def failover(binary, args, problems):
    dag = dagbench.layered_dag(FAILOVER_LAYERS * FAILOVER_WIDTH, width=FAILOVER_WIDTH)
    out = {"workflow": "%d layers of %d tasks `%s`" % (FAILOVER_LAYERS, FAILOVER_WIDTH,
                                                       FAILOVER_SCRIPT),
           "session_timeout_s": args.session_s, "reps": []}
    env = dagbench.server_db_env(args.failover_db)
    cl = None
    try:
        dagbench.create_schema(binary, env, args.work_dir)
        cl = Cluster(binary, args, env, masters=2, workers=2, session_s=args.session_s)
        cl.start()
        project, wf, _, _ = dagbench.define_workflow(cl.api, dag, FAILOVER_SCRIPT)
        # The same workflow undisturbed: what the kill adds is measured against it.
        t_post = time.perf_counter()
        trigger = dagbench.start_workflow(cl.api, project, wf)
        row, t_final = dagbench.wait_for_instance(cl.api, project, trigger,
                                                  FAILOVER_SLACK_S, False)
        if row.get("state") not in dagbench.SUCCESS_STATES:
            raise BenchError("the undisturbed failover workflow ended in state %s\n%s"
                             % (row.get("state"), cl.log_tail()))
        out["undisturbed_s"] = t_final - t_post
        print("bench:   undisturbed run %.2f s" % out["undisturbed_s"], flush=True)
        for k in range(1, args.reps + 1):
            r = failover_once(cl, project, wf, dag, args)
            out["reps"].append(r)
            print("bench:   failover %d of %d: kill -> takeover %s ms, kill -> end %.2f s"
                  % (k, args.reps, fmt(r["kill_to_takeover_ms"], "%.0f"), r["kill_to_end_s"]),
                  flush=True)
    except ERRORS as e:
        problems.append("failover: %s" % e)
        print("bench:   failover FAILED: %s" % str(e).splitlines()[0], file=sys.stderr, flush=True)
        if cl is not None and isinstance(e, BenchError):
            cl.keep_logs("failover")
    finally:
        if cl is not None:
            cl.stop()
            cl.cleanup()
    for key in ("kill_to_takeover_ms", "kill_to_end_s", "start_to_end_s"):
        vals = [r[key] for r in out["reps"]]
        if vals:
            out[key] = {"median": statistics.median(vals), "max": max(vals)}
    return out


def report_failover(f):
    print()
    print("Failover: 2 masters + 2 workers, registry session timeout %d s (the floor: a dead "
          "master's instances are taken over only after its session ends); workflow: %s; "
          "kill -9 of the master owning the instance once a task runs"
          % (f["session_timeout_s"], f["workflow"]))
    rows = []
    for key, label, spec, scale in (("kill_to_takeover_ms", "kill -> takeover s", "%.2f", 1e-3),
                                    ("kill_to_end_s", "kill -> instance end s", "%.2f", 1),
                                    ("start_to_end_s", "start -> end s (with kill)", "%.2f", 1)):
        s = f.get(key)
        rows.append([label, str(len(f["reps"])),
                     fmt(s["median"] * scale if s else None, spec),
                     fmt(s["max"] * scale if s else None, spec),
                     " ".join(spec % (r[key] * scale) for r in f["reps"]) or "-"])
    rows.append(["start -> end s (undisturbed)", "1", fmt(f.get("undisturbed_s"), "%.2f"), "-",
                 "-"])
    rows.append(["session timeout s (floor)", "-", "%d" % f["session_timeout_s"], "-", "-"])
    print_table(["", "reps", "median", "max", "each"], rows)


# --------------------------------------------------------------------------------------------

def merge_results(path, section, meta):
    """Adds `section` under "cluster" to results.json (written earlier in this run by
    dagbench.py; run.sh removes an older one first), or starts the file."""
    doc = {}
    if os.path.exists(path):
        with open(path) as f:
            doc = json.load(f)
    doc.setdefault("meta", meta)
    doc["cluster"] = section
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsched", required=True, help="path to the dsched binary")
    ap.add_argument("--work-dir", required=True, help="scratch directory (run.sh's)")
    ap.add_argument("--pid-dir", required=True, help="where each running process's pid goes")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "out"))
    ap.add_argument("--skipped", metavar="WHY",
                    help="measure nothing: print and record that the section was skipped")
    ap.add_argument("--zk-connect", help="ZooKeeper host:port")
    ap.add_argument("--tasks", type=int, default=10000,
                    help="size of the layered DAG (a multiple of %d)" % dagbench.LAYER_WIDTH)
    ap.add_argument("--rounds", type=int, default=4, help="paired rounds (one database each)")
    ap.add_argument("--reps", type=int, default=3, help="failover repetitions (0: none)")
    ap.add_argument("--session-s", type=int, default=4,
                    help="registry session timeout of the failover cluster, seconds")
    ap.add_argument("--standalone-db", metavar="JDBC_URL",
                    help="empty database of round {round}'s standalone run")
    ap.add_argument("--cluster-db", metavar="JDBC_URL",
                    help="empty database of round {round}'s cluster run")
    ap.add_argument("--failover-db", metavar="JDBC_URL", help="empty database of the failover part")
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    ap.add_argument("--instance-timeout", type=float, default=3600.0)
    args = ap.parse_args()
    args.pid_file = os.path.join(args.pid_dir, "standalone.pid")  # dagbench.run_dsched's server
    args.poll_by_id = False
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = os.path.join(args.out, "results.json")
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "bench/run.sh (cluster section)"}

    if args.skipped:
        print("cluster: skipped: %s" % args.skipped)
        os.makedirs(args.out, exist_ok=True)
        merge_results(results, {"skipped": args.skipped}, meta)
        return 0
    missing = [o for o in ("zk_connect", "standalone_db", "cluster_db", "failover_db")
               if not getattr(args, o)]
    if missing:
        ap.error("missing: %s" % ", ".join("--" + m.replace("_", "-") for m in missing))
    if args.tasks < 1 or args.tasks % dagbench.LAYER_WIDTH or args.rounds < 1 or args.reps < 0:
        ap.error("--tasks must be a positive multiple of %d, --rounds positive, --reps >= 0 "
                 "(run.sh checks the BENCH_* variables they come from)" % dagbench.LAYER_WIDTH)
    binary = os.path.abspath(args.dsched)

    problems = []
    t0 = time.perf_counter()
    section = {"throughput": throughput(binary, args, problems)}
    if args.reps:
        print("bench: failover, %d repetitions" % args.reps, flush=True)
        section["failover"] = failover(binary, args, problems)
    section["duration_s"] = time.perf_counter() - t0
    section["problems"] = problems

    report_throughput(section["throughput"])
    if "failover" in section:
        report_failover(section["failover"])
    print()
    print("cluster section: %.0f s" % section["duration_s"])
    os.makedirs(args.out, exist_ok=True)
    merge_results(results, section, meta)
    print("results: %s (\"cluster\")" % results)
    return dagbench.exit_status(problems, "the cluster section")


if __name__ == "__main__":
    dagbench.run_main(main)
