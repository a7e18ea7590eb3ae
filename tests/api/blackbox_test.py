#!/usr/bin/env python3
"""Black-box suite of dsched's REST API over real HTTP against a started standalone server.

Runs, in order: the web UI journeys J1-J8 of ds-rest-api.md §5 (every call, with shape checks
of `data`), the dolphinscheduler-api-test sequences of §7 that touch users, tenants, worker
groups and projects, a success case and the main error cases of each admin route, the
permission matrix (admin, u1, u2 x every project-scoped route of the server's own
openapi.json x own / read-granted / write-granted / foreign project, plus admin-only routes x
a general user), and bad input on every create/update route of the admin pages with a
read-back showing nothing changed. Python 3 standard library only.

Usage: blackbox_test.py BASE_URL   (e.g. http://127.0.0.1:12345/dolphinscheduler)
"""

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:12345/dolphinscheduler"
FAILURES = []
CHECKS = 0
DEADLINE = time.time() + 85  # the whole run stays under 90 s


class Reply:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def code(self):
        return self.json.get("code") if isinstance(self.json, dict) else None

    @property
    def msg(self):
        return self.json.get("msg", "") if isinstance(self.json, dict) else ""

    @property
    def data(self):
        return self.json.get("data") if isinstance(self.json, dict) else None

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:300])


def call(method, path, params=None, session=None, token=None, headers=None):
    """One request the way the UI sends it: GET/DELETE params in the query, others form-encoded."""
    url = BASE + path
    data = None
    hdrs = dict(headers or {})
    if params:
        enc = urllib.parse.urlencode(params, doseq=True)
        if method in ("GET", "DELETE"):
            url += "?" + enc
        else:
            data = enc.encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    if session:
        hdrs["sessionId"] = session
    if token:
        hdrs["token"] = token
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return Reply(r.status, r.read().decode("utf-8", "replace"), dict(r.headers))
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.read().decode("utf-8", "replace"), dict(e.headers))


def check(cond, what, detail=""):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append("%s %s" % (what, detail))
        print("FAIL:", what, detail, flush=True)
    return cond


def ok(reply, what):
    """The call succeeded (code 0, success true); returns its data."""
    check(reply.status == 200 and reply.code == 0 and reply.json.get("success") is True
          and reply.json.get("failed") is False, what, repr(reply))
    return reply.data


def refused(reply, code, what, names=None):
    """The call failed with `code` (and a message naming `names`)."""
    check(reply.status == 200 and reply.code == code and reply.json.get("success") is False,
          what + " -> %d" % code, repr(reply))
    if names:
        check(names in reply.msg, what + " message names " + names, repr(reply))


def has_keys(obj, keys, what):
    missing = [k for k in keys if not isinstance(obj, dict) or k not in obj]
    check(not missing, what + " has " + ",".join(keys), "missing %s in %r" % (missing, obj))


def page_shape(data, what):
    has_keys(data, ["totalList", "total", "totalPage", "pageSize", "currentPage", "pageNo"], what)
    return data.get("totalList", []) if isinstance(data, dict) else []


def login(user, password):
    r = call("POST", "/login", {"userName": user, "userPassword": password})
    d = ok(r, "login " + user)
    return d["sessionId"] if isinstance(d, dict) else None


NOW = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
TODAY = time.strftime("%Y-%m-%d 00:00:00", time.gmtime())
ROUTES = None  # (method, path) pairs of openapi.json


def routes():
    global ROUTES
    if ROUTES is None:
        doc = call("GET", "/openapi.json").json
        ROUTES = [(m.upper(), p[len("/dolphinscheduler"):] if p.startswith("/dolphinscheduler") else p)
                  for p, ops in doc["paths"].items() for m in ops]
    return ROUTES


def served(method, path):
    return (method, path) in routes()


def workflow_form(name, codes, script="echo hello"):
    """The create form the DAG editor posts: two SHELL tasks a -> b."""
    a, b = codes
    tasks = [{"code": c, "name": "%s_%d" % (name, i), "description": "", "taskType": "SHELL",
              "taskParams": {"localParams": [], "rawScript": script, "resourceList": []},
              "flag": "YES", "isCache": "NO", "taskPriority": "MEDIUM", "workerGroup": "default",
              "environmentCode": -1, "failRetryTimes": "0", "failRetryInterval": "1",
              "delayTime": "0", "timeout": 0, "timeoutFlag": "CLOSE", "timeoutNotifyStrategy": "",
              "taskGroupPriority": 0, "cpuQuota": -1, "memoryMax": -1}
             for i, c in enumerate((a, b))]
    rels = [{"name": "", "preTaskCode": 0, "preTaskVersion": 0, "postTaskCode": a,
             "postTaskVersion": 0, "conditionType": "NONE", "conditionParams": {}},
            {"name": "", "preTaskCode": a, "preTaskVersion": 0, "postTaskCode": b,
             "postTaskVersion": 0, "conditionType": "NONE", "conditionParams": {}}]
    return {"name": name, "description": "", "globalParams": "[]",
            "locations": json.dumps([{"taskCode": a, "x": 100, "y": 100},
                                     {"taskCode": b, "x": 300, "y": 100}]),
            "timeout": "0", "taskDefinitionJson": json.dumps(tasks),
            "taskRelationJson": json.dumps(rels), "executionType": "PARALLEL"}


def start_form(def_code, version=1):
    return {"processDefinitionCode": def_code, "failureStrategy": "CONTINUE", "warningType": "NONE",
            "warningGroupId": "", "execType": "START_PROCESS", "startNodeList": "",
            "taskDependType": "TASK_POST", "complementDependentMode": "OFF_MODE",
            "runMode": "RUN_MODE_SERIAL", "processInstancePriority": "MEDIUM",
            "workerGroup": "default", "tenantCode": "default", "environmentCode": "",
            "startParams": "", "expectedParallelismNumber": "2", "dryRun": "0", "testFlag": "0",
            "version": str(version), "allLevelDependent": "false", "executionOrder": "DESC_ORDER",
            "scheduleTime": json.dumps({"complementStartDate": TODAY, "complementEndDate": TODAY})}


def make_workflow(s, pc, name):
    """Creates a two-task workflow in project pc, puts it online; returns its code."""
    codes = ok(call("GET", "/projects/%d/task-definition/gen-task-codes" % pc, {"genNum": 2}, s),
               "gen-task-codes")
    d = ok(call("POST", "/projects/%d/process-definition" % pc, workflow_form(name, codes), s),
           "create workflow " + name)
    code = d["code"]
    ok(call("POST", "/projects/%d/process-definition/%d/release" % (pc, code),
            {"name": name, "releaseState": "ONLINE"}, s), "release " + name)
    return code


def wait_instance(s, pc, trigger=None, def_code=None):
    """The instance of the run (by trigger code or definition), once it is SUCCESS."""
    last = None
    while time.time() < DEADLINE:
        if trigger is not None:
            r = call("GET", "/projects/%d/process-instances/trigger" % pc, {"triggerCode": trigger}, s)
            rows = r.data if isinstance(r.data, list) else []
        else:
            r = call("GET", "/projects/%d/process-instances" % pc,
                     {"pageNo": 1, "pageSize": 10, "processDefineCode": def_code}, s)
            rows = r.data["totalList"] if isinstance(r.data, dict) else []
        if rows:
            last = rows[0]
            if last["state"] in ("SUCCESS", "FAILURE", "STOP", "KILL"):
                return last
        time.sleep(0.2)
    return last


# ---------------------------------------------------------------------------------------- J1

def journey_j1():
    r = call("GET", "/login/sso")
    check(r.code == 0 and r.data is None, "J1 login/sso without a session", repr(r))
    r = call("GET", "/oauth2-provider")
    check(r.code == 0 and r.data == [], "J1 oauth2-provider", repr(r))
    check(call("GET", "/users/get-user-info").status == 401, "J1 not logged in -> HTTP 401")
    refused(call("POST", "/login", {"userName": "admin", "userPassword": "wrong"}), 10013,
            "J1 wrong password")
    refused(call("POST", "/login", {"userPassword": "x"}), 10004, "J1 no user name")
    r = call("POST", "/login", {"userName": "admin", "userPassword": "dolphinscheduler123"})
    d = ok(r, "J1 login")
    has_keys(d, ["sessionId", "securityConfigType"], "J1 login data")
    check("sessionId=" in r.headers.get("Set-Cookie", ""), "J1 login sets the sessionId cookie",
          str(r.headers))
    s = d["sessionId"]
    me = ok(call("GET", "/users/get-user-info", session=s), "J1 get-user-info")
    has_keys(me, ["id", "userName", "userType", "tenantId", "tenantCode", "email", "phone", "queue",
                  "queueName", "state", "timeZone", "createTime", "updateTime", "alertGroup"],
             "J1 user")
    check(me.get("userType") == "ADMIN_USER", "J1 admin is ADMIN_USER", str(me))
    # The cookie alone authenticates too (browser downloads).
    r = call("GET", "/users/get-user-info", headers={"Cookie": "sessionId=" + s})
    check(r.code == 0, "J1 cookie session", repr(r))
    for t in ("FILE", "UDF"):
        check(call("GET", "/resources/base-dir", {"type": t}, s).data == "", "J1 base-dir " + t)
    d = ok(call("GET", "/projects/analysis/task-state-count",
                {"startDate": TODAY, "endDate": NOW}, s), "J1 task-state-count")
    has_keys(d, ["totalCount", "taskInstanceStatusCounts"], "J1 task counts")
    d = ok(call("GET", "/projects/analysis/process-state-count",
                {"startDate": TODAY, "endDate": NOW}, s), "J1 process-state-count")
    has_keys(d, ["totalCount", "workflowInstanceStatusCounts"], "J1 process counts")
    d = ok(call("GET", "/projects/analysis/define-user-count", session=s), "J1 define-user-count")
    has_keys(d, ["count", "userList"], "J1 define-user-count")
    return s


# ---------------------------------------------------------------------------------------- J2-J6

def journeys_j2_to_j6(s):
    st = {}
    page_shape(ok(call("GET", "/projects", {"pageSize": 10, "pageNo": 1, "searchVal": ""}, s),
                  "J2 projects"), "J2 projects page")
    check("default" in (ok(call("GET", "/worker-groups/all", session=s), "J2 worker-groups/all") or []),
          "J2 all worker groups include default")
    p = ok(call("POST", "/projects", {"projectName": "journey", "description": "j", "userName": "admin"}, s),
           "J2 create project")
    has_keys(p, ["id", "userId", "userName", "code", "name", "description", "createTime",
                 "updateTime", "perm", "defCount", "instRunningCount"], "J2 project")
    pc = p["code"]
    st["pc"] = pc
    refused(call("POST", "/projects", {"projectName": "journey"}, s), 10019, "J2 duplicate project")
    for path in ("task-state-count", "process-state-count"):
        ok(call("GET", "/projects/analysis/" + path,
                {"startDate": TODAY, "endDate": NOW, "projectCode": pc}, s), "J2 " + path)
    ok(call("GET", "/projects/analysis/define-user-count", {"projectCode": pc}, s), "J2 define-user-count")

    # J3: the definition list page and its modals, then the editor.
    page_shape(ok(call("GET", "/projects/%d/process-definition" % pc,
                       {"pageSize": 10, "pageNo": 1, "searchVal": ""}, s), "J3 definitions"),
               "J3 definitions page")
    check(isinstance(ok(call("GET", "/projects/created-and-authed", session=s), "J3 created-and-authed"), list),
          "J3 created-and-authed is a list")
    r = call("GET", "/projects/%d/worker-group" % pc, session=s)
    check(isinstance(r.json, dict) and "code" not in r.json and r.json.get("status") == "SUCCESS"
          and r.json["data"][0]["workerGroup"] == "default", "J3 project worker-group bare map", repr(r))
    tenants = ok(call("GET", "/tenants/list", session=s), "J3 tenants/list")
    has_keys(tenants[0] if tenants else {}, ["id", "tenantCode", "description", "queueId", "queueName",
                                             "queue", "createTime", "updateTime"], "J3 tenant")
    groups = ok(call("GET", "/alert-groups/normal-list", session=s), "J3 alert groups")
    has_keys(groups[0] if groups else {}, ["id", "groupName"], "J3 alert group")
    check(isinstance(ok(call("GET", "/environment/query-environment-list", session=s), "J3 envs"), list),
          "J3 environments list")
    ok(call("GET", "/projects/%d/project-preference" % pc, session=s), "J3 preference")
    types = ok(call("GET", "/favourite/taskTypes", session=s), "J3 task types")
    has_keys(types[0] if types else {}, ["taskType", "collection", "taskCategory"], "J3 task type")
    codes = ok(call("GET", "/projects/%d/task-definition/gen-task-codes" % pc, {"genNum": 2}, s), "J3 codes")
    check(isinstance(codes, list) and len(codes) == 2, "J3 two task codes", str(codes))
    tg = ok(call("GET", "/task-group/query-list-by-projectCode",
                 {"pageNo": 1, "pageSize": 2147483647, "projectCode": pc}, s), "J3 task groups")
    check(isinstance(tg, dict) and "totalList" in tg, "J3 task groups page", str(tg))
    ok(call("GET", "/resources/list", {"type": "FILE", "fullName": ""}, s), "J3 resources")
    ok(call("GET", "/projects/%d/process-definition/verify-name" % pc, {"name": "wf"}, s), "J3 verify-name")
    d = ok(call("POST", "/projects/%d/process-definition" % pc, workflow_form("wf", codes), s),
           "J3 save workflow")
    code = d["code"]
    st["code"] = code
    refused(call("GET", "/projects/%d/process-definition/verify-name" % pc, {"name": "wf"}, s), 10168,
            "J3 verify-name taken")
    dag = ok(call("GET", "/projects/%d/process-definition/%d" % (pc, code), session=s), "J3 read back")
    has_keys(dag, ["processDefinition", "processTaskRelationList", "taskDefinitionList"], "J3 DagData")
    check(len(dag["taskDefinitionList"]) == 2, "J3 two tasks read back", str(dag)[:200])

    # J4: online and run.
    ok(call("POST", "/projects/%d/process-definition/%d/release" % (pc, code),
            {"name": "wf", "releaseState": "ONLINE"}, s), "J4 release")
    page_shape(ok(call("GET", "/projects/%d/process-definition" % pc,
                       {"pageSize": 10, "pageNo": 1, "searchVal": ""}, s), "J4 list"), "J4 list page")
    ok(call("GET", "/projects/%d/process-definition/%d" % (pc, code), session=s), "J4 detail")
    ok(call("GET", "/projects/%d/project-preference" % pc, session=s), "J4 preference")
    trigger = ok(call("POST", "/projects/%d/executors/start-process-instance" % pc, start_form(code), s),
                 "J4 start")
    check(isinstance(trigger, int), "J4 start returns a trigger code", str(trigger))

    # J5: watch the run, its tasks and a log.
    wi = wait_instance(s, pc, trigger=trigger)
    check(wi is not None and wi["state"] == "SUCCESS", "J5 the run succeeds", str(wi))
    if not wi:
        return st
    st["wi"] = wi["id"]
    rows = page_shape(ok(call("GET", "/projects/%d/process-instances" % pc,
                              {"pageNo": 1, "pageSize": 10, "searchVal": "", "executorName": "",
                               "host": "", "stateType": "", "startDate": "", "endDate": "",
                               "processDefineCode": ""}, s), "J5 instances"), "J5 instances page")
    has_keys(rows[0] if rows else {}, ["id", "name", "state", "commandType", "scheduleTime", "startTime",
                                       "endTime", "duration", "runTimes", "recovery", "dryRun",
                                       "executorName", "host", "processDefinitionCode"], "J5 instance")
    names = ok(call("GET", "/projects/%d/process-definition/query-process-definition-list" % pc, session=s),
               "J5 definition names")
    has_keys(names[0] if names else {}, ["code", "name"], "J5 definition name")
    inst = ok(call("GET", "/projects/%d/process-instances/%d" % (pc, wi["id"]), session=s), "J5 instance")
    has_keys(inst, ["id", "state", "dagData"], "J5 instance detail")
    tasks = ok(call("GET", "/projects/%d/process-instances/%d/tasks" % (pc, wi["id"]), session=s), "J5 tasks")
    has_keys(tasks, ["processInstanceState", "taskList"], "J5 tasks")
    ok(call("GET", "/favourite/taskTypes", session=s), "J5 task types")
    tis = page_shape(ok(call("GET", "/projects/%d/task-instances" % pc,
                             {"pageSize": 10, "pageNo": 1, "searchVal": "", "taskCode": "",
                              "processInstanceId": wi["id"], "host": "", "stateType": "",
                              "startDate": "", "endDate": "", "executorName": "",
                              "processInstanceName": "", "taskExecuteType": "BATCH"}, s),
                        "J5 task instances"), "J5 task instances page")
    check(len(tis) == 2, "J5 two task instances", str(tis)[:200])
    has_keys(tis[0] if tis else {}, ["id", "name", "processInstanceId", "taskType", "state", "startTime",
                                     "endTime", "host", "taskCode"], "J5 task instance")
    if tis:
        st["ti"] = tis[0]["id"]
        skip, limit, text, rounds = 0, 1000, "", 0
        while rounds < 10:
            d = ok(call("GET", "/log/detail", {"taskInstanceId": tis[0]["id"], "limit": limit,
                                                "skipLineNum": skip}, s), "J5 log page")
            if not isinstance(d, dict) or d.get("message", "") == "":
                break
            text += d["message"]
            skip += d["lineNum"]
            limit += 1000
            rounds += 1
        check("hello" in text and rounds < 10, "J5 log pages end with an empty message", text[:200])
        r = call("GET", "/log/download-log", {"taskInstanceId": tis[0]["id"]},
                 headers={"Cookie": "sessionId=" + s})
        check(r.status == 200 and "hello" in r.body, "J5 download-log by cookie", repr(r)[:200])

    # J6: a schedule (when this server has the routes).
    sc = "/projects/{projectCode}/schedules"
    if served("POST", sc) and served("POST", sc + "/preview"):
        sched = json.dumps({"startTime": "2024-07-18 00:00:00", "endTime": "2124-07-18 00:00:00",
                            "crontab": "0 0 * * * ? *", "timezoneId": "Asia/Shanghai"})
        times = ok(call("POST", "/projects/%d/schedules/preview" % pc, {"schedule": sched}, s), "J6 preview")
        check(isinstance(times, list) and len(times) == 5, "J6 five fire times", str(times))
        d = ok(call("POST", "/projects/%d/schedules" % pc,
                    {"schedule": sched, "failureStrategy": "CONTINUE", "warningType": "NONE",
                     "processInstancePriority": "MEDIUM", "warningGroupId": "0", "workerGroup": "default",
                     "tenantCode": "default", "environmentCode": "", "processDefinitionCode": code}, s),
               "J6 create schedule")
        if isinstance(d, dict):
            st["schedule"] = d.get("id")
            ok(call("GET", "/projects/%d/process-definition" % pc,
                    {"pageSize": 10, "pageNo": 1, "searchVal": ""}, s), "J6 list")
            ok(call("POST", "/projects/%d/schedules/%d/online" % (pc, d["id"]), session=s), "J6 online")
            page_shape(ok(call("GET", "/projects/%d/schedules" % pc,
                               {"processDefinitionCode": code, "pageSize": 10, "pageNo": 1,
                                "searchVal": ""}, s), "J6 schedules"), "J6 schedules page")
            ok(call("POST", "/projects/%d/schedules/%d/offline" % (pc, d["id"]), session=s), "J6 offline")
    else:
        print("note: J6 skipped, this server has no schedule routes")
    return st


# ---------------------------------------------------------------------------------------- J7, J8

def journey_j7(s):
    st = {}
    page_shape(ok(call("GET", "/tenants", {"pageSize": 10, "pageNo": 1, "searchVal": ""}, s), "J7 tenants"),
               "J7 tenants page")
    queues = ok(call("GET", "/queues/list", session=s), "J7 queues/list")
    check(isinstance(queues, list) and len(queues) >= 1, "J7 at least one queue", str(queues))
    has_keys(queues[0] if queues else {}, ["id", "queueName", "queue"], "J7 queue")
    ok(call("GET", "/tenants/verify-code", {"tenantCode": "etl"}, s), "J7 verify-code free")
    t = ok(call("POST", "/tenants", {"tenantCode": "etl", "queueId": queues[0]["id"], "description": "d"}, s),
           "J7 create tenant")
    has_keys(t, ["id", "tenantCode", "description", "queueId", "queueName", "queue", "createTime",
                 "updateTime"], "J7 tenant")
    st["tenant"] = t["id"]
    refused(call("GET", "/tenants/verify-code", {"tenantCode": "etl"}, s), 10009, "J7 verify-code taken")
    users = ok(call("GET", "/users/list-paging", {"pageNo": 1, "pageSize": 10, "searchVal": ""}, s),
               "J7 users")
    page_shape(users, "J7 users page")
    ok(call("GET", "/tenants/list", session=s), "J7 tenants/list")
    ok(call("GET", "/users/verify-user-name", {"userName": "jane"}, s), "J7 verify-user-name free")
    u = ok(call("POST", "/users/create", {"userName": "jane", "userPassword": "jane1234", "tenantId": t["id"],
                                          "email": "jane@example.com", "queue": "", "phone": "",
                                          "state": 1}, s), "J7 create user")
    has_keys(u, ["id", "userName", "userType", "tenantId", "tenantCode", "email", "state"], "J7 user")
    check(u.get("tenantCode") == "etl", "J7 user's tenantCode", str(u))
    refused(call("GET", "/users/verify-user-name", {"userName": "jane"}, s), 10003, "J7 verify-user-name taken")
    wg = page_shape(ok(call("GET", "/worker-groups", {"pageNo": 1, "pageSize": 10, "searchVal": ""}, s),
                       "J7 worker groups"), "J7 worker groups page")
    has_keys(wg[0] if wg else {}, ["id", "name", "addrList", "createTime", "updateTime", "description",
                                   "systemDefault"], "J7 worker group")
    addrs = ok(call("GET", "/worker-groups/worker-address-list", session=s), "J7 address list")
    check(isinstance(addrs, list) and len(addrs) >= 1, "J7 a live worker address", str(addrs))
    st["addr"] = addrs[0] if addrs else "127.0.0.1:1234"
    g = ok(call("POST", "/worker-groups", {"name": "gpu", "addrList": st["addr"]}, s), "J7 create worker group")
    has_keys(g, ["id", "name", "addrList"], "J7 worker group created")
    page_shape(ok(call("GET", "/alert-groups", {"pageNo": 1, "pageSize": 10, "searchVal": ""}, s),
                  "J7 alert groups"), "J7 alert groups page")
    ok(call("GET", "/alert-plugin-instances/list", session=s), "J7 plugin instances")
    ok(call("GET", "/alert-groups/verify-name", {"groupName": "ops"}, s), "J7 verify group name")
    a = ok(call("POST", "/alert-groups", {"groupName": "ops", "alertInstanceIds": "", "description": "d"}, s),
           "J7 create alert group")
    has_keys(a, ["id", "groupName", "alertInstanceIds", "description", "createTime", "updateTime",
                 "createUserId"], "J7 alert group")
    refused(call("GET", "/alert-groups/verify-name", {"groupName": "ops"}, s), 10012, "J7 group name taken")
    return st


def journey_j8(s):
    for t in ("MASTER", "WORKER"):
        nodes = ok(call("GET", "/monitor/" + t, session=s), "J8 monitor " + t)
        check(isinstance(nodes, list) and len(nodes) == 1, "J8 one embedded " + t, str(nodes))
        if nodes:
            has_keys(nodes[0], ["id", "host", "port", "zkDirectory", "resInfo", "createTime",
                                "lastHeartbeatTime"], "J8 server")
            info = json.loads(nodes[0]["resInfo"])
            has_keys(info, ["cpuUsage", "memoryUsage", "loadAverage", "diskAvailable", "serverStatus",
                            "processId"], "J8 resInfo")
            check(0 <= info["memoryUsage"] <= 1 and info["serverStatus"] == "NORMAL", "J8 figures", str(info))
    check(ok(call("GET", "/monitor/ALERT_SERVER", session=s), "J8 alert servers") == [], "J8 no alert server")
    dbs = ok(call("GET", "/monitor/databases", session=s), "J8 databases")
    check(isinstance(dbs, list) and dbs and dbs[0].get("state") == "YES", "J8 database healthy", str(dbs))
    refused(call("GET", "/monitor/NOPE", session=s), 10001, "J8 unknown node type", "nodeType")


# ---------------------------------------------------------------------------------------- §7

def api_test_sequences(s, addr):
    # ProjectAPITest
    ok(call("GET", "/projects/list", session=s), "§7 projects/list")
    ok(call("POST", "/projects", {"projectName": "project-test", "loginUser": "ignored"}, s),
       "§7 create project-test")
    listed = ok(call("GET", "/projects/list", session=s), "§7 list")
    pc = next(p["code"] for p in listed if p["name"] == "project-test")
    ok(call("PUT", "/projects/%d" % pc, {"projectName": "project-new", "userName": "admin"}, s), "§7 update")
    names = [p["name"] for p in ok(call("GET", "/projects/list", session=s), "§7 list after update")]
    check("project-new" in names and "project-test" not in names, "§7 renamed", str(names))
    check(ok(call("GET", "/projects/%d" % pc, session=s), "§7 by code")["name"] == "project-new",
          "§7 query by code")
    check("project-new" in json.dumps(ok(call("GET", "/projects", {"pageSize": 1, "pageNo": 1}, s), "§7 paging")),
          "§7 paging contains project-new")
    check("project-new" in json.dumps(ok(call("GET", "/projects/project-with-authorized-level-list-paging",
                                              {"userId": 1, "pageSize": 100, "pageNo": 1}, s), "§7 level paging")),
          "§7 authorized-level-list-paging")
    check("project-new" in json.dumps(ok(call("GET", "/projects/unauth-project", {"userId": 1}, s), "§7 unauth")),
          "§7 unauth-project contains project-new")
    check("project-new" not in json.dumps(ok(call("GET", "/projects/authed-project", {"userId": 1}, s), "§7 authed")),
          "§7 authed-project lacks project-new")
    check("project-new" in json.dumps(ok(call("GET", "/projects/project-with-authorized-level",
                                              {"userId": 1}, s), "§7 level")), "§7 authorized-level")
    check(ok(call("GET", "/projects/authed-user", {"projectCode": pc}, s), "§7 authed-user") == [],
          "§7 authed-user empty")
    check("project-new" in json.dumps(ok(call("GET", "/projects/created-and-authed", session=s), "§7 c&a")),
          "§7 created-and-authed")
    check("project-new" in json.dumps(ok(call("GET", "/projects/list-dependent", session=s), "§7 dependent")),
          "§7 list-dependent")
    d = ok(call("DELETE", "/projects/%d" % pc, session=s), "§7 delete project")
    check("project-new" not in json.dumps(d), "§7 delete data")
    names = [p["name"] for p in ok(call("GET", "/projects/list", session=s), "§7 list after delete")]
    check("project-new" not in names, "§7 deleted", str(names))
    # A project with workflows is not deleted.
    p = ok(call("POST", "/projects", {"projectName": "keeps"}, s), "§7 create keeps")
    make_workflow(s, p["code"], "kept")
    refused(call("DELETE", "/projects/%d" % p["code"], session=s), 10137, "§7 delete project with workflows")

    # TenantAPITest
    r = ok(call("POST", "/tenants", {"tenantCode": "runner", "queueId": 1, "description": ""}, s),
           "§7 create tenant")
    check(call("POST", "/tenants", {"tenantCode": "runner", "queueId": 1, "description": ""}, s)
          .json["success"] is False, "§7 duplicate tenant fails")
    rows = page_shape(ok(call("GET", "/tenants/", {"pageSize": 10, "pageNo": 1, "searchVal": ""}, s),
                         "§7 tenants/ (trailing slash)"), "§7 tenants page")
    tid = next((t["id"] for t in rows if t["tenantCode"] == "runner"), None)
    check(tid == r["id"], "§7 tenant listed with its id", str(rows))
    ok(call("DELETE", "/tenants/%d" % tid, session=s), "§7 delete tenant")

    # WorkerGroupAPITest (on a server whose groups the journeys left: gpu)
    g = ok(call("POST", "/worker-groups", {"id": 4242, "name": "test_worker_group", "addrList": addr,
                                           "description": "test"}, s), "§7 save worker group")
    names = ok(call("GET", "/worker-groups/all", session=s), "§7 all")
    check(set(names) == {"test_worker_group", "gpu", "default"}, "§7 all groups", str(names))
    check("test_worker_group" in json.dumps(ok(call("GET", "/worker-groups", {"pageNo": 1, "pageSize": 3}, s),
                                                "§7 paging")), "§7 paging contains the group")
    check(addr in ok(call("GET", "/worker-groups/worker-address-list", session=s), "§7 addresses"),
          "§7 address list has the worker")
    ok(call("DELETE", "/worker-groups/%d" % g["id"], session=s), "§7 delete group")
    check("test_worker_group" not in ok(call("GET", "/worker-groups/all", session=s), "§7 all after"),
          "§7 group gone")


# ---------------------------------------------------------------------------------------- admin routes

def admin_route_cases(s, addr):
    """A success case and the main error cases of each admin route not covered above."""
    # Users
    uid = ok(call("POST", "/users/create", {"userName": "bob", "userPassword": "bob12345", "tenantId": -1,
                                            "email": "bob@example.com"}, s), "users/create")["id"]
    refused(call("POST", "/users/create", {"userName": "bob", "userPassword": "bob12345", "tenantId": -1,
                                           "email": "bob@example.com"}, s), 10003, "users/create duplicate")
    refused(call("POST", "/users/create", {"userName": "bob2", "userPassword": "bob12345", "tenantId": 999,
                                           "email": "bob@example.com"}, s), 10017, "users/create unknown tenant")
    u = ok(call("POST", "/users/update", {"id": uid, "userName": "bob", "email": "bob2@example.com",
                                          "tenantId": -1, "userPassword": "newpass1"}, s), "users/update")
    check(u["email"] == "bob2@example.com", "users/update stored", str(u))
    refused(call("POST", "/users/update", {"id": 99999, "userName": "x", "email": "x@example.com"}, s),
            10010, "users/update unknown user")
    login("bob", "newpass1")
    everyone = ok(call("GET", "/users/list-all", session=s), "users/list-all")
    check(any(x["userName"] == "admin" for x in everyone), "list-all has admin")
    general = ok(call("GET", "/users/list", session=s), "users/list")
    check(all(x["userType"] == "GENERAL_USER" for x in general), "users/list has general users only")
    ok(call("GET", "/users/unauth-user", {"alertgroupId": 1}, s), "users/unauth-user")
    check(ok(call("GET", "/users/authed-user", {"alertgroupId": 1}, s), "users/authed-user") == [],
          "users/authed-user")
    refused(call("POST", "/users/delete", {"id": 1}, s), 10001, "users/delete self", "id")
    ok(call("POST", "/users/delete", {"id": uid}, s), "users/delete")
    refused(call("POST", "/users/delete", {"id": uid}, s), 10010, "users/delete again")
    # Queues
    q = ok(call("POST", "/queues", {"queue": "root.a", "queueName": "qa"}, s), "queues create")
    refused(call("POST", "/queues", {"queue": "root.a", "queueName": "qb"}, s), 10129, "queues duplicate value")
    refused(call("POST", "/queues", {"queue": "root.b", "queueName": "qa"}, s), 10130, "queues duplicate name")
    ok(call("POST", "/queues/verify", {"queue": "root.z", "queueName": "qz"}, s), "queues verify")
    refused(call("POST", "/queues/verify", {"queue": "root.a", "queueName": "qz"}, s), 10129, "queues verify taken")
    ok(call("PUT", "/queues/%d" % q["id"], {"queue": "root.a2", "queueName": "qa"}, s), "queues update")
    refused(call("PUT", "/queues/%d" % q["id"], {"queue": "root.a2", "queueName": "qa"}, s), 10132,
            "queues update unchanged")
    refused(call("PUT", "/queues/99999", {"queue": "x", "queueName": "y"}, s), 10128, "queues update unknown")
    page_shape(ok(call("GET", "/queues", {"pageNo": 1, "pageSize": 10}, s), "queues paging"), "queues page")
    # Tenants
    t = ok(call("POST", "/tenants", {"tenantCode": "t_upd", "queueId": 1}, s), "tenants create")
    ok(call("PUT", "/tenants/%d" % t["id"], {"tenantCode": "t_upd2", "queueId": q["id"]}, s), "tenants update")
    refused(call("PUT", "/tenants/99999", {"tenantCode": "zz", "queueId": 1}, s), 10017, "tenants update unknown")
    refused(call("POST", "/tenants", {"tenantCode": "x y", "queueId": 1}, s), 10164, "tenants bad code")
    refused(call("POST", "/tenants", {"tenantCode": "okcode", "queueId": 99999}, s), 10128,
            "tenants unknown queue")
    ok(call("DELETE", "/tenants/%d" % t["id"], session=s), "tenants delete")
    refused(call("DELETE", "/tenants/%d" % t["id"], session=s), 10017, "tenants delete again")
    # Worker groups
    refused(call("POST", "/worker-groups", {"name": "bad", "addrList": "10.255.0.1:1"}, s), 10177,
            "worker group with a dead address")
    refused(call("POST", "/worker-groups", {"name": "gpu", "addrList": addr}, s), 10135, "worker group duplicate")
    refused(call("DELETE", "/worker-groups/99999", session=s), 10174, "worker group delete unknown")
    # Alert plugin instances, UI plugins, alert groups
    plugins = ok(call("GET", "/ui-plugins/query-by-type", {"pluginType": "ALERT"}, s), "ui-plugins by type")
    http_def = next(p for p in plugins if p["pluginName"] == "Http")
    detail = ok(call("GET", "/ui-plugins/%d" % http_def["id"], session=s), "ui-plugins by id")
    check(isinstance(json.loads(detail["pluginParams"]), list), "plugin params form", str(detail)[:200])
    refused(call("GET", "/ui-plugins/99999", session=s), 110004, "ui-plugins unknown")
    form = json.dumps([{"field": "WebHook", "value": "http://127.0.0.1:9/hook"},
                       {"field": "requestType", "value": "POST"}])
    inst = ok(call("POST", "/alert-plugin-instances",
                   {"pluginDefineId": http_def["id"], "instanceName": "hook", "instanceType": "NORMAL",
                    "warningType": "ALL", "pluginInstanceParams": form}, s), "plugin instance create")
    refused(call("POST", "/alert-plugin-instances",
                 {"pluginDefineId": http_def["id"], "instanceName": "hook", "pluginInstanceParams": form}, s),
            110010, "plugin instance duplicate")
    refused(call("GET", "/alert-plugin-instances/verify-name", {"alertInstanceName": "hook"}, s), 110010,
            "plugin instance verify-name taken")
    ok(call("GET", "/alert-plugin-instances/%d" % inst["id"], session=s), "plugin instance get")
    ok(call("PUT", "/alert-plugin-instances/%d" % inst["id"],
            {"instanceName": "hook2", "warningType": "FAILURE", "pluginInstanceParams": form}, s),
       "plugin instance update")
    page_shape(ok(call("GET", "/alert-plugin-instances", {"pageNo": 1, "pageSize": 10}, s), "plugin paging"),
               "plugin instances page")
    g = ok(call("POST", "/alert-groups", {"groupName": "pager", "alertInstanceIds": str(inst["id"])}, s),
           "alert group create")
    refused(call("DELETE", "/alert-plugin-instances/%d" % inst["id"], session=s), 110012,
            "plugin instance in use")
    ok(call("PUT", "/alert-groups/%d" % g["id"], {"groupName": "pager", "alertInstanceIds": ""}, s),
       "alert group update")
    check(ok(call("POST", "/alert-groups/query", {"id": g["id"]}, s), "alert group query")["groupName"] == "pager",
          "alert group query")
    ok(call("GET", "/alert-groups/list", session=s), "alert groups list")
    ok(call("DELETE", "/alert-plugin-instances/%d" % inst["id"], session=s), "plugin instance delete")
    ok(call("DELETE", "/alert-groups/%d" % g["id"], session=s), "alert group delete")
    refused(call("DELETE", "/alert-groups/%d" % g["id"], session=s), 10011, "alert group delete again")
    # Access tokens
    tok = ok(call("POST", "/access-tokens/generate", {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, s),
             "token generate")
    t = ok(call("POST", "/access-tokens", {"userId": 1, "expireTime": "2099-01-01 00:00:00", "token": tok}, s),
           "token create")
    check(ok(call("GET", "/users/get-user-info", token=tok), "token authenticates")["userName"] == "admin",
          "token user")
    page_shape(ok(call("GET", "/access-tokens", {"pageNo": 1, "pageSize": 10}, s), "token paging"), "tokens page")
    check(len(ok(call("GET", "/access-tokens/user/1", session=s), "tokens of user")) >= 1, "tokens of user 1")
    ok(call("PUT", "/access-tokens/%d" % t["id"], {"userId": 1, "expireTime": "2000-01-01 00:00:00"}, s),
       "token update (expired)")
    check(call("GET", "/users/get-user-info", token=tok).status == 401, "expired token -> 401")
    ok(call("DELETE", "/access-tokens/%d" % t["id"], session=s), "token delete")
    refused(call("DELETE", "/access-tokens/%d" % t["id"], session=s), 70015, "token delete again")
    refused(call("POST", "/access-tokens", {"userId": 99999, "expireTime": "2099-01-01 00:00:00"}, s), 10010,
            "token for an unknown user")


# ---------------------------------------------------------------------------------------- permissions

# Which project permission a route needs: writes for every method but GET, except these (a GET
# that changes the definition or hands out codes for new tasks; POSTs that only read).
WRITE_GETS = {"/projects/{projectCode}/task-definition/gen-task-codes",
              "/projects/{projectCode}/process-definition/{code}/versions/{version}"}
READ_POSTS = {"/projects/{projectCode}/schedules/preview", "/projects/{projectCode}/schedules/list",
              "/projects/{projectCode}/process-definition/batch-export",
              "/projects/{projectCode}/process-definition/batch-copy",
              "/projects/{projectCode}/executors/start-check"}


def needs_write(method, path):
    if method == "GET":
        return path in WRITE_GETS
    return not (method == "POST" and path in READ_POSTS)


def permission_matrix(admin):
    # u1 and u2 of the matrix; DolphinScheduler's user names have at least 3 characters.
    for name in ("user1", "user2"):
        ok(call("POST", "/users/create", {"userName": name, "userPassword": name + "pass", "tenantId": -1,
                                          "email": name + "@example.com"}, admin), "create " + name)
    by_name = {u["userName"]: u["id"] for u in ok(call("GET", "/users/list-all", session=admin), "users")}
    ids = {"u1": by_name["user1"], "u2": by_name["user2"]}
    sessions = {"admin": admin, "u1": login("user1", "user1pass"), "u2": login("user2", "user2pass")}
    projects = {}
    for pname, owner in (("P1", "u1"), ("P2", "u2"), ("P3", "admin"), ("P4", "admin")):
        p = ok(call("POST", "/projects", {"projectName": pname}, sessions[owner]), "create " + pname)
        projects[pname] = p
    ok(call("POST", "/users/grant-project-with-read-perm",
            {"userId": ids["u1"], "projectIds": projects["P3"]["id"]}, admin), "grant u1 read P3")
    ok(call("POST", "/users/grant-project", {"userId": ids["u1"], "projectIds": projects["P4"]["id"]}, admin),
       "grant u1 write P4")

    # Fixture: in every project a workflow that ran once (an instance and task instances).
    fx = {}
    triggers = {}
    for pname, p in projects.items():
        code = make_workflow(admin, p["code"], "wf_" + pname)
        fx[pname] = {"code": code}
        triggers[pname] = ok(call("POST", "/projects/%d/executors/start-process-instance" % p["code"],
                                  start_form(code), admin), "start " + pname)
    for pname, p in projects.items():
        wi = wait_instance(admin, p["code"], trigger=triggers[pname])
        check(wi is not None, "fixture run of " + pname, str(wi))
        fx[pname]["id"] = wi["id"] if wi else 1
        tis = call("GET", "/projects/%d/task-instances" % p["code"],
                   {"pageNo": 1, "pageSize": 10, "processInstanceId": fx[pname]["id"]}, admin).data
        fx[pname]["ti"] = tis["totalList"][0]["id"] if tis and tis["totalList"] else 1

    def snapshot():
        """Everything a denied request could have changed, as the admin sees it."""
        out = {}
        for pname, p in projects.items():
            pc = p["code"]
            out[pname] = [
                call("GET", "/projects/%d" % pc, session=admin).data,
                call("GET", "/projects/%d/process-definition" % pc, {"pageNo": 1, "pageSize": 100}, admin).data,
                call("GET", "/projects/%d/process-definition/%d" % (pc, fx[pname]["code"]), session=admin).data,
                call("GET", "/projects/%d/process-instances" % pc, {"pageNo": 1, "pageSize": 100}, admin).data,
                call("GET", "/projects/%d/task-instances" % pc, {"pageNo": 1, "pageSize": 100}, admin).data,
            ]
            if served("GET", "/projects/{projectCode}/schedules"):
                out[pname].append(call("GET", "/projects/%d/schedules" % pc, {"pageNo": 1, "pageSize": 100},
                                       admin).data)
        # Volatile fields (update times of online schedules, durations) are not changes.
        return re.sub(r'"(duration|updateTime|lastHeartbeatTime)": "[^"]*"', "", json.dumps(out, sort_keys=True))

    # What each user may do on each project: rw, r or nothing.
    access = {"admin": {"P1": "rw", "P2": "rw", "P3": "rw", "P4": "rw"},
              "u1": {"P1": "rw", "P2": "", "P3": "r", "P4": "rw"},
              "u2": {"P1": "", "P2": "rw", "P3": "", "P4": ""}}
    scoped = sorted(set((m, p) for m, p in routes() if p.startswith("/projects/{projectCode}")))
    check(len(scoped) >= 20, "openapi.json lists the project-scoped routes", str(len(scoped)))
    before = snapshot()
    denied_total = allowed_total = 0
    for user, sess in sessions.items():
        for pname, p in projects.items():
            may = access[user][pname]
            for method, path in scoped:
                write = needs_write(method, path)
                allowed = ("w" in may) if write else ("r" in may)
                # Real ids when the call is refused (a guessed id must reach nothing); ids naming
                # nothing when it is let through, so that allowed writes change nothing either.
                real = not allowed
                values = {"projectCode": p["code"],
                          "code": fx[pname]["code"] if real else 987654321012,
                          "processDefinitionCode": fx[pname]["code"] if real else 987654321012,
                          "id": (fx[pname]["ti"] if "/task-instances/" in path else fx[pname]["id"])
                          if real else 987654321,
                          "version": 1, "taskCode": 987654321013, "preTaskCode": 0, "postTaskCode": 0}
                url = re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 987654321)), path)
                r = call(method, url, None, sess)
                what = "%s %s %s as %s on %s" % ("deny" if not allowed else "allow", method, path, user, pname)
                if allowed:
                    allowed_total += 1
                    check(r.status == 200 and r.code not in (30001, 30002, 10018, None) or
                          (r.status == 200 and r.json is not None and "code" not in r.json),
                          what, repr(r))
                else:
                    denied_total += 1
                    check(r.status == 200 and r.code == 30002, what, repr(r))
    check(snapshot() == before, "denied and allowed matrix calls changed nothing")

    # Routes naming the project in a parameter.
    for path in ("/projects/analysis/task-state-count", "/projects/analysis/process-state-count",
                 "/projects/authed-user"):
        refused(call("GET", path, {"projectCode": projects["P1"]["code"]}, sessions["u2"]), 30002,
                path + " of a foreign project")
    ok(call("GET", "/projects/analysis/task-state-count", {"projectCode": projects["P3"]["code"]},
            sessions["u1"]), "counts of a read-granted project")
    # Direct ids outside any path project: logs of a foreign task instance.
    for user, pname, expect in (("u1", "P2", 30002), ("u2", "P1", 30002), ("u1", "P3", 0), ("u2", "P2", 0)):
        r = call("GET", "/log/detail", {"taskInstanceId": fx[pname]["ti"], "limit": 10, "skipLineNum": 0},
                 sessions[user])
        check(r.code == expect, "log/detail of %s's task as %s -> %d" % (pname, user, expect), repr(r))
    # An instance id of P2 through u1's own project names nothing.
    r = call("GET", "/projects/%d/process-instances/%d" % (projects["P1"]["code"], fx["P2"]["id"]),
             session=sessions["u1"])
    check(r.code == 50001, "foreign instance id through an own project -> 50001", repr(r))
    refused(call("GET", "/projects/123456789/process-definition", {"pageNo": 1, "pageSize": 10},
                 sessions["u1"]), 10018, "unknown project code")

    # Project lists of general users: own and granted only.
    for user, expect in (("u1", {"P1", "P3", "P4"}), ("u2", {"P2"})):
        for path in ("/projects/list", "/projects/created-and-authed"):
            names = {x["name"] for x in ok(call("GET", path, session=sessions[user]), path)}
            check(names & {"P1", "P2", "P3", "P4"} == expect, "%s of %s" % (path, user), str(names))
        rows = ok(call("GET", "/projects", {"pageNo": 1, "pageSize": 100}, sessions[user]), "projects")["totalList"]
        check({x["name"] for x in rows} == expect, "/projects of " + user, str(rows)[:200])
    perms = {x["name"]: x["perm"] for x in
             ok(call("GET", "/projects", {"pageNo": 1, "pageSize": 100}, sessions["u1"]), "u1 projects")["totalList"]}
    check(perms == {"P1": 7, "P3": 4, "P4": 7}, "perm of each project of u1", str(perms))

    # Admin-only routes refuse a general user with 30001.
    open_to_all = {"/tenants/list", "/queues/list", "/worker-groups/all", "/alert-groups/normal-list",
                   "/alert-groups/list", "/users/get-user-info", "/users/update", "/users/verify-user-name"}
    admin_only = [(m, p) for m, p in routes()
                  if re.match(r"^/(tenants|queues|users|worker-groups|alert-groups|alert-plugin-instances)(/|$)", p)
                  and p not in open_to_all]
    admin_only += [("GET", "/projects/authed-project"), ("GET", "/projects/unauth-project"),
                   ("GET", "/projects/project-with-authorized-level"),
                   ("GET", "/projects/project-with-authorized-level-list-paging")]
    check(len(admin_only) >= 30, "admin-only routes found in openapi.json", str(len(admin_only)))
    before_admin = json.dumps([call("GET", "/users/list-all", session=admin).data,
                               call("GET", "/tenants/list", session=admin).data,
                               call("GET", "/queues/list", session=admin).data,
                               call("GET", "/worker-groups/all", session=admin).data,
                               call("GET", "/alert-groups/list", session=admin).data], sort_keys=True)
    for method, path in admin_only:
        url = re.sub(r"\{(\w+)\}", "1", path)
        params = {"userId": ids["u2"], "projectIds": projects["P2"]["id"], "id": 1, "tenantCode": "x",
                  "queueId": 1, "queue": "x", "queueName": "x", "name": "x", "addrList": "x",
                  "groupName": "x", "userName": "xxxx", "userPassword": "xxxxxx", "email": "x@example.com",
                  "tenantId": -1, "projectCode": projects["P2"]["code"], "alertgroupId": 1}
        r = call(method, url, params, sessions["u1"])
        check(r.code == 30001, "admin-only %s %s as u1" % (method, path), repr(r))
    after_admin = json.dumps([call("GET", "/users/list-all", session=admin).data,
                              call("GET", "/tenants/list", session=admin).data,
                              call("GET", "/queues/list", session=admin).data,
                              call("GET", "/worker-groups/all", session=admin).data,
                              call("GET", "/alert-groups/list", session=admin).data], sort_keys=True)
    check(before_admin == after_admin, "refused admin calls changed nothing")
    print("permission matrix: %d denied and %d allowed calls over %d project routes"
          % (denied_total, allowed_total, len(scoped)))
    return sessions, projects


# ---------------------------------------------------------------------------------------- bad input

def bad_input(s, sessions):
    """Malformed, missing and oversized fields of every admin create/update route: the error names
    the field, and a read-back shows nothing changed."""
    long = "x" * 300
    uid = ok(call("POST", "/users/create", {"userName": "victim", "userPassword": "victim1", "tenantId": -1,
                                            "email": "victim@example.com"}, s), "bad-input fixture user")["id"]
    t = ok(call("POST", "/tenants", {"tenantCode": "bi_tenant", "queueId": 1}, s), "fixture tenant")
    q = ok(call("POST", "/queues", {"queue": "root.bi", "queueName": "bi"}, s), "fixture queue")
    addr = ok(call("GET", "/worker-groups/worker-address-list", session=s), "addresses")[0]
    wg = ok(call("POST", "/worker-groups", {"name": "bi_group", "addrList": addr}, s), "fixture group")
    ag = ok(call("POST", "/alert-groups", {"groupName": "bi_alerts"}, s), "fixture alert group")
    plugins = ok(call("GET", "/ui-plugins/query-by-type", {"pluginType": "ALERT"}, s), "plugins")
    http_id = next(p["id"] for p in plugins if p["pluginName"] == "Http")
    form = json.dumps([{"field": "WebHook", "value": "http://127.0.0.1:9/x"}])
    pi = ok(call("POST", "/alert-plugin-instances", {"pluginDefineId": http_id, "instanceName": "bi_hook",
                                                     "pluginInstanceParams": form}, s), "fixture instance")
    tok = ok(call("POST", "/access-tokens", {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, s), "fixture token")
    proj = ok(call("POST", "/projects", {"projectName": "bi_project"}, s), "fixture project")

    def state():
        return json.dumps([
            call("GET", "/users/list-paging", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/tenants", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/queues", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/worker-groups", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/alert-groups", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/alert-plugin-instances", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/access-tokens", {"pageNo": 1, "pageSize": 100}, s).data,
            call("GET", "/projects/list", session=s).data,
        ], sort_keys=True)

    user_ok = {"userName": "newbie", "userPassword": "newbie1", "tenantId": -1, "email": "newbie@example.com"}
    upd_ok = {"id": uid, "userName": "victim", "email": "victim@example.com", "tenantId": -1}
    cases = [
        # (method, path, good params, field, bad value or None = missing, expected code)
        ("POST", "/users/create", user_ok, "userName", "a b", 10001),
        ("POST", "/users/create", user_ok, "userName", None, 10001),
        ("POST", "/users/create", user_ok, "userName", long, 10001),
        ("POST", "/users/create", user_ok, "userPassword", "x", 10001),
        ("POST", "/users/create", user_ok, "userPassword", None, 10001),
        ("POST", "/users/create", user_ok, "userPassword", long, 10001),
        ("POST", "/users/create", user_ok, "email", "nope", 10001),
        ("POST", "/users/create", user_ok, "email", None, 10001),
        ("POST", "/users/create", user_ok, "tenantId", "abc", 10001),
        ("POST", "/users/create", user_ok, "tenantId", None, 10001),
        ("POST", "/users/create", user_ok, "phone", "12", 10001),
        ("POST", "/users/create", user_ok, "state", "7", 10001),
        ("POST", "/users/update", upd_ok, "email", "bad", 10001),
        ("POST", "/users/update", upd_ok, "id", "abc", 10001),
        ("POST", "/users/update", upd_ok, "userName", None, 10001),
        ("POST", "/users/update", upd_ok, "userPassword", long, 10001),
        ("POST", "/users/update", upd_ok, "timeZone", long, 10001),
        ("POST", "/tenants", {"tenantCode": "newt", "queueId": 1}, "tenantCode", None, 10001),
        ("POST", "/tenants", {"tenantCode": "newt", "queueId": 1}, "tenantCode", long, 10001),
        ("POST", "/tenants", {"tenantCode": "newt", "queueId": 1}, "queueId", "one", 10001),
        ("POST", "/tenants", {"tenantCode": "newt", "queueId": 1}, "queueId", None, 10001),
        ("POST", "/tenants", {"tenantCode": "newt", "queueId": 1}, "description", long, 10001),
        ("PUT", "/tenants/%d" % t["id"], {"tenantCode": "bi_tenant", "queueId": 1}, "queueId", "x", 10001),
        ("PUT", "/tenants/%d" % t["id"], {"tenantCode": "bi_tenant", "queueId": 1}, "description", long, 10001),
        ("POST", "/queues", {"queue": "root.n", "queueName": "n"}, "queue", None, 10001),
        ("POST", "/queues", {"queue": "root.n", "queueName": "n"}, "queueName", None, 10001),
        ("POST", "/queues", {"queue": "root.n", "queueName": "n"}, "queueName", long, 10001),
        ("PUT", "/queues/%d" % q["id"], {"queue": "root.n", "queueName": "n"}, "queue", long, 10001),
        ("POST", "/worker-groups", {"name": "ng", "addrList": addr}, "name", None, 10001),
        ("POST", "/worker-groups", {"name": "ng", "addrList": addr}, "name", long, 10001),
        ("POST", "/worker-groups", {"name": "ng", "addrList": addr}, "addrList", None, 10001),
        ("POST", "/worker-groups", {"name": "ng", "addrList": addr}, "id", "abc", 10001),
        ("POST", "/worker-groups", {"id": wg["id"], "name": "bi_group", "addrList": addr}, "description", long,
         10001),
        ("POST", "/alert-groups", {"groupName": "na"}, "groupName", None, 10001),
        ("POST", "/alert-groups", {"groupName": "na"}, "groupName", long, 10001),
        ("POST", "/alert-groups", {"groupName": "na"}, "alertInstanceIds", "1,x", 10001),
        ("PUT", "/alert-groups/%d" % ag["id"], {"groupName": "bi_alerts"}, "description", long, 10001),
        ("PUT", "/alert-groups/%d" % ag["id"], {"groupName": "bi_alerts"}, "alertInstanceIds", "99999", 10001),
        ("POST", "/alert-plugin-instances", {"pluginDefineId": http_id, "instanceName": "np",
                                             "pluginInstanceParams": form}, "pluginInstanceParams", "{bad", 10001),
        ("POST", "/alert-plugin-instances", {"pluginDefineId": http_id, "instanceName": "np",
                                             "pluginInstanceParams": form}, "pluginInstanceParams", "[]", 10001),
        ("POST", "/alert-plugin-instances", {"pluginDefineId": http_id, "instanceName": "np",
                                             "pluginInstanceParams": form}, "instanceName", long, 10001),
        ("POST", "/alert-plugin-instances", {"pluginDefineId": http_id, "instanceName": "np",
                                             "pluginInstanceParams": form}, "pluginDefineId", "x", 10001),
        ("POST", "/alert-plugin-instances", {"pluginDefineId": http_id, "instanceName": "np",
                                             "pluginInstanceParams": form}, "warningType", "OFTEN", 10001),
        ("PUT", "/alert-plugin-instances/%d" % pi["id"], {"instanceName": "bi_hook", "pluginInstanceParams": form},
         "instanceName", None, 10001),
        ("PUT", "/alert-plugin-instances/%d" % pi["id"], {"instanceName": "bi_hook", "pluginInstanceParams": form},
         "pluginInstanceParams", "x" * 70000, 10001),
        ("POST", "/access-tokens", {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, "expireTime", "tomorrow",
         10001),
        ("POST", "/access-tokens", {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, "expireTime", None, 10001),
        ("POST", "/access-tokens", {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, "userId", "me", 10001),
        ("POST", "/access-tokens", {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, "token", "x" * 100, 10001),
        ("PUT", "/access-tokens/%d" % tok["id"], {"userId": 1, "expireTime": "2099-01-01 00:00:00"}, "token",
         "has space", 10001),
        ("PUT", "/projects/%d" % proj["code"], {"projectName": "bi_project"}, "projectName", None, 10001),
        ("PUT", "/projects/%d" % proj["code"], {"projectName": "bi_project"}, "projectName", long, 10001),
        ("PUT", "/projects/%d" % proj["code"], {"projectName": "bi_project"}, "description", long, 10001),
        ("PUT", "/projects/%d" % proj["code"], {"projectName": "bi_project"}, "userName", "nobody", 10010),
    ]
    before = state()
    for method, path, good, field, bad, code in cases:
        params = dict(good)
        if bad is None:
            params.pop(field, None)
        else:
            params[field] = bad
        r = call(method, path, params, s)
        label = "bad input %s %s %s=%s" % (method, path, field, "<missing>" if bad is None else bad[:20])
        refused(r, code, label, field if code == 10001 else None)
    check(state() == before, "bad input changed nothing")
    # Oversized bodies are refused by the server before any handler.
    r = call("POST", "/users/create", dict(user_ok, description="y" * (17 << 20)), s)
    check(r.status in (413, 400) or (r.code not in (0, None)), "oversized body refused", repr(r)[:200])
    check(state() == before, "oversized body changed nothing")
    # An unknown extra parameter is ignored.
    ok(call("POST", "/users/create", dict(user_ok, loginUser="User{id=1}"), s), "extra parameter ignored")


def main():
    t0 = time.time()
    admin = journey_j1()
    if not admin:
        print("cannot log in; stopping")
        return 1
    journeys_j2_to_j6(admin)
    j7 = journey_j7(admin)
    journey_j8(admin)
    api_test_sequences(admin, j7["addr"])
    admin_route_cases(admin, j7["addr"])
    sessions, _ = permission_matrix(admin)
    bad_input(admin, sessions)
    # J1's last call: sign out ends the session.
    ok(call("POST", "/signOut", session=admin), "J1 signOut")
    check(call("GET", "/users/get-user-info", session=admin).status == 401, "J1 signed out -> 401")
    print("%d checks, %d failures, %.1f s" % (CHECKS, len(FAILURES), time.time() - t0))
    if time.time() > DEADLINE:
        print("FAIL: over the time budget")
        return 1
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
