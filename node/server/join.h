// A node that joins a running cluster (mq node --join): at its first start
// it asks the cluster to admit it and learns its member id, the cluster id
// and the members; later starts read them from its data dir.
#pragma once

#include <string>

#include <cstdint>

#include "node/server/topology.h"
#include "node/tls/tls_files.h"

namespace mq::server {

struct JoinFlags {
  std::string id;        // --id
  std::string address;   // --advertise, else --listen: the address the cluster reaches it at
  std::string data_dir;  // --data-dir
  std::string join;      // --join: host:port[,host:port...]
  uint32_t replication = 3;
  tls::TlsMaterial dial;  // how the members' listeners are dialed (node_tls.h)
};

// Fills *topology for a node started with --join. On failure returns false
// with a one-line error and the node's exit code.
bool join_topology(const JoinFlags& config, Topology* topology, std::string* error,
                   int* exit_code);

}  // namespace mq::server
