#include "registry/registry.h"

#include "registry/node_data.h"

#include <cstdio>

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

const char* SessionStateName(SessionState s) {
  switch (s) {
    case SessionState::kConnected:
      return "connected";
    case SessionState::kSuspended:
      return "suspended";
    case SessionState::kExpired:
      return "expired";
  }
  return "?";
}

StatusOr<std::string> RegistryTypeFromConfig(const Config& cfg) {
  std::string t = cfg.GetString("registry.type");
  if (t != "zookeeper" && t != "jdbc" && t != "memory")
    return InvalidArgument("registry.type '" + t + "' is not zookeeper, jdbc or memory");
  return t;
}

bool IsRegistryNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status ValidateHostPort(const std::string& s, const std::string& what) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return InvalidArgument(what + " '" + s + "' is not host:port");
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535)
    return InvalidArgument(what + " '" + s + "' has a bad port");
  if (host.front() == '[' && host.back() == ']' && host.size() > 2) {
    if (host.find_first_not_of("0123456789abcdefABCDEF:.", 1) != host.size() - 1)
      return InvalidArgument(what + " '" + s + "' has a bad IPv6 address");
    return Status::Ok();
  }
  for (char c : host)
    if (!IsRegistryNameChar(c)) return InvalidArgument(what + " '" + s + "' has a bad host name");
  return Status::Ok();
}

const char* NodeTypeDir(NodeType t) {
  switch (t) {
    case NodeType::kMaster:
      return "master";
    case NodeType::kWorker:
      return "worker";
    case NodeType::kAlertServer:
      return "alert-server";
  }
  return "unknown";
}

constexpr const char* kEpochField = "registryEpoch";

StatusOr<nlohmann::ordered_json> ParseHeartbeat(const std::string& hb) {
  auto j = nlohmann::ordered_json::parse(hb, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgument("heartbeat is not a JSON object: " + hb.substr(0, 80));
  if (j.contains(kEpochField))
    return InvalidArgument(std::string("heartbeat may not carry '") + kEpochField + "'");
  return j;
}

std::string EncodeNodeData(nlohmann::ordered_json hb, int64_t epoch) {
  hb[kEpochField] = epoch;
  return hb.dump();
}

void DecodeNodeData(const std::string& data, NodeInfo* n) {
  auto j = nlohmann::ordered_json::parse(data, nullptr, false);
  if (j.is_object() && j.contains(kEpochField) && j[kEpochField].is_number_integer()) {
    n->epoch = j[kEpochField].get<int64_t>();
    j.erase(kEpochField);
    n->heartbeat = j.dump();
  } else {
    n->heartbeat = data;
  }
}

Status ValidateLockName(const std::string& name) {
  if (name.empty() || name == "." || name == "..")
    return InvalidArgument("lock name '" + name + "' is not valid");
  for (char c : name)
    if (!IsRegistryNameChar(c))
      return InvalidArgument("lock name '" + name + "' is not valid: use [A-Za-z0-9._-]");
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
