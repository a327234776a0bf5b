// What a peer transport knows of the other members, whatever carries the
// bytes: each member's name and id (the sender of a batch or a hello is
// named), the faults injected at this layer (traffic to or from chosen
// peers dropped, so partitions need no root), and when each peer was last
// heard from. Every method is safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/raft/types.h"
#include "node/server/topology.h"

namespace mq::server {

// Where to dial a member, as far as the caller knows right now.
struct PeerAddress {
  std::string address;      // host:port; "" while it is being looked up
  std::string unreachable;  // why the last lookup failed ("" if it did not)
};

class PeerDirectory {
 public:
  explicit PeerDirectory(raft::NodeId self) : self_(self) {}

  void learn(const std::vector<PeerInfo>& nodes);  // names stay known after removal
  std::optional<raft::NodeId> id_of(const std::string& name) const;

  void set_blocked(std::set<std::string> outbound, std::set<std::string> inbound);
  std::set<std::string> blocked_outbound() const;
  std::set<std::string> blocked_inbound() const;
  bool outbound_blocked(const std::string& name) const;
  bool inbound_blocked(const std::string& name) const;

  void note_heard(raft::NodeId from);
  bool recently_heard(raft::NodeId peer, int64_t within_ms) const;

 private:
  const raft::NodeId self_;
  mutable std::mutex mutex_;
  std::map<std::string, raft::NodeId> ids_;
  std::set<std::string> blocked_out_, blocked_in_;
  std::map<raft::NodeId, int64_t> last_heard_ms_;  // steady clock
};

}  // namespace mq::server
