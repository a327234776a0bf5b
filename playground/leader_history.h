// The leader changes of a cluster, rebuilt from the role-change rings that
// every node returns in its Status answer (node/server/role_change_ring.h),
// so a view started after a failover still shows it, and a change seen only
// by a node that has died since stays known once read.
//
// A leader is known per (shard, term, leader): the first time any node
// recorded it (the new leader's own record, or a follower's that heard
// it). Consecutive leaders of a shard make one change; "no leader for N
// ms" is from the first record, by any node, of no known leader in a term
// at least the old leader's, up to the new leader. Record times are on each
// node's clock; they are moved to the caller's clock by their age
// (clock_ms - at_ms) at the moment the answer was read, which holds
// whatever the nodes' clocks are.
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

  // Leader changes, oldest first, dated on the caller's clock (the first
  // leader known of each shard is not a change).
  std::vector<ClusterEvent> changes() const;

 private:
  using LeaderKey = std::tuple<uint32_t, uint64_t, std::string>;   // shard, term, leader
  using RecordKey = std::tuple<std::string, uint64_t, uint64_t>;   // node, at_ms, seq
  struct Leaderless {
    uint32_t shard = 0;
    uint64_t term = 0;
    int64_t time_ms = 0;
  };
  void trim();

  std::map<LeaderKey, int64_t> leaders_;        // first time known
  std::map<RecordKey, Leaderless> leaderless_;  // records of no known leader
};

}  // namespace mq::playground
