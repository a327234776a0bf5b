// A certificate authority of a local cluster's own, so that `mq cluster up
// --tls` runs secure in one command: a CA key and certificate in the
// cluster's state dir, and a certificate it signs for each node (naming the
// node id and its loopback address) and for the client. Made with OpenSSL's
// library: EC P-256 keys, SHA-256 signatures, keys written 0600.
//
// Also what the tests use to make good, expired and foreign certificates.
#pragma once

#include <string>
#include <vector>

namespace mq::playground {

struct CertificateSpec {
  std::string name;               // subject CN, and the files' stem: NAME.pem, NAME-key.pem
  std::vector<std::string> dns;   // subjectAltName DNS entries (a node's id, "localhost")
  std::vector<std::string> ips;   // subjectAltName IP entries ("127.0.0.1")
  int valid_days = 825;
  int starts_in_days = 0;         // negative: valid from the past (an expired one: with
                                  // valid_days smaller than -starts_in_days)
};

// Creates DIR/ca.pem and DIR/ca-key.pem unless both exist (then they are
// kept). False with a one-line reason when that fails.
bool ensure_local_ca(const std::string& dir, std::string* error);

// Issues DIR/NAME.pem and DIR/NAME-key.pem, signed by DIR's CA, usable by a
// server and as a client certificate (both extended key usages).
bool issue_certificate(const std::string& dir, const CertificateSpec& spec, std::string* error);

}  // namespace mq::playground
