// How one Raft node behaves. Every queue and batch the core keeps is bounded
// by a field here: a leader never holds more than these limits allow.
#pragma once

#include <cstdint>
#include <string>

#include "node/raft/types.h"

namespace mq::raft {

struct Config {
  NodeId id = kNoNode;

  // Ticks are the core's only clock; the caller decides how long one is.
  // A follower campaigns after a timeout drawn from
  // [election_tick, 2 * election_tick) so that split votes do not repeat.
  int election_tick = 10;
  int heartbeat_tick = 1;

  // Pre-vote: a node first asks whether it could win before raising its term,
  // so a partitioned node rejoining does not depose a healthy leader.
  bool pre_vote = true;
  // A leader that hears from no quorum for an election timeout steps down, and
  // followers that heard a leader recently refuse votes (the leader lease).
  bool check_quorum = true;

  uint64_t max_size_per_msg_bytes = 1 << 20;
  uint64_t max_entries_per_msg = 256;
  // Pipelined appends a leader keeps in flight per follower.
  uint64_t max_inflight_msgs = 64;
  // Payload bytes a leader accepts before they commit; past it proposals are
  // refused (kTooMuchUncommitted) instead of growing memory without end.
  uint64_t max_uncommitted_bytes = 64 << 20;
  uint64_t snapshot_chunk_bytes = 1 << 20;
  // ReadIndex requests waiting for a new leader's first commit.
  uint64_t max_pending_reads = 1024;

  // Split each Ready's messages into those that may leave before the Ready
  // is persisted (Ready::messages_before_persist: a leader's appends and
  // heartbeats of a durable term) and those that must wait (Ready::messages).
  // Off, every message is in Ready::messages, which is right for a caller
  // that sends only after persisting.
  bool split_messages_before_persist = false;

  // Index the state machine has already applied (0 on a fresh start, the
  // snapshot index when the caller restored one).
  uint64_t applied = 0;

  // Seed of the election-timeout generator: the caller owns randomness.
  uint64_t random_seed = 1;

  // Empty when the config is usable, else what is wrong with it.
  std::string validate() const;
};

}  // namespace mq::raft
