// What RawNode::ready() hands its caller, and the order the caller must keep
// between persisting it and sending it. The protocol decides that order, not
// the caller: which message may overtake the disk depends on what the message
// reveals, and only the core knows that.
//
// Per Ready, in this order:
//   1. send messages_before_persist     (may overlap with 2: the disk and the
//                                        followers' disks work in parallel)
//   2. persist snapshot, entries, hard_state; make them durable (fsync)
//      when must_sync, else the write may ride on a later sync
//   3. send messages
//   4. apply snapshot, then committed_entries; serve read_states once applied
//   5. RawNode::advance(rd)
// and nothing is stepped into the node between ready() and advance().
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "node/raft/message.h"
#include "node/raft/read_only.h"
#include "node/raft/status.h"
#include "node/raft/types.h"

namespace mq::raft {

// Who leads, as this node sees it (etcd's SoftState). Role and leader are
// volatile, a restart forgets them; the term is hard state, repeated here so
// that one field tells a caller everything it tracks about leadership.
struct SoftState {
  Role role = Role::kFollower;
  uint64_t term = 0;
  NodeId lead = kNoNode;

  bool operator==(const SoftState&) const = default;
};

struct Ready {
  // Set when role, term or leader changed since the previous Ready (a Ready
  // is produced for such a change alone). Informational: nothing to persist
  // beyond hard_state.
  std::optional<SoftState> soft_state;

  // Set when term, vote or commit changed since the previous Ready.
  std::optional<HardState> hard_state;
  // Whether persisting this Ready needs a sync before messages leave and
  // before advance(): true when it carries entries or a snapshot, or when the
  // term or the vote changed. A change of the commit index alone needs none:
  // the commit index is volatile in Raft (a restarted node learns it again
  // from its leader), so such a hard state may be written lazily or lost in
  // a crash. Anything below the snapshot index is committed by definition.
  bool must_sync = false;

  std::optional<Snapshot> snapshot;  // received from the leader: persist and restore
  std::vector<Entry> entries;        // to append to stable storage

  // Messages that may leave before this Ready is persisted. Filled only
  // when Config::split_messages_before_persist is set; otherwise every
  // message is in `messages`. Exactly the leader's own traffic of a term
  // already durable with its vote for itself (appends, heartbeats, snapshot
  // chunks, TimeoutNow), so the followers write while the leader does
  // (Raft dissertation 10.2.1). Such a message reveals nothing the disk has
  // not got: the leader's unpersisted entries it carries count towards a
  // commit only through the leader's own match, which no acknowledgement
  // can meet before this Ready is persisted (nothing is stepped in between).
  // Never here: votes and vote requests, any response (an acknowledgement
  // of entries, a snapshot, a heartbeat), and anything of a term not yet
  // durable, i.e. a term bump; see may_send_before_persist.
  std::vector<Message> messages_before_persist;
  // Messages to send only once everything above is durable.
  std::vector<Message> messages;

  std::vector<Entry> committed_entries;  // to apply, in order
  std::vector<ReadState> read_states;

  bool empty() const {
    return !soft_state && !hard_state && !snapshot && entries.empty() &&
           messages_before_persist.empty() && messages.empty() && committed_entries.empty() &&
           read_states.empty();
  }
};

// Whether `m`, sent by this node, may leave before the Ready carrying it is
// persisted, when `durable` is the hard state persisted before that Ready:
// only a leader's own traffic of its durable term, with its vote for itself
// durable too (a leader's term is the one it campaigned at).
bool may_send_before_persist(const Message& m, const HardState& durable);

// Whether persisting a Ready with this content needs a sync, `previous`
// being the hard state of the Ready before (see Ready::must_sync).
bool must_sync(const std::optional<HardState>& hard_state, const HardState& previous,
               bool has_entries, bool has_snapshot);

}  // namespace mq::raft
