#include "playground/local_ca.h"

#include "node/tls/openssl_handles.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <memory>

namespace mq::playground {

namespace {

using tls::OpenSslPtr;
using Key = OpenSslPtr<EVP_PKEY>;
using Cert = OpenSslPtr<X509>;

std::string openssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return what + ": " + buf;
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

bool write_pem(const std::string& path, bool secret, const std::function<int(BIO*)>& write,
               std::string* error) {
  // A key is readable by its owner only, from its first byte on.
  const std::string tmp = path + ".tmp";
  const mode_t before = ::umask(secret ? 077 : 022);
  OpenSslPtr<BIO> bio(BIO_new_file(tmp.c_str(), "w"));
  ::umask(before);
  if (!bio) {
    *error = openssl_error("cannot write " + tmp);
    return false;
  }
  if (write(bio.get()) != 1 || BIO_flush(bio.get()) != 1) {
    *error = openssl_error("cannot write " + tmp);
    return false;
  }
  bio.reset();
  if (::chmod(tmp.c_str(), secret ? 0600 : 0644) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value, std::string* error) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  OpenSslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    *error = openssl_error("certificate extension " + value);
    return false;
  }
  return true;
}

// A certificate for `key`, signed by `issuer_key` (itself when issuer is null).
Cert make_certificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                      bool is_ca, std::string* error) {
  Cert cert(X509_new());
  OpenSslPtr<BIGNUM> serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    *error = openssl_error("cannot make a certificate");
    return nullptr;
  }
  const long day = 24L * 3600;
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.starts_in_days * day);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), (spec.starts_in_days + spec.valid_days) * day);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("mq local cluster"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
  X509* signer = issuer ? issuer : cert.get();
  bool ok = add_extension(cert.get(), signer, NID_subject_key_identifier, "hash", error);
  if (is_ca) {
    ok = ok && add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE", error) &&
         add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign", error);
  } else {
    std::string names;
    for (const auto& d : spec.dns) names += (names.empty() ? "DNS:" : ",DNS:") + d;
    for (const auto& ip : spec.ips) names += (names.empty() ? "IP:" : ",IP:") + ip;
    ok = ok && add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid", error) &&
         add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE", error) &&
         add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature", error) &&
         add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth", error) &&
         (names.empty() || add_extension(cert.get(), signer, NID_subject_alt_name, names, error));
  }
  if (!ok) return nullptr;
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    *error = openssl_error("cannot sign the certificate of " + spec.name);
    return nullptr;
  }
  return cert;
}

bool write_pair(const std::string& dir, const std::string& stem, X509* cert, EVP_PKEY* key,
                std::string* error) {
  return write_pem(dir + "/" + stem + "-key.pem", true,
                   [&](BIO* b) { return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); },
                   error) &&
         write_pem(dir + "/" + stem + ".pem", false, [&](BIO* b) { return PEM_write_bio_X509(b, cert); }, error);
}

bool read_ca(const std::string& dir, Cert* cert, Key* key, std::string* error) {
  OpenSslPtr<BIO> c(BIO_new_file((dir + "/ca.pem").c_str(), "r"));
  OpenSslPtr<BIO> k(BIO_new_file((dir + "/ca-key.pem").c_str(), "r"));
  if (c) cert->reset(PEM_read_bio_X509(c.get(), nullptr, nullptr, nullptr));
  if (k) key->reset(PEM_read_bio_PrivateKey(k.get(), nullptr, nullptr, nullptr));
  if (!*cert || !*key) {
    *error = openssl_error("cannot read the CA in " + dir);
    return false;
  }
  return true;
}

}  // namespace

bool ensure_local_ca(const std::string& dir, std::string* error) {
  if (exists(dir + "/ca.pem") && exists(dir + "/ca-key.pem")) return true;
  Key key(EVP_EC_gen("P-256"));
  if (!key) {
    *error = openssl_error("cannot make a key");
    return false;
  }
  CertificateSpec spec;
  spec.name = "mq local CA";
  spec.valid_days = 3650;
  Cert cert = make_certificate(spec, key.get(), nullptr, key.get(), true, error);
  return cert && write_pair(dir, "ca", cert.get(), key.get(), error);
}

bool issue_certificate(const std::string& dir, const CertificateSpec& spec, std::string* error) {
  Cert ca;
  Key ca_key;
  if (!read_ca(dir, &ca, &ca_key, error)) return false;
  Key key(EVP_EC_gen("P-256"));
  if (!key) {
    *error = openssl_error("cannot make a key");
    return false;
  }
  Cert cert = make_certificate(spec, key.get(), ca.get(), ca_key.get(), false, error);
  return cert && write_pair(dir, spec.name, cert.get(), key.get(), error);
}

}  // namespace mq::playground
