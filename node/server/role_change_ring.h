// The newest changes of role, term or known leader of this node's Raft
// groups, kept so that a status answer can tell what happened before the
// asker started looking: `mq cluster watch` merges the rings of every node
// into its "recent leader changes", including the changes that happened
// before it started, and those seen only by a node that has since died.
//
// Bounded: a fresh 16-shard node records two or three changes per shard
// while the cluster forms (follower with no leader, candidate, leader or
// follower of someone), so kCapacity keeps the formation of a default
// cluster plus the failovers after it; older changes fall off the front.
// Times are on the node's own clock (NodeEnv::now): the host reads no wall
// clock, and a reader turns them into ages with the clock reading sent in
// the same answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "node/raft/status.h"
#include "node/raft/types.h"
#include "node/server/node_clock.h"

namespace mq::server {

struct RoleChange {
  uint64_t seq = 0;  // 1, 2, ... in the order recorded by this process
  NodeTime at{};
  uint32_t shard = 0;
  uint64_t term = 0;
  raft::Role role = raft::Role::kFollower;
  raft::NodeId lead = raft::kNoNode;
};

class RoleChangeRing {
 public:
  static constexpr size_t kCapacity = 64;

  void record(NodeTime at, uint32_t shard, uint64_t term, raft::Role role, raft::NodeId lead) {
    if (changes_.size() == kCapacity) changes_.pop_front();
    changes_.push_back({++recorded_, at, shard, term, role, lead});
  }
  // Oldest first; at most kCapacity.
  const std::deque<RoleChange>& changes() const { return changes_; }

 private:
  std::deque<RoleChange> changes_;
  uint64_t recorded_ = 0;
};

}  // namespace mq::server
