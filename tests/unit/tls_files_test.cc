// The TLS files a node or the CLI is started with: a good set loads; a
// certificate without its key, a key of another certificate, an expired
// certificate, a file that is not PEM or cannot be read, and
// --client-cert-auth without a CA are each refused with one line naming the
// flag (the CLI's names for the CLI). Certificates come from the local CA.
#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "node/tls/tls_files.h"
#include "playground/local_ca.h"

using namespace mq::tls;
using Catch::Matchers::Contains;

namespace {

// Each test's files in a directory of its own.
class TempDir : public mq::test::TempDir {
 public:
  TempDir() : mq::test::TempDir("mq-tls-test") {}
};

void issue(const std::string& dir, mq::playground::CertificateSpec spec) {
  std::string error;
  const bool ok = mq::playground::issue_certificate(dir, spec, &error);
  INFO(error);
  REQUIRE(ok);
}

// A CA and the certificates the cases use, all in one temp dir.
struct Pki {
  Pki() {
    std::string error;
    const bool ok = mq::playground::ensure_local_ca(dir.path(), &error);
    INFO(error);
    REQUIRE(ok);
    issue(dir.path(), {"server", {"n1", "localhost"}, {"127.0.0.1", "::1"}});
    issue(dir.path(), {"other", {"n2"}, {}});
    issue(dir.path(), {"expired", {"n1"}, {}, 5, -10});
    issue(dir.path(), {"future", {"n1"}, {}, 30, 2});
    std::ofstream(dir.file("garbage.pem")) << "this is not PEM at all\n";
  }
  std::string ca() const { return dir.file("ca.pem"); }
  std::string cert(const std::string& name) const { return dir.file(name + ".pem"); }
  std::string key(const std::string& name) const { return dir.file(name + "-key.pem"); }
  TempDir dir;
};

struct Loaded {
  bool ok = false;
  TlsMaterial material;
  std::string error;
};

Loaded load(const TlsFiles& files, const TlsFlagNames& flags = kClientFacingFlags, bool need_cert = true) {
  Loaded r;
  r.ok = load_tls(files, flags, need_cert, &r.material, &r.error);
  // Every refusal is one line: it is printed as is before the node exits.
  CHECK(r.error.find('\n') == std::string::npos);
  CHECK(r.ok == r.error.empty());
  return r;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("a certificate, its key and the CA load, with client-cert-auth carried", "[tls]") {
  Pki pki;
  const bool auth = GENERATE(false, true);
  const Loaded r = load({pki.cert("server"), pki.key("server"), pki.ca(), auth});
  REQUIRE(r.ok);
  CHECK(r.material.cert_pem == read_all(pki.cert("server")));
  CHECK(r.material.key_pem == read_all(pki.key("server")));
  CHECK(r.material.ca_pem == read_all(pki.ca()));
  CHECK_THAT(r.material.cert_pem, Contains("BEGIN CERTIFICATE"));
  CHECK_THAT(r.material.key_pem, Contains("PRIVATE KEY"));
  CHECK(r.material.enabled());
  CHECK(r.material.client_cert_auth == auth);
}

TEST_CASE("no TLS files at all is plaintext, not an error", "[tls]") {
  const Loaded r = load({});
  CHECK(r.ok);
  CHECK_FALSE(r.material.enabled());
}

TEST_CASE("a certificate and its key go together", "[tls]") {
  Pki pki;
  SECTION("a certificate without its key") {
    const Loaded r = load({pki.cert("server"), "", pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cert-file and --key-file go together"));
  }
  SECTION("a key without its certificate") {
    const Loaded r = load({"", pki.key("server"), pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cert-file and --key-file go together"));
  }
  SECTION("the peer flags are named for the peer files") {
    const Loaded r = load({pki.cert("server"), "", pki.ca()}, kPeerFlags);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--peer-cert-file and --peer-key-file go together"));
  }
}

TEST_CASE("the key of another certificate is refused", "[tls]") {
  Pki pki;
  const Loaded r = load({pki.cert("server"), pki.key("other"), pki.ca()});
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.error, Contains("is not the key of the certificate"));
  CHECK_THAT(r.error, Contains("--key-file " + pki.key("other")));
  CHECK_THAT(r.error, Contains("--cert-file " + pki.cert("server")));
}

TEST_CASE("a certificate outside its validity is refused", "[tls]") {
  Pki pki;
  SECTION("expired") {
    const Loaded r = load({pki.cert("expired"), pki.key("expired"), pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("expired"));
    CHECK_THAT(r.error, Contains("--cert-file " + pki.cert("expired")));
  }
  SECTION("not valid yet") {
    const Loaded r = load({pki.cert("future"), pki.key("future"), pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("not valid before"));
  }
}

TEST_CASE("a file that is not PEM is refused, naming its flag", "[tls]") {
  Pki pki;
  SECTION("as the certificate") {
    const Loaded r = load({pki.dir.file("garbage.pem"), pki.key("server"), pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cert-file " + pki.dir.file("garbage.pem")));
    CHECK_THAT(r.error, Contains("no PEM certificate"));
  }
  SECTION("as the CA") {
    const Loaded r = load({pki.cert("server"), pki.key("server"), pki.dir.file("garbage.pem")});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--trusted-ca-file " + pki.dir.file("garbage.pem")));
    CHECK_THAT(r.error, Contains("no PEM certificate"));
  }
  SECTION("as the key") {
    const Loaded r = load({pki.cert("server"), pki.dir.file("garbage.pem"), pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--key-file " + pki.dir.file("garbage.pem")));
    CHECK_THAT(r.error, Contains("no PEM private key"));
  }
}

TEST_CASE("a file that cannot be read is refused, naming its flag", "[tls]") {
  Pki pki;
  const std::string missing = pki.dir.file("missing.pem");
  SECTION("the certificate") {
    const Loaded r = load({missing, pki.key("server"), pki.ca()});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cert-file " + missing + ": cannot read it"));
  }
  SECTION("the CA") {
    const Loaded r = load({pki.cert("server"), pki.key("server"), missing});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--trusted-ca-file " + missing + ": cannot read it"));
  }
}

TEST_CASE("--client-cert-auth needs a CA to check client certificates against", "[tls]") {
  Pki pki;
  SECTION("with a certificate and key") {
    const Loaded r = load({pki.cert("server"), pki.key("server"), "", true});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--client-cert-auth needs --trusted-ca-file"));
  }
  SECTION("with no files at all") {
    const Loaded r = load({"", "", "", true});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--client-cert-auth needs --trusted-ca-file"));
  }
}

TEST_CASE("a server needs a certificate of its own; a client may go with a CA alone", "[tls]") {
  Pki pki;
  SECTION("a server with only a CA") {
    const Loaded r = load({"", "", pki.ca()}, kClientFacingFlags, true);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--trusted-ca-file needs --cert-file and --key-file"));
  }
  SECTION("the CLI with only a CA") {
    const Loaded r = load({"", "", pki.ca()}, kCliFlags, false);
    REQUIRE(r.ok);
    CHECK(r.material.cert_pem.empty());
    CHECK(r.material.key_pem.empty());
    CHECK(r.material.ca_pem == read_all(pki.ca()));
    CHECK(r.material.enabled());
  }
}

TEST_CASE("the CLI's refusals name the CLI's flags", "[tls]") {
  Pki pki;
  SECTION("a certificate without its key") {
    const Loaded r = load({pki.cert("server"), "", pki.ca()}, kCliFlags, false);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cert and --key go together"));
    CHECK_THAT(r.error, !Contains("-file"));
  }
  SECTION("a CA that cannot be read") {
    const Loaded r = load({"", "", pki.dir.file("missing.pem")}, kCliFlags, false);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cacert " + pki.dir.file("missing.pem") + ": cannot read it"));
  }
  SECTION("the key of another certificate") {
    const Loaded r = load({pki.cert("server"), pki.key("other"), pki.ca()}, kCliFlags, false);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--key " + pki.key("other") + " is not the key of the certificate in --cert "));
  }
  SECTION("an expired certificate") {
    const Loaded r = load({pki.cert("expired"), pki.key("expired"), pki.ca()}, kCliFlags, false);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("--cert " + pki.cert("expired")));
    CHECK_THAT(r.error, Contains("expired"));
  }
}

TEST_CASE("certificate_names lists the DNS and IP names and the CN", "[tls]") {
  Pki pki;
  using Catch::Matchers::UnorderedEquals;
  CHECK_THAT(certificate_names(read_all(pki.cert("server"))),
             UnorderedEquals(std::vector<std::string>{"n1", "localhost", "127.0.0.1", "::1", "server"}));
  CHECK_THAT(certificate_names(read_all(pki.cert("other"))),
             UnorderedEquals(std::vector<std::string>{"n2", "other"}));
  CHECK(certificate_names(read_all(pki.dir.file("garbage.pem"))).empty());
  CHECK(certificate_names("").empty());
}
