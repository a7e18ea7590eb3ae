// The registry seam (DESIGN.md §3, §3b): membership of masters, workers and alert servers,
// their heartbeats, and the epoch each registration gets. Cluster mode adds ZooKeeper and a
// database-backed registry behind this same interface; standalone and tests use the
// in-process one below. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace dsched {

enum class NodeType { kMaster, kWorker, kAlertServer };

// A registry client's session as that client sees it (ZooKeeper and the database registry).
enum class SessionState {
  kConnected,
  // Connection lost, the session may still live on the server: registrations and locks may
  // vanish at any moment (self-fence after part of the session timeout).
  kSuspended,
  // The session is over: this client's registrations and locks are gone (or about to be
  // removed by the other clients), every call fails with Unavailable. The owner stops, or builds
  // a new registry client and registers again (new epoch).
  kExpired,
};
const char* SessionStateName(SessionState s);

// registry.type: "zookeeper", "jdbc" (the database registry) or "memory". InvalidArgument
// naming the key otherwise.
StatusOr<std::string> RegistryTypeFromConfig(const Config& cfg);

struct NodeInfo {
  NodeType type = NodeType::kMaster;
  std::string address;     // host:port
  int64_t epoch = 0;       // strictly increasing across registrations
  std::string heartbeat;   // JSON: host, port, pid, cpu, memory, state NORMAL/BUSY, groups ...
};

// A registry lock held by its creator. Release (or destruction) lets the next taker in; a
// ZooKeeper lock is also released when its client's session ends. Thread-compatible.
class RegistryLock {
 public:
  virtual ~RegistryLock() = default;
  // Idempotent. An error says the release could not be done now (registry unreachable); the
  // registry finishes it by itself (at reconnection, or with the session), never leaving it held.
  virtual Status Release() = 0;
};

class Registry {
 public:
  virtual ~Registry() = default;
  // Registers a node and returns its epoch, greater than any epoch handed out before.
  // AlreadyExists when the address is registered and its session is alive.
  virtual StatusOr<int64_t> Register(NodeType type, const std::string& address,
                                     const std::string& heartbeat) = 0;
  // Replaces the heartbeat of a live registration (idempotent).
  virtual Status Heartbeat(NodeType type, const std::string& address,
                           const std::string& heartbeat) = 0;
  virtual Status Unregister(NodeType type, const std::string& address) = 0;
  virtual std::vector<NodeInfo> List(NodeType type) = 0;
  // Called (on the registry's thread, keep it short) when a node of `type` goes away.
  virtual void OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) = 0;

  // Like List, but says when the registry could not be read instead of answering "nobody".
  virtual StatusOr<std::vector<NodeInfo>> TryList(NodeType type) { return List(type); }

  // Takes the lock `name` (letters, digits, '.', '_', '-'), waiting up to `wait` for its holder
  // to release it or to lose its session; wait 0 tries once. Not re-entrant: a second Lock of a
  // held name waits like any other taker. FailedPrecondition when still held by another after
  // `wait`; InvalidArgument on a bad name; Unavailable when the registry cannot be reached.
  virtual StatusOr<std::unique_ptr<RegistryLock>> Lock(const std::string& name,
                                                       std::chrono::milliseconds wait) {
    return FailedPrecondition("this registry has no locks");
  }

  // Sessions: registries shared between processes lose them (the in-process one never does).
  virtual SessionState session_state() const { return SessionState::kConnected; }
  // Called on every change of session_state(), on the registry's own thread.
  virtual void OnSessionState(std::function<void(SessionState)> fn) {}
  // How long the others wait after this client's last sign of life before its registrations
  // and locks are gone; 0 when sessions cannot be lost.
  virtual int session_timeout_ms() const { return 0; }
};

// Lock names are single path segments: [A-Za-z0-9._-]+, not "." or "..".
Status ValidateLockName(const std::string& name);

// In-process registry with session expiry on demand (for failover tests).
class InMemoryRegistry final : public Registry {
 public:
  // Epochs continue after `last_epoch` (a restarted standalone passes the newest epoch it
  // finds in its database, so its writes fence out those of the run before).
  explicit InMemoryRegistry(int64_t last_epoch = 0) : last_epoch_(last_epoch) {}

  StatusOr<int64_t> Register(NodeType type, const std::string& address,
                             const std::string& heartbeat) override;
  Status Heartbeat(NodeType type, const std::string& address,
                   const std::string& heartbeat) override;
  Status Unregister(NodeType type, const std::string& address) override;
  std::vector<NodeInfo> List(NodeType type) override;
  void OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) override;

  // Ends a node's session as if it had stopped answering: watchers hear of it.
  void ExpireSession(NodeType type, const std::string& address);

  // Locks of one process (there are no sessions to lose: a lock is held until released).
  StatusOr<std::unique_ptr<RegistryLock>> Lock(const std::string& name,
                                               std::chrono::milliseconds wait) override;

 private:
  // Shared with the lock handles, so that a handle may outlive the registry.
  struct LockTable {
    std::mutex mu;
    std::condition_variable released;
    std::set<std::string> held;
  };
  class InMemoryLock;
  std::shared_ptr<LockTable> locks_ = std::make_shared<LockTable>();

  std::mutex mu_;
  int64_t last_epoch_;
  std::map<std::pair<NodeType, std::string>, NodeInfo> nodes_;
  std::vector<std::pair<NodeType, std::function<void(const NodeInfo&)>>> watchers_;
};

}  // namespace dsched
