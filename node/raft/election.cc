// Leader election: randomized timeouts, pre-vote, and the vote rules of the
// Raft paper (5.2, 5.4.1).
#include "node/raft/invariant.h"
#include "node/raft/raft.h"

namespace mq::raft {

void Raft::campaign() { hup(false); }

bool Raft::has_unapplied_conf_change() const {
  if (log_.committed() <= log_.applied()) return false;
  std::vector<Entry> pending;
  if (!log_.slice(log_.applied() + 1, log_.committed() + 1, UINT64_MAX, &pending)) return false;
  for (const Entry& e : pending) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::hup(bool transfer) {
  if (role_ == Role::kLeader || !promotable()) return;
  // Our idea of the voters may be about to change: campaigning with a stale
  // membership could count the wrong quorum.
  if (has_unapplied_conf_change()) return;
  if (config_.pre_vote && !transfer) {
    campaign_pre_vote();
  } else {
    campaign_vote(transfer);
  }
}

void Raft::campaign_pre_vote() {
  become_pre_candidate();
  tracker_.record_vote(id_, true);
  if (tracker_.tally() == ProgressTracker::VoteResult::kWon) {
    campaign_vote(false);
    return;
  }
  for (NodeId voter : tracker_.voters()) {
    if (voter == id_) continue;
    Message m;
    m.type = MessageType::kPreVote;
    m.to = voter;
    m.term = term_ + 1;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    send(std::move(m));
  }
}

void Raft::campaign_vote(bool transfer) {
  become_candidate();
  tracker_.record_vote(id_, true);
  if (tracker_.tally() == ProgressTracker::VoteResult::kWon) {
    become_leader();
    return;
  }
  for (NodeId voter : tracker_.voters()) {
    if (voter == id_) continue;
    Message m;
    m.type = MessageType::kVote;
    m.to = voter;
    m.term = term_;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (transfer) m.context = std::string(kTransferContext);
    send(std::move(m));
  }
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  // Repeat a vote already given, or give one when free; a pre-vote for a
  // later term binds nothing, so it only needs an up-to-date log.
  const bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                        (pre && m.term > term_);
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  resp.to = m.from;
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    resp.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  send(std::move(resp));
}

void Raft::handle_vote_response(const Message& m) {
  const bool expected = (role_ == Role::kPreCandidate && m.type == MessageType::kPreVoteResp) ||
                        (role_ == Role::kCandidate && m.type == MessageType::kVoteResp);
  if (!expected) return;
  tracker_.record_vote(m.from, !m.reject);
  switch (tracker_.tally()) {
    case ProgressTracker::VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        campaign_vote(false);
      } else {
        become_leader();
        bcast_append();
      }
      break;
    case ProgressTracker::VoteResult::kLost:
      become_follower(term_, kNoNode);
      break;
    case ProgressTracker::VoteResult::kPending:
      break;
  }
}

}  // namespace mq::raft
