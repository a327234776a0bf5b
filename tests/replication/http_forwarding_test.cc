// Any node answers any REST request: a node that does not lead the shard
// forwards the call to the leader itself (no redirect reaches the client),
// and a cluster without a quorum answers 503 with Retry-After, never a
// success it cannot back.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "local_cluster.h"
#include "tests/process/http_client.h"

using nlohmann::json;
using namespace mq::test;

namespace {

constexpr uint32_t kShards = 16;

std::string key_path(const std::string& user, const std::string& key) {
  return "/api/v1/memory/users/" + user + "/keys/" + key;
}

// Polls pred every 100 ms for at most 10 s.
bool poll_until(const std::function<bool()>& pred) {
  for (int i = 0; i < 100; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("REST: every node serves every shard, forwarding to its leader", "[http][replication]") {
  LocalClusterOptions options;
  options.http = true;
  LocalCluster cluster(options);
  REQUIRE(cluster.wait_for_leaders());
  auto leaders = cluster.leaders();
  REQUIRE(leaders);

  size_t forwarded = 0;
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    const std::string user = user_in_shard(shard, kShards, 0);
    const size_t leader = leaders->at(shard);
    for (size_t via = 0; via < cluster.size(); ++via) {
      INFO("shard " << shard << " via " << cluster.id(via));
      const std::string key = "k" + std::to_string(via);
      auto a = http_call(cluster.http_port(via), "POST", key_path(user, key),
                         R"({"value":"v)" + std::to_string(via) + "\"}", "application/json");
      REQUIRE(a);
      CHECK(a->status == 201);
      const json j = json::parse(a->body);
      // The answer comes from the leader, whichever node took the request.
      CHECK(j["node"] == cluster.id(leader));
      CHECK(j["leader"] == cluster.id(leader));
      forwarded += via != leader;

      // Read back through another node, linearizably.
      const size_t reader = (via + 1) % cluster.size();
      a = http_call(cluster.http_port(reader), "GET", key_path(user, key));
      REQUIRE(a);
      CHECK(a->status == 200);
      CHECK(json::parse(a->body)["value"] == "v" + std::to_string(via));
    }
  }
  CHECK(forwarded == kShards * (cluster.size() - 1));

  // Leadership moves: a node that remembered the old leader is told the
  // new one and follows.
  const uint32_t moved = 5;
  const std::string moved_user = user_in_shard(moved, kShards, 0);
  const size_t old_leader = leaders->at(moved);
  const size_t new_leader = (old_leader + 1) % cluster.size();
  const size_t via = (old_leader + 2) % cluster.size();
  REQUIRE(cluster.client()->transfer_leader(moved, cluster.id(new_leader)).ok());
  REQUIRE(poll_until([&] {
    auto now = cluster.leaders();
    return now && now->at(moved) == new_leader;
  }));
  auto a = http_call(cluster.http_port(via), "PUT", key_path(moved_user, "after-move"),
                     R"({"value":"m"})", "application/json");
  REQUIRE(a);
  CHECK(a->status == 200);
  CHECK(json::parse(a->body)["node"] == cluster.id(new_leader));

  // The leader dies: after the election, writes through the others succeed
  // again, and none before that claimed a success.
  cluster.kill(new_leader);
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    a = http_call(cluster.http_port(via), "PUT", key_path(moved_user, "after-kill"),
                  R"({"value":"k"})", "application/json");
    REQUIRE(a);
    status = a->status;
    INFO("attempt " << i << ": " << a->body);
    CHECK((status == 200 || status == 503 || status == 504));
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status == 200);

  // The client library sees every REST write.
  auto client = cluster.client();
  mq::cli::GetResult got;
  REQUIRE(client->get(user_in_shard(5, kShards, 0), "k2", mq::cli::Consistency::kLinearizable,
                      &got).ok());
  CHECK(got.value == "v2");
}

TEST_CASE("REST: without a quorum a node answers 503 with Retry-After, and is not ready",
          "[http][replication]") {
  LocalClusterOptions options;
  options.http = true;
  LocalCluster cluster(options);
  REQUIRE(cluster.wait_for_leaders());
  cluster.kill(1);
  cluster.kill(2);

  // Once the survivor has noticed (check-quorum), it knows no leader.
  std::optional<HttpAnswer> ready;
  REQUIRE(poll_until([&] {
    ready = http_call(cluster.http_port(0), "GET", "/readyz");
    return ready && ready->status == 503;
  }));
  CHECK(ready->header("retry-after") == "1");
  CHECK(ready->body.find("no leader known") != std::string::npos);

  const std::string user = user_in_shard(3, kShards, 0);
  auto a = http_call(cluster.http_port(0), "GET", key_path(user, "k"));
  REQUIRE(a);
  CHECK(a->status == 503);
  CHECK(a->header("retry-after") == "1");

  // A write cannot succeed; whether it is refused (503) or left unknown
  // (504) depends on how far it got, but never 2xx.
  a = http_call(cluster.http_port(0), "POST", key_path(user, "k"), R"({"value":"x"})",
                "application/json");
  REQUIRE(a);
  CHECK((a->status == 503 || a->status == 504));

  a = http_call(cluster.http_port(0), "GET", "/api/v1/memory/health");
  REQUIRE(a);
  CHECK(a->status == 503);
  CHECK(json::parse(a->body)["status"] == "DOWN");
}
