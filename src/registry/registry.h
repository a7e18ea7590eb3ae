// The registry seam (DESIGN.md §3, §3b): membership of masters, workers and alert servers,
// their heartbeats, and the epoch each registration gets. Cluster mode adds ZooKeeper and a
// database-backed registry behind this same interface; standalone and tests use the
// in-process one below. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace dsched {

enum class NodeType { kMaster, kWorker, kAlertServer };

struct NodeInfo {
  NodeType type = NodeType::kMaster;
  std::string address;     // host:port
  int64_t epoch = 0;       // strictly increasing across registrations
  std::string heartbeat;   // JSON: host, port, pid, cpu, memory, state NORMAL/BUSY, groups ...
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
};

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

 private:
  std::mutex mu_;
  int64_t last_epoch_;
  std::map<std::pair<NodeType, std::string>, NodeInfo> nodes_;
  std::vector<std::pair<NodeType, std::function<void(const NodeInfo&)>>> watchers_;
};

}  // namespace dsched
