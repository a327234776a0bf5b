// Who is in the cluster and where each shard lives.
//
// A view of the cluster map (cluster_map.h) the node acts on: the members
// with their addresses, and each shard's placement. At bootstrap it comes
// from the flags: nodes get Raft ids by their position in --peers (1, 2,
// ...), so every node must be given the same list in the same order; the
// cluster id is derived from that list, the shard count and the
// replication factor, so a node started with a different list has a
// different cluster id and is refused by its peers and by its own data
// dir. Afterwards the metadata group's map replaces it (from_map).
//
// Bootstrap placement (DESIGN.md): shard s lives on nodes (s+i) mod N,
// i = 0..RF-1, and its preferred leader is node s mod N.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/raft/types.h"
#include "node/server/cluster_map.h"

namespace mq::server {

struct PeerInfo {
  std::string id;       // "n1"
  std::string address;  // "127.0.0.1:7001"
  raft::NodeId raft_id = raft::kNoNode;
  bool removed = false;  // a member no more (kept: ids are never reused)
};

struct Topology {
  std::vector<PeerInfo> nodes;  // by Raft id: nodes[i].raft_id == i + 1
  uint32_t shard_count = 16;
  uint32_t replication = 3;
  std::string cluster_id;
  raft::NodeId self = raft::kNoNode;
  std::vector<ShardPlacement> placement;  // by shard

  // The metadata group's slot: after the shards, on the wire and on disk.
  uint32_t meta_shard() const { return shard_count; }
  std::vector<raft::NodeId> replicas(uint32_t shard) const;
  raft::NodeId preferred_leader(uint32_t shard) const;
  bool hosts(raft::NodeId node, uint32_t shard) const;
  const PeerInfo* find(raft::NodeId id) const;
  const PeerInfo* find(const std::string& id) const;
  const PeerInfo& self_info() const { return nodes[self - 1]; }
};

// Members as the topology lists them, by id (ids are handed out in order
// and never reused, so members are 1..N): gaps up to `self` are filled,
// and self is described by self_info (a node that joined knows itself
// before its admission reaches its copy of the map).
std::vector<PeerInfo> nodes_by_id(const std::vector<Member>& members, raft::NodeId self,
                                  const PeerInfo& self_info);

// The view of a map, for the node `self` (which the map need not list yet:
// a node that joined acts before its own admission reaches it).
Topology topology_from_map(const ClusterMap& map, raft::NodeId self, const PeerInfo& self_info);

// peers: "n1=127.0.0.1:7001,n2=..." or "" for a cluster of one node at
// self_address. note receives a line worth logging (replication clamped).
// token (--initial-cluster-token, as etcd's) is mixed into the cluster id,
// so two clusters bootstrapped with the same peers differ; "" leaves the
// id of clusters bootstrapped before tokens existed as it was.
std::optional<Topology> make_topology(const std::string& peers, const std::string& self_id,
                                      const std::string& self_address, uint32_t shard_count,
                                      uint32_t replication, std::string* error,
                                      std::string* note, const std::string& token = "");

}  // namespace mq::server
