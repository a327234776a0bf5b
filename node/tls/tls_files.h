// TLS material named by flags (etcd's names: --cert-file, --key-file,
// --trusted-ca-file for clients; --peer-* for Raft traffic between nodes;
// the CLI's --cacert, --cert, --key), read and checked once at start, so
// that a wrong, expired or mismatched file is one line naming the flag and
// the file before anything listens or dials.
#pragma once

#include <string>
#include <vector>

struct x509_st;  // OpenSSL's X509

namespace mq::tls {

struct TlsFiles {
  std::string cert_file;        // PEM certificate (chain), this side's
  std::string key_file;         // PEM private key of that certificate
  std::string trusted_ca_file;  // PEM CA certificate(s) the other side's must chain to
  bool client_cert_auth = false;  // a server: require and verify client certificates
  bool any() const { return !cert_file.empty() || !key_file.empty() || !trusted_ca_file.empty(); }
};

// The files' contents, checked.
struct TlsMaterial {
  std::string cert_pem, key_pem, ca_pem;
  bool client_cert_auth = false;
  bool enabled() const { return !cert_pem.empty() || !ca_pem.empty(); }
};

// The flag names to say in errors: {"--cert-file", "--key-file",
// "--trusted-ca-file"}, or the peer or CLI ones.
struct TlsFlagNames {
  const char* cert;
  const char* key;
  const char* ca;
};
inline constexpr TlsFlagNames kClientFacingFlags{"--cert-file", "--key-file", "--trusted-ca-file"};
inline constexpr TlsFlagNames kPeerFlags{"--peer-cert-file", "--peer-key-file",
                                         "--peer-trusted-ca-file"};
inline constexpr TlsFlagNames kCliFlags{"--cert", "--key", "--cacert"};

// Reads and checks what `files` names: a certificate and its key come
// together, the key matches the certificate, the certificate is valid now,
// and every file parses as PEM. `need_cert`: a server needs its own
// certificate; a client may go with a CA alone. False with a one-line
// reason.
bool load_tls(const TlsFiles& files, const TlsFlagNames& flags, bool need_cert, TlsMaterial* out,
              std::string* error);

// The names a certificate vouches for: its subjectAltName DNS and IP
// entries and its subject CN (once, when it is one of them too). From PEM
// text, or from a connection's certificate as OpenSSL holds it.
std::vector<std::string> certificate_names(const std::string& cert_pem);
std::vector<std::string> certificate_names(const x509_st* cert);

}  // namespace mq::tls
