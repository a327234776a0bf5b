// Nodes known by host names: a node that comes back at another address
// under the same name is found again by its peers, without any change to
// the cluster's member list.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "cli/client/client.h"
#include "tests/netns/lab_cluster.h"

namespace mq::netns {
extern NetLab* the_lab;
namespace {

constexpr uint32_t kShards = 4;
constexpr int kSettleMs = 20'000;
constexpr int kUsers = 32;

cli::ClientOptions client_options(const LabCluster& cluster) {
  cli::ClientOptions co;
  co.endpoints = cluster.endpoints();
  co.tls = cluster.client_tls();
  co.timeout_ms = 5000;
  return co;
}

// One key per user, so every shard holds some; false at the first failure.
bool write_all(const LabCluster& cluster, const std::string& value, std::string* why) {
  cli::Client client(client_options(cluster));
  for (int u = 0; u < kUsers; ++u) {
    cli::SetResult r;
    const cli::Error e = client.set("user" + std::to_string(u), "k", value, &r);
    if (!e.ok()) {
      *why = "set user" + std::to_string(u) + ": " + e.message;
      return false;
    }
  }
  return true;
}

int count_reading(const LabCluster& cluster, const std::string& value) {
  cli::Client client(client_options(cluster));
  int matching = 0;
  for (int u = 0; u < kUsers; ++u) {
    cli::GetResult r;
    if (client.get("user" + std::to_string(u), "k", cli::Consistency::kLinearizable, &r).ok() && r.found &&
        r.value == value) {
      ++matching;
    }
  }
  return matching;
}

TEST_CASE("3 nodes named by DNS: a node back at a new address is found again by its name", "[netns]") {
  LabCluster cluster(the_lab, {.subnet = 4, .nodes = 3, .shards = kShards, .peers_by_name = true});
  for (const auto& id : cluster.ids()) cluster.start(id);
  REQUIRE(cluster.wait_all_led(kSettleMs));
  std::string why;
  REQUIRE(write_all(cluster, "before", &why));

  cli::Client client(client_options(cluster));
  cli::MemberList before;
  REQUIRE(client.list_members(&before).ok());
  for (const auto& m : before.members) CHECK(m.address == cluster.host_name(m.name) + ":7000");

  // n3 goes away and comes back at another address under the same name.
  cluster.stop("n3");
  const std::string old_ip = cluster.ip("n3");
  cluster.readdress("n3", "10.213.4.103");
  REQUIRE(cluster.ip("n3") != old_ip);
  cluster.start("n3");
  // Then n1 stops: every shard's quorum is n2 and n3, so n2 must reach n3
  // at its new address, which only its name gives.
  cluster.stop("n1");
  INFO(cluster.logs_tail());
  REQUIRE(cluster.wait_all_led(kSettleMs));
  CHECK(write_all(cluster, "after", &why));
  INFO(why);
  CHECK(count_reading(cluster, "after") == kUsers);

  // The member list did not change: n3 is the member it was.
  cli::MemberList after;
  REQUIRE(cli::Client(client_options(cluster)).list_members(&after).ok());
  CHECK(after.version == before.version);
}

}  // namespace
}  // namespace mq::netns
