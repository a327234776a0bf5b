#include "node/server/topology.h"

#include <cstdio>
#include <set>

#include "node/server/address.h"

namespace mq::server {

std::vector<raft::NodeId> Topology::replicas(uint32_t shard) const {
  return shard < placement.size() ? placement[shard].replicas : std::vector<raft::NodeId>{};
}

raft::NodeId Topology::preferred_leader(uint32_t shard) const {
  return shard < placement.size() ? placement[shard].preferred_leader : raft::kNoNode;
}

bool Topology::hosts(raft::NodeId node, uint32_t shard) const {
  for (raft::NodeId r : replicas(shard)) {
    if (r == node) return true;
  }
  return false;
}

const PeerInfo* Topology::find(raft::NodeId id) const {
  if (id == raft::kNoNode || id > nodes.size()) return nullptr;
  return &nodes[id - 1];
}

const PeerInfo* Topology::find(const std::string& id) const {
  for (const auto& p : nodes) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::optional<Topology> make_topology(const std::string& peers, const std::string& self_id,
                                      const std::string& self_address, uint32_t shard_count,
                                      uint32_t replication, std::string* error,
                                      std::string* note, const std::string& token) {
  Topology t;
  t.shard_count = shard_count;
  if (peers.empty()) {
    t.nodes.push_back({self_id, self_address, 1});
  } else {
    std::set<std::string> ids, addresses;
    size_t start = 0;
    while (start <= peers.size()) {
      size_t comma = peers.find(',', start);
      if (comma == std::string::npos) comma = peers.size();
      const std::string item = peers.substr(start, comma - start);
      start = comma + 1;
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
        *error = "--peers: '" + item + "' is not id=host:port";
        return std::nullopt;
      }
      PeerInfo p{item.substr(0, eq), item.substr(eq + 1),
                 static_cast<raft::NodeId>(t.nodes.size() + 1)};
      std::string address_error;
      if (!parse_dial_address(p.address, &address_error)) {
        *error = "--peers: " + address_error;
        return std::nullopt;
      }
      if (!ids.insert(p.id).second) {
        *error = "--peers: node id " + p.id + " appears twice";
        return std::nullopt;
      }
      if (!addresses.insert(p.address).second) {
        *error = "--peers: address " + p.address + " appears twice";
        return std::nullopt;
      }
      t.nodes.push_back(std::move(p));
    }
  }
  const PeerInfo* self = t.find(self_id);
  if (!self) {
    *error = "--id " + self_id + " is not in --peers (" + peers + ")";
    return std::nullopt;
  }
  if (self->address != self_address) {
    *error = "--peers gives " + self_id + " the address " + self->address +
             " but it is reached at " + self_address + " (--advertise, else --listen)";
    return std::nullopt;
  }
  t.self = self->raft_id;
  if (replication == 0) {
    *error = "--replication must be at least 1";
    return std::nullopt;
  }
  if (replication > t.nodes.size()) {
    *note = "replication " + std::to_string(replication) + " clamped to " +
            std::to_string(t.nodes.size()) + ", the number of nodes";
    replication = static_cast<uint32_t>(t.nodes.size());
  }
  t.replication = replication;
  // FNV-1a over the canonical description: same inputs, same id, anywhere.
  std::string canonical = "shards=" + std::to_string(shard_count) +
                          ";replication=" + std::to_string(replication) + ";";
  for (const auto& p : t.nodes) canonical += p.id + "=" + p.address + ",";
  if (!token.empty()) canonical += ";token=" + token;
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : canonical) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  t.cluster_id = hex;
  std::vector<Member> members;
  for (const auto& p : t.nodes) members.push_back({p.raft_id, p.id, p.address, MemberState::kActive});
  const ClusterMap map = ClusterMap::bootstrap(t.cluster_id, members, shard_count, replication);
  for (uint32_t s = 0; s < shard_count; ++s) t.placement.push_back(map.placement(s));
  return t;
}

std::vector<PeerInfo> nodes_by_id(const std::vector<Member>& members, raft::NodeId self,
                                  const PeerInfo& self_info) {
  std::vector<PeerInfo> nodes;
  auto fill_to = [&](raft::NodeId id) {
    while (nodes.size() + 1 < id) nodes.push_back({"", "", nodes.size() + 1, true});
  };
  for (const Member& m : members) {
    fill_to(m.id);
    nodes.push_back({m.name, m.address, m.id, m.state == MemberState::kRemoved});
  }
  fill_to(self + 1);
  if (self != raft::kNoNode) nodes[self - 1] = {self_info.id, self_info.address, self, false};
  return nodes;
}

Topology topology_from_map(const ClusterMap& map, raft::NodeId self, const PeerInfo& self_info) {
  Topology t;
  t.shard_count = map.shard_count();
  t.replication = map.replication();
  t.cluster_id = map.cluster_id();
  t.self = self;
  t.nodes = nodes_by_id(map.members(), self, self_info);
  for (uint32_t s = 0; s < t.shard_count; ++s) t.placement.push_back(map.placement(s));
  return t;
}

}  // namespace mq::server
