#include "node/server/node_tls.h"

namespace mq::server {

bool load_node_tls(const NodeConfig& config, NodeTls* out, std::string* error) {
  *out = NodeTls{};
  if (!tls::load_tls(config.client_tls, tls::kClientFacingFlags, true, &out->client, error)) return false;
  if (out->client.enabled() && out->client.ca_pem.empty()) {
    // The node dials its peers' listeners, which present certificates of
    // the same kind as its own: without a CA it could check none of them.
    *error = "--cert-file needs --trusted-ca-file too: the node checks the certificates of its "
             "peers' listeners (and of its own, for the HTTP gateway) against it";
    return false;
  }
  const tls::TlsFiles& peer = config.peer_tls;
  if (peer.any() && (peer.cert_file.empty() || peer.key_file.empty() || peer.trusted_ca_file.empty())) {
    *error = "--peer-cert-file, --peer-key-file and --peer-trusted-ca-file go together: Raft "
             "traffic between nodes is mutual TLS";
    return false;
  }
  tls::TlsFiles peer_files = peer;
  peer_files.client_cert_auth = peer.any();
  if (!tls::load_tls(peer_files, tls::kPeerFlags, true, &out->peer, error)) return false;
  out->dial.ca_pem = out->client.ca_pem;
  out->dial.cert_pem = out->client.cert_pem;
  out->dial.key_pem = out->client.key_pem;
  return true;
}

}  // namespace mq::server
