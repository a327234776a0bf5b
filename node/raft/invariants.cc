// Node-local invariants, checked after every input (logcabin's
// RaftConsensusInvariants, tigerbeetle's replica invariants). Cluster-wide
// ones (one leader per term, log matching, leader completeness, state
// machine safety) need every node's view and live in the simulator.
#include "node/raft/invariant.h"
#include "node/raft/raft.h"

namespace mq::raft {

void Raft::check_invariants() {
  const uint64_t committed = log_.committed();
  MQ_INVARIANT(committed <= log_.last_index());
  MQ_INVARIANT(log_.applied() <= committed);
  MQ_INVARIANT(committed >= last_seen_commit_);
  last_seen_commit_ = committed;
  MQ_INVARIANT(log_.last_term() <= term_);
  MQ_INVARIANT(log_.first_index() <= log_.last_index() + 1);
  if (role_ == Role::kLeader) {
    MQ_INVARIANT(lead_ == id_);
    MQ_INVARIANT(vote_ == id_);
    const Progress* self = const_cast<ProgressTracker&>(tracker_).get(id_);
    MQ_INVARIANT(self != nullptr);
    MQ_INVARIANT(self->match == log_.last_index());
    MQ_INVARIANT(uncommitted_bytes_ <= config_.max_uncommitted_bytes + config_.max_size_per_msg_bytes);
  } else {
    MQ_INVARIANT(lead_ != id_);
    MQ_INVARIANT(read_only_.size() == 0);
  }
  if (role_ == Role::kCandidate) MQ_INVARIANT(vote_ == id_);
  for (const auto& [id, pr] : tracker_.progress()) {
    MQ_INVARIANT(pr.match < pr.next);
    MQ_INVARIANT(pr.inflights.count() <= config_.max_inflight_msgs);
  }
}

}  // namespace mq::raft
