// What `mq cluster status` prints of a cluster view, in each format: the
// JSON keeps its shape when a node is down (lag null, role "down").
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli/cluster_render.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace mq;

namespace {

// n1 and n3 up, n2 down; shard 0 led by n1 with n2 lagging, shard 1 between
// leaders (no leader of the current term answered).
playground::ClusterView view_with_a_node_down() {
  playground::ClusterView v;
  v.name = "local";
  for (const char* id : {"n1", "n2", "n3"}) {
    playground::NodeView n;
    n.id = id;
    n.address = std::string("127.0.0.1:700") + id[1];
    n.liveness = id[1] == '2' ? playground::Liveness::kDown : playground::Liveness::kUp;
    n.pid = id[1] == '2' ? 0 : 100 + id[1];
    v.nodes.push_back(n);
  }
  playground::ShardView led{0, "n1", 2, 10, {}, true};
  led.replicas = {{"n1", "leader", 0, true}, {"n2", "-", 7, true}, {"n3", "follower", 0, true}};
  playground::ShardView leaderless{1, "", 3, 4, {}, true};
  leaderless.replicas = {{"n1", "follower", 0, false}, {"n2", "-", 0, false}, {"n3", "?", 0, false}};
  v.shards = {led, leaderless};
  v.health = playground::Health::kDegraded;
  v.health_reason = "n2 down";
  return v;
}

}  // namespace

TEST_CASE("cluster status JSON keeps its shape when a node is down", "[output][cluster]") {
  const json j = json::parse(cli::render_cluster_status(cli::Format::kJson, view_with_a_node_down()));
  const json& led = j["shards"][0]["replicas"];
  CHECK(led[1]["role"] == "down");
  CHECK(led[1]["lag"] == 7);
  const json& leaderless = j["shards"][1]["replicas"];
  for (const auto& r : leaderless) {
    INFO(r.dump());
    REQUIRE(r.contains("lag"));
    CHECK(r["lag"].is_null());
  }
  CHECK(leaderless[1]["role"] == "down");
  CHECK(leaderless[2]["role"] == "unknown");
  CHECK(j["nodes"][1]["state"] == "down");
  CHECK(j["nodes"][1]["pid"] == 0);
}

TEST_CASE("cluster status plain is one summary line, table the full view", "[output][cluster]") {
  const auto v = view_with_a_node_down();
  CHECK(cli::render_cluster_status(cli::Format::kPlain, v) ==
        "cluster local: degraded: n2 down; 2/3 nodes up, 1/2 shards with a leader\n");
  const std::string table = cli::render_cluster_status(cli::Format::kTable, v);
  CHECK_THAT(table, Contains("n2:down(lag 7)") && Contains("n3:unknown"));
  CHECK_THAT(table, Contains("cluster local: degraded: n2 down\n"));
}

TEST_CASE("cluster logs JSON is one object per log line", "[output][cluster]") {
  CHECK(cli::render_log_line_json("n1", "started \"x\"") ==
        "{\"line\":\"started \\\"x\\\"\",\"node\":\"n1\"}\n");
  // Bytes that are not UTF-8 still give valid JSON.
  CHECK(json::parse(cli::render_log_line_json("n1", "bad \xFF byte"))["line"].is_string());
}

TEST_CASE("cluster status shows each node's HTTP address, '-' or empty when it has none",
          "[output][cluster]") {
  auto v = view_with_a_node_down();
  v.nodes[0].http_address = "127.0.0.1:8001";
  v.nodes[1].http_address = "127.0.0.1:8002";
  // n3 was recorded before nodes had an HTTP listener.
  const json j = json::parse(cli::render_cluster_status(cli::Format::kJson, v));
  CHECK(j["nodes"][0]["http_address"] == "127.0.0.1:8001");
  CHECK(j["nodes"][1]["http_address"] == "127.0.0.1:8002");
  CHECK(j["nodes"][2]["http_address"] == "");

  const std::string table = cli::render_nodes(v);
  CHECK_THAT(table, Contains("ADDRESS         HTTP "));
  CHECK_THAT(table, Contains("127.0.0.1:7001  127.0.0.1:8001"));
  CHECK_THAT(table, Contains("127.0.0.1:7003  -"));
}
