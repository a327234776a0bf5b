// The framed TCP peer transport on loopback: batches arrive whole and in
// order from the right peer; a connection that sends garbage, a truncated
// frame or a foreign hello is closed (refused with a reason) while the node
// keeps serving its peers; a peer that restarts is redialed; a peer that
// never reads costs a bounded queue; fault injection drops traffic; batches
// wait while a peer's address is looked up, and go when it cannot be.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/server/peer_frame.h"
#include "node/server/tcp_peer_transport.h"
#include "tests/unit/peer_transport_harness.h"

using namespace mq::server;
using mq::test::batch;
using mq::test::check_delivered_in_order;
using mq::test::eventually;
using mq::test::Node;
using mq::test::Ports;
using Catch::Matchers::Contains;

namespace {

// A raw TCP client of a node's peer port.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void write(const std::vector<char>& bytes) { (void)!::write(fd_, bytes.data(), bytes.size()); }
  // Everything until the node closes (or 2 s pass): returns true on a close.
  bool read_until_closed(std::string* got) {
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      got->append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::vector<char> hello(const std::string& cluster, const std::string& node) {
  mq::peer::PeerHello h;
  h.set_cluster_id(cluster);
  h.set_from_node(node);
  std::vector<char> out;
  append_frame(&out, FrameKind::kHello, h.SerializeAsString());
  return out;
}

}  // namespace

TEST_CASE("batches travel whole and in order, tagged with their sender", "[peer][tcp]") {
  Ports ports;
  Node a(1, &ports), b(2, &ports);
  check_delivered_in_order(a, b, 100);
  CHECK(b.transport->recently_heard(1, 1000));
  CHECK_FALSE(a.transport->recently_heard(2, 1000));
  CHECK(a.transport->stats().connected == 1);
}

TEST_CASE("garbage, a truncated frame and a foreign hello close that connection only", "[peer][tcp]") {
  Ports ports;
  Node a(1, &ports), b(2, &ports);

  SECTION("an HTTP request") {
    RawClient raw(ports[1]);
    REQUIRE(raw.connected());
    const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    raw.write(std::vector<char>(http.begin(), http.end()));
    std::string got;
    CHECK(raw.read_until_closed(&got));
    CHECK(b.transport->stats().bad_streams == 1);
  }
  SECTION("a batch frame with a broken checksum after a good hello") {
    RawClient raw(ports[1]);
    std::vector<char> wire = hello("c1", "n1");
    append_frame(&wire, FrameKind::kBatch, batch(1, "x").SerializeAsString());
    wire.back() ^= 0x55;
    raw.write(wire);
    std::string got;
    CHECK(raw.read_until_closed(&got));
    CHECK(b.transport->stats().bad_streams == 1);
  }
  SECTION("a peer that dies in the middle of a frame") {
    {
      RawClient raw(ports[1]);
      std::vector<char> wire = hello("c1", "n1");
      append_frame(&wire, FrameKind::kBatch, batch(1, std::string(10'000, 'x')).SerializeAsString());
      wire.resize(wire.size() - 5000);
      raw.write(wire);
    }
    REQUIRE(eventually([&] { return b.transport->stats().accepted == 1; }));
  }
  SECTION("a node of another cluster is told why") {
    RawClient raw(ports[1]);
    raw.write(hello("c2", "n1"));
    std::string got;
    CHECK(raw.read_until_closed(&got));
    CHECK_THAT(got, Contains("cluster id mismatch: this node belongs to cluster c1, not c2"));
    CHECK(b.transport->stats().refused == 1);
  }
  SECTION("an unknown node is told why") {
    RawClient raw(ports[1]);
    raw.write(hello("c1", "n9"));
    std::string got;
    CHECK(raw.read_until_closed(&got));
    CHECK_THAT(got, Contains("node n9 is not a member this node knows"));
  }
  // Whatever the bad connection did, n2 still hears n1.
  a.transport->send(2, batch(7, "after"));
  REQUIRE(eventually([&] { return b.inbox.size() == 1; }));
  std::lock_guard lock(b.inbox.mutex);
  CHECK(b.inbox.batches[0].second.messages(0).message() == "after");
}

TEST_CASE("a peer that restarts is redialed", "[peer][tcp]") {
  Ports ports;
  TcpPeerTransport::Options fast;
  fast.backoff_min = std::chrono::milliseconds(5);
  fast.backoff_max = std::chrono::milliseconds(50);
  Node a(1, &ports, fast);
  auto b = std::make_unique<Node>(2, &ports);
  a.transport->send(2, batch(1, "first"));
  REQUIRE(eventually([&] { return b->inbox.size() == 1; }));
  b.reset();  // n2 stops; its port is free again
  // Sent while n2 is down: lost, as Raft expects; the link notices the close.
  a.transport->send(2, batch(2, "lost"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  b = std::make_unique<Node>(2, &ports);  // same port
  // Raft resends; here the test does, until one arrives.
  REQUIRE(eventually([&] {
    a.transport->send(2, batch(3, "again"));
    return b->inbox.size() > 0;
  }));
  std::lock_guard lock(b->inbox.mutex);
  CHECK(b->inbox.batches.back().second.messages(0).message() == "again");
  CHECK(a.transport->stats().connected >= 2);
}

TEST_CASE("batches wait while a peer's address is looked up and leave once it is known",
          "[peer][tcp]") {
  Ports ports;
  Node b(2, &ports);
  std::atomic<bool> known{false};
  TcpPeerTransport::Options slow;
  // Far longer than the test waits: only dial_now can explain a delivery.
  slow.backoff_min = std::chrono::seconds(30);
  slow.backoff_max = std::chrono::seconds(30);
  slow.address_of = [&](const PeerInfo& p) {
    if (!known) return PeerAddress{};
    return PeerAddress{"127.0.0.1:" + std::to_string(ports[p.raft_id - 1]), ""};
  };
  Node a(1, &ports, slow);
  a.transport->send(2, batch(1, "one"));
  a.transport->send(2, batch(2, "two"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(b.inbox.size() == 0);
  CHECK(a.transport->queued(2) == 2);

  known = true;
  a.transport->dial_now("n2");
  REQUIRE(eventually([&] { return b.inbox.size() >= 1; }, 3000));
  std::lock_guard lock(b.inbox.mutex);
  CHECK(b.inbox.batches.front().second.messages(0).message() == "one");
}

TEST_CASE("batches for a peer that cannot be located are dropped, not delivered late",
          "[peer][tcp]") {
  Ports ports;
  Node b(2, &ports);
  std::atomic<int> asked{0};
  std::atomic<bool> reachable{false};
  TcpPeerTransport::Options fast;
  fast.backoff_min = std::chrono::milliseconds(5);
  fast.backoff_max = std::chrono::milliseconds(20);
  fast.address_of = [&](const PeerInfo& p) {
    ++asked;
    if (!reachable) return PeerAddress{"", "no answer"};
    return PeerAddress{"127.0.0.1:" + std::to_string(ports[p.raft_id - 1]), ""};
  };
  Node a(1, &ports, fast);
  a.transport->send(2, batch(1, "stale"));
  REQUIRE(eventually([&] { return asked >= 1 && a.transport->queued(2) == 0; }));
  reachable = true;
  REQUIRE(eventually([&] {
    a.transport->send(2, batch(2, "fresh"));
    return b.inbox.size() > 0;
  }));
  std::lock_guard lock(b.inbox.mutex);
  CHECK(b.inbox.batches.front().second.messages(0).message() == "fresh");
}

TEST_CASE("a peer that never reads costs a bounded queue", "[peer][tcp]") {
  // A listener that accepts nothing and reads nothing: the kernel's buffers
  // fill, the write never completes, and new batches push old ones out.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t len = sizeof sa;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len);
  Ports ports;
  ports.of[1] = ntohs(sa.sin_port);
  TcpPeerTransport::Options small;
  small.queue_batches_max = 16;
  Node a(1, &ports, small);
  const std::string big(64 << 10, 'x');
  for (int i = 0; i < 2000; ++i) {
    a.transport->send(2, batch(1, big));
    CHECK(a.transport->queued(2) <= 16);
    if (a.transport->stats().dropped > 100) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  CHECK(a.transport->stats().dropped > 100);
  CHECK(a.transport->queued(2) <= 16);
  ::close(listener);
}

TEST_CASE("blocked traffic is dropped until healed", "[peer][tcp]") {
  Ports ports;
  Node a(1, &ports), b(2, &ports);
  a.transport->set_blocked({"n2"}, {});
  a.transport->send(2, batch(1, "blocked out"));
  b.transport->set_blocked({}, {"n1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  a.transport->set_blocked({}, {});
  a.transport->send(2, batch(2, "blocked in"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(b.inbox.size() == 0);
  b.transport->set_blocked({}, {});
  a.transport->send(2, batch(3, "healed"));
  REQUIRE(eventually([&] { return b.inbox.size() == 1; }));
  std::lock_guard lock(b.inbox.mutex);
  CHECK(b.inbox.batches[0].second.messages(0).message() == "healed");
}
