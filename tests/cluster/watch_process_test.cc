// `mq cluster watch` started after a failover still shows it: the nodes'
// role-change rings come with their Status answers.
#include <catch2/catch.hpp>

#include "cluster_fixture.h"

using mq::test::TestCluster;
using nlohmann::json;

TEST_CASE("a watch started after a failover shows the leader change", "[cluster][process][watch]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  const std::string leader = c.status()["shards"][0]["leader"];
  REQUIRE(!leader.empty());
  REQUIRE(c.cluster("kill", {leader}).exit_code == 0);
  json s = c.status_until([&](const json& x) {
    const std::string now = x["shards"][0]["leader"];
    return !now.empty() && now != leader;
  });
  const std::string successor = s["shards"][0]["leader"];
  REQUIRE(!successor.empty());
  REQUIRE(c.cluster("start", {leader}).exit_code == 0);

  // Not a terminal: one full frame per refresh.
  auto w = c.cluster("watch", {"--duration", "300ms", "--interval", "100ms"});
  INFO(w.err);
  INFO(w.out);
  REQUIRE(w.exit_code == 0);
  CHECK(w.out.find("(none yet)") == std::string::npos);
  CHECK(w.out.find("shard 0: leader " + leader + " -> " + successor) != std::string::npos);
}
