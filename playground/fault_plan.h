// Network faults of a local cluster, planned as the per-node fault sets that
// the SetFaults admin RPC installs at each node's transport (no root, no
// firewall). The plan is kept in the state file too, so `status` can say
// "partitioned" and a restarted node gets its faults back.
#pragma once

#include <string>
#include <vector>

#include "playground/cluster_state.h"

namespace mq::playground {

// "n1,n2" -> {"n1", "n2"}; "" when a name is not a node of the cluster
// (error says which).
std::vector<std::string> parse_node_list(const ClusterState& state, const std::string& text,
                                         std::string* error);

// Cuts every link between side_a and side_b both ways; links inside a side
// stay up. Nodes on neither side keep talking to everyone. Replaces the
// faults of the nodes on either side. "" or the reason (overlapping sides,
// an empty side).
std::string plan_partition(ClusterState* state, const std::vector<std::string>& side_a,
                           const std::vector<std::string>& side_b);

// Cuts only from -> to: `from` stops sending to `to` and `to` ignores `from`.
// Adds to the faults already there.
std::string plan_one_way(ClusterState* state, const std::string& from, const std::string& to);

// The node against every other node.
std::string plan_isolate(ClusterState* state, const std::string& node);

// Clears every fault.
void plan_heal(ClusterState* state);

}  // namespace mq::playground
