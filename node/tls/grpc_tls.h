// gRPC credentials from checked TLS material (tls_files.h): plaintext when
// the material is empty, so every caller takes one path.
#pragma once

#include <memory>

#include "node/tls/tls_files.h"

namespace grpc {
class ServerCredentials;
class ChannelCredentials;
}  // namespace grpc

namespace mq::tls {

// A server's: its certificate and key; with client_cert_auth, clients must
// present a certificate that chains to the CA.
std::shared_ptr<grpc::ServerCredentials> grpc_server_credentials(const TlsMaterial& tls);

// A client's: the server's certificate must chain to the CA (the system's
// roots when none is given) and name the host dialled; the client's own
// certificate goes along when it has one.
std::shared_ptr<grpc::ChannelCredentials> grpc_channel_credentials(const TlsMaterial& tls);

}  // namespace mq::tls
