// Writes through any node, linearizable reads from every node, stale reads
// from every replica.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/replication/local_cluster.h"
#include "tests/replication/node_rpc.h"

namespace mq::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kStaleVisibleTimeoutMs = 3000;
constexpr uint32_t kShards = 16;

// Polls one replica's stale read until it shows want (bounded).
bool stale_read_shows(NodeRpc& node, const std::string& user, const std::string& key,
                      const std::string& want, std::string* last_seen) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kStaleVisibleTimeoutMs);
  while (true) {
    const StaleRead r = node.stale_get(user, key, 1000);
    *last_seen = r.ok ? (r.found ? "value '" + r.value + "' from " + r.node : "not found")
                      : "error " + r.error;
    if (r.ok && r.found && r.value == want) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST_CASE("writes through any node are read back linearizably from every node", "[replication]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());

  // One user per shard so every Raft group and every leader takes writes.
  std::vector<std::string> users;
  for (uint32_t s = 0; s < kShards; ++s) users.push_back(user_in_shard(s, kShards, 0));

  std::vector<std::unique_ptr<cli::Client>> via;
  for (size_t i = 0; i < cluster.size(); ++i) via.push_back(cluster.client({i}));

  // Each write is visible at once to a linearizable read on every node.
  {
    for (size_t u = 0; u < users.size(); ++u) {
      const size_t writer = u % cluster.size();
      const std::string value = "v-" + std::to_string(u) + "-via-" + cluster.id(writer);
      cli::SetResult set;
      const cli::Error e = via[writer]->set(users[u], "k", value, &set);
      REQUIRE(e.message == "");
      REQUIRE(e.ok());
      for (size_t reader = 0; reader < cluster.size(); ++reader) {
        cli::GetResult got;
        const cli::Error g = via[reader]->get(users[u], "k", cli::Consistency::kLinearizable, &got);
        INFO("user " << users[u] << " written via " << cluster.id(writer) << ", read via "
                     << cluster.id(reader));
        REQUIRE(g.ok());
        REQUIRE(got.found);
        CHECK(got.value == value);
      }
    }
  }

  // An overwrite through one node is never missed by a read through another.
  {
    const std::string& user = users[7];
    for (int round = 0; round < 30; ++round) {
      const size_t writer = static_cast<size_t>(round) % cluster.size();
      const size_t reader = (writer + 1 + static_cast<size_t>(round / 3) % 2) % cluster.size();
      const std::string value = "round-" + std::to_string(round);
      cli::SetResult set;
      REQUIRE(via[writer]->set(user, "counter", value, &set).ok());
      cli::GetResult got;
      REQUIRE(via[reader]->get(user, "counter", cli::Consistency::kLinearizable, &got).ok());
      INFO("round " << round << " written via " << cluster.id(writer) << ", read via "
                    << cluster.id(reader));
      REQUIRE(got.found);
      REQUIRE(got.value == value);
    }
  }

  // Stale reads on every replica eventually show each write.
  {
    for (size_t u = 0; u < users.size(); ++u) {
      cli::SetResult set;
      REQUIRE(via[u % cluster.size()]->set(users[u], "stale", "s-" + std::to_string(u), &set).ok());
    }
    for (size_t node = 0; node < cluster.size(); ++node) {
      NodeRpc rpc(cluster.endpoint(node));
      for (size_t u = 0; u < users.size(); ++u) {
        std::string seen;
        INFO("stale read of " << users[u] << " on " << cluster.id(node));
        const bool shown = stale_read_shows(rpc, users[u], "stale", "s-" + std::to_string(u), &seen);
        INFO("last seen: " << seen);
        REQUIRE(shown);
        // Served by that replica itself, not forwarded to the leader.
        const StaleRead r = rpc.stale_get(users[u], "stale", 1000);
        REQUIRE(r.ok);
        CHECK(r.node == cluster.id(node));
      }
    }
  }
}

}  // namespace
}  // namespace mq::test
