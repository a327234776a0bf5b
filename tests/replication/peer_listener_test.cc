// Raft traffic travels over each node's peer listener (framed TCP), which
// peers find by asking the node's gRPC address (Peer.Locate). Garbage or a
// frame cut short on that port closes that one connection: the node and
// the cluster carry on. A restarted node listens on a new port and its
// peers find it again.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "tests/replication/local_cluster.h"
#include "tests/replication/node_rpc.h"

namespace mq::test {
namespace {

constexpr uint32_t kShards = 16;
constexpr int kRpcTimeoutMs = 3000;

std::string cluster_id_of(LocalCluster& cluster) {
  const auto status = cluster.status(0, kRpcTimeoutMs);
  REQUIRE(status);
  return status->cluster_id;
}

// Connects to 127.0.0.1:port, sends bytes, and reports whether the other
// end closed the connection within timeout_ms (read returns 0 or reset).
bool sent_and_closed_by_peer(uint16_t port, const std::string& bytes, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa = loopback(port);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    closed = n <= 0;
  }
  ::close(fd);
  return closed;
}

// Every shard takes a write through the client (which follows leaders).
void write_every_shard(LocalCluster& cluster, const std::string& tag) {
  auto client = cluster.client({0, 1, 2}, 5000);
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    cli::SetResult r;
    const cli::Error e = client->set(user_in_shard(shard, kShards, 0, tag), "k", "v", &r);
    INFO("shard " << shard << ": " << e.message);
    CHECK(e.ok());
  }
}

TEST_CASE("garbage on a node's peer port closes that connection and nothing else",
          "[replication][peer-listener]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  const std::string cluster_id = cluster_id_of(cluster);
  NodeRpc rpc(cluster.endpoint(1));
  std::string error;
  const uint16_t port = rpc.locate_peer_port(cluster_id, kRpcTimeoutMs, &error);
  INFO("locate: " << error);
  REQUIRE(port != 0);

  // Not a frame at all.
  CHECK(sent_and_closed_by_peer(port, std::string(64, 'x'), 5000));
  // A header that announces 2 GiB: refused at the header.
  CHECK(sent_and_closed_by_peer(port, std::string("MQPF\x01\x01\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00", 16),
                                5000));
  // A header that announces 100 bytes, 10 of them, and this side goes away
  // mid-frame.
  {
    const std::string cut = std::string("MQPF\x01\x01\x00\x00\x64\x00\x00\x00\x00\x00\x00\x00", 16) +
                            std::string(10, 'y');
    CHECK_FALSE(sent_and_closed_by_peer(port, cut, 300));
  }

  write_every_shard(cluster, "after-garbage");
  CHECK(cluster.running(1));
  CHECK(cluster.log_tail(1, 400).find("closed the peer connection from") != std::string::npos);
}

TEST_CASE("a node from another cluster is told no by Locate", "[replication][peer-listener]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  NodeRpc rpc(cluster.endpoint(0));
  std::string error;
  CHECK(rpc.locate_peer_port("not-this-cluster", kRpcTimeoutMs, &error) == 0);
  CHECK(error.find("cluster id mismatch") != std::string::npos);
}

TEST_CASE("a restarted node listens for peers on a new port and is found there",
          "[replication][peer-listener]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  const std::string cluster_id = cluster_id_of(cluster);
  std::string error;
  const uint16_t before = NodeRpc(cluster.endpoint(2)).locate_peer_port(cluster_id, kRpcTimeoutMs, &error);
  REQUIRE(before != 0);

  cluster.kill(2);
  // Held while n3 starts again, so the kernel cannot hand it the old port.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(holder >= 0);
  sockaddr_in sa = loopback(before);
  const bool held = ::bind(holder, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  cluster.start(2);
  REQUIRE(cluster.wait_for_leaders());
  const uint16_t after = NodeRpc(cluster.endpoint(2)).locate_peer_port(cluster_id, kRpcTimeoutMs, &error);
  ::close(holder);
  INFO("locate: " << error);
  REQUIRE(after != 0);
  if (held) CHECK(after != before);

  // Only possible if both other nodes reach n3 at its new port: every
  // replica of every shard is up to date with n3 as a voter.
  write_every_shard(cluster, "after-restart");
  cluster.stop(0);
  REQUIRE(cluster.wait_for_leaders());
  write_every_shard(cluster, "without-n1");
}

}  // namespace
}  // namespace mq::test
