// Leader leases answer linearizable reads without a heartbeat round, so the
// dangerous case is a leader that stops being scheduled, is replaced, and
// comes back believing it still leads: its lease is measured on the steady
// clock, so on resuming it must find the lease lapsed and refuse or
// re-confirm, never answer from its old state. The old leader is cut off
// from its peers first, so that nothing but its own lease can tell it that
// it was replaced (otherwise the new leader's messages, buffered in its
// sockets, would depose it before the read is served).
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/replication/local_cluster.h"
#include "tests/replication/node_rpc.h"

namespace mq::test {
namespace {

constexpr uint32_t kShards = 16;
constexpr uint32_t kShard = 5;

// The index of a node other than `old_leader` that leads kShard, as every
// running node other than old_leader sees it; nullopt after timeout_ms.
std::optional<size_t> wait_for_new_leader(LocalCluster& cluster, size_t old_leader, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < cluster.size(); ++i) {
      if (i == old_leader) continue;
      auto st = cluster.status(i, 300);
      if (!st) continue;
      for (const auto& shard : st->shards) {
        if (shard.id == kShard && !shard.leader.empty() && shard.leader != cluster.id(old_leader)) {
          return cluster.index_of(shard.leader);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

TEST_CASE("a paused leader that resumes after being replaced serves no stale read",
          "[replication][read-lease]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  auto leaders = cluster.leaders();
  REQUIRE(leaders);
  const size_t old_leader = leaders->at(kShard);
  const std::string user = user_in_shard(kShard, kShards, 0);

  auto client = cluster.client({}, 5000);
  cli::SetResult set;
  REQUIRE(client->set(user, "k", "old", &set).ok());
  NodeRpc pinned(cluster.endpoint(old_leader));
  // Reads on the leader: the first one confirms a round and starts the lease.
  for (int i = 0; i < 5; ++i) {
    const StaleRead r = pinned.linearizable_get(user, "k", 2000);
    INFO(r.error);
    REQUIRE(r.ok);
    REQUIRE(r.value == "old");
  }

  std::vector<std::string> peers;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != old_leader) peers.push_back(cluster.id(i));
  }
  cli::FaultSet isolated{peers, peers, 0}, applied;
  REQUIRE(cluster.client({old_leader}, 2000)->set_faults(isolated, &applied).ok());
  cluster.pause(old_leader);
  const auto new_leader = wait_for_new_leader(cluster, old_leader, 5000);
  if (!new_leader) cluster.resume(old_leader);
  REQUIRE(new_leader);
  std::vector<size_t> others;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != old_leader) others.push_back(i);
  }
  auto survivor_client = cluster.client(others, 5000);
  const cli::Error e = survivor_client->set(user, "k", "new", &set);
  if (!e.ok()) cluster.resume(old_leader);
  INFO(e.message);
  REQUIRE(e.ok());

  cluster.resume(old_leader);
  // Straight away and for a while after: "old" would be a stale read.
  size_t answered = 0;
  for (int i = 0; i < 5; ++i) {
    const StaleRead r = pinned.linearizable_get(user, "k", 300);
    INFO("read " << i << ": " << (r.ok ? "value " + r.value + " from " + r.node : r.error));
    CHECK_FALSE((r.ok && r.value == "old"));
    if (r.ok) ++answered;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The refusals say who leads now; the point is only that none was stale.
  INFO("reads answered by the resumed node: " << answered);
  SUCCEED();
}

// Nodes may run with different election timeouts. A follower refuses votes
// only for ITS timeout after hearing the leader, so a leader restarted with a
// timeout ten times longer must not size its lease from its own: cut off,
// it would keep answering linearizable reads for well over a second after
// the others elected a new leader and committed a new value.
TEST_CASE("a leader with a longer election timeout than its peers serves no stale read",
          "[replication][read-lease]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  const std::string user = user_in_shard(kShard, kShards, 0);
  auto client = cluster.client({}, 5000);
  cli::SetResult set;
  REQUIRE(client->set(user, "k", "old", &set).ok());

  // n-slow: restarted with 200 election ticks (a 1.58 s lease by its own timing).
  const size_t slow = (cluster.leaders()->at(kShard) + 1) % cluster.size();
  REQUIRE(cluster.stop(slow) == 0);
  cluster.set_node_flags(slow, {"--election-ticks", "200"});
  cluster.start(slow);
  REQUIRE(cluster.wait_for_leaders());
  // Leadership of the shard moves to it once it has caught up.
  const auto moved_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool moved = false;
  while (!moved && std::chrono::steady_clock::now() < moved_deadline) {
    (void)cluster.client({}, 2000)->transfer_leader(kShard, cluster.id(slow));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto leaders = cluster.leaders();
    moved = leaders && leaders->at(kShard) == slow;
  }
  REQUIRE(moved);

  NodeRpc pinned(cluster.endpoint(slow));
  for (int i = 0; i < 5; ++i) {  // confirms a round: the lease starts
    const StaleRead r = pinned.linearizable_get(user, "k", 2000);
    INFO(r.error);
    REQUIRE(r.ok);
    REQUIRE(r.value == "old");
  }
  std::vector<std::string> peers;
  std::vector<size_t> others;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i == slow) continue;
    peers.push_back(cluster.id(i));
    others.push_back(i);
  }
  cli::FaultSet isolated{peers, peers, 0}, applied;
  REQUIRE(cluster.client({slow}, 2000)->set_faults(isolated, &applied).ok());
  const auto cut_at = std::chrono::steady_clock::now();
  const auto new_leader = wait_for_new_leader(cluster, slow, 5000);
  REQUIRE(new_leader);
  REQUIRE(cluster.client(others, 5000)->set(user, "k", "new", &set).ok());
  const auto written_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut_at).count();
  INFO("the new value was committed " << written_ms << " ms after the leader was cut off");
  // Within the 1.58 s the cut-off node's own timing would give its lease.
  for (int i = 0; i < 5; ++i) {
    const StaleRead r = pinned.linearizable_get(user, "k", 100);
    INFO("read " << i << ": " << (r.ok ? "value " + r.value + " from " + r.node : r.error));
    CHECK_FALSE((r.ok && r.value == "old"));
  }
}

}  // namespace
}  // namespace mq::test
