// The JSON of `mq cluster status` and `mq cluster logs` against the schemas
// of cli/json_schema/, on a real local cluster, healthy and with a node
// down; and `-o plain` as one summary line.
#include <catch2/catch.hpp>

#include <sstream>

#include "../process/json_schema_check.h"
#include "cluster_fixture.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using namespace mq::test;

namespace {

void check_conforms(const std::string& schema, const json& j) {
  INFO(j.dump());
  const auto violations = schema_violations(load_output_schema(schema), j);
  for (const auto& v : violations) UNSCOPED_INFO(v);
  CHECK(violations.empty());
}

}  // namespace

TEST_CASE("cluster status and logs JSON follow their schemas, a node up or down", "[cluster][process][json]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  json s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  REQUIRE(s["health"] == "healthy");
  check_conforms("cluster_status", s);

  const std::string summary = "cluster " + s["name"].get<std::string>() +
                              ": healthy; 3/3 nodes up, 4/4 shards with a leader\n";
  const Run plain = c.cluster("status", {"-o", "plain"});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out == summary);
  // To a pipe, plain is the default, as for every command.
  CHECK(c.cluster("status").out == summary);
  CHECK_THAT(c.cluster("status", {"-o", "table"}).out, StartsWith("ID  STATE"));

  REQUIRE(c.cluster("kill", {"n2"}).exit_code == 0);
  s = c.status_until([](const json& x) {
    for (const auto& n : x["nodes"]) {
      if (n["id"] == "n2" && n["state"] != "down") return false;
    }
    return true;
  });
  check_conforms("cluster_status", s);
  for (const auto& shard : s["shards"]) {
    for (const auto& r : shard["replicas"]) {
      // Every replica keeps its lag field (a number, or null when unknown).
      CHECK(r.contains("lag"));
      if (r["node"] == "n2") CHECK(r["role"] == "down");
    }
  }

  const Run logs = c.cluster("logs", {"n1", "-o", "json"});
  INFO(logs.err);
  REQUIRE(logs.exit_code == 0);
  std::istringstream lines(logs.out);
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line)) {
    const json j = json::parse(line);
    check_conforms("cluster_logs", j);
    CHECK(j["node"] == "n1");
    ++count;
  }
  CHECK(count > 0);
  const Run text = c.cluster("logs", {"n1", "-n", "1"});
  CHECK_THAT(text.out, !StartsWith("{"));
}

TEST_CASE("a cluster verb that fails with -o json prints a JSON error on stdout", "[cluster][process][json]") {
  TestCluster c(1, 2);
  // No cluster yet: not found.
  auto missing = c.cluster("status", {"-o", "json"});
  CHECK(missing.exit_code == 1);
  const json none = json::parse(missing.out, nullptr, false);
  REQUIRE_FALSE(none.is_discarded());
  check_conforms("error", none);
  CHECK(none["error"]["code"] == "not_found");

  REQUIRE(c.cluster("up", {"-n", "1", "--shards", "2", "--base-port", std::to_string(c.base_port())})
              .exit_code == 0);
  auto no_node = c.cluster("kill", {"n9", "-o", "json"});
  CHECK(no_node.exit_code == 1);
  const json j = json::parse(no_node.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  check_conforms("error", j);
  CHECK_THAT(j["error"]["message"].get<std::string>(), Contains("n9"));
  // Without -o json, stdout stays empty: the message is on stderr only.
  auto plain = c.cluster("kill", {"n9"});
  CHECK(plain.out.empty());
  CHECK_THAT(plain.err, Contains("n9"));
}
