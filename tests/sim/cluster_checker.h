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
// A broken property is recorded as text; the run fails with it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "node/raft/memory_storage.h"
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
