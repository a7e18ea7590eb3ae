#include "registry/zk_registry.h"
#include "registry/node_data.h"

#ifndef THREADED
#error "zk_registry.cc needs -DTHREADED: without it zookeeper.h declares no synchronous API"
#endif
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <thread>

namespace dsched {

namespace {

Status ValidateConnectString(const std::string& cs) {
  if (cs.empty()) return InvalidArgument("registry.zookeeper.connect-string is empty");
  if (cs.find('/') != std::string::npos)
    return InvalidArgument("registry.zookeeper.connect-string '" + cs +
                           "' has a chroot: use registry.zookeeper.namespace instead");
  size_t start = 0;
  while (true) {
    size_t comma = cs.find(',', start);
    DSCHED_RETURN_IF_ERROR(ValidateHostPort(cs.substr(start, comma - start),
                                            "registry.zookeeper.connect-string server"));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

// "dolphinscheduler", "/dolphinscheduler" or "/a/b" -> "/dolphinscheduler", "/a/b".
StatusOr<std::string> NormalizeRoot(const std::string& ns) {
  std::string root = (!ns.empty() && ns[0] == '/') ? ns : "/" + ns;
  if (root.size() > 1 && root.back() == '/') root.pop_back();
  size_t start = 1;
  while (true) {
    size_t slash = root.find('/', start);
    std::string seg = root.substr(start, slash - start);
    bool ok = !seg.empty() && seg != "." && seg != ".." &&
              std::all_of(seg.begin(), seg.end(), IsRegistryNameChar);
    if (!ok)
      return InvalidArgument("registry.zookeeper.namespace '" + ns +
                             "' is not a path of [A-Za-z0-9._-] segments");
    if (start == 1 && seg == "zookeeper")
      return InvalidArgument("registry.zookeeper.namespace '" + ns + "' is ZooKeeper's own");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return root;
}

std::string Hex(int64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::once_flag quiet_client_log;

// The client logs every failed reconnection attempt (several a second while a server is down):
// pass one line a second to stderr and say how many were dropped.
void RateLimitedClientLog(const char* message) {
  static std::mutex mu;
  static auto last = std::chrono::steady_clock::time_point();
  static int dropped = 0;
  std::lock_guard<std::mutex> l(mu);
  auto now = std::chrono::steady_clock::now();
  if (now - last < std::chrono::seconds(1)) {
    ++dropped;
    return;
  }
  last = now;
  if (dropped > 0) std::fprintf(stderr, "zookeeper client: %d similar lines dropped\n", dropped);
  dropped = 0;
  std::fprintf(stderr, "zookeeper client: %s\n", message);
}

}  // namespace

StatusOr<ZkRegistryOptions> ZkRegistryOptionsFromConfig(const Config& cfg) {
  ZkRegistryOptions o;
  o.connect_string = cfg.GetString("registry.zookeeper.connect-string");
  DSCHED_RETURN_IF_ERROR(ValidateConnectString(o.connect_string));
  DSCHED_ASSIGN_OR_RETURN(o.root, NormalizeRoot(cfg.GetString("registry.zookeeper.namespace")));
  struct {
    const char* key;
    int* out;
    int64_t min, max;
  } durations[] = {
      {"registry.zookeeper.session-timeout", &o.session_timeout_ms, 1000, 3600000},
      {"registry.zookeeper.connection-timeout", &o.connect_timeout_ms, 100, 3600000},
      {"registry.zookeeper.retry-policy.base-sleep-time", &o.retry_base_sleep_ms, 1, 600000},
      {"registry.zookeeper.retry-policy.max-sleep", &o.retry_max_sleep_ms, 1, 600000},
  };
  for (auto& d : durations) {
    int64_t ms = cfg.GetDurationMs(d.key);
    if (ms < d.min || ms > d.max)
      return InvalidArgument(std::string(d.key) + " must be between " + std::to_string(d.min) +
                             " ms and " + std::to_string(d.max) + " ms");
    *d.out = static_cast<int>(ms);
  }
  int64_t retries = cfg.GetInt("registry.zookeeper.retry-policy.max-retries");
  if (retries < 0 || retries > 100)
    return InvalidArgument("registry.zookeeper.retry-policy.max-retries must be 0..100");
  o.max_retries = static_cast<int>(retries);
  return o;
}

// Threads: the client's completion thread runs Watcher (no blocking ZooKeeper call may be made
// there, it would wait for itself), which only records state and queues events; `dispatcher`
// turns events into snapshots and callbacks. zh_mu guards the handle against Close.
struct ZkRegistry::Impl {
  struct Event {
    enum Kind { kSession, kMembership, kStop } kind;
    SessionState state = SessionState::kConnected;
    NodeType type = NodeType::kMaster;
  };

  ZkRegistryOptions opt;
  std::string epoch_path;

  std::shared_mutex zh_mu;
  zhandle_t* zh = nullptr;

  std::mutex mu;  // everything below
  std::condition_variable cv;
  SessionState state = SessionState::kSuspended;
  bool connected_once = false;
  bool closing = false;
  int64_t session_id = 0;
  uint64_t lock_events = 0;
  std::deque<Event> queue;
  std::map<std::pair<NodeType, std::string>, int64_t> mine;
  std::vector<std::function<void(SessionState)>> session_fns;
  std::map<NodeType, std::vector<std::function<void(const NodeInfo&)>>> removal_fns;
  // Lock nodes whose delete failed (connection lost): deleted at the next connection, or gone
  // with the session; never left to block other takers while this process lives on.
  std::vector<std::string> orphans;

  std::mutex snapshot_mu;  // the dispatcher and OnNodeRemoved
  std::map<NodeType, std::map<std::string, NodeInfo>> known;

  std::thread dispatcher;
  std::atomic<uint64_t> lock_counter{0};

  std::string Where() const { return "zookeeper " + opt.connect_string; }
  std::string NodeParent(NodeType t) const { return opt.root + "/nodes/" + NodeTypeDir(t); }
  std::string NodePath(NodeType t, const std::string& a) const { return NodeParent(t) + "/" + a; }

  Status Error(const std::string& what, int rc) const {
    std::string m = Where() + ": " + what + ": " + zerror(rc);
    switch (rc) {
      case ZNONODE:
        return NotFound(m);
      case ZNODEEXISTS:
        return AlreadyExists(m);
      case ZNOAUTH:
      case ZAUTHFAILED:
        return PermissionDenied(m);
      case ZBADARGUMENTS:
        return InvalidArgument(m);
      case ZCONNECTIONLOSS:
      case ZOPERATIONTIMEOUT:
      case ZSESSIONEXPIRED:
      case ZINVALIDSTATE:
      case ZCLOSING:
        return Unavailable(m);
      default:
        return Internal(m);
    }
  }

  // Ok while the session may still be alive. The caller holds zh_mu (shared).
  Status Live() {
    if (!zh) return Unavailable(Where() + ": registry closed");
    std::lock_guard<std::mutex> l(mu);
    if (state == SessionState::kExpired)
      return Unavailable(Where() + ": session " + Hex(session_id) +
                         " expired; this client's registrations and locks are gone");
    return Status::Ok();
  }

  int64_t SessionId() {
    std::lock_guard<std::mutex> l(mu);
    return session_id;
  }

  // Runs `op` again after a lost connection, pausing base * 2^n (capped) between tries. Only
  // for calls that are safe to repeat; creates handle a lost reply themselves.
  int Retry(const std::function<int()>& op) {
    int sleep_ms = opt.retry_base_sleep_ms;
    for (int attempt = 0;; ++attempt) {
      int rc = op();
      if ((rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT) || attempt >= opt.max_retries)
        return rc;
      std::unique_lock<std::mutex> l(mu);
      if (state == SessionState::kExpired || closing) return rc;
      cv.wait_for(l, std::chrono::milliseconds(std::min(sleep_ms, opt.retry_max_sleep_ms)));
      sleep_ms *= 2;
    }
  }

  int GetData(const std::string& path, bool watch, std::string* out, Stat* stat) {
    std::vector<char> buf(4096);
    while (true) {
      int len = static_cast<int>(buf.size());
      int rc = watch ? zoo_wget(zh, path.c_str(), &Watcher, this, buf.data(), &len, stat)
                     : zoo_get(zh, path.c_str(), 0, buf.data(), &len, stat);
      if (rc != ZOK) return rc;
      if (stat->dataLength > static_cast<int>(buf.size())) {
        buf.resize(stat->dataLength);
        continue;
      }
      out->assign(buf.data(), len < 0 ? 0 : len);
      return ZOK;
    }
  }

  int Children(const std::string& path, bool watch, std::vector<std::string>* out) {
    String_vector v{};
    int rc = watch ? zoo_wget_children(zh, path.c_str(), &Watcher, this, &v)
                   : zoo_get_children(zh, path.c_str(), 0, &v);
    if (rc != ZOK) return rc;
    out->assign(v.data, v.data + v.count);
    deallocate_String_vector(&v);
    return ZOK;
  }

  // Creates `path` and its missing parents as persistent nodes with no data.
  Status EnsurePath(const std::string& path) {
    for (size_t i = 1; i <= path.size(); ++i) {
      if (i != path.size() && path[i] != '/') continue;
      std::string p = path.substr(0, i);
      int rc = Retry([&] {
        return zoo_create(zh, p.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
      });
      if (rc != ZOK && rc != ZNODEEXISTS) return Error("create " + p, rc);
    }
    return Status::Ok();
  }

  // With `watch`, the children watch reports every node that comes or goes (a node replaced
  // in between shows as a new epoch); heartbeat updates are not watched.
  StatusOr<std::map<std::string, NodeInfo>> ReadNodes(NodeType type, bool watch) {
    std::vector<std::string> names;
    std::string parent = NodeParent(type);
    int rc = Retry([&] { return Children(parent, watch, &names); });
    std::map<std::string, NodeInfo> out;
    if (rc == ZNONODE) return out;
    if (rc != ZOK) return Error("list " + parent, rc);
    for (const auto& name : names) {
      std::string data;
      Stat st{};
      std::string path = parent + "/" + name;
      rc = Retry([&] { return GetData(path, /*watch=*/false, &data, &st); });
      if (rc == ZNONODE) continue;  // gone between the two reads
      if (rc != ZOK) return Error("read " + path, rc);
      NodeInfo n;
      n.type = type;
      n.address = name;
      DecodeNodeData(data, &n);
      out[name] = std::move(n);
    }
    return out;
  }

  static void Watcher(zhandle_t* zh, int type, int zstate, const char* path, void* ctx) {
    static_cast<Impl*>(ctx)->OnWatch(zh, type, zstate, path ? path : "");
  }

  void OnWatch(zhandle_t* handle, int type, int zstate, const std::string& path) {
    std::lock_guard<std::mutex> l(mu);
    if (type == ZOO_SESSION_EVENT) {
      SessionState next;
      if (zstate == ZOO_CONNECTED_STATE) {
        next = SessionState::kConnected;
        session_id = zoo_client_id(handle)->client_id;
      } else if (zstate == ZOO_CONNECTING_STATE) {
        next = SessionState::kSuspended;
      } else if (zstate == ZOO_EXPIRED_SESSION_STATE || zstate == ZOO_AUTH_FAILED_STATE) {
        next = SessionState::kExpired;
      } else {
        return;
      }
      // Every watch hears session events: report each change once; expiry is final.
      if (state == SessionState::kExpired) return;
      if (next == state) return;
      state = next;
      if (next == SessionState::kConnected) {
        connected_once = true;
        // Removals during the outage were not watched: compare snapshots again.
        for (const auto& [t, fns] : removal_fns) queue.push_back({Event::kMembership, next, t});
      }
      if (next == SessionState::kExpired) mine.clear();
      queue.push_back({Event::kSession, next, NodeType::kMaster});
      cv.notify_all();
      return;
    }
    if (path.rfind(opt.root + "/lock/", 0) == 0) {
      ++lock_events;
      cv.notify_all();
      return;
    }
    for (NodeType t : {NodeType::kMaster, NodeType::kWorker, NodeType::kAlertServer}) {
      std::string parent = NodeParent(t);
      if (path == parent || path.rfind(parent + "/", 0) == 0) {
        queue.push_back({Event::kMembership, state, t});
        cv.notify_all();
        return;
      }
    }
  }

  // Compares the nodes of `type` with the last snapshot and reports the ones gone (or
  // replaced: same address, new epoch). Runs on the dispatcher only.
  void Refresh(NodeType type) {
    std::vector<NodeInfo> gone;
    {
      std::lock_guard<std::mutex> sl(snapshot_mu);
      std::shared_lock<std::shared_mutex> g(zh_mu);
      if (!Live().ok()) return;
      auto now = ReadNodes(type, /*watch=*/true);
      if (!now.ok()) return;  // the next reconnection compares again
      auto it = known.find(type);
      if (it != known.end()) {
        for (const auto& [addr, info] : it->second) {
          auto n = now->find(addr);
          if (n == now->end() || n->second.epoch != info.epoch) gone.push_back(info);
        }
      }
      known[type] = std::move(*now);
    }
    std::vector<std::function<void(const NodeInfo&)>> fns;
    {
      std::lock_guard<std::mutex> l(mu);
      fns = removal_fns[type];
    }
    for (const auto& g : gone)
      for (const auto& fn : fns) fn(g);
  }

  void Dispatch() {
    while (true) {
      Event e;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return closing || !queue.empty(); });
        if (closing) return;
        e = queue.front();
        queue.pop_front();
      }
      if (e.kind == Event::kMembership) {
        Refresh(e.type);
      } else if (e.kind == Event::kSession) {
        std::vector<std::function<void(SessionState)>> fns;
        {
          std::lock_guard<std::mutex> l(mu);
          fns = session_fns;
        }
        if (e.state == SessionState::kConnected) DeleteOrphans();
        for (const auto& fn : fns) fn(e.state);
      }
    }
  }

  // Deletes `path` (a lock node of this session), or leaves it to DeleteOrphans when the
  // connection is down. The caller holds zh_mu (shared).
  Status DeleteLockNode(const std::string& path) {
    if (!Live().ok()) return Status::Ok();  // the session took it along
    int rc = Retry([&] { return zoo_delete(zh, path.c_str(), -1); });
    if (rc == ZOK || rc == ZNONODE) return Status::Ok();
    std::lock_guard<std::mutex> l(mu);
    orphans.push_back(path);
    return Error("release lock " + path + " (retried at reconnection)", rc);
  }

  void DeleteOrphans() {
    std::vector<std::string> paths;
    {
      std::lock_guard<std::mutex> l(mu);
      paths.swap(orphans);
    }
    std::shared_lock<std::shared_mutex> g(zh_mu);
    for (const auto& p : paths) DeleteLockNode(p).ok();  // a failure queues it again
  }

  // Ends the session (this client's ephemeral nodes vanish at once) and the dispatcher.
  void Close() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (closing) return;
      closing = true;
    }
    cv.notify_all();
    if (dispatcher.joinable()) {
      if (dispatcher.get_id() == std::this_thread::get_id())
        dispatcher.detach();  // a callback dropped the last reference
      else
        dispatcher.join();
    }
    std::unique_lock<std::shared_mutex> g(zh_mu);
    if (zh) zookeeper_close(zh);
    zh = nullptr;
  }

  ~Impl() { Close(); }
};

namespace {

class ZkLock final : public RegistryLock {
 public:
  ZkLock(std::weak_ptr<ZkRegistry::Impl> impl, std::string path)
      : impl_(std::move(impl)), path_(std::move(path)) {}
  ~ZkLock() override { Release(); }

  Status Release() override {
    if (released_) return Status::Ok();
    auto impl = impl_.lock();
    if (!impl) {  // the registry is gone, and its session with it
      released_ = true;
      return Status::Ok();
    }
    std::shared_lock<std::shared_mutex> g(impl->zh_mu);
    // On failure the registry deletes the node at reconnection: this handle is done either way.
    released_ = true;
    return impl->DeleteLockNode(path_);
  }

 private:
  std::weak_ptr<ZkRegistry::Impl> impl_;
  std::string path_;
  bool released_ = false;
};

// Sequence numbers are the last 10 characters ZooKeeper appends.
std::string SeqOf(const std::string& name) {
  return name.size() >= 10 ? name.substr(name.size() - 10) : name;
}

}  // namespace

StatusOr<std::unique_ptr<ZkRegistry>> ZkRegistry::Create(const ZkRegistryOptions& options) {
  DSCHED_RETURN_IF_ERROR(ValidateConnectString(options.connect_string));
  auto impl = std::make_shared<Impl>();
  impl->opt = options;
  DSCHED_ASSIGN_OR_RETURN(impl->opt.root, NormalizeRoot(options.root));
  if (options.session_timeout_ms <= 0 || options.connect_timeout_ms <= 0 ||
      options.max_retries < 0 || options.retry_base_sleep_ms <= 0 ||
      options.retry_max_sleep_ms <= 0)
    return InvalidArgument("zookeeper registry timeouts must be positive and retries not negative");
  impl->epoch_path = impl->opt.root + "/epoch";
  std::call_once(quiet_client_log, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR); });

  {
    std::unique_lock<std::shared_mutex> g(impl->zh_mu);
    impl->zh =
        zookeeper_init2(options.connect_string.c_str(), &Impl::Watcher, options.session_timeout_ms,
                        nullptr, impl.get(), 0, &RateLimitedClientLog);
    if (!impl->zh)
      return InvalidArgument(impl->Where() + ": the client refused the connect string (errno " +
                             std::to_string(errno) + ")");
  }
  {
    std::unique_lock<std::mutex> l(impl->mu);
    bool up = impl->cv.wait_for(l, std::chrono::milliseconds(options.connect_timeout_ms),
                                [&] { return impl->connected_once; });
    if (!up) {
      l.unlock();
      impl->Close();
      return Unavailable(impl->Where() + ": no connection within " +
                         std::to_string(options.connect_timeout_ms) + " ms");
    }
    impl->queue.clear();  // the first "connected" is not news to anyone
  }
  // The dispatcher keeps the Impl alive until Close stops it, so that a callback may destroy
  // the registry it was called by.
  impl->dispatcher = std::thread([self = impl] { self->Dispatch(); });
  std::unique_ptr<ZkRegistry> reg(new ZkRegistry(impl));  // closes the session on failure below

  std::shared_lock<std::shared_mutex> g(impl->zh_mu);
  for (NodeType t : {NodeType::kMaster, NodeType::kWorker, NodeType::kAlertServer})
    DSCHED_RETURN_IF_ERROR(impl->EnsurePath(impl->NodeParent(t)));
  DSCHED_RETURN_IF_ERROR(impl->EnsurePath(impl->opt.root + "/lock"));
  std::string zero = "0";
  int rc = impl->Retry([&] {
    return zoo_create(impl->zh, impl->epoch_path.c_str(), zero.data(), 1, &ZOO_OPEN_ACL_UNSAFE, 0,
                      nullptr, 0);
  });
  if (rc != ZOK && rc != ZNODEEXISTS) return impl->Error("create " + impl->epoch_path, rc);
  g.unlock();
  return reg;
}

ZkRegistry::~ZkRegistry() { impl_->Close(); }

StatusOr<int64_t> ZkRegistry::Register(NodeType type, const std::string& address,
                                       const std::string& heartbeat) {
  DSCHED_RETURN_IF_ERROR(ValidateHostPort(address, "node address"));
  DSCHED_ASSIGN_OR_RETURN(auto hb, ParseHeartbeat(heartbeat));
  Impl& im = *impl_;
  std::shared_lock<std::shared_mutex> g(im.zh_mu);
  DSCHED_RETURN_IF_ERROR(im.Live());
  const std::string path = im.NodePath(type, address);
  int lost_replies = 0;
  // Each round reads the counter and writes counter+1 and the node in one transaction; a
  // concurrent registration moves the counter's version and the round starts again.
  for (int round = 0; round < 1000; ++round) {
    Stat st{};
    int rc = im.Retry([&] { return zoo_exists(im.zh, path.c_str(), 0, &st); });
    if (rc == ZOK) {
      bool ours = st.ephemeralOwner == im.SessionId();
      if (ours && lost_replies > 0) {
        // A reply lost in a round before: the node is ours, its epoch is in its data.
        std::string data;
        Stat ds{};
        if (im.Retry([&] { return im.GetData(path, false, &data, &ds); }) == ZOK) {
          NodeInfo n;
          DecodeNodeData(data, &n);
          std::lock_guard<std::mutex> l(im.mu);
          im.mine[{type, address}] = n.epoch;
          return n.epoch;
        }
      }
      return AlreadyExists("node " + address + " is already registered at " + path + " by " +
                           (ours ? "this client" : "live session " + Hex(st.ephemeralOwner)));
    }
    if (rc != ZNONODE) return im.Error("check " + path, rc);
    std::string cur;
    Stat cst{};
    rc = im.Retry([&] { return im.GetData(im.epoch_path, false, &cur, &cst); });
    if (rc != ZOK) return im.Error("read " + im.epoch_path, rc);
    if (cur.empty() || cur.size() > 18 || cur.find_first_not_of("0123456789") != std::string::npos)
      return Internal(im.Where() + ": " + im.epoch_path + " holds '" + cur.substr(0, 40) +
                      "', not an epoch");
    int64_t next = std::max<int64_t>(std::stoll(cur), im.opt.min_epoch) + 1;
    std::string next_s = std::to_string(next), data = EncodeNodeData(hb, next);
    zoo_op_t ops[2];
    zoo_op_result_t res[2] = {};
    Stat set_stat{};
    zoo_set_op_init(&ops[0], im.epoch_path.c_str(), next_s.data(), static_cast<int>(next_s.size()),
                    cst.version, &set_stat);
    zoo_create_op_init(&ops[1], path.c_str(), data.data(), static_cast<int>(data.size()),
                       &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, nullptr, 0);
    rc = zoo_multi(im.zh, 2, ops, res);
    if (rc == ZOK) {
      std::lock_guard<std::mutex> l(im.mu);
      im.mine[{type, address}] = next;
      return next;
    }
    if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) {
      if (++lost_replies > im.opt.max_retries) return im.Error("register " + path, rc);
      std::this_thread::sleep_for(std::chrono::milliseconds(im.opt.retry_base_sleep_ms));
      continue;  // the next round finds the node if the transaction went through
    }
    if (rc == ZBADVERSION || res[0].err == ZBADVERSION) continue;
    if (rc == ZNODEEXISTS || res[1].err == ZNODEEXISTS) continue;  // the check above says whose
    if (rc == ZNONODE) {                                           // a parent was deleted by hand
      DSCHED_RETURN_IF_ERROR(im.EnsurePath(im.NodeParent(type)));
      continue;
    }
    return im.Error("register " + path, rc);
  }
  return Unavailable(im.Where() + ": register " + path + ": the epoch counter kept moving");
}

Status ZkRegistry::Heartbeat(NodeType type, const std::string& address,
                             const std::string& heartbeat) {
  DSCHED_RETURN_IF_ERROR(ValidateHostPort(address, "node address"));
  DSCHED_ASSIGN_OR_RETURN(auto hb, ParseHeartbeat(heartbeat));
  Impl& im = *impl_;
  std::shared_lock<std::shared_mutex> g(im.zh_mu);
  DSCHED_RETURN_IF_ERROR(im.Live());
  int64_t epoch;
  {
    std::lock_guard<std::mutex> l(im.mu);
    auto it = im.mine.find({type, address});
    if (it == im.mine.end())
      return NotFound("node " + address + " is not registered by this client");
    epoch = it->second;
  }
  const std::string path = im.NodePath(type, address), data = EncodeNodeData(hb, epoch);
  for (int round = 0; round < 100; ++round) {
    Stat st{};
    int rc = im.Retry([&] { return zoo_exists(im.zh, path.c_str(), 0, &st); });
    if (rc == ZOK && st.ephemeralOwner == im.SessionId()) {
      rc = im.Retry([&] {
        return zoo_set(im.zh, path.c_str(), data.data(), static_cast<int>(data.size()), st.version);
      });
      if (rc == ZOK) return Status::Ok();
      if (rc == ZBADVERSION) continue;  // a concurrent heartbeat of ours
    }
    if (rc == ZOK || rc == ZNONODE) {  // gone, or now someone else's: never pretend
      std::lock_guard<std::mutex> l(im.mu);
      im.mine.erase({type, address});
      return NotFound("node " + address + " is no longer registered: its node " + path +
                      " is gone");
    }
    return im.Error("heartbeat " + path, rc);
  }
  return Unavailable(im.Where() + ": heartbeat " + path + ": kept losing the race");
}

Status ZkRegistry::Unregister(NodeType type, const std::string& address) {
  DSCHED_RETURN_IF_ERROR(ValidateHostPort(address, "node address"));
  Impl& im = *impl_;
  std::shared_lock<std::shared_mutex> g(im.zh_mu);
  DSCHED_RETURN_IF_ERROR(im.Live());
  const std::string path = im.NodePath(type, address);
  for (int round = 0; round < 100; ++round) {
    Stat st{};
    int rc = im.Retry([&] { return zoo_exists(im.zh, path.c_str(), 0, &st); });
    if (rc == ZOK && st.ephemeralOwner != im.SessionId())
      return FailedPrecondition("node " + address + " is registered by another session " +
                                Hex(st.ephemeralOwner));
    if (rc == ZOK) rc = im.Retry([&] { return zoo_delete(im.zh, path.c_str(), st.version); });
    if (rc == ZBADVERSION) continue;
    if (rc == ZOK || rc == ZNONODE) {
      std::lock_guard<std::mutex> l(im.mu);
      im.mine.erase({type, address});
      return Status::Ok();
    }
    return im.Error("unregister " + path, rc);
  }
  return Unavailable(im.Where() + ": unregister " + path + ": kept losing the race");
}

StatusOr<std::vector<NodeInfo>> ZkRegistry::TryList(NodeType type) {
  Impl& im = *impl_;
  std::shared_lock<std::shared_mutex> g(im.zh_mu);
  DSCHED_RETURN_IF_ERROR(im.Live());
  DSCHED_ASSIGN_OR_RETURN(auto nodes, im.ReadNodes(type, /*watch=*/false));
  std::vector<NodeInfo> out;
  for (auto& [addr, n] : nodes) out.push_back(std::move(n));
  return out;
}

std::vector<NodeInfo> ZkRegistry::List(NodeType type) {
  auto r = TryList(type);
  return r.ok() ? std::move(*r) : std::vector<NodeInfo>{};
}

void ZkRegistry::OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> l(im.mu);
    im.removal_fns[type].push_back(std::move(fn));
  }
  // The first watcher of a type takes the snapshot later removals are measured against. If
  // ZooKeeper is unreachable now, the reconnection takes it.
  std::lock_guard<std::mutex> sl(im.snapshot_mu);
  if (im.known.count(type)) return;
  std::shared_lock<std::shared_mutex> g(im.zh_mu);
  if (!im.Live().ok()) return;
  auto now = im.ReadNodes(type, /*watch=*/true);
  if (now.ok()) im.known[type] = std::move(*now);
}

StatusOr<std::unique_ptr<RegistryLock>> ZkRegistry::Lock(const std::string& name,
                                                         std::chrono::milliseconds wait) {
  DSCHED_RETURN_IF_ERROR(ValidateLockName(name));
  Impl& im = *impl_;
  std::shared_lock<std::shared_mutex> g(im.zh_mu);
  DSCHED_RETURN_IF_ERROR(im.Live());
  const std::string dir = im.opt.root + "/lock/" + name;
  DSCHED_RETURN_IF_ERROR(im.EnsurePath(dir));
  // The session id and a counter in the name let a create whose reply was lost find its node
  // (otherwise it would hold a place in the queue until the session ends).
  const std::string prefix = Hex(im.SessionId()) + "-" + std::to_string(++im.lock_counter) + "-";
  std::string mine;
  for (int attempt = 0; mine.empty(); ++attempt) {
    char created[1024];
    int rc = zoo_create(im.zh, (dir + "/" + prefix).c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL_SEQUENTIAL, created, sizeof created);
    if (rc == ZOK) {
      mine = std::string(created).substr(dir.size() + 1);
      break;
    }
    if (rc == ZNONODE) {
      DSCHED_RETURN_IF_ERROR(im.EnsurePath(dir));
      continue;
    }
    if ((rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT) || attempt >= im.opt.max_retries)
      return im.Error("lock " + dir, rc);
    std::vector<std::string> names;
    if (im.Retry([&] { return im.Children(dir, false, &names); }) == ZOK)
      for (const auto& n : names)
        if (n.rfind(prefix, 0) == 0) mine = n;
  }
  auto give_up = [&](Status s) -> StatusOr<std::unique_ptr<RegistryLock>> {
    im.DeleteLockNode(dir + "/" + mine).ok();  // leaves our place in the queue
    return s;
  };
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    std::vector<std::string> names;
    int rc = im.Retry([&] { return im.Children(dir, false, &names); });
    if (rc != ZOK) return give_up(im.Error("lock " + dir, rc));
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return SeqOf(a) < SeqOf(b); });
    auto it = std::find(names.begin(), names.end(), mine);
    if (it == names.end())
      return give_up(Unavailable(im.Where() + ": lock " + name + ": our queue node vanished"));
    if (it == names.begin())
      return std::unique_ptr<RegistryLock>(std::make_unique<ZkLock>(impl_, dir + "/" + mine));
    uint64_t seen;
    {
      std::lock_guard<std::mutex> l(im.mu);
      seen = im.lock_events;
    }
    // Waits for the one just before us, not the holder: each release wakes one waiter.
    Stat st{};
    rc = zoo_wexists(im.zh, (dir + "/" + *(it - 1)).c_str(), &Impl::Watcher, &im, &st);
    if (rc == ZNONODE) continue;
    if (rc != ZOK) return give_up(im.Error("lock " + dir, rc));
    std::unique_lock<std::mutex> l(im.mu);
    im.cv.wait_until(l, deadline, [&] {
      return im.lock_events != seen || im.closing || im.state == SessionState::kExpired;
    });
    bool timed_out = im.lock_events == seen && std::chrono::steady_clock::now() >= deadline;
    l.unlock();
    if (!im.Live().ok()) return im.Live();
    if (timed_out)
      return give_up(FailedPrecondition("lock " + name + " is held by another client"));
  }
}

SessionState ZkRegistry::session_state() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->state;
}

void ZkRegistry::OnSessionState(std::function<void(SessionState)> fn) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->session_fns.push_back(std::move(fn));
}

int ZkRegistry::session_timeout_ms() const {
  std::shared_lock<std::shared_mutex> g(impl_->zh_mu);
  return impl_->zh ? zoo_recv_timeout(impl_->zh) : 0;
}

}  // namespace dsched
