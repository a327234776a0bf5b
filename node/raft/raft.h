// The protocol itself: one node's Raft state and its reaction to each input.
// Pure and deterministic: no clock, socket, thread or file. RawNode wraps it
// with the Ready/advance cycle; callers use RawNode.
//
// The implementation is split by concern: raft.cc (roles, terms, dispatch),
// election.cc, replication.cc, read_index.cc, snapshot.cc, membership.cc,
// invariants.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/raft/conf_change.h"
#include "node/raft/config.h"
#include "node/raft/errors.h"
#include "node/raft/message.h"
#include "node/raft/prng.h"
#include "node/raft/progress.h"
#include "node/raft/raft_log.h"
#include "node/raft/read_only.h"
#include "node/raft/status.h"
#include "node/raft/storage.h"

namespace mq::raft {

class Raft {
 public:
  Raft(const Config& config, const Storage& storage);

  // --- inputs ---
  void tick();
  void step(const Message& m);
  ProposeError propose(std::string data);
  // Proposes many entries with one append per follower; see RawNode.
  ProposeError propose_batch(std::vector<std::string>& data, size_t* accepted);
  ProposeError propose_conf_change(const ConfChange& cc);
  ProposeError read_index(std::string context);
  ProposeError transfer_leader(NodeId to);
  // Starts an election now (tests, and an operator forcing one).
  void campaign();

  // --- outputs, drained by RawNode ---
  // A leader's commit index that advanced since its last appends travels
  // lazily: on every append queued before the outputs are drained, and in
  // an append of its own to each follower that has none queued. Called by
  // RawNode just before it drains messages.
  void flush_commit();
  bool commit_unsent() const { return commit_unsent_; }
  std::vector<Message>& messages() { return msgs_; }
  const std::vector<Message>& messages() const { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  const std::vector<ReadState>& read_states() const { return read_states_; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }

  // The application applied these committed entries (membership changes
  // among them take effect now) and the leader may accept more bytes.
  void on_applied(const std::vector<Entry>& entries);
  void on_snapshot_applied(const SnapshotMeta& meta);

  // --- observation ---
  NodeId id() const { return id_; }
  Role role() const { return role_; }
  uint64_t term() const { return term_; }
  NodeId lead() const { return lead_; }
  const ProgressTracker& tracker() const { return tracker_; }
  Status status() const;

  // Checks the node-local invariants (see invariants.cc); aborts on a break.
  void check_invariants();

 private:
  // raft.cc
  void reset(uint64_t term);
  void become_follower(uint64_t term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void send(Message m);
  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  bool promotable() const;
  void tick_election();
  void tick_heartbeat();
  void reset_randomized_election_timeout();
  bool past_election_timeout() const;

  // election.cc
  void hup(bool transfer);
  void campaign_vote(bool transfer);
  void campaign_pre_vote();
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  bool has_unapplied_conf_change() const;

  // replication.cc
  bool append_entry(std::vector<Entry> entries);
  bool maybe_commit();
  bool send_append(NodeId to, bool send_if_empty);
  void bcast_append();
  void send_heartbeat(NodeId to, const std::string& context);
  void bcast_heartbeat(const std::string& context);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void on_commit_advanced();

  // read_index.cc
  void start_read(std::string context);
  void release_pending_reads();
  void handle_read_ack(const Message& m);

  // snapshot.cc
  void send_snapshot(NodeId to);
  void send_snapshot_chunk(NodeId to);
  void handle_snapshot(const Message& m);
  void handle_snapshot_response(const Message& m);
  bool restore(const Snapshot& snapshot);

  // membership.cc
  void apply_conf_change(const ConfChange& cc);
  void abort_leader_transfer();
  void handle_timeout_now(const Message& m);

  NodeId id_;
  Config config_;
  const Storage& storage_;
  RaftLog log_;
  ProgressTracker tracker_;
  Prng prng_;

  Role role_ = Role::kFollower;
  uint64_t term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  // The commit index advanced and not every follower has been told yet.
  bool commit_unsent_ = false;
  int randomized_election_timeout_ = 0;

  std::vector<Message> msgs_;

  // Leader state.
  NodeId lead_transferee_ = kNoNode;
  // Ticks since the transfer to lead_transferee_ began: it has a deadline of
  // its own, so no number of transfer calls can postpone check-quorum.
  int transfer_elapsed_ = 0;
  // Index of the newest membership change this leader appended; another waits
  // until it is applied.
  uint64_t pending_conf_index_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  ReadOnly read_only_;
  // Reads that arrived before this leader committed an entry of its term:
  // until then its commit index may lag what an earlier leader committed.
  std::vector<std::string> reads_waiting_for_commit_;
  std::vector<ReadState> read_states_;

  // Follower state: a snapshot arriving in chunks.
  std::optional<Snapshot> incoming_snapshot_;

  // For invariant checks.
  uint64_t last_seen_commit_ = 0;
};

}  // namespace mq::raft
