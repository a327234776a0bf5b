// The loop iteration, peer input, and the answers every path shares.
#include "node/server/node_host.h"

#include <algorithm>

#include "node/raft/codec.h"

namespace mq::server {

void NodeHost::start() {
  if (!campaign_on_start_) return;
  // The preferred leader of each shard stands at once, so a fresh cluster
  // has its leaders where placement wants them without waiting for a
  // timeout. The core must first apply the bootstrap membership, which is
  // what the first Ready cycle does.
  process_ready();
  for (auto& g : groups_) {
    if (g && preferred_leader(g->shard) == topology().self) g->node->campaign();
  }
}

void NodeHost::run_iteration() {
  snapshot_taken_this_iteration_ = false;
  issue_writes();
  issue_reads();
  const NodeTime now = env_.now();
  if (now >= next_tick_) {
    // At most one tick per iteration, and no catching up after a stall (a
    // slow fsync, a paused process): a node that was stuck must not see its
    // election timeout expire all at once when it resumes.
    next_tick_ = std::max(next_tick_ + std::chrono::milliseconds(options_.tick_ms), now);
    tick();
  }
  process_ready();
  take_one_due_snapshot();
}

namespace {

// A message that wants something of its receiver (entries, a heartbeat, a
// snapshot, a vote), not an answer to what the receiver asked: a replica
// that is leaving goes once nobody has asked anything of it for a while,
// however often its own vote requests are answered.
bool asks_something(raft::MessageType t) {
  switch (t) {
    case raft::MessageType::kPreVoteResp:
    case raft::MessageType::kVoteResp:
    case raft::MessageType::kAppResp:
    case raft::MessageType::kHeartbeatResp:
    case raft::MessageType::kSnapResp:
      return false;
    default:
      return true;
  }
}

}  // namespace

void NodeHost::on_peer_batch(raft::NodeId from, const peer::PeerBatch& batch) {
  if (from < peer_vote_refusal_us_.size()) {
    // A sender that does not say how long it refuses votes promises
    // nothing: no lease may rest on its answers (1 us is as good as none).
    peer_vote_refusal_us_[from] =
        batch.vote_refusal_us() > 0 ? static_cast<int64_t>(batch.vote_refusal_us()) : 1;
    MemoryFullInfo& full = peer_memory_full_[from];
    if (batch.memory_full()) {
      full = {node_name(from), batch.memory_used_bytes(), batch.memory_limit_bytes()};
    } else {
      full = {};
    }
  }
  if (batch.has_removal()) on_removal_notice(from, batch.removal());

  const NodeTime now = env_.now();
  const bool votes_quiet = now < votes_quiet_until_;
  PeerCounters* counters = from < metrics_.peers.size() ? &metrics_.peers[from] : nullptr;
  for (const auto& gm : batch.messages()) {
    if (counters) {
      ++counters->messages_received;
      counters->bytes_received += gm.message().size();
    }
    raft::Message m;
    std::string error;
    if (!raft::decode(gm.message(), &m, &error)) {
      log(LogLevel::kWarn, "dropped a malformed Raft message from " + node_name(from) + ": " + error);
      continue;
    }
    ShardGroup* g = group_for_message(gm.shard(), m);
    if (!g) continue;
    if (asks_something(m.type)) g->last_heard_tick = ticks_;
    if (m.type == raft::MessageType::kApp || m.type == raft::MessageType::kHeartbeat ||
        m.type == raft::MessageType::kSnap) {
      g->last_fed_tick = ticks_;
    }
    if (gm.applied() > 0) {
      uint64_t& applied = g->peer_applied[from];
      applied = std::max(applied, gm.applied());
    }
    if (counters && m.type == raft::MessageType::kHeartbeatResp) {
      if (auto rtt = counters->probes.heartbeat_answered(gm.shard(), m.context, now)) {
        counters->round_trip.observe(*rtt);
      }
    }
    if (votes_quiet && (m.type == raft::MessageType::kPreVote ||
                        (m.type == raft::MessageType::kVote && m.context != raft::kTransferContext))) {
      continue;
    }
    if (vote_behind_tombstone(gm.shard(), m)) continue;
    // Told it was removed from the cluster, this node takes no leadership.
    if (m.type == raft::MessageType::kTimeoutNow && told_removed_.map_version != 0) continue;
    g->node->step(m);
  }
  answer_quiet_groups(from, batch);
}

// At shutdown: everything pending is answered. A write may already be on a
// peer's disk, so its outcome is unknown, not failed.
void NodeHost::fail_everything(const std::string& why) {
  issue_writes();
  issue_reads();
  const Outcome unknown =
      Outcome::with(Outcome::Code::kOutcomeUnknown, why + "; the write's outcome is unknown");
  const Outcome retry = Outcome::with(Outcome::Code::kUnavailable, why);
  for (auto& gp : groups_) {
    if (!gp) continue;
    ShardGroup& g = *gp;
    fail_pending(g, unknown, retry);
    // Nothing more will apply: confirmed reads are answered too.
    auto ready = std::move(g.reads_ready);
    g.reads_ready.clear();
    for (auto& [index, reads] : ready) {
      for (auto& r : reads) r(retry);
    }
  }
}

std::string NodeHost::node_name(raft::NodeId id) const {
  const PeerInfo* p = topology().find(id);
  return p ? p->id : "";
}

Outcome NodeHost::not_leader(uint32_t shard, const ShardGroup* g) const {
  Outcome o;
  o.code = Outcome::Code::kNotLeader;
  o.hint.shard = shard;
  const std::string self = topology().self_info().id;
  if (!g) {
    // Not a replica here: point at the shard's preferred leader, which is a
    // replica and knows the current leader if it is not it.
    const PeerInfo* p = topology().find(preferred_leader(shard));
    if (p == nullptr) {
      o.message = "node " + self + " holds no replica of " + group_name(shard);
      return o;
    }
    o.hint.leader_address = p->address;
    o.message = "node " + self + " holds no replica of " + group_name(shard) + "; try " +
                p->id + " at " + p->address;
  } else if (const PeerInfo* p = topology().find(g->lead); p && g->lead != topology().self) {
    o.hint.leader = p->id;
    o.hint.leader_address = p->address;
    o.hint.term = g->term;
    o.message = "node " + self + " is not the leader of " + group_name(shard) +
                "; the leader is " + p->id + " at " + p->address;
  } else {
    o.hint.term = g->term;
    o.message = group_name(shard) + " has no leader at the moment (term " +
                std::to_string(g->term) + ")";
  }
  return o;
}

}  // namespace mq::server
