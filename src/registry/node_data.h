// How the registries that keep nodes outside the process (ZooKeeper, the database) store a
// registration: the node's address checked as host:port, and its data = the heartbeat JSON object
// plus "registryEpoch". Shared so that both read each other's format and check input alike.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "registry/registry.h"

namespace dsched {

// [A-Za-z0-9._-]: the characters of host names, lock names and namespace segments.
bool IsRegistryNameChar(char c);
// host:port with a plain host name or address, or [IPv6]:port. `what` names the input.
Status ValidateHostPort(const std::string& s, const std::string& what);
// "master", "worker", "alert-server": the node type's directory under nodes/.
const char* NodeTypeDir(NodeType t);
// InvalidArgument unless `hb` is a JSON object without "registryEpoch".
StatusOr<nlohmann::ordered_json> ParseHeartbeat(const std::string& hb);
std::string EncodeNodeData(nlohmann::ordered_json hb, int64_t epoch);
// A node's data back to (epoch, heartbeat as it was given). Data written by someone else is
// passed through with epoch 0.
void DecodeNodeData(const std::string& data, NodeInfo* n);

}  // namespace dsched
