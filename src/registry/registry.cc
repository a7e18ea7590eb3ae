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

}  // namespace dsched
