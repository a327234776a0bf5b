// `mq cluster` and `mq demo` with real node processes on loopback ports.
// Each test case owns a TestCluster, whose destructor stops every node it
// started (by pid), even when an assertion failed.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "cluster_fixture.h"

using mq::test::TestCluster;
using nlohmann::json;

namespace {

std::string node_state(const json& status, const std::string& id) {
  for (const auto& n : status["nodes"]) {
    if (n["id"] == id) return n["state"];
  }
  return "";
}

bool all_led(const json& status) {
  if (!status.contains("shards") || status["shards"].empty()) return false;
  for (const auto& s : status["shards"]) {
    if (s["leader"].get<std::string>().empty()) return false;
  }
  return true;
}

std::string leader_of(const json& status, uint32_t shard) {
  return status["shards"][shard]["leader"].get<std::string>();
}

int pid_of(const json& status, const std::string& id) {
  for (const auto& n : status["nodes"]) {
    if (n["id"] == id) return n["pid"];
  }
  return 0;
}

}  // namespace

TEST_CASE("up, status, up again, down: every node started is gone afterwards", "[cluster][process]") {
  TestCluster c(3, 8);
  REQUIRE(c.base_port() != 0);
  auto up = c.cluster("up", {"-n", "3", "--shards", "8", "--base-port", std::to_string(c.base_port()), "-o", "json"});
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  json j = up.json();
  REQUIRE(j["nodes"].size() == 3);
  CHECK(j["already_running"] == false);
  CHECK(all_led(j));
  CHECK(j["all_led_ms"].get<int64_t>() < 10'000);

  json s = c.status();
  REQUIRE(s["nodes"].size() == 3);
  CHECK(s["health"] == "healthy");
  json expected_targets = json::array();
  for (int i = 0; i < 3; ++i) {
    const json& n = s["nodes"][i];
    CHECK(n["state"] == "up");
    CHECK(n["pid"].get<int>() > 0);
    CHECK(n["address"] == "127.0.0.1:" + std::to_string(c.base_port() + i));
    // Every node gets an HTTP port, its gRPC port plus 1000.
    const std::string http = "127.0.0.1:" + std::to_string(c.base_port() + 1000 + i);
    CHECK(n["http_address"] == http);
    expected_targets.push_back(http);
  }
  const auto pids = c.recorded_pids();
  REQUIRE(pids.size() == 3);
  for (size_t i = 0; i < pids.size(); ++i) {
    CHECK(mq::test::process_runs_with(pids[i], "node --id"));
    CHECK(mq::test::process_runs_with(pids[i], "--enable-fault-injection"));
    CHECK(mq::test::process_runs_with(pids[i], "--http-listen " + expected_targets[i].get<std::string>()));
  }
  // Prometheus finds the nodes through the target file in the state dir.
  std::ifstream targets_file(c.dir() + "/prometheus_targets.json");
  REQUIRE(targets_file);
  const json targets = json::parse(targets_file);
  REQUIRE(targets.size() == 1);
  CHECK(targets[0]["targets"] == expected_targets);
  CHECK(targets[0]["labels"]["cluster"] == "local");

  // A second up reuses the running nodes.
  auto again = c.cluster("up", {"-o", "json"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.json()["already_running"] == true);
  CHECK(again.err.find("already running") != std::string::npos);
  CHECK(c.recorded_pids() == pids);
  // Other settings than the running cluster's are refused, not ignored.
  auto other = c.cluster("up", {"-n", "5", "--shards", "8", "-o", "json"});
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("already exists with 3 nodes, 8 shards") != std::string::npos);
  CHECK(other.err.find("-n 5 differs") != std::string::npos);
  CHECK(c.recorded_pids() == pids);

  // A client command finds nothing to reach after down.
  auto down = c.cluster("down", {"-o", "json"});
  REQUIRE(down.exit_code == 0);
  CHECK(down.json()["stopped"].size() == 3);
  for (int pid : pids) CHECK_FALSE(mq::test::process_runs_with(pid, "node --id"));
  json after = c.status();
  for (const auto& n : after["nodes"]) CHECK(n["state"] == "down");
  CHECK(after["health"] == "unavailable");

  // Down twice, purged or not, has nothing left to stop: not an error.
  REQUIRE(c.cluster("down", {"--purge"}).exit_code == 0);
  auto twice = c.cluster("down", {"--purge", "-o", "json"});
  CHECK(twice.exit_code == 0);
  CHECK(twice.json()["found"] == false);
  CHECK(twice.err.find("nothing to stop") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(c.dir()));
}

TEST_CASE("bad cluster settings are refused before anything is spawned or created", "[cluster][process]") {
  TestCluster c(3, 8);
  const std::string port = std::to_string(c.base_port());
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--shards", "0"}, {"--shards", "1025"}, {"--replication", "0"},
        {"-n", "3", "--replication", "5"}}) {
    std::vector<std::string> args = flags;
    args.insert(args.end(), {"--base-port", port});
    auto up = c.cluster("up", args);
    INFO(flags[flags.size() - 2] << " " << flags.back() << ": " << up.err);
    CHECK(up.exit_code == 2);
    CHECK(up.err.find(flags[flags.size() - 2]) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(c.dir()));
  }
  // Asking about a cluster that does not exist creates nothing either.
  CHECK(c.cluster("status").exit_code == 1);
  CHECK(c.cluster("down").exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(c.dir()));
}

TEST_CASE("a port in use is reported before anything is spawned", "[cluster][process]") {
  TestCluster busy(1, 1);
  REQUIRE(busy.cluster("up", {"-n", "1", "--shards", "1", "--base-port", std::to_string(busy.base_port())}).exit_code == 0);
  // The second cluster's n2 would take the port the first one's n1 holds.
  TestCluster c(3, 4);
  auto up = c.cluster("up", {"-n", "3", "--shards", "4", "--base-port", std::to_string(busy.base_port() - 1)});
  CHECK(up.exit_code == 5);
  CHECK(up.err.find("port " + std::to_string(busy.base_port())) != std::string::npos);
  for (int pid : c.recorded_pids()) CHECK(pid == 0);
}

TEST_CASE("kill the leader, fail over, restart on the same port", "[cluster][process]") {
  TestCluster c(3, 8);
  REQUIRE(c.cluster("up", {"--shards", "8", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  json s = c.status();
  const std::string leader = leader_of(s, 0);
  REQUIRE(!leader.empty());
  const int old_pid = pid_of(s, leader);

  auto k = c.cluster("kill", {"leader", "--shard", "0", "-o", "json"});
  INFO(k.err);
  REQUIRE(k.exit_code == 0);
  CHECK(k.json()["node"] == leader);
  CHECK_FALSE(mq::test::process_runs_with(old_pid, "node --id " + leader));

  s = c.status_until([&](const json& st) { return all_led(st) && leader_of(st, 0) != leader; });
  CHECK(node_state(s, leader) == "down");
  CHECK(s["health"] == "degraded");
  CHECK(s["health_reason"].get<std::string>().find(leader + " down") != std::string::npos);
  CHECK(leader_of(s, 0) != leader);
  CHECK(all_led(s));

  // Killing a node that is down is refused with exit 1.
  CHECK(c.cluster("kill", {leader}).exit_code == 1);

  auto st = c.cluster("start", {leader});
  INFO(st.err);
  REQUIRE(st.exit_code == 0);
  s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(s["health"] == "healthy");
  CHECK(pid_of(s, leader) != old_pid);
  for (const auto& n : s["nodes"]) {
    if (n["id"] == leader) {
      // The recorded ports survive the restart.
      const std::string want = "127.0.0.1:" + std::to_string(c.base_port() + (leader[1] - '1'));
      CHECK(n["address"] == want);
      const std::string want_http =
          "127.0.0.1:" + std::to_string(c.base_port() + 1000 + (leader[1] - '1'));
      CHECK(n["http_address"] == want_http);
      CHECK(mq::test::process_runs_with(n["pid"].get<int>(), "--http-listen " + want_http));
    }
  }

  auto r = c.cluster("restart", {"n2"});
  REQUIRE(r.exit_code == 0);
  s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(s["health"] == "healthy");
}

TEST_CASE("pause and resume a node", "[cluster][process]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  auto logs = c.cluster("logs", {"n3", "-n", "0"});
  REQUIRE(logs.exit_code == 0);
  CHECK(logs.out.find("serving on 127.0.0.1:" + std::to_string(c.base_port() + 2)) != std::string::npos);
  CHECK(c.cluster("logs", {"n9"}).exit_code == 1);

  REQUIRE(c.cluster("pause", {"n3"}).exit_code == 0);
  json s = c.status();
  CHECK(node_state(s, "n3") == "paused");
  CHECK(s["health"] == "degraded");
  s = c.status_until([](const json& x) { return all_led(x); });
  for (const auto& sh : s["shards"]) CHECK(sh["leader"] != "n3");
  REQUIRE(c.cluster("resume", {"n3"}).exit_code == 0);
  s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(node_state(s, "n3") == "up");
}

TEST_CASE("partition a leader away, then heal", "[cluster][process]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  const std::string leader = leader_of(c.status(), 0);
  REQUIRE(!leader.empty());
  std::string others;
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "n" + std::to_string(i);
    if (id != leader) others += (others.empty() ? "" : ",") + id;
  }
  auto p = c.cluster("partition", {leader, others});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  // The majority side elects a new leader for shard 0; the old one, cut
  // off, steps down (check-quorum), so it never shows as leader again.
  json s = c.status_until([&](const json& x) {
    return !leader_of(x, 0).empty() && leader_of(x, 0) != leader;
  });
  CHECK(node_state(s, leader) == "partitioned");
  CHECK(s["health"] == "degraded");
  CHECK(leader_of(s, 0) != leader);

  REQUIRE(c.cluster("heal").exit_code == 0);
  s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(s["health"] == "healthy");
  CHECK(node_state(s, leader) == "up");

  // Leadership can be moved back on request.
  auto t = c.cluster("transfer-leader", {"0", leader});
  INFO(t.err);
  CHECK(t.exit_code == 0);
  CHECK(leader_of(c.status(), 0) == leader);
}

TEST_CASE("isolating a node in a 3-node cluster keeps every shard available", "[cluster][process]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  REQUIRE(c.cluster("isolate", {"n1"}).exit_code == 0);
  json s = c.status_until([](const json& x) {
    if (!all_led(x)) return false;
    for (const auto& sh : x["shards"]) {
      if (sh["leader"] == "n1") return false;
    }
    return true;
  });
  CHECK(s["health"] == "degraded");
  for (const auto& sh : s["shards"]) CHECK(sh["quorum"] == true);
  REQUIRE(c.cluster("heal").exit_code == 0);
}

TEST_CASE("the failover demo loses no acknowledged write and stays linearizable", "[cluster][process][demo]") {
  TestCluster c(3, 8);
  REQUIRE(c.cluster("up", {"--shards", "8", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  auto d = mq::test::mq({"demo", "failover", "--dir", c.dir(), "--fault", "kill-leader", "--duration", "3s",
                         "--clients", "8", "--check", "-o", "json"},
                        90'000);
  INFO(d.err);
  INFO(d.out);
  REQUIRE(d.exit_code == 0);
  json all = d.json();
  CHECK(all["linearizable"] == "yes");
  CHECK(all["lost_writes"] == 0);
  CHECK(all["interrupted"] == false);
  REQUIRE(all["trials"].size() == 1);
  // One trial still has a median: its own longest unavailability.
  CHECK(all["median_ms"] == all["trials"][0]["max_unavailable_ms"]);
  json r = all["trials"][0];
  CHECK(r["writes"]["ok"].get<int>() > 100);
  // The killed leader's shards lost their leader; every counted shard did
  // (or stalled for a second).
  bool target_counted = false;
  for (const auto& w : r["windows"]) {
    if (w["shard"] == 0) target_counted = w["counted"] == true && w["lost_leader"] == true;
    if (w["counted"] == false) CHECK(w["unavailable_ms"] == 0);
  }
  CHECK(target_counted);
  CHECK(r["windows"].size() == 8);
  // The killed leader's shards moved to another node.
  bool moved = false;
  for (const auto& e : r["leader_changes"]) moved |= e["from"] == r["fault"]["node"];
  CHECK(moved);
  // The node killed by the demo was started again by it.
  json s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(s["health"] == "healthy");
}

TEST_CASE("a second demo on the same cluster starts from fresh keys", "[cluster][process][demo]") {
  TestCluster c(3, 4);
  REQUIRE(c.cluster("up", {"--shards", "4", "--base-port", std::to_string(c.base_port())}).exit_code == 0);
  for (const char* fault : {"partition", "pause"}) {
    auto d = mq::test::mq({"demo", "failover", "--dir", c.dir(), "--fault", fault, "--duration", "2s",
                           "--clients", "4", "--check", "-o", "json"},
                          90'000);
    INFO(fault);
    INFO(d.err);
    REQUIRE(d.exit_code == 0);
    json r = d.json();
    CHECK(r["linearizable"] == "yes");
    CHECK(r["lost_writes"] == 0);
    CHECK(r["trials"][0]["fault"]["kind"] == fault);
  }
  json s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(s["health"] == "healthy");
}
