// Owning handles for the OpenSSL objects this project makes, and PEM
// parsing from memory: the one place the TLS code (files, probe, local CA)
// takes them from.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

namespace mq::tls {

struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree>;

// The first certificate, or the private key, in PEM text; null when there
// is none (OpenSSL's error queue is left empty either way).
OpenSslPtr<X509> parse_pem_certificate(std::string_view pem);
OpenSslPtr<EVP_PKEY> parse_pem_private_key(std::string_view pem);

}  // namespace mq::tls
