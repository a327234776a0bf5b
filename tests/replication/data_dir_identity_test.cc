// A data dir remembers the cluster it was created for: a node started with
// another --peers list must refuse it (exit 11) rather than join a cluster
// its log does not belong to; an --id missing from --peers is a usage error.
// An emptied data dir of a cluster member never bootstraps the cluster again.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/replication/local_cluster.h"

namespace mq::test {
namespace {

constexpr int kRefusalTimeoutMs = 10'000;

TEST_CASE("a data dir is refused under another --peers list", "[replication][identity]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  REQUIRE(cluster.stop(0) == 0);

  // Same id and address, one peer replaced: another cluster.
  const std::string other_peers = "n1=" + cluster.endpoint(0) + ",n2=" + cluster.endpoint(1) +
                                  ",n4=127.0.0.1:" + std::to_string(free_loopback_port());
  const RunResult r = run({mq_binary(), "node", "--id", "n1", "--listen", cluster.endpoint(0), "--data-dir",
                           cluster.data_dir(0), "--peers", other_peers},
                          {}, {}, kRefusalTimeoutMs);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 11);
  CHECK(r.err.find("belongs to another node or cluster") != std::string::npos);
  CHECK(r.err.find(cluster.data_dir(0)) != std::string::npos);

  // The refused start must not have damaged the data dir.
  cluster.start(0);
  CHECK(cluster.wait_for_leaders());
}

TEST_CASE("a node whose --id is not in --peers exits 2", "[replication][identity]") {
  TempDir dir;
  const std::string listen = "127.0.0.1:" + std::to_string(free_loopback_port());
  const std::string peers = "n1=" + listen + ",n2=127.0.0.1:" + std::to_string(free_loopback_port());
  const RunResult r = run({mq_binary(), "node", "--id", "n9", "--listen", listen, "--data-dir", dir / "n9",
                           "--peers", peers},
                          {}, {}, kRefusalTimeoutMs);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--id n9 is not in --peers") != std::string::npos);
}

// A replaced disk, or an operator "fixing" exit 10 by deleting the data dir:
// the node forgot its votes and its log. Bootstrapping again would let it
// vote with an empty log and be credited with entries it no longer has.
TEST_CASE("an emptied data dir of a cluster member is refused, not bootstrapped",
          "[replication][identity]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  REQUIRE(cluster.stop(1) == 0);
  std::filesystem::remove_all(cluster.data_dir(1));

  const std::vector<std::string> base = {mq_binary(), "node", "--id", "n2", "--listen",
                                         cluster.endpoint(1), "--data-dir", cluster.data_dir(1),
                                         "--peers", cluster.peers_flag()};
  std::vector<std::string> existing = base;
  existing.insert(existing.end(), {"--initial-cluster-state", "existing"});
  const RunResult lost = run(existing, {}, {}, kRefusalTimeoutMs);
  INFO("stderr: " << lost.err);
  CHECK(lost.exit_code == 13);
  CHECK(lost.err.find("is empty") != std::string::npos);
  CHECK(lost.err.find("cannot rejoin safely") != std::string::npos);

  const RunResult unsaid = run(base, {}, {}, kRefusalTimeoutMs);
  INFO("stderr: " << unsaid.err);
  CHECK(unsaid.exit_code == 2);
  CHECK(unsaid.err.find("--initial-cluster-state new") != std::string::npos);

  // Neither refusal wrote a state the next start would take for a member's.
  const RunResult again = run(existing, {}, {}, kRefusalTimeoutMs);
  CHECK(again.exit_code == 13);
}

}  // namespace
}  // namespace mq::test
