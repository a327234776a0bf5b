// Where each shard's replicas live over a set of active nodes, and which
// replica should lead it. A pure function of its inputs: every node applies
// the same map change and must compute the same placement, so there is no
// hashing, no randomness and no unordered iteration in it.
//
// Goals, in order:
//   (a) a shard never has two replicas on one node, replicas live only on
//       active nodes, and every shard has min(replication, active) of them;
//   (b) the nodes' replica counts are within one of each other;
//   (c) as little moves as possible: a current replica on an active node
//       stays unless balance needs it elsewhere, and then it goes from a
//       most-loaded node to a least-loaded one. Every moved replica is a
//       full copy of the shard sent over the network (a learner catching
//       up), so adding a node moves only what the new node should hold,
//       and removing one moves only what it held;
//   (d) preferred leaders: a shard keeps its current one while it is still
//       a replica and that does not overload it; otherwise the replica
//       preferred by the fewest shards so far (ties: lowest id); then the
//       counts per node are evened out to within one where the replica
//       sets allow it, so write leadership spreads over the nodes.
//
// Given a placement that already meets (a), (b) and (d) over the same
// nodes, it returns that placement unchanged.
#pragma once

#include <cstdint>
#include <vector>

#include "node/raft/types.h"

namespace mq::server {

struct ShardPlacement {
  std::vector<raft::NodeId> replicas;  // sorted by id, no duplicates
  raft::NodeId preferred_leader = raft::kNoNode;  // one of replicas
  bool operator==(const ShardPlacement&) const = default;
};


// current: the placement to start from, by shard (shorter or longer than
// shard_count is fine: missing shards start empty, extra ones are ignored);
// its replicas on nodes not in active are dropped. active: the nodes that
// may hold replicas, in any order. Returns shard_count placements; with no
// active node (or replication 0) every shard is empty with no leader.
std::vector<ShardPlacement> compute_placement(const std::vector<ShardPlacement>& current,
                                              const std::vector<raft::NodeId>& active,
                                              uint32_t shard_count, uint32_t replication);

}  // namespace mq::server
