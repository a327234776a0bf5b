// Roles, terms and the dispatch of every message to its handler.
#include "node/raft/raft.h"

#include <algorithm>

#include "node/raft/invariant.h"

namespace mq::raft {

namespace {
// Heartbeats without an answer from a follower being sent a snapshot before
// its chunk is sent again.
constexpr int kSnapshotResendHeartbeats = 3;
}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "unknown";
}

Raft::Raft(const Config& config, const Storage& storage)
    : id_(config.id),
      config_(config),
      storage_(storage),
      log_(storage),
      tracker_(config.max_inflight_msgs),
      prng_(config.random_seed) {
  MQ_INVARIANT(config.validate().empty());
  const HardState hs = storage.hard_state();
  term_ = hs.term;
  vote_ = hs.vote;

  // Membership as of the applied index: the snapshot's, then every change
  // the state machine had applied before the restart.
  const SnapshotMeta& meta = storage.snapshot_meta();
  tracker_.reset_membership(meta.voters, meta.learners, log_.last_index() + 1);
  const uint64_t applied = std::max(config.applied, meta.index);
  MQ_INVARIANT(applied <= log_.committed());
  std::vector<Entry> replay;
  if (applied > meta.index) {
    MQ_INVARIANT(log_.slice(meta.index + 1, applied + 1, UINT64_MAX, &replay));
  }
  for (const Entry& e : replay) {
    if (e.type != EntryType::kConfChange) continue;
    auto cc = decode_conf_change(e.data);
    MQ_INVARIANT(cc.has_value());
    apply_conf_change(*cc);
  }
  log_.applied_to(applied);
  last_seen_commit_ = log_.committed();
  become_follower(term_, kNoNode);
}

void Raft::reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  tracker_.reset_votes();
  for (auto& [id, pr] : tracker_.progress()) {
    const bool learner = pr.is_learner;
    pr = Progress{};
    pr.is_learner = learner;
    pr.next = log_.last_index() + 1;
    pr.inflights = Inflights(config_.max_inflight_msgs);
    if (id == id_) pr.match = log_.last_index();
  }
  pending_conf_index_ = 0;
  uncommitted_bytes_ = 0;
  read_only_.clear();
  reads_waiting_for_commit_.clear();
}

void Raft::become_follower(uint64_t term, NodeId lead) {
  reset(term);
  role_ = Role::kFollower;
  lead_ = lead;
}

void Raft::become_pre_candidate() {
  MQ_INVARIANT(role_ != Role::kLeader);
  // The term stays: a pre-vote must not disturb anyone if it fails.
  tracker_.reset_votes();
  role_ = Role::kPreCandidate;
  lead_ = kNoNode;
}

void Raft::become_candidate() {
  MQ_INVARIANT(role_ != Role::kLeader);
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  MQ_INVARIANT(role_ == Role::kCandidate);
  reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  if (Progress* self = tracker_.get(id_)) self->become_replicate();
  // A membership change may sit uncommitted in the log; no new one until the
  // log up to here is applied.
  pending_conf_index_ = log_.last_index();
  // The no-op: entries of earlier terms commit only through one of ours.
  Entry noop;
  MQ_INVARIANT(append_entry({noop}));
}

void Raft::send(Message m) {
  m.from = id_;
  // Vote traffic carries its own term (a pre-vote asks for term+1); every
  // other message speaks for the current term.
  const bool vote_traffic = m.type == MessageType::kPreVote || m.type == MessageType::kVote ||
                            m.type == MessageType::kPreVoteResp ||
                            m.type == MessageType::kVoteResp;
  if (!vote_traffic) m.term = term_;
  msgs_.push_back(std::move(m));
}

bool Raft::promotable() const {
  return tracker_.is_voter(id_) && !log_.unstable_snapshot().has_value();
}

void Raft::reset_randomized_election_timeout() {
  randomized_election_timeout_ =
      config_.election_tick + static_cast<int>(prng_.uniform(config_.election_tick));
}

bool Raft::past_election_timeout() const {
  return election_elapsed_ >= randomized_election_timeout_;
}

void Raft::tick() {
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (promotable() && past_election_timeout()) {
    election_elapsed_ = 0;
    hup(false);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      if (!tracker_.quorum_active(id_)) {
        become_follower(term_, kNoNode);
        return;
      }
      for (auto& [id, pr] : tracker_.progress()) {
        if (id != id_) pr.recent_active = false;
      }
    }
  }
  if (lead_transferee_ != kNoNode && ++transfer_elapsed_ >= config_.election_tick) {
    // A transfer that did not finish within an election timeout failed
    // (target down or too slow); accept proposals again.
    abort_leader_transfer();
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    const std::string* ctx = read_only_.last_context();
    bcast_heartbeat(ctx ? *ctx : std::string());
    // Resend a snapshot chunk that may have been lost: one whose answer has
    // not come for a few heartbeats. A resend of a chunk still on its way
    // costs a chunk on the wire and a read of the image for nothing.
    for (auto& [id, pr] : tracker_.progress()) {
      if (id == id_ || pr.state != ProgressState::kSnapshot) continue;
      if (++pr.snapshot_quiet_heartbeats < kSnapshotResendHeartbeats) continue;
      pr.snapshot_quiet_heartbeats = 0;
      send_snapshot_chunk(id);
    }
  }
}

void Raft::step(const Message& m) {
  if (m.to != id_ || m.from == id_ || m.from == kNoNode) return;

  if (m.term > term_) {
    if (m.type == MessageType::kPreVote || m.type == MessageType::kVote) {
      const bool forced = m.type == MessageType::kVote && m.context == kTransferContext;
      const bool in_lease = config_.check_quorum && lead_ != kNoNode &&
                            election_elapsed_ < config_.election_tick;
      // A follower that heard its leader within the timeout ignores
      // candidates: a node cut off and back must not depose a live leader.
      if (!forced && in_lease) return;
    }
    if (m.type == MessageType::kPreVote) {
      // Never change term on a pre-vote.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // A granted pre-vote carries the term we would campaign at.
    } else if (m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnap) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kApp)) {
      // A leader cut off from us may be unable to win elections (pre-vote,
      // lease) yet keep the old term: tell it the new term so it steps down.
      Message resp;
      resp.type = MessageType::kAppResp;
      resp.to = m.from;
      send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResp;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      send(std::move(resp));
    }
    return;
  }

  if (m.type == MessageType::kPreVote || m.type == MessageType::kVote) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case Role::kLeader: step_leader(m); break;
    case Role::kPreCandidate:
    case Role::kCandidate: step_candidate(m); break;
    case Role::kFollower: step_follower(m); break;
  }
}

void Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::kAppResp: handle_append_response(m); break;
    case MessageType::kHeartbeatResp: handle_heartbeat_response(m); break;
    case MessageType::kSnapResp: handle_snapshot_response(m); break;
    default: break;  // votes, stale appends of this term cannot exist
  }
}

void Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
      become_follower(m.term, m.from);
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      break;
    case MessageType::kSnap:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      break;
    case MessageType::kPreVoteResp:
    case MessageType::kVoteResp: handle_vote_response(m); break;
    default: break;
  }
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      break;
    case MessageType::kTimeoutNow: handle_timeout_now(m); break;
    default: break;
  }
}

void Raft::on_applied(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  for (const Entry& e : entries) {
    if (role_ == Role::kLeader && e.term == term_) {
      uncommitted_bytes_ -= std::min<uint64_t>(uncommitted_bytes_, e.data.size());
    }
    if (e.type == EntryType::kConfChange) {
      auto cc = decode_conf_change(e.data);
      MQ_INVARIANT(cc.has_value());
      apply_conf_change(*cc);
    }
  }
  log_.applied_to(entries.back().index);
}

void Raft::on_snapshot_applied(const SnapshotMeta& meta) {
  log_.stable_snapshot_to(meta.index);
  log_.applied_to(meta.index);
}

Status Raft::status() const {
  Status s;
  s.id = id_;
  s.role = role_;
  s.term = term_;
  s.vote = vote_;
  s.lead = lead_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.first_index = log_.first_index();
  s.last_index = log_.last_index();
  s.lead_transferee = lead_transferee_;
  s.voters.assign(tracker_.voters().begin(), tracker_.voters().end());
  s.learners.assign(tracker_.learners().begin(), tracker_.learners().end());
  if (role_ == Role::kLeader) {
    for (const auto& [id, pr] : tracker_.progress()) {
      s.progress[id] = PeerStatus{pr.match, pr.next, pr.state, pr.is_learner, pr.recent_active};
    }
  }
  return s;
}

}  // namespace mq::raft
