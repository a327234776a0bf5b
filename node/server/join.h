// A node that joins a running cluster (mq node --join): at its first start
// it asks the cluster to admit it and learns its member id, the cluster id
// and the members; later starts read them from its data dir.
#pragma once

#include <string>

#include "node/server/node.h"
#include "node/server/topology.h"

namespace mq::server {

// Fills *topology for a node started with --join. On failure returns false
// with a one-line error and the node's exit code.
bool join_topology(const NodeConfig& config, Topology* topology, std::string* error,
                   int* exit_code);

}  // namespace mq::server
