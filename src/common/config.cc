#include "common/config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

namespace dsched {

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> kKeys = {
      {"api.host", "string", "127.0.0.1", "address the REST API listens on"},
      {"api.port", "int", "12345", "port of the REST API (DolphinScheduler's default)"},
      {"api.max_body_bytes", "int", "16777216", "largest request body accepted"},
      {"api.session_timeout_s", "int", "7200", "idle lifetime of a login session"},
      {"data.dir", "string", "./data", "where the embedded SQLite database lives"},
      {"db.synchronous", "string", "NORMAL",
       "SQLite synchronous mode: NORMAL survives a process crash (kill -9), FULL also power loss"},
      {"db.type", "string", "sqlite",
       "metadata database: sqlite (embedded, <data.dir>/dsched.db), postgresql, or mysql (MySQL "
       "or MariaDB); environment DATABASE"},
      {"db.url", "string", "",
       "JDBC-style URL jdbc:postgresql://HOST[:PORT]/NAME or jdbc:mysql://HOST[:PORT]/NAME; when "
       "set it gives the type, host, port and name; environment SPRING_DATASOURCE_URL"},
      {"db.host", "string", "127.0.0.1", "database server host (postgresql, mysql)"},
      {"db.port", "int", "0", "database server port; 0 = 5432 for postgresql, 3306 for mysql"},
      {"db.name", "string", "dolphinscheduler", "database name (postgresql, mysql)"},
      {"db.user", "string", "root", "database user; environment SPRING_DATASOURCE_USERNAME"},
      {"db.password", "string", "root",
       "database password; environment SPRING_DATASOURCE_PASSWORD"},
      {"db.pool_size", "int", "4",
       "reader connections each process keeps open (one more connection does every write)"},
      {"db.connect_timeout_s", "int", "10", "give up connecting to the database after this long"},
      {"log.dir", "string", "", "task logs; default <data.dir>/logs"},
      {"exec.basepath", "string", "", "task exec dirs; default <data.dir>/exec"},
      {"env.file", "string", "conf/env/dolphinscheduler_env.sh",
       "sourced by every task wrapper before the task's own script"},
      {"worker.exec_threads", "int", "100", "most tasks one worker runs at once"},
      {"worker.group", "string", "default", "worker group of the embedded worker"},
      {"master.commit_delay_us", "int", "-1",
       "extra wait before a group commit, so that the state changes arriving meanwhile join it; "
       "negative: none in standalone (every hop stays within a few ms); in cluster mode 100 us per "
       "task under way, at most 10000 (events come over the network from several workers, a few "
       "at a time)"},
      {"engine.minute_ms", "int", "60000",
       "length of the 'minute' used by retry intervals, timeouts and delays; tests shorten it"},
      {"engine.kill_grace_ms", "int", "3000", "TERM-to-KILL wait when killing a task's group"},
      {"scheduler.refresh_s", "int", "60",
       "the cron firer re-reads the online schedules this often, besides at once when a schedule "
       "route changes one"},
      {"scheduler.backup_delay_ms", "int", "2000",
       "cluster: a master fires the slots of the schedules another live master fires first this "
       "much later, a no-op unless that master died first"},
      // Cluster services (not standalone, which keeps its in-process registry). Names and
      // defaults are DolphinScheduler's registry keys.
      {"registry.type", "string", "zookeeper",
       "registry of the cluster services: zookeeper, jdbc (the metadata database), or memory (all in one process: tests)"},
      {"registry.session-timeout", "duration", "60s",
       "database registry (jdbc): a service not heard of for this long is gone"},
      {"registry.heartbeat-refresh-interval", "duration", "3s",
       "database registry (jdbc): how often a service renews its session and looks for changes"},
      {"registry.disconnect-strategy", "string", "stop",
       "a service whose registry session expired: stop (exit), or waiting (start again in the "
       "same process, as a new registration, for up to registry.max-waiting-time)"},
      {"registry.max-waiting-time", "duration", "100s",
       "disconnect strategy waiting: how long to keep trying to start again before exiting"},
      {"registry.zookeeper.connect-string", "string", "localhost:2181",
       "ZooKeeper servers, host:port[,host:port...]"},
      {"registry.zookeeper.namespace", "string", "dolphinscheduler",
       "root node of every registry path (/dolphinscheduler/nodes/master/<host:port> ...)"},
      {"registry.zookeeper.session-timeout", "duration", "60s",
       "a server that stops answering for this long loses its registration and its locks"},
      {"registry.zookeeper.connection-timeout", "duration", "15s",
       "give up connecting to ZooKeeper at start after this long"},
      {"registry.zookeeper.retry-policy.base-sleep-time", "duration", "60ms",
       "first pause before retrying a registry call that lost its connection (doubles each time)"},
      {"registry.zookeeper.retry-policy.max-sleep", "duration", "300ms",
       "longest pause between two retries of a registry call"},
      {"registry.zookeeper.retry-policy.max-retries", "int", "5",
       "retries of a registry call that lost its connection before it fails"},
      {"server.host", "string", "127.0.0.1",
       "address a cluster service registers and the others reach it at (its host part)"},
      // Overload protection (cluster services): a master claims no new command and a worker
      // reports BUSY (gets no dispatch) while the 1-minute load average is above the max or
      // the available memory (GB) below the reserve. -1: twice the number of cores.
      {"master.max-cpu-load-avg", "double", "-1", "master: the highest load average it takes commands at"},
      {"master.reserved-memory", "double", "0.3", "master: GB of memory it keeps free"},
      {"worker.max-cpu-load-avg", "double", "-1", "worker: the highest load average it takes tasks at"},
      {"worker.reserved-memory", "double", "0.3", "worker: GB of memory it keeps free"},
      {"worker.host-weight", "int", "100",
       "worker: its share of dispatches against other workers of its group (1-10000)"},
      {"master.listen-port", "int", "5678", "RPC port of dsched master"},
      {"worker.listen-port", "int", "1234", "RPC port of dsched worker"},
      {"alert.listen-port", "int", "50052", "port dsched alert registers with"},
      // Prometheus metrics of each cluster service: GET /metrics (and /actuator/prometheus).
      {"master.metrics-port", "int", "5679", "dsched master: port of its /metrics"},
      {"worker.metrics-port", "int", "1235", "dsched worker: port of its /metrics"},
      {"alert.metrics-port", "int", "50053", "dsched alert: port of its /metrics"},
      {"api.metrics-port", "int", "12346", "dsched api: port of its /metrics"},
      {"logger.metrics-port", "int", "50054", "dsched logger: port of its /metrics"},
      {"logger.listen-port", "int", "50051",
       "RPC port of dsched logger, on every worker host; the API reads task logs through it"},
      {"master.heartbeat-interval", "duration", "10s",
       "how often a master refreshes its registry heartbeat"},
      {"worker.heartbeat-interval", "duration", "10s",
       "how often a worker refreshes its registry heartbeat"},
  };
  return kKeys;
}

namespace {
const ConfigKey* Find(const std::string& key) {
  for (const auto& k : ConfigKeys())
    if (key == k.name) return &k;
  return nullptr;
}
std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}
// Digits then an optional unit ms, s or m (a bare number is milliseconds, as in Spring's
// durations that DolphinScheduler's keys use); -1 when malformed.
int64_t ParseDurationMs(const std::string& v) {
  size_t i = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  if (i == 0 || i > 12) return -1;
  int64_t n = std::stoll(v.substr(0, i));
  std::string unit = v.substr(i);
  if (unit.empty() || unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "m") return n * 60000;
  return -1;
}
std::string EnvName(const char* key) {
  std::string n = "DSCHED_";
  for (const char* p = key; *p; ++p) {
    char c = *p;
    n += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return n;
}
}  // namespace

Config::Config() {
  for (const auto& k : ConfigKeys()) values_[k.name] = k.default_value;
}

Status Config::Set(const std::string& key, const std::string& value) {
  const ConfigKey* k = Find(key);
  if (!k) return InvalidArgument("unknown config key '" + key + "'");
  if (std::strcmp(k->type, "int") == 0) {
    if (value.empty() || value.find_first_not_of("-0123456789") != std::string::npos)
      return InvalidArgument("config key '" + key + "' wants an integer, got '" + value + "'");
  } else if (std::strcmp(k->type, "double") == 0) {
    char* end = nullptr;
    errno = 0;
    double d = value.empty() ? 0 : std::strtod(value.c_str(), &end);
    if (value.empty() || errno != 0 || *end != '\0' || !std::isfinite(d))
      return InvalidArgument("config key '" + key + "' wants a number, got '" + value + "'");
  } else if (std::strcmp(k->type, "bool") == 0) {
    if (value != "true" && value != "false")
      return InvalidArgument("config key '" + key + "' wants true or false, got '" + value + "'");
  } else if (std::strcmp(k->type, "duration") == 0) {
    if (ParseDurationMs(value) < 0)
      return InvalidArgument("config key '" + key + "' wants a duration like 300ms, 60s or 2m, " +
                             "got '" + value + "'");
  }
  values_[key] = value;
  return Status::Ok();
}

StatusOr<Config> Config::Load(const std::string& path, char** envp) {
  Config c;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return InvalidArgument("cannot read config file " + path);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
      size_t eq = t.find('=');
      if (eq == std::string::npos)
        return InvalidArgument(path + ":" + std::to_string(lineno) + ": expected key = value");
      Status s = c.Set(Trim(t.substr(0, eq)), Trim(t.substr(eq + 1)));
      if (!s.ok()) return InvalidArgument(path + ":" + std::to_string(lineno) + ": " + s.message());
    }
  }
  if (envp) {
    // DolphinScheduler's own variables (its bin/env/dolphinscheduler_env.sh) first, so that an
    // existing env file keeps working; DSCHED_* below is more specific and wins.
    static const std::pair<const char*, const char*> kAliases[] = {
        {"DATABASE", "db.type"},
        {"SPRING_DATASOURCE_URL", "db.url"},
        {"SPRING_DATASOURCE_USERNAME", "db.user"},
        {"SPRING_DATASOURCE_PASSWORD", "db.password"},
        {"REGISTRY_TYPE", "registry.type"},
        {"REGISTRY_ZOOKEEPER_CONNECT_STRING", "registry.zookeeper.connect-string"},
    };
    for (const auto& [var, key] : kAliases) {
      std::string want = std::string(var) + "=";
      for (char** e = envp; *e; ++e) {
        if (std::strncmp(*e, want.c_str(), want.size()) == 0 && (*e)[want.size()] != '\0') {
          Status s = c.Set(key, *e + want.size());
          if (!s.ok()) return InvalidArgument("environment " + std::string(var) + ": " + s.message());
        }
      }
    }
    for (const auto& k : ConfigKeys()) {
      std::string want = EnvName(k.name) + "=";
      for (char** e = envp; *e; ++e) {
        if (std::strncmp(*e, want.c_str(), want.size()) == 0) {
          Status s = c.Set(k.name, *e + want.size());
          if (!s.ok()) return InvalidArgument("environment " + want.substr(0, want.size() - 1) + ": " + s.message());
        }
      }
    }
  }
  return c;
}

std::string Config::GetString(const std::string& key) const {
  auto it = values_.find(key);
  DSCHED_CHECK(it != values_.end());
  return it->second;
}

int64_t Config::GetInt(const std::string& key) const { return std::stoll(GetString(key)); }

bool Config::GetBool(const std::string& key) const { return GetString(key) == "true"; }

double Config::GetDouble(const std::string& key) const { return std::strtod(GetString(key).c_str(), nullptr); }

int64_t Config::GetDurationMs(const std::string& key) const {
  return ParseDurationMs(GetString(key));
}

std::string LogDirFromConfig(const Config& cfg) {
  std::string dir = cfg.GetString("log.dir");
  if (dir.empty()) dir = cfg.GetString("data.dir") + "/logs";
  return std::filesystem::absolute(dir).lexically_normal().string();
}

StatusOr<int> PortFromConfig(const Config& cfg, const std::string& key, bool allow_zero) {
  const int64_t port = cfg.GetInt(key);
  if (port < (allow_zero ? 0 : 1) || port > 65535)
    return InvalidArgument("config key '" + key + "' wants a port (" + (allow_zero ? "0" : "1") +
                           "-65535), got " + std::to_string(port));
  return static_cast<int>(port);
}

}  // namespace dsched
