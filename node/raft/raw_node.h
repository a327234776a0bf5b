// The interface a server (one instance per shard group) or the simulator
// drives. The caller owns the loop:
//
//   node.tick() / node.step(msg) / node.propose(data) / ...
//   if (node.has_ready()) {
//     Ready rd = node.ready();
//     persist rd.hard_state, rd.snapshot, rd.entries   (WAL, then MemoryStorage)
//     send rd.messages                                 (only after persisting)
//     apply rd.snapshot, then rd.committed_entries     (state machine)
//     serve rd.read_states once applied >= their index
//     node.advance(rd);
//   }
//
// Nothing may be called on the node between ready() and advance().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/raft/config.h"
#include "node/raft/conf_change.h"
#include "node/raft/errors.h"
#include "node/raft/message.h"
#include "node/raft/raft.h"
#include "node/raft/read_only.h"
#include "node/raft/status.h"
#include "node/raft/storage.h"
#include "node/raft/types.h"

namespace mq::raft {

struct Ready {
  std::optional<HardState> hard_state;  // set when it changed
  std::optional<Snapshot> snapshot;     // received from the leader: persist and restore
  std::vector<Entry> entries;           // to append to stable storage
  std::vector<Message> messages;        // to send after the above are durable
  std::vector<Entry> committed_entries;  // to apply, in order
  std::vector<ReadState> read_states;

  bool empty() const {
    return !hard_state && !snapshot && entries.empty() && messages.empty() &&
           committed_entries.empty() && read_states.empty();
  }
};

class RawNode {
 public:
  // The config must be valid (Config::validate() empty); `storage` must
  // outlive the node and already hold what was persisted before a restart.
  RawNode(const Config& config, const Storage& storage);

  void tick();
  // Messages addressed to another node, or from unknown senders, are ignored.
  void step(const Message& m);
  ProposeError propose(std::string data);
  // Proposes data[0..n) in order; *accepted of them (a prefix) were taken.
  // Returns kOk when all were, else why the first refused one was refused.
  // One AppendEntries per follower carries the whole batch.
  ProposeError propose_batch(std::vector<std::string>& data, size_t* accepted);
  ProposeError propose_conf_change(const ConfChange& cc);
  // Answers with a ReadState carrying `context` in a later Ready (callers
  // use unique contexts); kOk does not promise an answer: leadership may be
  // lost first, so callers time reads out.
  ProposeError read_index(std::string context);
  ProposeError transfer_leader(NodeId to);
  void campaign();

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);

  Status status() const { return raft_.status(); }
  // Cheap views of what status() copies, for checks on every request.
  Role role() const { return raft_.role(); }
  uint64_t term() const { return raft_.term(); }
  NodeId lead() const { return raft_.lead(); }
  uint64_t committed() const { return raft_.log().committed(); }
  // Voters and learners as of the applied index, for snapshots.
  std::vector<NodeId> voters() const;
  std::vector<NodeId> learners() const;

 private:
  void after_input();

  Raft raft_;
  HardState prev_hard_state_;
  uint64_t max_committed_bytes_per_ready_;
};

}  // namespace mq::raft
