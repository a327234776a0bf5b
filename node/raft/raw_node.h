// The interface a server (one instance per shard group) or the simulator
// drives. The caller owns the loop:
//
//   node.tick() / node.step(msg) / node.propose(data) / ...
//   if (node.has_ready()) {
//     Ready rd = node.ready();
//     note rd.soft_state (role, term, leader) when set
//     send rd.messages_before_persist                  (may overlap the write)
//     persist rd.hard_state, rd.snapshot, rd.entries   (WAL, then MemoryStorage;
//                                                       sync when rd.must_sync)
//     send rd.messages                                 (only after persisting)
//     apply rd.snapshot, then rd.committed_entries     (state machine)
//     serve rd.read_states once applied >= their index
//     node.advance(rd);
//   }
//
// Nothing may be called on the node between ready() and advance(). ready.h
// says what each field means and why the order is what it is.
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
#include "node/raft/ready.h"
#include "node/raft/status.h"
#include "node/raft/storage.h"
#include "node/raft/types.h"

namespace mq::raft {

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

  // True when a Ready would carry anything, a change of role, term or
  // leader alone included.
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
  SoftState soft_state() const;

  Raft raft_;
  // The hard state of the last Ready advanced: what the caller has persisted
  // (a commit-only change may not be durable; term and vote are).
  HardState prev_hard_state_;
  // The soft state of the last Ready handed out (etcd accepts it at ready()).
  SoftState prev_soft_state_;
  const bool split_messages_before_persist_;
  uint64_t max_committed_bytes_per_ready_;
};

}  // namespace mq::raft
