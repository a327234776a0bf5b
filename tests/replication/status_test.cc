// `mq status -o json` against a 3-node cluster: every shard has a leader
// and write leadership is spread by the preferred-leader rule.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/replication/local_cluster.h"

namespace mq::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kSettleTimeoutMs = 8000;

// Every shard led by its preferred node, s mod N (n1 leads 0, 3, 6, ...).
bool leaders_are_preferred(const nlohmann::json& status, size_t node_count) {
  if (!status.contains("shards")) return false;
  for (const auto& shard : status["shards"]) {
    const auto s = shard.at("id").get<uint32_t>();
    if (shard.at("leader").get<std::string>() != "n" + std::to_string(s % node_count + 1)) return false;
  }
  return true;
}

TEST_CASE("mq status shows 16 shards, each led by its preferred node", "[replication][status]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());

  nlohmann::json status;
  RunResult last;
  const auto deadline = Clock::now() + std::chrono::milliseconds(kSettleTimeoutMs);
  for (size_t asked = 0;; asked = (asked + 1) % cluster.size()) {
    last = run_mq({"status", "-o", "json", "--timeout", "2s", "--endpoints", cluster.endpoint(asked)});
    if (last.exit_code == 0) {
      status = nlohmann::json::parse(last.out, nullptr, /*allow_exceptions=*/false);
      if (!status.is_discarded() && leaders_are_preferred(status, cluster.size())) break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("exit " << last.exit_code << "\nstdout: " << last.out << "\nstderr: " << last.err);
  REQUIRE(last.exit_code == 0);
  REQUIRE_FALSE(status.is_discarded());
  CHECK(last.err == "");
  CHECK(status.at("shard_count") == 16);
  CHECK(status.at("replication") == 3);
  REQUIRE(status.at("nodes").size() == 3);
  for (const auto& n : status["nodes"]) CHECK(n.at("reachable") == true);

  const auto& shards = status.at("shards");
  REQUIRE(shards.size() == 16);
  std::map<std::string, int> led;
  for (const auto& shard : shards) {
    const std::string leader = shard.at("leader");
    INFO("shard " << shard.at("id"));
    CHECK(leader != "");
    CHECK(shard.at("replicas").size() == 3);
    ++led[leader];
  }
  CHECK(leaders_are_preferred(status, cluster.size()));
  // 16 shards over 3 nodes: 6, 5, 5.
  CHECK(led["n1"] == 6);
  CHECK(led["n2"] == 5);
  CHECK(led["n3"] == 5);

  // Every node answers with the same view of who leads what.
  for (size_t i = 0; i < cluster.size(); ++i) {
    const RunResult r = run_mq({"status", "-o", "json", "--endpoints", cluster.endpoint(i)});
    REQUIRE(r.exit_code == 0);
    const auto other = nlohmann::json::parse(r.out);
    CHECK(other.at("node") == cluster.id(i));
    CHECK(leaders_are_preferred(other, cluster.size()));
  }
}

}  // namespace
}  // namespace mq::test
