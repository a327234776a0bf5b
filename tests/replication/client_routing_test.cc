// The client library right after a leader dies: the survivors still name the
// dead node as leader until an election ends, and the client must wait for
// the new leader instead of declaring the whole cluster unreachable.
#include <catch2/catch.hpp>

#include "tests/replication/local_cluster.h"

namespace mq::test {
namespace {

constexpr uint32_t kShards = 16;

TEST_CASE("a read issued just after its leader is killed waits for the new leader",
          "[replication][routing]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  auto leaders = cluster.leaders();
  REQUIRE(leaders);
  const uint32_t shard = 7;
  const size_t victim = leaders->at(shard);
  const std::string user = user_in_shard(shard, kShards, 0);

  // A client of every endpoint that has learnt the shard's leader.
  auto client = cluster.client({}, 5000);
  cli::SetResult set;
  REQUIRE(client->set(user, "k", "v", &set).ok());
  cli::GetResult warm;
  REQUIRE(client->get(user, "k", cli::Consistency::kLinearizable, &warm).ok());

  cluster.kill(victim);
  // At once: the survivors still believe the victim leads the shard, so
  // their hints point at a node that refuses connections.
  cli::GetResult got;
  const cli::Error e = client->get(user, "k", cli::Consistency::kLinearizable, &got);
  INFO("error: " << e.message);
  REQUIRE(e.ok());
  REQUIRE(got.found);
  REQUIRE(got.value == "v");
  CHECK(got.header.node != cluster.id(victim));
}

}  // namespace
}  // namespace mq::test
