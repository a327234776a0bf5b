// Where the node host hands its Raft traffic: the framed TCP transport in a
// process (tcp_peer_transport.h), the simulated network in the node simulator.
#pragma once

#include <cstdint>

#include "mq/peer/raft.pb.h"
#include "node/raft/types.h"
#include "node/server/topology.h"

namespace mq::server {

// Sends Raft traffic to peers: non-blocking, may drop (Raft retransmits).
class PeerSender {
 public:
  virtual ~PeerSender() = default;
  virtual void send(raft::NodeId to, peer::PeerBatch&& batch) = 0;
  // Once per loop iteration, after the host's work: what send() queued
  // may leave now.
  virtual void flush() {}
  // Whether anything arrived from the peer within the last `within_ms`.
  virtual bool recently_heard(raft::NodeId peer, int64_t within_ms) const = 0;
  // The members changed (the cluster map): where each one is now.
  virtual void set_members(const std::vector<PeerInfo>& nodes) { (void)nodes; }
};

}  // namespace mq::server
