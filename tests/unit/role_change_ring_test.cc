// The node's ring of recent role changes: bounded, oldest first, and what a
// real node host records and reports in its Status answer as it elects
// itself, on a manual clock.
#include <catch2/catch.hpp>

#include <memory>

#include "node/server/node_host.h"
#include "node/server/role_change_ring.h"
#include "node/storage/memory_file_system.h"

namespace mq::server {
namespace {

class NoPeers final : public PeerSender {
 public:
  void send(raft::NodeId, peer::PeerBatch&&) override {}
  bool recently_heard(raft::NodeId, int64_t) const override { return false; }
};

}  // namespace

TEST_CASE("the role change ring keeps the newest changes, oldest first", "[role_changes]") {
  RoleChangeRing ring;
  const size_t recorded = RoleChangeRing::kCapacity + 36;
  for (size_t i = 1; i <= recorded; ++i) {
    ring.record(NodeTime(std::chrono::milliseconds(i)), static_cast<uint32_t>(i % 4), i, raft::Role::kFollower, 2);
  }
  REQUIRE(ring.changes().size() == RoleChangeRing::kCapacity);
  CHECK(ring.changes().front().seq == recorded - RoleChangeRing::kCapacity + 1);
  CHECK(ring.changes().back().seq == recorded);
  CHECK(ring.changes().back().term == recorded);
}

TEST_CASE("a node reports its role changes with its clock in the status answer", "[role_changes][node_host]") {
  // A single-node cluster of two shards: the node elects itself in both.
  NodeHostOptions o;
  std::string error, note;
  o.topology = *make_topology("n1=127.0.0.1:7001", "n1", "127.0.0.1:7001", 2, 1, &error, &note);
  o.data_dir = "/data";
  o.initial_cluster_state = "new";
  storage::MemoryFileSystem fs;
  NoPeers peers;
  int64_t now_ms = 5'000'000;
  NodeEnv env;
  env.now = [&now_ms] { return NodeTime(std::chrono::milliseconds(now_ms)); };
  env.peers = &peers;
  env.fs = &fs;
  env.log = [](LogLevel, std::string_view) {};
  env.halt = [](int, const std::string& why) { FAIL("halted: " << why); };
  env.sleep = [](std::chrono::milliseconds) {};
  int exit_code = 0;
  auto host = NodeHost::open(o, std::move(env), &error, &exit_code);
  REQUIRE(host);
  host->start();
  // Bounded: a lone node wins its own elections within a few iterations.
  for (int i = 0; i < 50 && !(host->group(0)->role == raft::Role::kLeader &&
                              host->group(1)->role == raft::Role::kLeader);
       ++i) {
    now_ms += 10;
    host->run_iteration();
  }
  REQUIRE(host->group(0)->role == raft::Role::kLeader);
  REQUIRE(host->group(1)->role == raft::Role::kLeader);
  now_ms += 1000;

  v1::StatusResponse resp;
  host->fill_status(&resp);
  CHECK(resp.clock_ms() == static_cast<uint64_t>(now_ms));
  REQUIRE(resp.role_changes_size() >= 2);
  uint64_t last_seq = 0;
  bool led[2] = {false, false};
  for (const auto& c : resp.role_changes()) {
    INFO(c.ShortDebugString());
    CHECK(c.seq() > last_seq);
    last_seq = c.seq();
    CHECK(c.at_ms() >= 5'000'000u);
    CHECK(c.at_ms() <= resp.clock_ms() - 1000);
    REQUIRE(c.shard() < 2);
    if (c.role() == "leader") {
      CHECK(c.leader() == "n1");
      CHECK(c.term() >= 1u);
      led[c.shard()] = true;
    }
  }
  CHECK(led[0]);
  CHECK(led[1]);
}

}  // namespace mq::server
