#include "node/tls/tls_files.h"

#include "node/tls/openssl_handles.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace mq::tls {

namespace {


bool read_file(const std::string& path, std::string* out, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = std::strerror(errno);
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}


std::string asn1_time_text(const ASN1_TIME* t) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

bool load_tls(const TlsFiles& files, const TlsFlagNames& flags, bool need_cert, TlsMaterial* out,
              std::string* error) {
  *out = TlsMaterial{};
  if (!files.any()) {
    if (files.client_cert_auth) {
      *error = std::string("--client-cert-auth needs ") + flags.ca + " (the CA client certificates chain to)";
      return false;
    }
    return true;
  }
  if (files.cert_file.empty() != files.key_file.empty()) {
    *error = std::string(flags.cert) + " and " + flags.key + " go together: pass both or neither";
    return false;
  }
  if (need_cert && files.cert_file.empty()) {
    *error = std::string(flags.ca) + " needs " + flags.cert + " and " + flags.key +
             ": a server presents a certificate of its own";
    return false;
  }
  if (files.client_cert_auth && files.trusted_ca_file.empty()) {
    *error = std::string("--client-cert-auth needs ") + flags.ca + " (the CA client certificates chain to)";
    return false;
  }
  auto read = [&](const char* flag, const std::string& path, std::string* into) {
    std::string why;
    if (path.empty() || read_file(path, into, &why)) return true;
    *error = std::string(flag) + " " + path + ": cannot read it: " + why;
    return false;
  };
  if (!read(flags.cert, files.cert_file, &out->cert_pem) || !read(flags.key, files.key_file, &out->key_pem) ||
      !read(flags.ca, files.trusted_ca_file, &out->ca_pem)) {
    return false;
  }
  if (!out->cert_pem.empty()) {
    auto cert = parse_pem_certificate(out->cert_pem);
    if (!cert) {
      *error = std::string(flags.cert) + " " + files.cert_file + ": no PEM certificate in it";
      return false;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
      *error = std::string(flags.cert) + " " + files.cert_file + ": the certificate expired on " +
               asn1_time_text(X509_get0_notAfter(cert.get()));
      return false;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
      *error = std::string(flags.cert) + " " + files.cert_file + ": the certificate is not valid before " +
               asn1_time_text(X509_get0_notBefore(cert.get()));
      return false;
    }
    OpenSslPtr<EVP_PKEY> key = parse_pem_private_key(out->key_pem);
    if (!key) {
      *error = std::string(flags.key) + " " + files.key_file + ": no PEM private key in it (or it is encrypted)";
      return false;
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      *error = std::string(flags.key) + " " + files.key_file + " is not the key of the certificate in " +
               flags.cert + " " + files.cert_file;
      return false;
    }
  }
  if (!out->ca_pem.empty() && !parse_pem_certificate(out->ca_pem)) {
    *error = std::string(flags.ca) + " " + files.trusted_ca_file + ": no PEM certificate in it";
    return false;
  }
  out->client_cert_auth = files.client_cert_auth;
  return true;
}

OpenSslPtr<X509> parse_pem_certificate(std::string_view pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OpenSslPtr<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return cert;
}

OpenSslPtr<EVP_PKEY> parse_pem_private_key(std::string_view pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OpenSslPtr<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return key;
}

std::vector<std::string> certificate_names(const std::string& cert_pem) {
  auto cert = parse_pem_certificate(cert_pem);
  return cert ? certificate_names(cert.get()) : std::vector<std::string>{};
}

std::vector<std::string> certificate_names(const x509_st* cert) {
  std::vector<std::string> names;
  if (!cert) return names;
  OpenSslPtr<GENERAL_NAMES> alt(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(alt.get(), i);
    if (n->type == GEN_DNS) {
      const ASN1_STRING* s = n->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const ASN1_STRING* s = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(s);
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text)) {
        names.emplace_back(text);
      }
    }
  }
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0 &&
      std::find(names.begin(), names.end(), cn) == names.end()) {
    names.emplace_back(cn);
  }
  ERR_clear_error();
  return names;
}

}  // namespace mq::tls
