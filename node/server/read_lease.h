// The leader's read lease for one shard group: while it holds, linearizable
// reads are answered from the leader's applied state with no heartbeat round.
//
// Why it is safe. A lease starts at the moment a ReadIndex round was ISSUED
// (before its heartbeats left), and only once a quorum confirmed that round.
// Every follower that answered heard the leader after that moment and then
// refuses (pre-)votes for an election timeout (check-quorum's follower lease
// in the Raft core), measured in its own ticks, which never run faster than
// the tick period (the node's loop skips ticks after a stall rather than
// bunching them). Any new leader needs the vote of one of them, or of this
// leader, which votes for nobody until check-quorum deposes it at least an
// election timeout after the confirming answers. So no other leader can
// exist before issue time + (election ticks - 2) * tick, where election
// ticks and tick are THE ANSWERING FOLLOWER'S: nodes may run with different
// timing, so every peer batch carries its sender's refusal window
// (vote_refusal_us, see length_for) and the leader sizes each lease from the
// shortest window among the shard's replicas it has heard, its own
// included. The lease is 80% of that, on this node's boot clock (real time,
// suspends included: a paused process or a suspended host that resumes
// finds its lease expired, whatever its tick count says; clocks may drift
// apart by up to 20% before this margin is gone).
//
// What voids it: a leadership transfer (the target's forced vote passes the
// followers' lease), for the rest of that term; a new term; and, on a node
// restarted from disk, nothing it remembers, which is why a restarted node
// neither votes nor campaigns during its first election timeout (see
// RaftBackend). A read served under the lease still waits until the leader
// has applied the confirmed round's index: that covers writes committed by
// earlier leaders; this leader's own acknowledged writes are applied before
// they are acknowledged.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "node/server/node_clock.h"

namespace mq::server {

class ReadLease {
 public:
  using Clock = BootClock;

  // How long a node with this timing refuses votes after hearing its
  // leader, less two ticks of slack: a stalled loop may tick twice in a row
  // once, so a follower's timeout can end up to two ticks early.
  static Clock::duration vote_refusal(int election_ticks, int tick_ms);
  // The lease a round confirmed by followers refusing votes for `refusal`
  // supports (80% of it); `factor` > 1 only in the simulator's mutation
  // checks, which must see a too-long lease caught.
  static Clock::duration length_for(Clock::duration refusal, int factor = 1);

  // enabled false: no lease ever (--read-lease off).
  explicit ReadLease(bool enabled) : enabled_(enabled) {}

  // A ReadIndex round issued at `issued` while leading `term` was confirmed
  // by a quorum with read index `index`; the lease lasts `length` from the
  // issue time.
  void confirmed(uint64_t term, Clock::time_point issued, uint64_t index, Clock::duration length);
  // A leadership transfer started in `term`: no lease for the rest of it.
  void forbid(uint64_t term);
  // Leadership lost or a new term: start over.
  void reset();

  // The index a read must wait for when the lease covers `now` in `term`.
  std::optional<uint64_t> read_index(uint64_t term, Clock::time_point now) const;
  // True when the lease covers `now` but is past half its length: a round
  // issued now keeps it from lapsing under a steady read load.
  bool wants_renewal(uint64_t term, Clock::time_point now) const;
  // The term of the last confirmed round (0: none).
  uint64_t term() const { return term_; }

 private:
  bool enabled_;
  Clock::duration length_{};  // of the last confirmed round
  uint64_t term_ = 0;
  uint64_t forbidden_term_ = 0;
  uint64_t index_ = 0;
  Clock::time_point until_{};
};

}  // namespace mq::server
