// The client library right after a leader dies: the survivors still name the
// dead node as leader until an election ends, and the client must wait for
// the new leader instead of declaring the whole cluster unreachable.
#include <catch2/catch.hpp>

#include <chrono>

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

// A leader that stops being scheduled (SIGSTOP: a stalled VM, a long GC
// pause) keeps its sockets open: connections stay up and nothing answers.
// The client must notice the silence well before the request's deadline
// and move on, instead of spending the whole deadline on the silent node.
TEST_CASE("a read sent to a leader that went silent moves on to the new leader",
          "[replication][routing]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  auto leaders = cluster.leaders();
  REQUIRE(leaders);
  const uint32_t shard = 3;
  const size_t victim = leaders->at(shard);
  const std::string user = user_in_shard(shard, kShards, 0);

  // The deadline is far above the election timeout plus the silence check,
  // and far below what a read stuck on the paused node would take: before
  // the client watched its connections, this read failed at the deadline.
  auto client = cluster.client({}, 4000);
  cli::SetResult set;
  REQUIRE(client->set(user, "k", "v", &set).ok());
  REQUIRE(set.header.node == cluster.id(victim));

  cluster.pause(victim);
  cli::GetResult got;
  const cli::Error e = client->get(user, "k", cli::Consistency::kLinearizable, &got);
  INFO("error: " << e.message);
  CHECK(e.ok());
  CHECK(got.value == "v");
  CHECK(got.header.node != cluster.id(victim));

  // The next write goes to the new leader and succeeds.
  cli::SetResult again;
  const cli::Error w = client->set(user, "k", "w", &again);
  INFO("write error: " << w.message);
  CHECK(w.ok());
  cluster.resume(victim);
}

TEST_CASE("a write sent to a leader that went silent is reported unknown before the deadline",
          "[replication][routing]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  auto leaders = cluster.leaders();
  REQUIRE(leaders);
  const uint32_t shard = 5;
  const size_t victim = leaders->at(shard);
  const std::string user = user_in_shard(shard, kShards, 0);

  auto client = cluster.client({}, 4000);
  cli::SetResult set;
  REQUIRE(client->set(user, "k", "v", &set).ok());

  cluster.pause(victim);
  // The write reaches the paused leader's socket and is never answered: it
  // may yet commit when the node resumes, so it is unknown, not failed. It
  // must say so once the silence is noticed, not at the deadline.
  const auto start = std::chrono::steady_clock::now();
  cli::SetResult lost;
  const cli::Error w = client->set(user, "k", "w", &lost);
  const auto took = std::chrono::steady_clock::now() - start;
  INFO("write error: " << w.message);
  CHECK(w.kind == cli::ErrorKind::kUnknownOutcome);
  CHECK(took < std::chrono::milliseconds(3000));

  // The client does not go back to the silent node: the next write finds
  // the new leader.
  cli::SetResult next;
  const cli::Error n = client->set(user, "k2", "x", &next);
  INFO("next write error: " << n.message);
  CHECK(n.ok());
  CHECK(next.header.node != cluster.id(victim));
  cluster.resume(victim);
}

}  // namespace
}  // namespace mq::test
