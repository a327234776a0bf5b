// Cluster-wide Raft safety properties (Raft paper, figure 3), checked from
// the simulator's omniscient view after every event:
//   election safety      at most one leader per term, over the whole run;
//   log matching         two persisted entries with the same index and term
//                        have the same content and the same predecessor term;
//   leader completeness  a leader's log holds every entry committed so far;
//   commit safety        once committed, an index never holds another entry,
//                        and a node's durable commit index never decreases;
//   state machine safety no two nodes apply different entries at an index;
//                        applied <= committed on every node.
// And the node-local promises of each Ready, which those rest on:
//   durable before sent  no vote, vote request or acknowledgement leaves a
//                        node before the term, vote or entries it reveals are
//                        on its disk; only a leader's own traffic of a term
//                        already durable leaves before its Ready is written;
//   sync when needed     a Ready asks for a sync exactly when it carries
//                        entries, a snapshot, or a new term or vote;
//   soft state           every change of role, term or leader is reported.
// A broken property is recorded as text; the run fails with it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "node/raft/memory_storage.h"
#include "node/raft/message.h"
#include "node/raft/ready.h"
#include "node/raft/status.h"
#include "node/raft/types.h"

namespace mq::sim {

class ClusterChecker {
 public:
  void on_status(const raft::Status& s);
  // After a node persisted a Ready's entries and hard state.
  void on_persisted(raft::NodeId id, const std::vector<raft::Entry>& entries,
                    const raft::MemoryStorage& storage, uint64_t previous_durable_commit);
  void on_applied(raft::NodeId id, const raft::Entry& e);
  // A message leaving node `id` while its disk holds `disk`; `before_persist`
  // when it leaves ahead of the write of the Ready that carries it.
  void on_sent(raft::NodeId id, const raft::Message& m, const raft::MemoryStorage& disk,
               bool before_persist);
  // A Ready about to be written over the hard state `durable`.
  void on_ready(raft::NodeId id, const raft::Ready& rd, const raft::HardState& durable);
  // When a node has no Ready: the soft state its Readies reported must be its own.
  void on_soft_state(raft::NodeId id, const raft::SoftState& reported, const raft::SoftState& actual);
  // A node acting as leader: its log must hold everything committed.
  void check_leader_log(raft::NodeId id, uint64_t term, const raft::MemoryStorage& storage);

  const std::vector<std::string>& violations() const { return violations_; }
  uint64_t max_committed() const { return committed_.empty() ? 0 : committed_.rbegin()->first; }

 private:
  struct EntryKey {
    std::string data;
    uint8_t type;
    uint64_t prev_term;
  };
  void violation(std::string what);

  std::map<uint64_t, raft::NodeId> leader_of_term_;
  std::map<std::pair<uint64_t, uint64_t>, EntryKey> persisted_;  // (index, term)
  std::map<uint64_t, uint64_t> committed_;                        // index -> term
  std::map<uint64_t, std::pair<uint64_t, std::string>> applied_;  // index -> (term, data)
  std::map<std::pair<raft::NodeId, uint64_t>, bool> leader_checked_;  // (node, term)
  std::vector<std::string> violations_;
};

}  // namespace mq::sim
