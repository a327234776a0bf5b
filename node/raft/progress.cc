#include "node/raft/progress.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "node/raft/invariant.h"

namespace mq::raft {

std::string_view to_string(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe: return "probe";
    case ProgressState::kReplicate: return "replicate";
    case ProgressState::kSnapshot: return "snapshot";
  }
  return "unknown";
}

void Inflights::add(uint64_t last_index) {
  MQ_INVARIANT(!full());
  MQ_INVARIANT(in_flight_.empty() || in_flight_.back() < last_index);
  in_flight_.push_back(last_index);
}

void Inflights::free_le(uint64_t index) {
  while (!in_flight_.empty() && in_flight_.front() <= index) in_flight_.pop_front();
}

void Progress::become_probe() {
  // After a snapshot the follower holds at least the snapshot index.
  if (state == ProgressState::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_offset = 0;
  inflights.reset();
}

void Progress::become_replicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_offset = 0;
  inflights.reset();
}

void Progress::become_snapshot(uint64_t snapshot_index) {
  state = ProgressState::kSnapshot;
  probe_sent = false;
  pending_snapshot = snapshot_index;
  snapshot_offset = 0;
  snapshot_quiet_heartbeats = 0;
  inflights.reset();
}

bool Progress::maybe_update(uint64_t index) {
  bool updated = false;
  if (match < index) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  return updated;
}

bool Progress::is_stale_rejection(uint64_t rejected) const {
  if (state == ProgressState::kReplicate) return rejected <= match;
  return next == 0 || next - 1 != rejected;
}

bool Progress::maybe_decrease_to(uint64_t rejected, uint64_t match_hint) {
  if (is_stale_rejection(rejected)) return false;
  if (state == ProgressState::kReplicate) {
    next = match + 1;
    return true;
  }
  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  probe_sent = false;
  return true;
}

void Progress::rewind(uint64_t proven_match, uint64_t match_hint) {
  MQ_INVARIANT(proven_match <= match_hint);
  match = proven_match;
  // Back to one append at a time, from just past the hint.
  become_probe();
  next = match_hint + 1;
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::kProbe: return probe_sent;
    case ProgressState::kReplicate: return inflights.full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

Progress* ProgressTracker::get(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

void ProgressTracker::add_voter(NodeId id, uint64_t next_index) {
  learners_.erase(id);
  voters_.insert(id);
  auto it = progress_.find(id);
  if (it != progress_.end()) {
    it->second.is_learner = false;  // a promoted learner keeps its progress
    return;
  }
  Progress pr;
  pr.next = next_index;
  pr.inflights = Inflights(max_inflight_);
  pr.recent_active = true;  // a new member gets one round before check-quorum counts it
  progress_.emplace(id, pr);
}

void ProgressTracker::add_learner(NodeId id, uint64_t next_index) {
  if (voters_.count(id)) return;  // demotion is not a single-server change we offer
  learners_.insert(id);
  if (progress_.count(id)) return;
  Progress pr;
  pr.next = next_index;
  pr.is_learner = true;
  pr.inflights = Inflights(max_inflight_);
  pr.recent_active = true;
  progress_.emplace(id, pr);
}

void ProgressTracker::remove(NodeId id) {
  voters_.erase(id);
  learners_.erase(id);
  progress_.erase(id);
  votes_.erase(id);
}

void ProgressTracker::reset_membership(const std::vector<NodeId>& voters,
                                       const std::vector<NodeId>& learners, uint64_t next_index) {
  voters_.clear();
  learners_.clear();
  progress_.clear();
  votes_.clear();
  for (NodeId id : voters) add_voter(id, next_index);
  for (NodeId id : learners) add_learner(id, next_index);
}

uint64_t ProgressTracker::quorum_match() const {
  if (voters_.empty()) return 0;
  std::vector<uint64_t> matches;
  for (NodeId id : voters_) matches.push_back(progress_.at(id).match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[quorum() - 1];
}

bool ProgressTracker::quorum_active(NodeId self) const {
  size_t active = 0;
  for (NodeId id : voters_) {
    if (id == self || progress_.at(id).recent_active) ++active;
  }
  return active >= quorum();
}

bool ProgressTracker::is_quorum(const std::set<NodeId>& ids) const {
  size_t n = 0;
  for (NodeId id : ids) n += voters_.count(id);
  return !voters_.empty() && n >= quorum();
}

void ProgressTracker::record_vote(NodeId id, bool granted) {
  if (!voters_.count(id)) return;
  votes_.emplace(id, granted);  // the first answer of a voter counts, duplicates do not
}

ProgressTracker::VoteResult ProgressTracker::tally() const {
  size_t granted = 0;
  size_t rejected = 0;
  for (const auto& [id, yes] : votes_) (yes ? granted : rejected)++;
  if (granted >= quorum()) return VoteResult::kWon;
  if (rejected > voters_.size() - quorum()) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace mq::raft
