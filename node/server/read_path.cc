// Reads: stale reads from any replica's applied state; linearizable reads
// through a ReadIndex round, or at once under the leader's read lease
// (read_lease.h has the argument).
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "node/server/node_host.h"

namespace mq::server {

void NodeHost::read(uint32_t shard, bool stale, ReadDone done) {
  ShardGroup* g = group(shard);
  if (!g) {
    done(not_leader(shard, g));
    return;
  }
  if (stale) {
    done(Outcome::success());
    return;
  }
  if (g->role != raft::Role::kLeader) {
    done(not_leader(shard, g));
    return;
  }
  // Also the core's own role and term, not only the published copy: a
  // message stepped earlier in this iteration may have ended the leadership.
  if (g->node->role() == raft::Role::kLeader && g->node->term() == g->term && lease_covers_read(*g)) {
    g->lease_reads.fetch_add(1, std::memory_order_relaxed);
    done(Outcome::success());
    return;
  }
  if (g->reads_to_issue.size() >= options_.reads_per_round_max) {
    done(Outcome::with(Outcome::Code::kOverloaded,
                       "shard " + std::to_string(shard) + " has " +
                           std::to_string(g->reads_to_issue.size()) +
                           " reads waiting for one round (the limit); retry later"));
    return;
  }
  g->reads_to_issue.push_back(std::move(done));
}

// True when the group leads under a lease whose confirmed index is applied:
// a linearizable read may be answered from the applied state now. Marks the
// lease as used, so the loop keeps renewing it. On the loop, or under
// shared_state held shared.
bool NodeHost::lease_covers_read(const ShardGroup& g) const {
  const bool mutated = options_.mutations.lease_kept_on_step_down;
  if (g.role != raft::Role::kLeader && !mutated) return false;
  const auto index = g.lease.read_index(mutated ? g.lease.term() : g.term, env_.now());
  if (!index || *index > g.sm.applied_index()) return false;
  g.lease_used.store(true, std::memory_order_relaxed);
  return true;
}

bool NodeHost::try_lease_read(uint32_t shard,
                              const std::function<void(const ShardGroup&)>& serve) const {
  if (shard >= topology_shard_count_) return false;
  const ShardGroup* g = lease_view_[shard].load(std::memory_order_acquire);
  if (!g) return false;
  std::shared_lock lock(g->shared_state);
  if (!lease_covers_read(*g)) return false;
  g->lease_reads.fetch_add(1, std::memory_order_relaxed);
  serve(*g);
  return true;
}

// The lease a round confirmed now supports: the shortest vote-refusal
// window among this node and the shard's replicas it has heard from. The
// round's confirming followers are among those heard (their answers came in
// batches that carried their window), so their windows are all counted.
NodeTime::duration NodeHost::lease_length(const ShardGroup& g) const {
  int64_t refusal_us = own_vote_refusal_us_;
  for (raft::NodeId r : g.replicas) {
    if (options_.mutations.lease_from_own_timing) break;
    if (r == topology().self || r >= peer_vote_refusal_us_.size()) continue;
    if (const int64_t us = peer_vote_refusal_us_[r]; us > 0) refusal_us = std::min(refusal_us, us);
  }
  return ReadLease::length_for(std::chrono::microseconds(refusal_us),
                               options_.mutations.lease_length_factor);
}

// One ReadIndex round per group for all reads that arrived together, and one
// for a lease past half its life, so a steady read load never waits for a
// round.
void NodeHost::issue_reads() {
  const NodeTime now = env_.now();
  for (auto& gp : groups_) {
    if (!gp) continue;
    ShardGroup& g = *gp;
    const bool renew = g.reads_to_issue.empty() && !g.lease_renewal_in_flight &&
                       g.role == raft::Role::kLeader && g.lease.wants_renewal(g.term, now) &&
                       g.lease_used.exchange(false, std::memory_order_relaxed);
    if (g.reads_to_issue.empty() && !renew) continue;
    std::string context = std::to_string(next_read_context_++);
    const raft::ProposeError e = g.node->read_index(context);
    if (e != raft::ProposeError::kOk) {
      const Outcome refused = propose_error(e, g);
      for (auto& r : g.reads_to_issue) r(refused);
    } else {
      ++g.counters.read_index_rounds;
      if (renew) g.lease_renewal_in_flight = true;
      g.reads_in_flight.emplace(std::move(context),
                                ShardGroup::ReadRound{std::move(g.reads_to_issue), now, g.term});
    }
    g.reads_to_issue.clear();
  }
}

// Rounds a quorum confirmed: each extends the lease (from when it was
// issued) and releases its reads once the read index is applied.
void NodeHost::confirm_reads(ShardGroup& g, std::vector<raft::ReadState>& read_states) {
  for (raft::ReadState& rs : read_states) {
    auto it = g.reads_in_flight.find(rs.context);
    if (it == g.reads_in_flight.end()) continue;
    ShardGroup::ReadRound& round = it->second;
    // A round may be confirmed in the very Ready that reports the loss of
    // the term it was issued in: its reads are still linearizable (a quorum
    // confirmed the leadership at issue), but it earns no lease.
    if (round.term == g.term && g.role == raft::Role::kLeader) {
      std::unique_lock lock(g.shared_state);
      g.lease.confirmed(round.term, round.issued, rs.index, lease_length(g));
    }
    if (round.reads.empty()) g.lease_renewal_in_flight = false;
    g.reads_ready.emplace_back(rs.index, std::move(round.reads));
    g.reads_in_flight.erase(it);
  }
}

void NodeHost::serve_ready_reads(ShardGroup& g) {
  while (!g.reads_ready.empty() && g.reads_ready.front().first <= g.sm.applied_index()) {
    for (auto& r : g.reads_ready.front().second) r(Outcome::success());
    g.reads_ready.pop_front();
  }
}

}  // namespace mq::server
