// The ZooKeeper registry of the cluster services (DESIGN.md §3, §3b), on ZooKeeper's C client
// (threaded API). Layout under the namespace (default /dolphinscheduler):
//   nodes/master/<host:port>, nodes/worker/<host:port>, nodes/alert-server/<host:port>
//       ephemeral; data = the node's JSON heartbeat plus "registryEpoch"
//   epoch            persistent counter; every registration raises it by compare-and-set
//   lock/<name>/...  ephemeral sequential; the lowest sequence holds the lock
// What does not belong here: what to do when the session is lost (the disconnect strategy
// stop/waiting is the owning service's decision; this class only reports the loss).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "registry/registry.h"

namespace dsched {

struct ZkRegistryOptions {
  std::string connect_string;  // host:port[,host:port...]
  std::string root = "/dolphinscheduler";
  int session_timeout_ms = 60000;  // asked for; the server may grant less or more
  int connect_timeout_ms = 15000;  // Create fails when not connected by then
  int retry_base_sleep_ms = 60;    // calls that lose the connection are retried,
  int retry_max_sleep_ms = 300;    // pausing base * 2^n up to max between tries
  int max_retries = 5;
  // Epochs handed out are greater than this too (the newest epoch in the metadata database),
  // so that a wiped ZooKeeper never hands out an epoch that an older owner already used.
  int64_t min_epoch = 0;
};

// The registry.zookeeper.* keys, each checked; InvalidArgument names the key.
StatusOr<ZkRegistryOptions> ZkRegistryOptionsFromConfig(const Config& cfg);

// Thread-safe. Callbacks (OnNodeRemoved, OnSessionState) run on the registry's own thread, one
// at a time, never under a lock of this class; they may call this class, and must stay
// callable until the registry is destroyed (destruction waits for a running callback).
// Destruction closes the session: this client's nodes and locks vanish at once.
class ZkRegistry final : public Registry {
 public:
  // Connects and creates the persistent parents. InvalidArgument on a bad option (named),
  // Unavailable when no server answers within connect_timeout_ms.
  static StatusOr<std::unique_ptr<ZkRegistry>> Create(const ZkRegistryOptions& options);
  ~ZkRegistry() override;

  // Register: AlreadyExists while a node with that address exists (its session is alive);
  // InvalidArgument when the address is not host:port or the heartbeat not a JSON object.
  // After a lost reply, finds its own node and returns its epoch (no double registration).
  StatusOr<int64_t> Register(NodeType type, const std::string& address,
                             const std::string& heartbeat) override;
  // NotFound when this client holds no live registration of `address`.
  Status Heartbeat(NodeType type, const std::string& address,
                   const std::string& heartbeat) override;
  // Idempotent; FailedPrecondition when another session owns the address.
  Status Unregister(NodeType type, const std::string& address) override;
  // Empty when ZooKeeper cannot be read; TryList says why.
  std::vector<NodeInfo> List(NodeType type) override;
  StatusOr<std::vector<NodeInfo>> TryList(NodeType type) override;
  // Takes a snapshot of the current nodes before returning, so any later removal is reported
  // (including a node replaced by a new registration of the same address). The heartbeat in
  // the NodeInfo is the last one seen.
  void OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) override;
  StatusOr<std::unique_ptr<RegistryLock>> Lock(const std::string& name,
                                               std::chrono::milliseconds wait) override;

  SessionState session_state() const override;
  void OnSessionState(std::function<void(SessionState)> fn) override;
  // As granted by the server at connection.
  int session_timeout_ms() const override;

  struct Impl;

 private:
  explicit ZkRegistry(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;  // shared with lock handles, which may outlive this
};

}  // namespace dsched
