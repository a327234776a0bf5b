// The leader changes of a cluster, rebuilt from the role-change rings that
// every node returns in its Status answer (node/server/role_change_ring.h),
// so a view started after a failover still shows it, and a change seen only
// by a node that has died since stays known once read.
//
// A leader is known per (shard, term, leader) from the first time any node
// recorded it (the new leader's own record, or a follower's that heard of
// it); consecutive leaders of a shard make one change. Record times are on
// each node's clock; they move to the caller's clock by their age
// (clock_ms - at_ms) when the answer was read, whatever the nodes' clocks.
//
// How long the shard had no leader is not in the rings: nothing is
// recorded when a leader dies, only when a follower gives up on it an
// election timeout later. So the length is given only for changes the
// caller saw happen (note_leaderless, from its own views: since the old
// leader was last seen leading), never guessed for older ones.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "playground/cluster_view.h"
#include "playground/watch_view.h"

namespace mq::playground {

class LeaderHistory {
 public:
  // Bounds the memory of a long watch: past this many records, the oldest
  // are forgotten.
  static constexpr size_t kRecordsMax = 4096;

  // Takes in the rings of every node that answered; now_ms is the caller's
  // clock when the view was taken.
  void add(const ClusterView& view, int64_t now_ms);

  // The caller saw shard go without a leader for ms before the leader of
  // term took over.
  void note_leaderless(uint32_t shard, uint64_t term, int64_t ms);

  // Leader changes, oldest first, dated on the caller's clock (the first
  // leader known of each shard is not a change).
  std::vector<ClusterEvent> changes() const;

 private:
  using LeaderKey = std::tuple<uint32_t, uint64_t, std::string>;  // shard, term, leader
  using TermKey = std::pair<uint32_t, uint64_t>;                   // shard, term
  void trim();

  std::map<LeaderKey, int64_t> leaders_;   // first time known
  std::map<TermKey, int64_t> leaderless_;  // seen by the caller
};

}  // namespace mq::playground
