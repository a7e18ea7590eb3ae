// The database registry (registry.type = jdbc): the registry of the cluster services kept in the
// metadata database, for clusters that run no ZooKeeper (DESIGN.md §3). Tables (sql/):
//   t_ds_jdbc_registry_client_heartbeat  one row per client (service process): its session
//   t_ds_jdbc_registry_data              nodes/<type>/<host:port> (EPHEMERAL, owned by a client)
//                                        and the epoch counter (PERSISTENT, key "epoch")
//   t_ds_jdbc_registry_lock              one row per held lock
// A client renews its heartbeat row every heartbeat_refresh_ms. Time is the database's clock,
// so hosts need not agree on theirs. A client whose row is older than its session timeout is
// dead: readers ignore its nodes and locks at once, and every client's refresh deletes them.
// A client that has not renewed for its session timeout (frozen, cut off) calls its own session
// expired before the others can have taken its work, and never renews again.
// Membership changes are found by polling (every heartbeat_refresh_ms), not pushed.
// What does not belong here: what a service does when its session is lost (services.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "registry/registry.h"
#include "storage/sql/db_options.h"

namespace dsched {

struct DbRegistryOptions {
  DbOptions db;                   // the metadata database
  int session_timeout_ms = 60000;  // registry.session-timeout
  int heartbeat_refresh_ms = 3000;  // registry.heartbeat-refresh-interval; < session timeout / 2
  std::string client_name;        // shown in the heartbeat row (e.g. "master 10.0.0.1:5678")
  // Epochs handed out are greater than this too (the newest epoch in the metadata database).
  int64_t min_epoch = 0;
};

// The registry.session-timeout and registry.heartbeat-refresh-interval keys, each checked
// (InvalidArgument names the key); db is left for the caller.
StatusOr<DbRegistryOptions> DbRegistryOptionsFromConfig(const Config& cfg);

// Thread-safe. Callbacks (OnNodeRemoved, OnSessionState) run on the registry's own thread, one
// at a time, never under a lock of this class; they may call this class. Destruction deletes
// this client's rows (its nodes and locks vanish at once) when the database can be reached.
class DbRegistry final : public Registry {
 public:
  // Connects, creates this client's heartbeat row and starts its refresh thread.
  // InvalidArgument on a bad option, Unavailable when the database cannot be reached,
  // FailedPrecondition when the schema lacks the registry tables (run `dsched db upgrade`).
  static StatusOr<std::unique_ptr<DbRegistry>> Create(const DbRegistryOptions& options);
  ~DbRegistry() override;

  // AlreadyExists while a live client holds the address (including this one).
  StatusOr<int64_t> Register(NodeType type, const std::string& address,
                             const std::string& heartbeat) override;
  // NotFound when this client holds no registration of `address`.
  Status Heartbeat(NodeType type, const std::string& address,
                   const std::string& heartbeat) override;
  // Idempotent; deletes only this client's registration.
  Status Unregister(NodeType type, const std::string& address) override;
  std::vector<NodeInfo> List(NodeType type) override;
  StatusOr<std::vector<NodeInfo>> TryList(NodeType type) override;
  void OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) override;
  StatusOr<std::unique_ptr<RegistryLock>> Lock(const std::string& name,
                                               std::chrono::milliseconds wait) override;
  SessionState session_state() const override;
  void OnSessionState(std::function<void(SessionState)> fn) override;
  int session_timeout_ms() const override;

  // The heartbeat row's id (tests).
  int64_t client_id() const;

  struct Impl;

 private:
  explicit DbRegistry(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;  // shared with lock handles and the refresh thread
};

}  // namespace dsched
