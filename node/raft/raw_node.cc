#include "node/raft/raw_node.h"

#include "node/raft/invariant.h"

namespace mq::raft {

static bool operator_equal(const HardState& a, const HardState& b) {
  return a.term == b.term && a.vote == b.vote && a.commit == b.commit;
}

RawNode::RawNode(const Config& config, const Storage& storage)
    : raft_(config, storage),
      prev_hard_state_(storage.hard_state()),
      prev_soft_state_(soft_state()),
      split_messages_before_persist_(config.split_messages_before_persist),
      // Applying is bounded like sending: a lagging state machine catches up
      // in batches rather than one Ready holding the whole log.
      max_committed_bytes_per_ready_(config.max_size_per_msg_bytes * 4) {
  raft_.check_invariants();
}

void RawNode::after_input() { raft_.check_invariants(); }

void RawNode::tick() {
  raft_.tick();
  after_input();
}

void RawNode::step(const Message& m) {
  raft_.step(m);
  after_input();
}

ProposeError RawNode::propose(std::string data) {
  const ProposeError err = raft_.propose(std::move(data));
  after_input();
  return err;
}

ProposeError RawNode::propose_batch(std::vector<std::string>& data, size_t* accepted) {
  const ProposeError err = raft_.propose_batch(data, accepted);
  after_input();
  return err;
}

ProposeError RawNode::propose_conf_change(const ConfChange& cc) {
  const ProposeError err = raft_.propose_conf_change(cc);
  after_input();
  return err;
}

ProposeError RawNode::read_index(std::string context) {
  const ProposeError err = raft_.read_index(std::move(context));
  after_input();
  return err;
}

ProposeError RawNode::transfer_leader(NodeId to) {
  const ProposeError err = raft_.transfer_leader(to);
  after_input();
  return err;
}

void RawNode::campaign() {
  raft_.campaign();
  after_input();
}

SoftState RawNode::soft_state() const { return SoftState{raft_.role(), raft_.term(), raft_.lead()}; }

bool RawNode::has_ready() const {
  const RaftLog& log = raft_.log();
  return raft_.commit_unsent() || soft_state() != prev_soft_state_ ||
         !operator_equal(raft_.hard_state(), prev_hard_state_) ||
         log.unstable_snapshot() ||
         !log.unstable_entries().empty() || !raft_.messages().empty() ||
         log.has_next_committed() || !raft_.read_states().empty();
}

Ready RawNode::ready() {
  raft_.flush_commit();
  Ready rd;
  if (const SoftState ss = soft_state(); ss != prev_soft_state_) {
    rd.soft_state = ss;
    prev_soft_state_ = ss;
  }
  const HardState hs = raft_.hard_state();
  if (!operator_equal(hs, prev_hard_state_)) rd.hard_state = hs;
  const RaftLog& log = raft_.log();
  rd.snapshot = log.unstable_snapshot();
  rd.entries = log.unstable_entries();
  rd.must_sync = must_sync(rd.hard_state, prev_hard_state_, !rd.entries.empty(), rd.snapshot.has_value());
  rd.messages.swap(raft_.messages());
  if (split_messages_before_persist_) {
    // prev_hard_state_ is durable in term and vote: every Ready that changed
    // them had must_sync set and was persisted before its advance().
    std::vector<Message> after;
    for (Message& m : rd.messages) {
      (may_send_before_persist(m, prev_hard_state_) ? rd.messages_before_persist : after)
          .push_back(std::move(m));
    }
    rd.messages.swap(after);
  }
  rd.committed_entries = log.next_committed(max_committed_bytes_per_ready_);
  rd.read_states.swap(raft_.read_states());
  return rd;
}

void RawNode::advance(const Ready& rd) {
  if (rd.hard_state) prev_hard_state_ = *rd.hard_state;
  if (rd.snapshot) raft_.on_snapshot_applied(rd.snapshot->meta);
  if (!rd.entries.empty()) raft_.log().stable_to(rd.entries.back().index, rd.entries.back().term);
  raft_.on_applied(rd.committed_entries);
  after_input();
}

std::vector<NodeId> RawNode::voters() const {
  const auto& v = raft_.tracker().voters();
  return {v.begin(), v.end()};
}

std::vector<NodeId> RawNode::learners() const {
  const auto& l = raft_.tracker().learners();
  return {l.begin(), l.end()};
}

}  // namespace mq::raft
