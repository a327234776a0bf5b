// What a leader knows of each peer's log, and the flow control that follows
// from it: probe one message at a time until a match is found, then pipeline
// appends up to a bounded window, or ship a snapshot when the entries a
// follower needs are compacted away.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string_view>

#include "node/raft/types.h"

namespace mq::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };
std::string_view to_string(ProgressState state);

// Last indexes of appends in flight to one follower, oldest first.
class Inflights {
 public:
  Inflights() = default;
  explicit Inflights(uint64_t capacity) : capacity_(capacity) {}
  bool full() const { return in_flight_.size() >= capacity_; }
  size_t count() const { return in_flight_.size(); }
  void add(uint64_t last_index);
  // An acknowledgement up to `index` frees every append ending at or before it.
  void free_le(uint64_t index);
  void reset() { in_flight_.clear(); }

 private:
  uint64_t capacity_ = 1;
  std::deque<uint64_t> in_flight_;
};

struct Progress {
  uint64_t match = 0;
  uint64_t next = 1;
  ProgressState state = ProgressState::kProbe;
  // Probe: one append awaits its answer; the next heartbeat response resumes.
  bool probe_sent = false;
  // Snapshot: the index being sent and the offset of the chunk last sent
  // (the one the follower's next answer is for).
  uint64_t pending_snapshot = 0;
  uint64_t snapshot_offset = 0;
  // Heartbeats since the follower last answered a chunk: the chunk is
  // sent again only once a few pass in silence (it was lost, or the
  // connection with it), not while it is merely on its way.
  int snapshot_quiet_heartbeats = 0;
  // Heard from since the last check-quorum round.
  bool recent_active = false;
  bool is_learner = false;
  Inflights inflights;

  void become_probe();
  void become_replicate();
  void become_snapshot(uint64_t snapshot_index);
  // An acknowledgement of `index`; false when it is stale.
  bool maybe_update(uint64_t index);
  // A rejection of the append after `rejected` that carries no news: in
  // replicate, one at or below the match (appends are pipelined, so an old
  // rejection can arrive after the acknowledgements that followed it); in
  // probe, any but the one probe outstanding.
  bool is_stale_rejection(uint64_t rejected) const;
  // A rejection of the append after `rejected`; `match_hint` is where the
  // follower's log might match. False when the rejection is stale.
  bool maybe_decrease_to(uint64_t rejected, uint64_t match_hint);
  // A fresh rejection says the follower's log ends below the match: it lost
  // entries it had acknowledged (a wiped disk). Everything the match claimed
  // is void but `proven_match`; probing starts over after `match_hint`.
  void rewind(uint64_t proven_match, uint64_t match_hint);
  bool is_paused() const;
};

// Membership and per-peer progress, kept on every node so a follower that
// becomes leader, or a candidate counting votes, knows the voters.
class ProgressTracker {
 public:
  enum class VoteResult { kPending, kWon, kLost };

  explicit ProgressTracker(uint64_t max_inflight) : max_inflight_(max_inflight) {}

  const std::set<NodeId>& voters() const { return voters_; }
  const std::set<NodeId>& learners() const { return learners_; }
  std::map<NodeId, Progress>& progress() { return progress_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  Progress* get(NodeId id);
  bool is_voter(NodeId id) const { return voters_.count(id) > 0; }

  void add_voter(NodeId id, uint64_t next_index);
  void add_learner(NodeId id, uint64_t next_index);
  void remove(NodeId id);
  void reset_membership(const std::vector<NodeId>& voters, const std::vector<NodeId>& learners,
                        uint64_t next_index);

  size_t quorum() const { return voters_.size() / 2 + 1; }
  // Highest index a quorum of voters has matched.
  uint64_t quorum_match() const;
  bool quorum_active(NodeId self) const;
  bool is_quorum(const std::set<NodeId>& ids) const;

  void reset_votes() { votes_.clear(); }
  void record_vote(NodeId id, bool granted);
  VoteResult tally() const;

 private:
  uint64_t max_inflight_;
  std::set<NodeId> voters_;
  std::set<NodeId> learners_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace mq::raft
