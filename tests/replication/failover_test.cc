// kill -9 of a shard's leader: the survivors elect a new one quickly and
// nothing acknowledged is lost.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

#include "tests/replication/local_cluster.h"

namespace mq::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kShards = 16;
constexpr int kFailoverBudgetMs = 5000;
constexpr int kUsersPerShard = 2;

TEST_CASE("after kill -9 of a leader its shard takes writes again within 5 s", "[replication][failover]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  auto leaders = cluster.leaders();
  REQUIRE(leaders);

  const uint32_t shard = 4;
  const size_t victim = leaders->at(shard);
  std::vector<size_t> survivors;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != victim) survivors.push_back(i);
  }

  // Acknowledged writes in every shard, the victim's leadership included.
  auto writer = cluster.client();
  std::map<std::pair<std::string, std::string>, std::string> acked;
  for (uint32_t s = 0; s < kShards; ++s) {
    for (int u = 0; u < kUsersPerShard; ++u) {
      const std::string user = user_in_shard(s, kShards, static_cast<size_t>(u));
      for (int k = 0; k < 3; ++k) {
        const std::string key = "k" + std::to_string(k);
        const std::string value = user + "/" + key;
        cli::SetResult r;
        REQUIRE(writer->set(user, key, value, &r).ok());
        acked[{user, key}] = value;
      }
    }
  }

  cluster.kill(victim);
  const auto killed_at = Clock::now();

  // The survivors' endpoints only: the client must not need the dead node.
  auto after = cluster.client(survivors, 1000);
  const std::string user = user_in_shard(shard, kShards, 0);
  cli::Error last;
  int attempts = 0;
  bool written = false;
  while (Clock::now() < killed_at + std::chrono::milliseconds(kFailoverBudgetMs)) {
    ++attempts;
    cli::SetResult r;
    last = after->set(user, "after-failover", "yes", &r);
    if (last.ok()) {
      written = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto failover_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count();
  INFO("killed " << cluster.id(victim) << ", leader of shard " << shard << "; " << attempts
                 << " attempts over " << failover_ms << " ms; last error: " << last.message);
  REQUIRE(written);
  CHECK(failover_ms < kFailoverBudgetMs);
  WARN("shard " << shard << " took writes again " << failover_ms << " ms after kill -9 of its leader");

  REQUIRE(cluster.wait_for_leaders());
  const auto new_leaders = cluster.leaders();
  REQUIRE(new_leaders);
  CHECK(new_leaders->at(shard) != victim);

  // Every write acknowledged before the kill is still there.
  for (const auto& [user_key, value] : acked) {
    cli::GetResult g;
    INFO(user_key.first << " " << user_key.second);
    REQUIRE(after->get(user_key.first, user_key.second, cli::Consistency::kLinearizable, &g).ok());
    REQUIRE(g.found);
    CHECK(g.value == value);
  }
  cli::GetResult g;
  REQUIRE(after->get(user, "after-failover", cli::Consistency::kLinearizable, &g).ok());
  CHECK(g.value == "yes");
}

}  // namespace
}  // namespace mq::test
