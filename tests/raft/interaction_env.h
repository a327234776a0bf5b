// A scripted cluster for golden-trace tests (in the manner of etcd raft's
// testdata): each command drives nodes directly and prints what happened —
// Ready contents, messages delivered or dropped — so a scenario reads as a
// protocol trace and any change in behaviour shows up as a text diff.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "node/raft/memory_storage.h"
#include "node/raft/raw_node.h"

namespace mq::raft::testing {

class InteractionEnv {
 public:
  InteractionEnv();

  // Runs one command line and returns its output (lines, each "\n"-ended).
  std::string run(const std::string& line);

  // Direct access for unit tests.
  RawNode& node(NodeId id) { return *nodes_.at(id).raw; }
  MemoryStorage& storage(NodeId id) { return *nodes_.at(id).storage; }
  const std::vector<Entry>& applied(NodeId id) { return nodes_.at(id).applied; }
  std::string stabilize();
  std::string deliver_round();
  Config base_config;

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    std::vector<Entry> applied;
    bool down = false;
  };

  struct Flight {
    Message m;
    bool before_persist = false;  // left before its sender persisted the Ready
  };

  void add_node(NodeId id, const std::vector<NodeId>& bootstrap_voters);
  void restart(NodeId id);
  // Persists and applies one node's Ready; returns false when it had none.
  bool handle_ready(NodeId id, std::ostringstream& out);
  // Takes one node's Ready, sends what may leave before persisting, then
  // crashes the node with nothing of the Ready on its disk.
  void crash_before_persist(NodeId id, std::ostringstream& out);
  // Prints the soft state and sends the messages that may precede the write.
  void send_before_persist(NodeId id, Ready& rd, std::ostringstream& out);
  bool deliverable(const Message& m) const;
  bool round(std::ostringstream& out);

  std::map<NodeId, Node> nodes_;
  std::vector<Flight> in_flight_;
  // Directed links that drop everything (from, to).
  std::set<std::pair<NodeId, NodeId>> cut_;
  uint64_t restart_count_ = 0;
};

}  // namespace mq::raft::testing
