// Two peer transports of cluster "c1" (n1 and n2) on loopback, for the
// transport's tests: each node keeps what it receives, and they find each
// other's ports through a shared table filled as they start.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "node/server/tcp_peer_transport.h"

namespace mq::test {

using Clock = std::chrono::steady_clock;

// Polls until done() holds or timeout_ms pass; its last answer.
inline bool eventually(const std::function<bool()>& done, int timeout_ms = 5000) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

inline server::Topology two_node_topology(raft::NodeId self) {
  server::Topology t;
  t.cluster_id = "c1";
  t.self = self;
  for (raft::NodeId id = 1; id <= 2; ++id) t.nodes.push_back({"n" + std::to_string(id), "", id, false});
  return t;
}

// What one node received.
struct Inbox {
  std::mutex mutex;
  std::vector<std::pair<raft::NodeId, peer::PeerBatch>> batches;
  size_t size() {
    std::lock_guard lock(mutex);
    return batches.size();
  }
};

// Where the two nodes listen: read by the transports' IO threads, written
// when a node (re)starts.
struct Ports {
  std::atomic<uint16_t> of[2] = {0, 0};
  uint16_t operator[](size_t i) const { return of[i].load(); }
};

// Node `self` of two, its port in *ports (shared by both, filled at start).
struct Node {
  Node(raft::NodeId self, Ports* ports, server::TcpPeerTransport::Options options = {}) {
    if (!options.address_of) {
      options.address_of = [ports](const server::PeerInfo& p) {
        return server::PeerAddress{"127.0.0.1:" + std::to_string((*ports)[p.raft_id - 1]), ""};
      };
    }
    transport = std::make_unique<server::TcpPeerTransport>(
        two_node_topology(self),
        [this](raft::NodeId from, peer::PeerBatch&& b) {
          std::lock_guard lock(inbox.mutex);
          inbox.batches.emplace_back(from, std::move(b));
        },
        options);
    REQUIRE(transport->start("127.0.0.1", (*ports)[self - 1]).empty());
    ports->of[self - 1] = transport->port();
  }
  Inbox inbox;
  std::unique_ptr<server::TcpPeerTransport> transport;
};

inline peer::PeerBatch batch(uint32_t shard, const std::string& message) {
  peer::PeerBatch b;
  auto* m = b.add_messages();
  m->set_shard(shard);
  m->set_message(message);
  m->set_applied(shard * 10);
  b.set_vote_refusal_us(1234);
  return b;
}

// Sends `count` numbered batches from a to b (node 2 of node 1) and checks
// they all arrive, from n1, their messages in order (queued batches may be
// merged into fewer frames).
inline void check_delivered_in_order(Node& a, Node& b, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) a.transport->send(2, batch(i, "raft message " + std::to_string(i)));
  REQUIRE(eventually([&] { return b.inbox.size() > 0; }));
  REQUIRE(eventually([&] {
    std::lock_guard lock(b.inbox.mutex);
    size_t messages = 0;
    for (const auto& [from, got] : b.inbox.batches) messages += static_cast<size_t>(got.messages_size());
    return messages == count;
  }));
  std::lock_guard lock(b.inbox.mutex);
  uint32_t next = 0;
  for (const auto& [from, got] : b.inbox.batches) {
    CHECK(from == 1);
    CHECK(got.from_node() == "n1");
    CHECK(got.vote_refusal_us() == 1234);
    for (const auto& m : got.messages()) {
      CHECK(m.shard() == next);
      CHECK(m.message() == "raft message " + std::to_string(next));
      CHECK(m.applied() == next * 10);
      ++next;
    }
  }
}

}  // namespace mq::test
