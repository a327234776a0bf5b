#include "node/server/placement.h"

#include <algorithm>
#include <limits>

#include "node/raft/invariant.h"

namespace mq::server {

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Nodes are handled by their position in the sorted active list, so every
// per-node table is a plain vector and every scan runs in id order.
struct Grid {
  Grid(size_t shards, size_t nodes) : nodes(nodes), cells(shards * nodes, false) {}
  bool get(size_t s, size_t n) const { return cells[s * nodes + n]; }
  void set(size_t s, size_t n, bool v) { cells[s * nodes + n] = v; }
  size_t nodes;
  std::vector<bool> cells;
};

struct Hop {
  size_t shard;
  size_t from;
  size_t to;
};

// The shortest chain of hops from `source` to a node whose count is at
// least two below the source's. A hop hands one unit (a replica, or a
// leadership) of shard s from x to y, where gives(s, x) and takes(s, y);
// moving one unit down a chain changes only the two ends' counts. Breadth
// first, shards and nodes in ascending order, so every node finds the same
// chain. Empty if there is none.
template <typename Gives, typename Takes>
std::vector<Hop> find_chain(size_t nodes, size_t shards, size_t source,
                            const std::vector<size_t>& counts, Gives gives, Takes takes) {
  std::vector<size_t> parent(nodes, kNone), via(nodes, kNone);
  std::vector<bool> seen(nodes, false);
  std::vector<size_t> queue{source};
  seen[source] = true;
  // Each node enters the queue once: at most `nodes` rounds.
  for (size_t head = 0; head < queue.size(); ++head) {
    const size_t x = queue[head];
    // The lowest shard that can hand a unit from x to each node not seen.
    std::vector<size_t> hop(nodes, kNone);
    for (size_t s = 0; s < shards; ++s) {
      if (!gives(s, x)) continue;
      for (size_t y = 0; y < nodes; ++y) {
        if (!seen[y] && hop[y] == kNone && takes(s, y)) hop[y] = s;
      }
    }
    for (size_t y = 0; y < nodes; ++y) {
      if (hop[y] == kNone) continue;
      seen[y] = true;
      parent[y] = x;
      via[y] = hop[y];
      if (counts[y] + 2 <= counts[source]) {
        std::vector<Hop> chain;
        for (size_t at = y; at != source; at = parent[at]) {
          chain.push_back({via[at], parent[at], at});
        }
        std::reverse(chain.begin(), chain.end());
        return chain;
      }
      queue.push_back(y);
    }
  }
  return {};
}

// Tries sources from the most loaded down (ties: lowest id) until one has
// a chain to a node at least two below it. givers[x] counts the units x
// could hand on at all, so a node with none costs no search.
template <typename Gives, typename Takes>
std::vector<Hop> find_balancing_chain(size_t nodes, size_t shards,
                                      const std::vector<size_t>& counts,
                                      const std::vector<size_t>& givers, Gives gives, Takes takes) {
  std::vector<size_t> order(nodes);
  for (size_t n = 0; n < nodes; ++n) order[n] = n;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  const size_t low = *std::min_element(counts.begin(), counts.end());
  for (size_t source : order) {
    if (counts[source] < low + 2) break;
    if (givers[source] == 0) continue;
    std::vector<Hop> chain = find_chain(nodes, shards, source, counts, gives, takes);
    if (!chain.empty()) return chain;
  }
  return {};
}

// A bound on balancing moves: each moves one unit from a node to one at
// least two below it, which lowers the sum of squared counts by at least 2;
// that sum starts at most units² and never goes below zero.
size_t move_bound(size_t units) { return units * units / 2 + 1; }

}  // namespace

std::vector<ShardPlacement> compute_placement(const std::vector<ShardPlacement>& current,
                                              const std::vector<raft::NodeId>& active_in,
                                              uint32_t shard_count, uint32_t replication) {
  std::vector<raft::NodeId> active = active_in;
  std::sort(active.begin(), active.end());
  active.erase(std::unique(active.begin(), active.end()), active.end());
  if (!active.empty() && active.front() == raft::kNoNode) active.erase(active.begin());

  const size_t nodes = active.size();
  const size_t shards = shard_count;
  const size_t per_shard = std::min<size_t>(replication, nodes);
  std::vector<ShardPlacement> out(shards);
  if (per_shard == 0) return out;

  auto index_of = [&](raft::NodeId id) -> size_t {
    auto it = std::lower_bound(active.begin(), active.end(), id);
    return it != active.end() && *it == id ? static_cast<size_t>(it - active.begin()) : kNone;
  };
  std::vector<size_t> current_leaders(shards, kNone);
  for (size_t s = 0; s < std::min(shards, current.size()); ++s) {
    current_leaders[s] = index_of(current[s].preferred_leader);
  }
  auto current_leader = [&](size_t s) { return current_leaders[s]; };

  // on: where replicas are now. was: where they were before this call; a
  // replica on a node it was not on is a copy to send, one it was on is
  // free to keep. copies[n]: how many copies node n is to receive.
  Grid on(shards, nodes), was(shards, nodes);
  std::vector<size_t> load(nodes, 0), copies(nodes, 0), held(shards, 0);
  auto place = [&](size_t s, size_t n) {
    MQ_INVARIANT(!on.get(s, n));
    on.set(s, n, true);
    ++held[s];
    ++load[n];
    if (!was.get(s, n)) ++copies[n];
  };
  auto unplace = [&](size_t s, size_t n) {
    MQ_INVARIANT(on.get(s, n));
    on.set(s, n, false);
    --held[s];
    --load[n];
    if (!was.get(s, n)) --copies[n];
  };
  for (size_t s = 0; s < std::min(shards, current.size()); ++s) {
    for (raft::NodeId id : current[s].replicas) {
      const size_t n = index_of(id);
      if (n == kNone || on.get(s, n)) continue;
      was.set(s, n, true);
      place(s, n);
    }
  }

  // More replicas than now fit (fewer active nodes than the replication):
  // shed them from the most loaded nodes, sparing the current leader.
  for (size_t s = 0; s < shards; ++s) {
    while (held[s] > per_shard) {
      size_t drop = kNone;
      for (size_t n = 0; n < nodes; ++n) {
        if (!on.get(s, n)) continue;
        if (drop == kNone) {
          drop = n;
          continue;
        }
        const bool n_leads = n == current_leader(s), drop_leads = drop == current_leader(s);
        if (load[n] > load[drop] || (load[n] == load[drop] && (drop_leads || !n_leads))) drop = n;
      }
      unplace(s, drop);
    }
  }

  // Missing replicas go to the least loaded node the shard is not on yet
  // (ties: lowest id). Greedy; the balancing below evens out what it skews.
  for (size_t s = 0; s < shards; ++s) {
    while (held[s] < per_shard) {
      size_t pick = kNone;
      for (size_t n = 0; n < nodes; ++n) {
        if (!on.get(s, n) && (pick == kNone || load[n] < load[pick])) pick = n;
      }
      // per_shard <= nodes, so a shard short of replicas misses some node.
      MQ_INVARIANT(pick != kNone);
      place(s, pick);
    }
  }

  // Balance replica counts. First along chains of copies this call added:
  // moving a copy again costs nothing over having placed it there at once.
  // When no such chain helps, one kept replica moves from a most-loaded node
  // to a least-loaded one, which balance then requires. One hop only: every
  // kept replica moved is one more copy. Such a move always exists while
  // the two differ by two or more: the fuller node holds some shard the
  // emptier one does not.
  auto gives_copy = [&](size_t s, size_t x) { return on.get(s, x) && !was.get(s, x); };
  auto takes_replica = [&](size_t s, size_t y) { return !on.get(s, y); };
  auto move_kept = [&]() -> bool {
    const size_t high = *std::max_element(load.begin(), load.end());
    const size_t low = *std::min_element(load.begin(), load.end());
    if (high < low + 2) return false;
    // Prefer a shard the giving node does not lead, so its leadership
    // stays; then the lowest shard.
    for (bool spare_leader : {true, false}) {
      for (size_t x = 0; x < nodes; ++x) {
        if (load[x] != high) continue;
        for (size_t y = 0; y < nodes; ++y) {
          if (load[y] != low) continue;
          for (size_t s = 0; s < shards; ++s) {
            if (!on.get(s, x) || on.get(s, y)) continue;
            if (spare_leader && current_leader(s) == x) continue;
            unplace(s, x);
            place(s, y);
            return true;
          }
        }
      }
    }
    return false;
  };
  const size_t replica_moves_max = move_bound(shards * per_shard);
  for (size_t step = 0; step < replica_moves_max; ++step) {
    const std::vector<Hop> chain =
        find_balancing_chain(nodes, shards, load, copies, gives_copy, takes_replica);
    if (!chain.empty()) {
      // The hops were found on the state before any of them and stay valid
      // applied in order: the chain's nodes are distinct, so no hop adds a
      // replica another removes, or the reverse.
      for (const Hop& h : chain) {
        unplace(h.shard, h.from);
        place(h.shard, h.to);
      }
    } else if (!move_kept()) {
      break;
    }
  }
  MQ_INVARIANT(*std::max_element(load.begin(), load.end()) <=
               *std::min_element(load.begin(), load.end()) + 1);

  // Preferred leaders. A node may keep leading up to its fair share
  // (shards / nodes, rounded up); the rest go to their least-leading
  // replica (ties: lowest id). fresh[n]: how many of n's leaderships are
  // new, which moving again costs no extra leadership change.
  const size_t fair_share = (shards + nodes - 1) / nodes;
  std::vector<size_t> leader(shards, kNone), leads(nodes, 0), fresh(nodes, 0);
  auto lead = [&](size_t s, size_t n) {
    if (leader[s] != kNone) {
      --leads[leader[s]];
      if (leader[s] != current_leader(s)) --fresh[leader[s]];
    }
    leader[s] = n;
    ++leads[n];
    if (n != current_leader(s)) ++fresh[n];
  };
  for (size_t s = 0; s < shards; ++s) {
    const size_t n = current_leader(s);
    if (n != kNone && on.get(s, n) && leads[n] < fair_share) lead(s, n);
  }
  for (size_t s = 0; s < shards; ++s) {
    if (leader[s] != kNone) continue;
    size_t pick = kNone;
    for (size_t n = 0; n < nodes; ++n) {
      if (on.get(s, n) && (pick == kNone || leads[n] < leads[pick])) pick = n;
    }
    lead(s, pick);
  }

  // Even out the leader counts along chains of shards (x leads s, y is a
  // replica of s), first through leaderships this call assigned, then
  // through any: the counts end within one of each other unless the
  // replica sets leave no chain from a node to one two below it.
  auto gives_fresh = [&](size_t s, size_t x) { return leader[s] == x && current_leader(s) != x; };
  auto gives_any = [&](size_t s, size_t x) { return leader[s] == x; };
  auto takes_leadership = [&](size_t s, size_t y) { return on.get(s, y); };
  const size_t leader_moves_max = move_bound(shards);
  for (size_t step = 0; step < leader_moves_max; ++step) {
    std::vector<Hop> chain =
        find_balancing_chain(nodes, shards, leads, fresh, gives_fresh, takes_leadership);
    if (chain.empty()) {
      chain = find_balancing_chain(nodes, shards, leads, leads, gives_any, takes_leadership);
    }
    if (chain.empty()) break;
    for (const Hop& h : chain) {
      MQ_INVARIANT(leader[h.shard] == h.from && on.get(h.shard, h.to));
      lead(h.shard, h.to);
    }
  }

  for (size_t s = 0; s < shards; ++s) {
    for (size_t n = 0; n < nodes; ++n) {
      if (on.get(s, n)) out[s].replicas.push_back(active[n]);
    }
    out[s].preferred_leader = active[leader[s]];
  }
  return out;
}

}  // namespace mq::server
