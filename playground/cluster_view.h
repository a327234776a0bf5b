// One picture of a local cluster from its parts: the state file, what /proc
// says about each node process, and the Status answer of every node that
// answered. Each node only reports the shards it holds a replica of, and a
// follower may not know the newest term, so per shard the answer of the
// node that leads it in the highest term wins.
//
// Health: unavailable when a shard cannot form a quorum (a majority of its
// replicas up and able to talk to each other, given the injected faults);
// degraded when every shard keeps a quorum but a node is down, paused or
// partitioned, or a shard is between leaders; else healthy.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client/client.h"
#include "playground/cluster_state.h"
#include "playground/node_process.h"

namespace mq::playground {

using cli::Client;
using cli::ClientOptions;
using cli::ClusterStatus;

struct NodeView {
  std::string id, address;
  std::string http_address;   // "" when the node has no HTTP listener
  Liveness liveness = Liveness::kDown;
  bool partitioned = false;   // has injected faults
  bool answered = false;      // its Status call succeeded
  int pid = 0;                // 0 when down
  uint32_t shards_led = 0;
  // From its answer: its newest role changes (oldest first) and its clock
  // then, which dates them (age = clock_ms - at_ms).
  uint64_t clock_ms = 0;
  std::vector<cli::RoleChangeStatus> role_changes;
  // From its answer: memory as --max-memory counts it, the limit (0: none),
  // and whether it refuses writes for it.
  uint64_t memory_used_bytes = 0, memory_limit_bytes = 0;
  bool memory_full = false;
  // From its answer: shards it leads still moving replicas (membership).
  uint32_t moves_in_flight = 0;
  // "up", "down", "paused" or "partitioned".
  std::string state_word() const;
};

struct ReplicaView {
  std::string node;
  std::string role;  // leader, follower, candidate, ... ("?" when it did not answer)
  uint64_t lag = 0;  // the leader's commit minus the replica's match (leader's view)
  bool lag_known = false;
};

struct ShardView {
  uint32_t id = 0;
  std::string leader;  // "" when none is known
  uint64_t term = 0, commit = 0;
  std::vector<ReplicaView> replicas;  // in placement order
  bool quorum = false;                // a majority of replicas up and connected
};

enum class Health { kHealthy, kDegraded, kUnavailable };
const char* health_name(Health h);

struct ClusterView {
  std::string name;
  std::vector<NodeView> nodes;
  std::vector<ShardView> shards;
  Health health = Health::kHealthy;
  std::string health_reason;  // e.g. "n2 down", "no quorum for shards 1, 4"
  std::string health_line() const;  // "degraded: n2 down"
};

// statuses[i]: the Status answer of state.nodes[i], or nullopt when it did
// not answer. liveness[i]: what /proc says about it.
ClusterView build_view(const ClusterState& state, const std::vector<Liveness>& liveness,
                       const std::vector<std::optional<ClusterStatus>>& statuses);

// Asks every node for its Status in parallel (each call bounded by
// timeout_ms), reads liveness from /proc, builds the view. Keeps one client
// (one connection) per node across calls, for views taken many times a
// second.
class ClusterObserver {
 public:
  explicit ClusterObserver(int timeout_ms) : timeout_ms_(timeout_ms) {}
  ClusterView observe(const ClusterState& state);

 private:
  int timeout_ms_;
  std::map<std::string, std::unique_ptr<Client>> clients_;  // by address
};

// One observation with fresh connections.
ClusterView observe_cluster(const ClusterState& state, int timeout_ms);

// True when a and b can exchange Raft messages both ways under the faults.
bool link_ok(const ClusterState& state, const std::string& a, const std::string& b);

}  // namespace mq::playground
