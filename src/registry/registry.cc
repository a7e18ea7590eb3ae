#include "registry/registry.h"

namespace dsched {

StatusOr<int64_t> InMemoryRegistry::Register(NodeType type, const std::string& address,
                                             const std::string& heartbeat) {
  std::lock_guard<std::mutex> l(mu_);
  auto key = std::make_pair(type, address);
  if (nodes_.count(key)) return AlreadyExists("node " + address + " is already registered");
  NodeInfo n{type, address, ++last_epoch_, heartbeat};
  nodes_[key] = n;
  return n.epoch;
}

Status InMemoryRegistry::Heartbeat(NodeType type, const std::string& address,
                                   const std::string& heartbeat) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = nodes_.find({type, address});
  if (it == nodes_.end()) return NotFound("node " + address + " is not registered");
  it->second.heartbeat = heartbeat;
  return Status::Ok();
}

Status InMemoryRegistry::Unregister(NodeType type, const std::string& address) {
  ExpireSession(type, address);
  return Status::Ok();
}

std::vector<NodeInfo> InMemoryRegistry::List(NodeType type) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<NodeInfo> out;
  for (const auto& [k, n] : nodes_)
    if (k.first == type) out.push_back(n);
  return out;
}

void InMemoryRegistry::OnNodeRemoved(NodeType type, std::function<void(const NodeInfo&)> fn) {
  std::lock_guard<std::mutex> l(mu_);
  watchers_.emplace_back(type, std::move(fn));
}

void InMemoryRegistry::ExpireSession(NodeType type, const std::string& address) {
  NodeInfo gone;
  std::vector<std::function<void(const NodeInfo&)>> notify;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = nodes_.find({type, address});
    if (it == nodes_.end()) return;
    gone = it->second;
    nodes_.erase(it);
    for (const auto& [t, fn] : watchers_)
      if (t == type) notify.push_back(fn);
  }
  for (auto& fn : notify) fn(gone);
}

Status ValidateLockName(const std::string& name) {
  if (name.empty() || name == "." || name == "..")
    return InvalidArgument("lock name '" + name + "' is not valid");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return InvalidArgument("lock name '" + name + "' is not valid: use [A-Za-z0-9._-]");
  }
  return Status::Ok();
}

class InMemoryRegistry::InMemoryLock final : public RegistryLock {
 public:
  InMemoryLock(std::shared_ptr<LockTable> table, std::string name)
      : table_(std::move(table)), name_(std::move(name)) {}
  ~InMemoryLock() override { Release(); }
  Status Release() override {
    if (released_) return Status::Ok();
    released_ = true;
    {
      std::lock_guard<std::mutex> l(table_->mu);
      table_->held.erase(name_);
    }
    table_->released.notify_all();
    return Status::Ok();
  }

 private:
  std::shared_ptr<LockTable> table_;
  std::string name_;
  bool released_ = false;
};

StatusOr<std::unique_ptr<RegistryLock>> InMemoryRegistry::Lock(const std::string& name,
                                                               std::chrono::milliseconds wait) {
  DSCHED_RETURN_IF_ERROR(ValidateLockName(name));
  std::unique_lock<std::mutex> l(locks_->mu);
  bool free = locks_->released.wait_for(l, wait, [&] { return !locks_->held.count(name); });
  if (!free) return FailedPrecondition("lock " + name + " is held by another taker");
  locks_->held.insert(name);
  return std::unique_ptr<RegistryLock>(std::make_unique<InMemoryLock>(locks_, name));
}

}  // namespace dsched
