// The peer transport with mutual TLS on loopback: nodes whose certificates
// (of the peers' CA) name them exchange batches; a certificate naming
// another node, one of another CA, and a plaintext end on either side carry
// nothing, and the accepting node counts the refusal.
#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/server/tcp_peer_transport.h"
#include "tests/unit/peer_transport_harness.h"
#include "node/tls/tls_files.h"
#include "playground/local_ca.h"

using namespace mq::server;

namespace {

using mq::test::batch;
using mq::test::check_delivered_in_order;
using mq::test::Clock;
using mq::test::eventually;
using mq::test::Ports;


// Each test's files in a directory of its own.
class TempDir : public mq::test::TempDir {
 public:
  TempDir() : mq::test::TempDir("mq-peer-tls-test") {}
};

// The peers' CA with certificates for n1, n2 and n3, and a second,
// unrelated CA with its own certificate for n1. No IP names: the nodes dial
// 127.0.0.1, and a certificate naming it would pass by the dialed host.
struct Pki {
  Pki() {
    ca = dir.path() + "/ca";
    other_ca = dir.path() + "/other-ca";
    std::filesystem::create_directories(ca);
    std::filesystem::create_directories(other_ca);
    make_ca(ca);
    make_ca(other_ca);
    for (const std::string name : {"n1", "n2", "n3"}) issue(ca, {name, {name}, {}});
    issue(other_ca, {"n1", {"n1"}, {}});
  }

  static void make_ca(const std::string& at) {
    std::string error;
    const bool ok = mq::playground::ensure_local_ca(at, &error);
    INFO(error);
    REQUIRE(ok);
  }
  static void issue(const std::string& at, const mq::playground::CertificateSpec& spec) {
    std::string error;
    const bool ok = mq::playground::issue_certificate(at, spec, &error);
    INFO(error);
    REQUIRE(ok);
  }

  // The certificate `name` of the CA in `cert_dir`, trusting the CA in
  // `trusted_dir`, loaded as a node loads its --peer-* files.
  static mq::tls::TlsMaterial material(const std::string& cert_dir, const std::string& name,
                                       const std::string& trusted_dir) {
    mq::tls::TlsFiles files{cert_dir + "/" + name + ".pem", cert_dir + "/" + name + "-key.pem",
                            trusted_dir + "/ca.pem"};
    mq::tls::TlsMaterial out;
    std::string error;
    const bool ok = mq::tls::load_tls(files, mq::tls::kPeerFlags, true, &out, &error);
    INFO(error);
    REQUIRE(ok);
    return out;
  }
  mq::tls::TlsMaterial of(const std::string& name) const { return material(ca, name, ca); }

  TempDir dir;
  std::string ca, other_ca;
};

// Node `self` of two with the given TLS material (empty: plaintext).
struct Node : mq::test::Node {
  Node(mq::raft::NodeId self, Ports* ports, mq::tls::TlsMaterial tls)
      : mq::test::Node(self, ports, options_with(std::move(tls))) {}
  static TcpPeerTransport::Options options_with(mq::tls::TlsMaterial tls) {
    TcpPeerTransport::Options options;
    options.tls = std::move(tls);
    // Redial soon, so a refused dialer tries many times while a test waits.
    options.backoff_min = std::chrono::milliseconds(5);
    options.backoff_max = std::chrono::milliseconds(50);
    return options;
  }
};

// `from` keeps sending to `to` for `ms`; true if nothing arrived. A link
// drops its queue on every failed connection, so one batch would prove
// little: each redial gets fresh ones.
bool nothing_arrives(Node& from, mq::raft::NodeId to_id, Node& to, int ms = 1500) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  uint32_t i = 0;
  while (Clock::now() < deadline) {
    from.transport->send(to_id, batch(i, "must not arrive " + std::to_string(i)));
    ++i;
    if (to.inbox.size() != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return to.inbox.size() == 0;
}

}  // namespace

TEST_CASE("with mutual TLS, batches travel whole and in order between named nodes", "[tls][peer]") {
  Pki pki;
  Ports ports;
  Node a(1, &ports, pki.of("n1")), b(2, &ports, pki.of("n2"));
  check_delivered_in_order(a, b, 100);
  CHECK(a.transport->stats().connected == 1);
  CHECK(b.transport->stats().refused == 0);

  // The other direction checks the other certificate.
  b.transport->send(1, batch(7, "back"));
  REQUIRE(eventually([&] { return a.inbox.size() == 1; }));
  std::lock_guard lock(a.inbox.mutex);
  CHECK(a.inbox.batches[0].first == 2);
  CHECK(a.inbox.batches[0].second.messages(0).message() == "back");
}

TEST_CASE("a dialer whose certificate names another node is refused at its hello", "[tls][peer]") {
  Pki pki;
  Ports ports;
  // n3's certificate is of the peers' CA: the handshake passes, the name
  // check after the hello claiming n1 must not.
  Node a(1, &ports, Pki::material(pki.ca, "n3", pki.ca)), b(2, &ports, pki.of("n2"));
  CHECK(nothing_arrives(a, 2, b));
  CHECK(eventually([&] { return b.transport->stats().refused > 0; }, 3000));
  // Refused after the handshake, not at it: the dialer got as far as its hello.
  CHECK(a.transport->stats().connected > 0);
  CHECK(b.inbox.size() == 0);
}

TEST_CASE("a dialed node whose certificate names another node is not sent to", "[tls][peer]") {
  Pki pki;
  Ports ports;
  Node a(1, &ports, pki.of("n1")), b(2, &ports, Pki::material(pki.ca, "n3", pki.ca));
  CHECK(nothing_arrives(a, 2, b));
  // The dialer's own check stops it before its hello: never connected.
  CHECK(a.transport->stats().connected == 0);
  CHECK(b.inbox.size() == 0);
}

TEST_CASE("nodes sharing a host do not pass for each other by the host's name", "[tls][peer]") {
  // As a local cluster's certificates: each names its node and 127.0.0.1,
  // the host every node there shares. n2 presents n1's certificate.
  Pki pki;
  Pki::issue(pki.ca, {"n1-local", {"n1"}, {"127.0.0.1"}});
  Pki::issue(pki.ca, {"n2-local", {"n2"}, {"127.0.0.1"}});
  Ports ports;
  Node a(1, &ports, Pki::material(pki.ca, "n1-local", pki.ca)), b(2, &ports, Pki::material(pki.ca, "n1-local", pki.ca));
  CHECK(nothing_arrives(a, 2, b));
  CHECK(a.transport->stats().connected == 0);
  // With its own certificate, the same host name is no obstacle.
  Ports ports2;
  Node c(1, &ports2, Pki::material(pki.ca, "n1-local", pki.ca)), d(2, &ports2, Pki::material(pki.ca, "n2-local", pki.ca));
  c.transport->send(2, batch(1, "hello"));
  CHECK(eventually([&] { return d.inbox.size() == 1; }));
}

TEST_CASE("a dialer with a certificate of another CA is refused at the handshake", "[tls][peer]") {
  Pki pki;
  Ports ports;
  // n1 trusts the peers' CA (so n2's certificate passes n1's check) but
  // presents one of another CA, with the right name.
  Node a(1, &ports, Pki::material(pki.other_ca, "n1", pki.ca)), b(2, &ports, pki.of("n2"));
  CHECK(nothing_arrives(a, 2, b));
  CHECK(eventually([&] { return b.transport->stats().refused > 0; }, 3000));
  CHECK(b.inbox.size() == 0);
}

TEST_CASE("a plaintext dialer is refused by a TLS node", "[tls][peer]") {
  Pki pki;
  Ports ports;
  Node a(1, &ports, {}), b(2, &ports, pki.of("n2"));
  CHECK(nothing_arrives(a, 2, b));
  CHECK(eventually([&] { return b.transport->stats().refused > 0; }, 3000));
  CHECK(b.inbox.size() == 0);
}

TEST_CASE("a TLS dialer does not talk to a plaintext node", "[tls][peer]") {
  Pki pki;
  Ports ports;
  Node a(1, &ports, pki.of("n1")), b(2, &ports, {});
  CHECK(nothing_arrives(a, 2, b));
  CHECK(a.transport->stats().connected == 0);
  // The plaintext node reads the TLS ClientHello as a frame with a wrong magic.
  CHECK(eventually([&] { return b.transport->stats().bad_streams > 0; }, 3000));
  CHECK(b.inbox.size() == 0);
}
