#include "cli/client/tls_probe.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

#include "node/server/address.h"
#include "node/tls/openssl_handles.h"

namespace mq::cli {

namespace {

// A connected TCP socket with read and write timeouts (the send timeout
// bounds the connect too), or -1.
int dial(const server::HostPort& at, int timeout_ms) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(at.host.c_str(), std::to_string(at.port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (const addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

bool use_pem(SSL_CTX* ctx, const tls::TlsMaterial& tls) {
  if (!tls.ca_pem.empty()) {
    tls::OpenSslPtr<BIO> bio(BIO_new_mem_buf(tls.ca_pem.data(), static_cast<int>(tls.ca_pem.size())));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, ca);
      X509_free(ca);
    }
  } else {
    SSL_CTX_set_default_verify_paths(ctx);
  }
  if (!tls.cert_pem.empty()) {
    auto cert = tls::parse_pem_certificate(tls.cert_pem);
    auto key = tls::parse_pem_private_key(tls.key_pem);
    if (!cert || !key || SSL_CTX_use_certificate(ctx, cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
      return false;
    }
  }
  ERR_clear_error();
  return true;
}

bool is_alert_about_our_certificate(int reason) {
  return reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
         reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED || reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE;
}

// ": <OpenSSL's words for the alert>", or "" when it has none.
std::string reason_text(int reason) {
  const char* text = reason == 0 ? nullptr : ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, reason));
  return text ? std::string(": ") + text : "";
}

}  // namespace

std::string explain_tls_failure(const std::string& endpoint, const tls::TlsMaterial& tls, int timeout_ms) {
  std::string error;
  const auto at = server::parse_dial_address(endpoint, &error);
  if (!at) return "";
  const int fd = dial(*at, timeout_ms);
  if (fd < 0) return "";
  tls::OpenSslPtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || !use_pem(ctx.get(), tls)) {
    close(fd);
    return "";
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn);
  tls::OpenSslPtr<SSL> ssl(SSL_new(ctx.get()));
  if (!ssl) {
    close(fd);
    return "";
  }
  SSL_set_fd(ssl.get(), fd);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  if (X509_VERIFY_PARAM_set1_ip_asc(param, at->host.c_str()) != 1) {
    X509_VERIFY_PARAM_set1_host(param, at->host.c_str(), 0);
    SSL_set_tlsext_host_name(ssl.get(), at->host.c_str());
  }
  // A node that refuses this client closes the connection, and writing to
  // it would raise SIGPIPE: held back here, and taken if it came.
  sigset_t pipe, before;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &before);
  ERR_clear_error();
  const int rc = SSL_connect(ssl.get());
  int reason = rc == 1 ? 0 : ERR_GET_REASON(ERR_peek_error());
  if (rc == 1) {
    // TLS 1.3 tells a client its certificate is missing or refused only
    // after the handshake, in the first record the server sends.
    static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    char buf[64];
    SSL_write(ssl.get(), kPreface, sizeof kPreface - 1);
    if (SSL_read(ssl.get(), buf, sizeof buf) <= 0) reason = ERR_GET_REASON(ERR_peek_error());
  }
  const long verify = SSL_get_verify_result(ssl.get());
  ERR_clear_error();
  close(fd);
  const timespec now{0, 0};
  while (sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (!tls.enabled()) {
    if (rc != 1 && verify == X509_V_OK && reason != SSL_R_CERTIFICATE_VERIFY_FAILED) return "";
    return endpoint + " serves TLS: pass --cacert (the CA its certificate chains to), and --cert "
                      "and --key if it requires a client certificate";
  }
  if (rc == 1 && reason == 0) return "";
  if (rc != 1 && verify != X509_V_OK) {
    return "the certificate of " + endpoint + " is not accepted: " +
           X509_verify_cert_error_string(verify) + " (check --cacert)";
  }
  // A handshake that went through, then a close without a word: gRPC's
  // way of refusing a client certificate (or the lack of one) under TLS 1.3.
  const bool closed_after_handshake = rc == 1 && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING;
  if (is_alert_about_our_certificate(reason) || closed_after_handshake) {
    return endpoint + (tls.cert_pem.empty() ? " requires a client certificate: pass --cert and --key"
                                            : " refused this client's certificate (--cert)" + reason_text(reason));
  }
  if (rc != 1) return endpoint + " does not speak TLS: leave out --cacert, --cert and --key";
  return "";
}

}  // namespace mq::cli
