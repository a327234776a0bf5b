// Raft traffic between nodes: one long-lived gRPC stream per destination,
// fed by a bounded queue, so a slow or dead peer costs only its own queue
// and never blocks the event loop. Messages a peer cannot take are dropped:
// Raft retransmits what matters.
//
// Fault injection (for the launcher's partition/isolate/heal): traffic to or
// from chosen peers can be dropped at this layer, so partitions need no root.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mq/peer/raft.pb.h"
#include "node/server/peer_directory.h"
#include "node/server/peer_sender.h"
#include "node/server/topology.h"

namespace grpc {
class Service;
}

namespace mq::server {

class PeerTransport final : public PeerSender {
 public:
  // Called on a gRPC thread with every batch received from a peer of this
  // cluster (the batch's from_node resolved to its Raft id).
  using Receiver = std::function<void(raft::NodeId from, peer::PeerBatch&& batch)>;

  PeerTransport(const Topology& topology, Receiver receiver);
  ~PeerTransport() override;

  // Non-blocking. The batch's cluster_id and from_node are filled here.
  void send(raft::NodeId to, peer::PeerBatch&& batch) override;
  // New members get a link; a member's new address is used from its next
  // connection. Links to removed members stay (they may still be draining).
  void set_members(const std::vector<PeerInfo>& nodes) override;

  // The service peers stream into; register it with the node's gRPC server.
  grpc::Service* service();

  // Drop traffic to (outbound) or from (inbound) these peers; empty sets heal.
  void set_blocked(std::set<std::string> outbound, std::set<std::string> inbound);
  std::set<std::string> blocked_outbound() const;
  std::set<std::string> blocked_inbound() const;

  // Last time a batch arrived from each peer (steady clock ms), for status.
  bool recently_heard(raft::NodeId peer, int64_t within_ms) const override;

  void stop();

 private:
  struct Link;
  class Service;
  void run_link(Link* link);
  void add_link(const PeerInfo& peer);  // links_mutex_ held

  const std::string cluster_id_;
  const raft::NodeId self_;
  const std::string self_name_;
  Receiver receiver_;
  std::unique_ptr<Service> service_;
  PeerDirectory directory_;
  mutable std::mutex links_mutex_;  // links_
  std::map<raft::NodeId, std::unique_ptr<Link>> links_;
  std::atomic<bool> stopping_{false};
};

}  // namespace mq::server
