// Linearizable reads without a log write (Ongaro's dissertation, 6.4).
#include "node/raft/raft.h"

namespace mq::raft {

ProposeError Raft::read_index(std::string context) {
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  // A new leader's commit index can be behind its predecessor's until it
  // commits an entry of its own term: answering with it would let a read
  // miss an acknowledged write. Such reads wait for the no-op to commit.
  if (log_.term(log_.committed()) != term_) {
    if (reads_waiting_for_commit_.size() >= config_.max_pending_reads) {
      return ProposeError::kTooManyPendingReads;
    }
    reads_waiting_for_commit_.push_back(std::move(context));
    return ProposeError::kOk;
  }
  if (read_only_.size() >= config_.max_pending_reads) return ProposeError::kTooManyPendingReads;
  start_read(std::move(context));
  return ProposeError::kOk;
}

void Raft::start_read(std::string context) {
  if (tracker_.is_quorum({id_})) {
    // Alone in the configuration: no one else can have been elected.
    read_states_.push_back(ReadState{log_.committed(), std::move(context)});
    return;
  }
  if (read_only_.contains(context)) return;
  const std::string round = context;
  read_only_.add(std::move(context), log_.committed(), id_);
  bcast_heartbeat(round);
}

void Raft::release_pending_reads() {
  std::vector<std::string> waiting;
  waiting.swap(reads_waiting_for_commit_);
  for (std::string& context : waiting) start_read(std::move(context));
}

void Raft::handle_read_ack(const Message& m) {
  const std::set<NodeId>* acks = read_only_.ack(m.context, m.from);
  if (acks == nullptr || !tracker_.is_quorum(*acks)) return;
  for (ReadOnly::Request& r : read_only_.release_through(m.context)) {
    read_states_.push_back(ReadState{r.index, std::move(r.context)});
  }
}

}  // namespace mq::raft
