// Why a node did not answer, when TLS is the reason. gRPC reports a failed
// handshake as an unreachable node; one TLS handshake of our own, made the
// way the client's channel makes it, tells the cases apart: a plaintext
// client at a TLS node, a TLS client at a plaintext node, a certificate the
// CA does not vouch for (foreign, expired, for another host), or a node
// that requires a client certificate.
#pragma once

#include <string>

#include "node/tls/tls_files.h"

namespace mq::cli {

// One clause naming the endpoint and what to change ("127.0.0.1:7001
// serves TLS: pass --cacert ..."), or "" when TLS is not why (nothing
// listens, or the handshake succeeds).
std::string explain_tls_failure(const std::string& endpoint, const tls::TlsMaterial& tls, int timeout_ms);

}  // namespace mq::cli
