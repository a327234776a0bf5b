// A follower with a slow disk must not cost the other nodes their
// leadership: the leaders commit with the remaining majority, and the slow
// node's late ticks must not start elections that bump the term.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>

#include "tests/replication/local_cluster.h"
#include "tests/replication/node_rpc.h"

namespace mq::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kShards = 16;
constexpr uint32_t kFsyncDelayMs = 1000;
constexpr int kWriteForMs = 3000;

// shard -> term, for the shards the node leads, from its own Status.
std::map<uint32_t, uint64_t> led_terms(LocalCluster& cluster, size_t node) {
  auto st = cluster.status(node);
  REQUIRE(st);
  std::map<uint32_t, uint64_t> out;
  for (const auto& s : st->shards) {
    if (s.role == "leader") out[s.id] = s.term;
  }
  return out;
}

TEST_CASE("a follower's slow disk changes no term of the shards it follows", "[replication][slow-disk]") {
  LocalCluster cluster;
  // Leaders settled where placement prefers them, so that no hand-back
  // during the test changes a term.
  REQUIRE(cluster.wait_for_preferred_leaders());
  const size_t slow = 2;
  const std::vector<size_t> fast = {0, 1};

  std::map<uint32_t, uint64_t> terms_before;
  for (size_t node : fast) {
    for (const auto& [shard, term] : led_terms(cluster, node)) terms_before[shard] = term;
  }
  // The shards the slow node leads are its own problem; the others are the subject.
  REQUIRE(terms_before.size() >= 8);

  NodeRpc slow_rpc(cluster.endpoint(slow));
  REQUIRE(slow_rpc.set_fsync_delay(kFsyncDelayMs, 2000) == "");

  auto client = cluster.client(fast, 5000);
  std::vector<std::string> users;
  for (const auto& [shard, term] : terms_before) users.push_back(user_in_shard(shard, kShards, 0, "slow"));
  const auto start = Clock::now();
  int writes = 0, failures = 0;
  int64_t latency_ms_max = 0;
  std::string first_failure;
  // Bounded by time and, as a backstop, by count.
  for (int i = 0; i < 100'000 && Clock::now() < start + std::chrono::milliseconds(kWriteForMs); ++i) {
    const auto sent = Clock::now();
    cli::SetResult r;
    const cli::Error e = client->set(users[static_cast<size_t>(i) % users.size()], "k" + std::to_string(i),
                                     "v", &r);
    latency_ms_max = std::max<int64_t>(
        latency_ms_max,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent).count());
    ++writes;
    if (!e.ok()) {
      if (first_failure.empty()) first_failure = e.message;
      ++failures;
    }
  }

  std::map<uint32_t, uint64_t> terms_after;
  for (size_t node : fast) {
    for (const auto& [shard, term] : led_terms(cluster, node)) terms_after[shard] = term;
  }
  REQUIRE(slow_rpc.set_fsync_delay(0, 5000) == "");

  WARN(writes << " writes in " << kWriteForMs << " ms with " << cluster.id(slow) << "'s fsync delayed by "
              << kFsyncDelayMs << " ms; slowest " << latency_ms_max << " ms");
  INFO("first failure: " << first_failure);
  CHECK(failures == 0);
  CHECK(writes > 50);
  // A write that waited for the slow disk would take a whole delay.
  CHECK(latency_ms_max < static_cast<int64_t>(kFsyncDelayMs));
  for (const auto& [shard, term] : terms_before) {
    INFO("shard " << shard);
    REQUIRE(terms_after.count(shard) == 1);  // still led by the same node...
    CHECK(terms_after.at(shard) == term);    // ...in the same term
  }
}

}  // namespace
}  // namespace mq::test
