// A node's TLS, from its flags (node.h): what its listeners present, what
// its Raft traffic uses, and what it dials its peers' listeners with.
#pragma once

#include <string>

#include "node/server/node.h"
#include "node/tls/tls_files.h"

namespace mq::server {

struct NodeTls {
  tls::TlsMaterial client;  // the gRPC and HTTP listeners' (--cert-file ...)
  tls::TlsMaterial peer;    // Raft traffic's (--peer-*), always mutual
  // Dialing the peers' gRPC listeners (Locate, --join, the HTTP gateway's
  // forwards): their certificates must chain to --trusted-ca-file, and
  // this node's --cert-file goes along as its client certificate.
  tls::TlsMaterial dial;
};

// Reads and checks the files the flags name; false with a one-line reason.
bool load_node_tls(const NodeConfig& config, NodeTls* out, std::string* error);

}  // namespace mq::server
