#include "registry/db_registry.h"

#include <soci/soci.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "registry/node_data.h"

namespace dsched {

namespace {

constexpr const char* kHb = "t_ds_jdbc_registry_client_heartbeat";
constexpr const char* kData = "t_ds_jdbc_registry_data";
constexpr const char* kLock = "t_ds_jdbc_registry_lock";
constexpr const char* kEpochKey = "epoch";

using Clock = std::chrono::steady_clock;

// The database's clock in ms since the epoch, as an SQL expression: every time in the registry
// tables is the database's, so that hosts whose clocks disagree still agree on who is dead.
std::string DbNowMs(DbType t) {
  switch (t) {
    case DbType::kPostgres:
      return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
    case DbType::kMySql:
      return "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";
    case DbType::kSqlite:
      return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
  }
  return "0";
}

std::string NodePrefix(NodeType t) { return std::string("nodes/") + NodeTypeDir(t) + "/"; }

int64_t NewClientId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  return static_cast<int64_t>(gen() >> 2) + 1;  // positive, and never 0 (the persistent rows')
}

long long Exec(soci::session& sql, const std::string& q) {
  soci::statement st = (sql.prepare << q);
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

StatusOr<DbRegistryOptions> DbRegistryOptionsFromConfig(const Config& cfg) {
  DbRegistryOptions o;
  int64_t session = cfg.GetDurationMs("registry.session-timeout");
  int64_t refresh = cfg.GetDurationMs("registry.heartbeat-refresh-interval");
  if (session < 1000 || session > 3600000)
    return InvalidArgument("registry.session-timeout must be between 1 s and 1 h");
  if (refresh < 50 || refresh * 2 > session)
    return InvalidArgument(
        "registry.heartbeat-refresh-interval must be at least 50 ms and at most half of "
        "registry.session-timeout");
  o.session_timeout_ms = static_cast<int>(session);
  o.heartbeat_refresh_ms = static_cast<int>(refresh);
  return o;
}

// Threads: callers, and `refresher`, which renews the session, deletes dead clients' rows,
// compares membership snapshots and runs callbacks. db_mu guards the one connection; mu the
// state below it. Neither is held while a callback runs.
struct DbRegistry::Impl {
  DbRegistryOptions opt;
  int64_t client_id = 0;
  std::string now;    // DbNowMs
  std::string alive;  // "<hb alias>.last_heartbeat_time + ... >= now", with alias h

  std::mutex db_mu;
  std::unique_ptr<soci::session> sql;

  mutable std::mutex mu;
  std::condition_variable cv;
  SessionState state = SessionState::kConnected;
  SessionState reported = SessionState::kConnected;  // the last state the callbacks heard
  bool closing = false;
  Clock::time_point renewed;  // when the last successful renewal was sent
  std::map<std::pair<NodeType, std::string>, int64_t> mine;
  std::vector<std::function<void(SessionState)>> session_fns;
  std::map<NodeType, std::vector<std::function<void(const NodeInfo&)>>> removal_fns;
  std::vector<std::string> orphan_locks;  // lock_owner tokens whose delete failed
  std::atomic<uint64_t> lock_counter{0};

  std::mutex snapshot_mu;  // the refresher and OnNodeRemoved
  std::map<NodeType, std::map<std::string, NodeInfo>> known;

  std::thread refresher;

  std::string Where() const { return "database registry (" + Describe(opt.db) + ")"; }

  // Unavailable once the session is over: after session_timeout without a renewal the others
  // may have taken this client's work, whether or not they deleted its rows yet.
  Status Live() {
    std::lock_guard<std::mutex> l(mu);
    if (state != SessionState::kExpired &&
        Clock::now() - renewed > std::chrono::milliseconds(opt.session_timeout_ms))
      SetState(SessionState::kExpired);
    if (state == SessionState::kExpired)
      return Unavailable(Where() + ": session " + std::to_string(client_id) +
                         " expired; this client's registrations and locks are gone");
    return Status::Ok();
  }

  // Under mu. The refresher reports changes to the callbacks (Tick).
  void SetState(SessionState s) {
    if (state == SessionState::kExpired) return;  // final
    state = s;
    if (s == SessionState::kExpired) mine.clear();
    cv.notify_all();
  }

  // Runs fn on the connection (opening it if needed); a database error drops the connection
  // (the next call opens a new one) and becomes Unavailable naming `what`.
  template <typename F>
  Status WithDb(const std::string& what, F&& fn) {
    std::lock_guard<std::mutex> l(db_mu);
    if (!sql) {
      auto s = Connect(opt.db, /*read_only=*/false);
      if (!s.ok()) return s.status();
      sql = std::move(*s);
      if (opt.db.type == DbType::kSqlite) *sql << "PRAGMA busy_timeout = 5000";
    }
    try {
      return fn(*sql);
    } catch (const std::exception& e) {
      sql.reset();
      return Unavailable(Where() + ": " + what + ": " + OneLine(e.what()));
    }
  }

  // Deletes the clients whose session ended and what they held. Idempotent; any client may run
  // it. Never deletes this client's own row: it learns of its end from its own clock first.
  void Reap(soci::session& s) {
    long long me = client_id;
    s << "DELETE FROM " << kHb << " WHERE last_heartbeat_time + session_timeout < " << now
      << " AND id <> :me", soci::use(me);
    Exec(s, std::string("DELETE FROM ") + kData + " WHERE data_type = 'EPHEMERAL' AND client_id " +
                "NOT IN (SELECT id FROM " + kHb + ")");
    Exec(s, std::string("DELETE FROM ") + kLock + " WHERE client_id NOT IN (SELECT id FROM " +
                kHb + ")");
  }

  StatusOr<std::map<std::string, NodeInfo>> ReadNodes(NodeType type) {
    std::map<std::string, NodeInfo> out;
    const std::string prefix = NodePrefix(type);
    Status st = WithDb("list " + prefix, [&](soci::session& s) {
      std::string like = prefix + "%";
      soci::rowset<soci::row> rows =
          (s.prepare << "SELECT d.data_key, d.data_value FROM " << kData << " d JOIN " << kHb
                     << " h ON h.id = d.client_id WHERE d.data_key LIKE :p AND " << alive,
           soci::use(like));
      for (const auto& r : rows) {
        NodeInfo n;
        n.type = type;
        n.address = r.get<std::string>(0).substr(prefix.size());
        DecodeNodeData(r.get<std::string>(1), &n);
        out[n.address] = std::move(n);
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status DeleteLockRow(const std::string& token) {
    Status st = WithDb("release lock", [&](soci::session& s) {
      s << "DELETE FROM " << kLock << " WHERE lock_owner = :o", soci::use(token);
      return Status::Ok();
    });
    if (!st.ok()) {
      std::lock_guard<std::mutex> l(mu);
      orphan_locks.push_back(token);
    }
    return st;
  }

  // One refresh: renew the session (unless it is over), reap, retry failed lock releases,
  // compare membership. Runs on the refresher only.
  void Tick() {
    bool gone = false;
    Status renewed_ok = Live();
    const auto sent = Clock::now();
    if (renewed_ok.ok()) {
      renewed_ok = WithDb("renew session", [&](soci::session& s) {
        long long me = client_id;
        soci::statement up = (s.prepare << "UPDATE " << kHb << " SET last_heartbeat_time = "
                                        << now << " WHERE id = :me",
                              soci::use(me));
        up.execute(true);
        if (up.get_affected_rows() == 0) {
          long long n = 0;
          s << "SELECT COUNT(*) FROM " << kHb << " WHERE id = :me", soci::use(me), soci::into(n);
          gone = n == 0;
        }
        if (!gone) Reap(s);
        return Status::Ok();
      });
    }
    SessionState after;
    bool changed;
    std::vector<std::function<void(SessionState)>> fns;
    {
      std::lock_guard<std::mutex> l(mu);
      if (gone) {
        SetState(SessionState::kExpired);
      } else if (renewed_ok.ok()) {
        renewed = sent;
        SetState(SessionState::kConnected);
      } else if (state != SessionState::kExpired) {
        SetState(SessionState::kSuspended);
      }
      after = state;
      changed = after != reported;  // also a change Live() made on a caller's thread
      reported = after;
      if (changed) fns = session_fns;
    }
    for (const auto& fn : fns) fn(after);
    if (after != SessionState::kConnected) return;
    std::vector<std::string> orphans;
    {
      std::lock_guard<std::mutex> l(mu);
      orphans.swap(orphan_locks);
    }
    for (const auto& t : orphans) DeleteLockRow(t).ok();  // a failure queues it again
    for (NodeType t : {NodeType::kMaster, NodeType::kWorker, NodeType::kAlertServer}) Refresh(t);
  }

  // Reports the nodes of `type` gone (or replaced: same address, new epoch) since the last
  // snapshot. No snapshot yet: no watcher of that type.
  void Refresh(NodeType type) {
    std::vector<NodeInfo> gone;
    std::vector<std::function<void(const NodeInfo&)>> fns;
    {
      std::lock_guard<std::mutex> sl(snapshot_mu);
      auto it = known.find(type);
      if (it == known.end()) return;
      auto now_nodes = ReadNodes(type);
      if (!now_nodes.ok()) return;  // compared again at the next tick
      for (const auto& [addr, info] : it->second) {
        auto n = now_nodes->find(addr);
        if (n == now_nodes->end() || n->second.epoch != info.epoch) gone.push_back(info);
      }
      it->second = std::move(*now_nodes);
      std::lock_guard<std::mutex> l(mu);
      fns = removal_fns[type];
    }
    for (const auto& g : gone)
      for (const auto& fn : fns) fn(g);
  }

  void Run() {
    while (true) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait_for(l, std::chrono::milliseconds(opt.heartbeat_refresh_ms),
                    [&] { return closing; });
        if (closing) return;
      }
      Tick();
    }
  }

  // Stops the refresher and deletes this client's rows (best effort: if the database cannot be
  // reached now, the others delete them after the session timeout).
  void Close() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (closing) return;
      closing = true;
    }
    cv.notify_all();
    if (refresher.joinable()) {
      if (refresher.get_id() == std::this_thread::get_id())
        refresher.detach();  // a callback dropped the last reference
      else
        refresher.join();
    }
    WithDb("close session", [&](soci::session& s) {
      long long me = client_id;
      s << "DELETE FROM " << kData << " WHERE client_id = :me AND data_type = 'EPHEMERAL'",
          soci::use(me);
      s << "DELETE FROM " << kLock << " WHERE client_id = :me", soci::use(me);
      s << "DELETE FROM " << kHb << " WHERE id = :me", soci::use(me);
      return Status::Ok();
    }).ok();
  }

  ~Impl() { Close(); }
};

namespace {

class DbLock final : public RegistryLock {
 public:
  DbLock(std::weak_ptr<DbRegistry::Impl> impl, std::string token)
      : impl_(std::move(impl)), token_(std::move(token)) {}
  ~DbLock() override { Release(); }

  Status Release() override {
    if (released_) return Status::Ok();
    released_ = true;  // a failed delete is retried by the registry, or goes with the session
    auto impl = impl_.lock();
    if (!impl) return Status::Ok();  // the registry closed: its rows are gone
    return impl->DeleteLockRow(token_);
  }

 private:
  std::weak_ptr<DbRegistry::Impl> impl_;
  std::string token_;
  bool released_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<DbRegistry>> DbRegistry::Create(const DbRegistryOptions& options) {
  if (options.session_timeout_ms < 1000 || options.heartbeat_refresh_ms < 50 ||
      options.heartbeat_refresh_ms * 2 > options.session_timeout_ms)
    return InvalidArgument(
        "database registry: the session timeout must be at least 1 s and the heartbeat refresh "
        "interval between 50 ms and half the session timeout");
  auto impl = std::make_shared<Impl>();
  impl->opt = options;
  impl->client_id = NewClientId();
  impl->now = DbNowMs(options.db.type);
  impl->alive = "h.last_heartbeat_time + h.session_timeout >= " + impl->now;
  impl->renewed = Clock::now();
  Status st = impl->WithDb("open session", [&](soci::session& s) {
    long long n = 0;
    try {
      s << "SELECT COUNT(*) FROM " << kHb, soci::into(n);
    } catch (const std::exception& e) {
      return FailedPrecondition(impl->Where() + ": no registry tables (" + OneLine(e.what()) +
                                "): run `dsched db upgrade`");
    }
    long long me = impl->client_id, timeout = options.session_timeout_ms;
    std::string name = options.client_name.empty() ? "dsched" : options.client_name;
    s << "INSERT INTO " << kHb
      << " (id, client_name, last_heartbeat_time, session_timeout, connection_config, "
         "create_time) VALUES (:id, :name, "
      << impl->now << ", :t, '', " << impl->now << ")",
        soci::use(me), soci::use(name), soci::use(timeout);
    // The epoch counter; a concurrent first client may have just inserted it.
    s << "SELECT COUNT(*) FROM " << kData << " WHERE data_key = '" << kEpochKey << "'",
        soci::into(n);
    if (n == 0) {
      try {
        s << "INSERT INTO " << kData
          << " (data_key, data_value, data_type, client_id, create_time, last_update_time) "
             "VALUES ('"
          << kEpochKey << "', '0', 'PERSISTENT', 0, " << impl->now << ", " << impl->now << ")";
      } catch (const std::exception&) {
        // Unique key: another client's insert won; anything else shows at Register.
      }
    }
    return Status::Ok();
  });
  DSCHED_RETURN_IF_ERROR(st);
  impl->refresher = std::thread([self = impl] { self->Run(); });
  return std::unique_ptr<DbRegistry>(new DbRegistry(impl));
}

DbRegistry::~DbRegistry() { impl_->Close(); }

int64_t DbRegistry::client_id() const { return impl_->client_id; }

StatusOr<int64_t> DbRegistry::Register(NodeType type, const std::string& address,
                                       const std::string& heartbeat) {
  DSCHED_RETURN_IF_ERROR(ValidateHostPort(address, "node address"));
  DSCHED_ASSIGN_OR_RETURN(auto hb, ParseHeartbeat(heartbeat));
  Impl& im = *impl_;
  DSCHED_RETURN_IF_ERROR(im.Live());
  const std::string key = NodePrefix(type) + address;
  int64_t epoch = 0;
  bool taken = false;
  Status st = im.WithDb("register " + key, [&](soci::session& s) {
    soci::transaction tr(s);
    // Writing the counter's row first locks it: registrations take their epochs one at a time.
    s << "UPDATE " << kData << " SET last_update_time = " << im.now << " WHERE data_key = '"
      << kEpochKey << "'";
    std::string cur;
    s << "SELECT data_value FROM " << kData << " WHERE data_key = '" << kEpochKey << "'",
        soci::into(cur);
    if (cur.empty() || cur.size() > 18 || cur.find_first_not_of("0123456789") != std::string::npos)
      return Internal(im.Where() + ": the epoch counter holds '" + cur.substr(0, 40) + "'");
    epoch = std::max<int64_t>(std::stoll(cur), im.opt.min_epoch) + 1;
    std::string next = std::to_string(epoch);
    s << "UPDATE " << kData << " SET data_value = :v WHERE data_key = '" << kEpochKey << "'",
        soci::use(next);
    // A registration of a client whose session ended gives way at once.
    s << "DELETE FROM " << kData << " WHERE data_key = :k AND client_id NOT IN (SELECT h.id FROM "
      << kHb << " h WHERE " << im.alive << ")",
        soci::use(key);
    long long holders = 0;
    s << "SELECT COUNT(*) FROM " << kData << " WHERE data_key = :k", soci::use(key),
        soci::into(holders);
    if (holders > 0) {
      taken = true;
      return Status::Ok();  // the transaction rolls back
    }
    std::string data = EncodeNodeData(hb, epoch);
    long long me = im.client_id;
    s << "INSERT INTO " << kData
      << " (data_key, data_value, data_type, client_id, create_time, last_update_time) VALUES "
         "(:k, :v, 'EPHEMERAL', :c, "
      << im.now << ", " << im.now << ")",
        soci::use(key), soci::use(data), soci::use(me);
    tr.commit();
    return Status::Ok();
  });
  // A concurrent registration of the same address fails on the unique key: it is taken.
  if (!st.ok() && st.code() == StatusCode::kUnavailable) {
    auto nodes = im.ReadNodes(type);
    if (nodes.ok() && nodes->count(address)) taken = true;
  }
  if (taken) return AlreadyExists("node " + address + " is already registered (" + key + ")");
  DSCHED_RETURN_IF_ERROR(st);
  std::lock_guard<std::mutex> l(im.mu);
  im.mine[{type, address}] = epoch;
  return epoch;
}

Status DbRegistry::Heartbeat(NodeType type, const std::string& address,
                             const std::string& heartbeat) {
  DSCHED_RETURN_IF_ERROR(ValidateHostPort(address, "node address"));
  DSCHED_ASSIGN_OR_RETURN(auto hb, ParseHeartbeat(heartbeat));
  Impl& im = *impl_;
  DSCHED_RETURN_IF_ERROR(im.Live());
  int64_t epoch;
  {
    std::lock_guard<std::mutex> l(im.mu);
    auto it = im.mine.find({type, address});
    if (it == im.mine.end())
      return NotFound("node " + address + " is not registered by this client");
    epoch = it->second;
  }
  const std::string key = NodePrefix(type) + address, data = EncodeNodeData(hb, epoch);
  long long found = 0;
  DSCHED_RETURN_IF_ERROR(im.WithDb("heartbeat " + key, [&](soci::session& s) {
    long long me = im.client_id;
    s << "UPDATE " << kData << " SET data_value = :v, last_update_time = " << im.now
      << " WHERE data_key = :k AND client_id = :c",
        soci::use(data), soci::use(key), soci::use(me);
    // MySQL counts changed rows only: ask whether the row is there.
    s << "SELECT COUNT(*) FROM " << kData << " WHERE data_key = :k AND client_id = :c",
        soci::use(key), soci::use(me), soci::into(found);
    return Status::Ok();
  }));
  if (found == 0) {
    std::lock_guard<std::mutex> l(im.mu);
    im.mine.erase({type, address});
    return NotFound("node " + address + " is no longer registered: " + key + " is gone");
  }
  return Status::Ok();
}

Status DbRegistry::Unregister(NodeType type, const std::string& address) {
  DSCHED_RETURN_IF_ERROR(ValidateHostPort(address, "node address"));
  Impl& im = *impl_;
  const std::string key = NodePrefix(type) + address;
  DSCHED_RETURN_IF_ERROR(im.WithDb("unregister " + key, [&](soci::session& s) {
    long long me = im.client_id;
    s << "DELETE FROM " << kData << " WHERE data_key = :k AND client_id = :c", soci::use(key),
        soci::use(me);
    return Status::Ok();
  }));
  std::lock_guard<std::mutex> l(im.mu);
  im.mine.erase({type, address});
  return Status::Ok();
}

StatusOr<std::vector<NodeInfo>> DbRegistry::TryList(NodeType type) {
  DSCHED_RETURN_IF_ERROR(impl_->Live());
  DSCHED_ASSIGN_OR_RETURN(auto nodes, impl_->ReadNodes(type));
  std::vector<NodeInfo> out;
  for (auto& [addr, n] : nodes) out.push_back(std::move(n));
  return out;
}

std::vector<NodeInfo> DbRegistry::List(NodeType type) {
  auto r = TryList(type);
  return r.ok() ? std::move(*r) : std::vector<NodeInfo>{};
}

void DbRegistry::OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> l(im.mu);
    im.removal_fns[type].push_back(std::move(fn));
  }
  // The first watcher of a type takes the snapshot later removals are measured against; if the
  // database cannot be read now, the first tick that can read it takes it (and reports nothing
  // of what happened before).
  std::lock_guard<std::mutex> sl(im.snapshot_mu);
  if (im.known.count(type)) return;
  auto now = im.ReadNodes(type);
  im.known[type] = now.ok() ? std::move(*now) : std::map<std::string, NodeInfo>{};
}

StatusOr<std::unique_ptr<RegistryLock>> DbRegistry::Lock(const std::string& name,
                                                         std::chrono::milliseconds wait) {
  DSCHED_RETURN_IF_ERROR(ValidateLockName(name));
  Impl& im = *impl_;
  const std::string key = "lock/" + name;
  // Names this taking of the lock, so that releasing it never deletes a later taker's row.
  const std::string token = std::to_string(im.client_id) + "-" + std::to_string(++im.lock_counter);
  const auto deadline = Clock::now() + wait;
  while (true) {
    DSCHED_RETURN_IF_ERROR(im.Live());
    bool got = false;
    Status st = im.WithDb("lock " + name, [&](soci::session& s) {
      // A holder whose session ended gives way at once.
      s << "DELETE FROM " << kLock << " WHERE lock_key = :k AND client_id NOT IN (SELECT h.id FROM "
        << kHb << " h WHERE " << im.alive << ")",
          soci::use(key);
      long long held = 0;
      s << "SELECT COUNT(*) FROM " << kLock << " WHERE lock_key = :k", soci::use(key),
          soci::into(held);
      if (held > 0) return Status::Ok();
      long long me = im.client_id;
      try {
        s << "INSERT INTO " << kLock << " (lock_key, lock_owner, client_id, create_time) VALUES "
          << "(:k, :o, :c, " << im.now << ")",
            soci::use(key), soci::use(token), soci::use(me);
        got = true;
      } catch (const std::exception&) {
        // Unique key: another taker won the race; the next round sees its row.
      }
      return Status::Ok();
    });
    DSCHED_RETURN_IF_ERROR(st);
    if (got) return std::unique_ptr<RegistryLock>(std::make_unique<DbLock>(impl_, token));
    if (Clock::now() >= deadline)
      return FailedPrecondition("lock " + name + " is held by another client");
    std::unique_lock<std::mutex> l(im.mu);
    im.cv.wait_until(l, std::min(deadline, Clock::now() + std::chrono::milliseconds(100)),
                     [&] { return im.closing; });
    if (im.closing) return Unavailable(im.Where() + ": closing");
  }
}

SessionState DbRegistry::session_state() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->state;
}

void DbRegistry::OnSessionState(std::function<void(SessionState)> fn) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->session_fns.push_back(std::move(fn));
}

int DbRegistry::session_timeout_ms() const { return impl_->opt.session_timeout_ms; }

}  // namespace dsched
