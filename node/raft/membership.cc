// Single-server membership changes and leadership transfer.
#include "node/raft/invariant.h"
#include "node/raft/raft.h"

namespace mq::raft {

ProposeError Raft::propose_conf_change(const ConfChange& cc) {
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  if (lead_transferee_ != kNoNode) return ProposeError::kTransferInProgress;
  // One change at a time: the next waits until the previous is applied.
  if (pending_conf_index_ > log_.applied()) return ProposeError::kConfChangePending;
  // And only after this leader committed in its own term: otherwise a change
  // of a deposed leader's term, still uncommitted, could combine with ours
  // into two disjoint majorities (the single-server change bug reported on
  // raft-dev in 2015, fixed this way in Ongaro's errata).
  if (log_.term(log_.committed()) != term_) return ProposeError::kConfChangePending;
  const bool voter = tracker_.is_voter(cc.node);
  const bool learner = tracker_.learners().count(cc.node) > 0;
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      if (voter) return ProposeError::kInvalidConfChange;
      break;
    case ConfChangeType::kAddLearner:
      if (voter || learner) return ProposeError::kInvalidConfChange;
      break;
    case ConfChangeType::kRemoveNode:
      if (!voter && !learner) return ProposeError::kInvalidConfChange;
      if (voter && tracker_.voters().size() == 1) return ProposeError::kInvalidConfChange;
      break;
  }
  Entry e;
  e.type = EntryType::kConfChange;
  e.data = encode(cc);
  MQ_INVARIANT(append_entry({std::move(e)}));
  pending_conf_index_ = log_.last_index();
  bcast_append();
  return ProposeError::kOk;
}

void Raft::apply_conf_change(const ConfChange& cc) {
  const uint64_t next = log_.last_index() + 1;
  switch (cc.type) {
    case ConfChangeType::kAddVoter: tracker_.add_voter(cc.node, next); break;
    case ConfChangeType::kAddLearner: tracker_.add_learner(cc.node, next); break;
    case ConfChangeType::kRemoveNode: tracker_.remove(cc.node); break;
  }
  if (cc.node == id_ && cc.type != ConfChangeType::kRemoveNode) {
    if (Progress* self = tracker_.get(id_)) {
      self->match = log_.last_index();
      self->next = self->match + 1;
    }
  }
  if (role_ != Role::kLeader) return;
  if (!tracker_.is_voter(id_)) {
    // A leader removed from the configuration hands over by stepping down;
    // the remaining voters elect a successor after their timeout.
    become_follower(term_, kNoNode);
    return;
  }
  if (lead_transferee_ != kNoNode && !tracker_.is_voter(lead_transferee_)) abort_leader_transfer();
  // The quorum changed: entries may now be committed; a new member needs
  // the log.
  if (maybe_commit()) {
    bcast_append();
  } else if (cc.type != ConfChangeType::kRemoveNode && cc.node != id_) {
    send_append(cc.node, true);
  }
}

void Raft::abort_leader_transfer() {
  lead_transferee_ = kNoNode;
  transfer_elapsed_ = 0;
}

ProposeError Raft::transfer_leader(NodeId to) {
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  if (to == id_ || !tracker_.is_voter(to)) return ProposeError::kInvalidTarget;
  // A repeated call for the transfer in flight changes nothing, its
  // deadline included.
  if (lead_transferee_ == to) return ProposeError::kOk;
  lead_transferee_ = to;
  // The transfer must finish within an election timeout (see
  // tick_heartbeat). Its clock is not the election clock: resetting that
  // would postpone check-quorum, and a leader cut off from its quorum could
  // keep leading for as long as transfer calls kept coming.
  transfer_elapsed_ = 0;
  Progress* pr = tracker_.get(to);
  MQ_INVARIANT(pr != nullptr);
  if (pr->match == log_.last_index()) {
    Message m;
    m.type = MessageType::kTimeoutNow;
    m.to = to;
    send(std::move(m));
  } else {
    send_append(to, true);
  }
  return ProposeError::kOk;
}

void Raft::handle_timeout_now(const Message& m) {
  if (!promotable()) return;
  hup(true);
}

}  // namespace mq::raft
