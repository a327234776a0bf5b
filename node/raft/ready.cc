#include "node/raft/ready.h"

namespace mq::raft {

bool may_send_before_persist(const Message& m, const HardState& durable) {
  switch (m.type) {
    case MessageType::kApp:
    case MessageType::kHeartbeat:
    case MessageType::kSnap:
    case MessageType::kTimeoutNow:
      // Only leaders send these. A term not durable yet (this Ready bumps
      // it) must not be revealed: after a crash the node could come back at
      // the old term and vote again in the new one.
      return m.term == durable.term && durable.vote == m.from;
    default:
      // Votes commit the voter; responses acknowledge state (entries, a
      // snapshot, a term) that must survive a crash once acknowledged; vote
      // requests reveal the candidate's new term and its vote for itself.
      return false;
  }
}

bool must_sync(const std::optional<HardState>& hard_state, const HardState& previous,
               bool has_entries, bool has_snapshot) {
  if (has_entries || has_snapshot) return true;
  return hard_state && (hard_state->term != previous.term || hard_state->vote != previous.vote);
}

}  // namespace mq::raft
