// Membership with real processes: nodes join and leave a running local
// cluster under a concurrent workload whose history must be linearizable,
// with every acknowledged write read back afterwards.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "cluster_fixture.h"
#include "playground/cluster_state.h"
#include "playground/demo_workload.h"
#include "playground/lincheck.h"

using mq::test::TestCluster;
using nlohmann::json;
namespace pg = mq::playground;

namespace {

// The demo workload against the cluster's first nodes, and its verdict.
class CheckedWorkload {
 public:
  explicit CheckedWorkload(const TestCluster& c) {
    pg::WorkloadOptions wo;
    for (int i = 0; i < 3; ++i) wo.endpoints.push_back("127.0.0.1:" + std::to_string(c.base_port() + i));
    wo.clients = 6;
    wo.shard_count = c.shards();
    wo.timeout_ms = 3000;
    wo.key_prefix = "members" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    workload_ = std::make_unique<pg::Workload>(wo, std::chrono::steady_clock::now());
    workload_->start();
  }

  // Stops the workload, reads every key back and checks the history.
  void check() {
    workload_->stop();
    const bool read_back = workload_->read_back(10'000);
    std::vector<mq::lincheck::Operation> ops;
    uint64_t ok = 0;
    for (const auto& r : workload_->history()) {
      ops.push_back(r.op);
      ok += r.op.outcome == mq::lincheck::Outcome::kOk;
    }
    const auto verdict = mq::lincheck::check(ops);
    INFO(verdict.explanation);
    CHECK(verdict.verdict == mq::lincheck::Result::kLinearizable);
    CHECK(read_back);
    CHECK(ok > 50);
  }

 private:
  std::unique_ptr<pg::Workload> workload_;
};

// Three nodes of the fixture's ports (it keeps room for two more), 8 shards.
void up_three(TestCluster& c) {
  REQUIRE(c.cluster("up", {"-n", "3", "--shards", "8", "--base-port", std::to_string(c.base_port())})
              .exit_code == 0);
}

void settle_a_little() { std::this_thread::sleep_for(std::chrono::milliseconds(700)); }

std::vector<std::string> node_ids(const json& status) {
  std::vector<std::string> ids;
  for (const auto& n : status["nodes"]) ids.push_back(n["id"].get<std::string>());
  return ids;
}

}  // namespace

TEST_CASE("the rebalance demo grows 3 -> 5 -> 3 with a linearizable history and no write lost",
          "[cluster][process][membership]") {
  TestCluster c(5, 8);
  up_three(c);
  auto d = mq::test::mq({"demo", "rebalance", "--dir", c.dir(), "--steady", "1500ms", "--clients", "6",
                         "-o", "json"},
                        180'000);
  INFO(d.err);
  INFO(d.out);
  REQUIRE(d.exit_code == 0);
  const json r = d.json();
  CHECK(r["verdict"] == "linearizable");
  CHECK(r["read_back"] == true);
  REQUIRE(r["phases"].size() == 6);
  CHECK(r["phases"][1]["name"] == "grow to 5 nodes");
  CHECK(r["phases"][1]["moves"].get<int>() > 0);
  CHECK(r["phases"][3]["moves"].get<int>() > 0);
  CHECK(r["phases"][4]["moves"].get<int>() > 0);
  CHECK(r["operations"]["ok"].get<int>() > 100);
  const json s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(node_ids(s) == std::vector<std::string>{"n1", "n2", "n3"});
}

TEST_CASE("a node killed with kill -9 is replaced: a new node joins, the dead one is removed",
          "[cluster][process][membership]") {
  TestCluster c(5, 8);
  up_three(c);
  CheckedWorkload w(c);
  settle_a_little();
  REQUIRE(c.cluster("kill", {"n3"}).exit_code == 0);
  auto added = c.cluster("add", {"--wait", "60s"}, 90'000);
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  auto removed = c.cluster("remove", {"n3", "--wait", "60s"}, 90'000);
  INFO(removed.err);
  REQUIRE(removed.exit_code == 0);
  settle_a_little();
  w.check();
  const json s = c.status_until([](const json& x) { return x["health"] == "healthy"; }, 20'000);
  CHECK(s["health"] == "healthy");
  CHECK(node_ids(s) == std::vector<std::string>{"n1", "n2", "n4"});
}

TEST_CASE("removing the node that leads shards moves their leadership first",
          "[cluster][process][membership]") {
  TestCluster c(5, 8);
  up_three(c);
  REQUIRE(c.cluster("add", {"--wait", "60s"}, 90'000).exit_code == 0);
  const json before = c.status();
  const std::string leader = before["shards"][0]["leader"].get<std::string>();
  REQUIRE(!leader.empty());
  CheckedWorkload w(c);
  settle_a_little();
  auto removed = c.cluster("remove", {leader, "--wait", "60s"}, 90'000);
  INFO(removed.err);
  REQUIRE(removed.exit_code == 0);
  settle_a_little();
  w.check();
  const json s = c.status_until([](const json& x) { return x["health"] == "healthy"; }, 20'000);
  for (const auto& shard : s["shards"]) CHECK(shard["leader"] != leader);
}

TEST_CASE("after membership changes, a restart of every node brings the new membership back",
          "[cluster][process][membership]") {
  TestCluster c(5, 8);
  up_three(c);
  REQUIRE(mq::test::mq({"set", "--endpoints", "127.0.0.1:" + std::to_string(c.base_port()), "u1", "k",
                        "before"})
              .exit_code == 0);
  REQUIRE(c.cluster("add", {"--wait", "60s"}, 90'000).exit_code == 0);
  REQUIRE(c.cluster("remove", {"n2", "--wait", "60s"}, 90'000).exit_code == 0);
  REQUIRE(c.cluster("down", {}, 30'000).exit_code == 0);
  auto up = c.cluster("up", {}, 30'000);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  const json s = c.status_until([](const json& x) { return x["health"] == "healthy"; }, 20'000);
  CHECK(node_ids(s) == std::vector<std::string>{"n1", "n3", "n4"});
  auto get = mq::test::mq({"get", "--endpoints", "127.0.0.1:" + std::to_string(c.base_port()), "u1", "k"});
  CHECK(get.exit_code == 0);
  CHECK(get.out == "before");
}

TEST_CASE("membership mistakes are refused with a clear error and change nothing",
          "[cluster][process][membership]") {
  TestCluster c(5, 8);
  up_three(c);
  auto unknown = c.cluster("remove", {"n9"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("no node 'n9'") != std::string::npos);
  // Replication 3 on 3 nodes: one fewer would leave shards short.
  auto below = c.cluster("remove", {"n2"});
  CHECK(below.exit_code == 2);
  CHECK(below.err.find("--force") != std::string::npos);
  auto zero = c.cluster("add", {"-n", "0"});
  CHECK(zero.exit_code == 2);
  const json s = c.status_until([](const json& x) { return x["health"] == "healthy"; });
  CHECK(node_ids(s) == std::vector<std::string>{"n1", "n2", "n3"});
}

TEST_CASE("a cluster brought up again on the same ports gets another random cluster id",
          "[cluster][process][membership]") {
  TestCluster c(3, 8);
  const std::vector<std::string> up = {"-n", "3", "--shards", "8", "--base-port",
                                       std::to_string(c.base_port())};
  auto cluster_id = [&] {
    auto s = mq::test::mq({"status", "-o", "json", "--endpoints",
                           "127.0.0.1:" + std::to_string(c.base_port())});
    REQUIRE(s.exit_code == 0);
    return s.json()["cluster_id"].get<std::string>();
  };
  REQUIRE(c.cluster("up", up).exit_code == 0);
  const std::string first = cluster_id();
  REQUIRE(c.cluster("down", {"--purge"}).exit_code == 0);
  REQUIRE(c.cluster("up", up).exit_code == 0);
  const std::string second = cluster_id();
  CHECK(first != second);
  // A restart keeps it: the token is in the cluster's state.
  REQUIRE(c.cluster("restart", {"n2"}).exit_code == 0);
  CHECK(cluster_id() == second);
}

TEST_CASE("a node joins while a member is cut off; the moves finish once it is healed",
          "[cluster][process][membership]") {
  TestCluster c(5, 8);
  up_three(c);
  CheckedWorkload w(c);
  settle_a_little();
  REQUIRE(c.cluster("isolate", {"n3"}).exit_code == 0);
  // n4 is admitted through n1 or n2; the balance cannot finish while n3 is
  // cut off (it holds replicas that move), so the wait may give up.
  auto added = c.cluster("add", {"--wait", "3s"}, 60'000);
  INFO(added.err);
  CHECK((added.exit_code == 0 || added.exit_code == 3));
  REQUIRE(c.cluster("heal").exit_code == 0);
  auto balanced = [&] {
    uint64_t version = 0;
    for (int i = 0; i < 4; ++i) {
      auto s = mq::test::mq({"status", "-o", "json", "--endpoints",
                             "127.0.0.1:" + std::to_string(c.base_port() + i)});
      if (s.exit_code != 0) return false;
      const json j = s.json();
      const uint64_t v = j["membership"]["map_version"].get<uint64_t>();
      if (j["membership"]["moves_in_flight"] != 0 || (version != 0 && v != version)) return false;
      version = v;
    }
    return true;
  };
  CHECK(mq::test::wait_ms_until(balanced, 60'000));
  auto members = mq::test::mq({"member", "list", "-o", "json", "--endpoints",
                               "127.0.0.1:" + std::to_string(c.base_port())});
  REQUIRE(members.exit_code == 0);
  INFO(members.out);
  bool n4_holds = false;
  const json list = members.json();
  for (const auto& m : list["members"]) {
    if (m["name"] == "n4") n4_holds = m["state"] == "active" && m["replicas"].get<int>() > 0;
  }
  CHECK(n4_holds);
  w.check();
}

TEST_CASE("transfer-leadership moves every shard a member leads to another replica",
          "[cluster][process][membership]") {
  TestCluster c(3, 8);
  up_three(c);
  const std::string endpoint = "127.0.0.1:" + std::to_string(c.base_port());
  // What n1 leads, as it says itself (a fresh cluster's leaders settle first).
  size_t led_by_n1 = 0;
  REQUIRE(mq::test::wait_ms_until([&] {
    auto s = mq::test::mq({"status", "-o", "json", "--endpoints", endpoint});
    if (s.exit_code != 0) return false;
    const json st = s.json();
    led_by_n1 = 0;
    for (const auto& shard : st["shards"]) led_by_n1 += shard["role"] == "leader";
    return led_by_n1 == 3;  // 8 shards over 3 nodes: n1 prefers 0, 3 and 6
  }, 10'000));
  auto moved = mq::test::mq({"member", "transfer-leadership", "n1", "-o", "json", "--endpoints", endpoint});
  INFO(moved.err);
  REQUIRE(moved.exit_code == 0);
  const json j = moved.json();
  CHECK(j["member"] == "n1");
  CHECK(j["moved"].size() == led_by_n1);
  for (const auto& m : j["moved"]) CHECK(m["to"] != "n1");
  auto unknown = mq::test::mq({"member", "transfer-leadership", "n9", "--endpoints", endpoint});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("no member n9") != std::string::npos);
}
