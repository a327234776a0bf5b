// A data dir remembers the cluster it was created for: a node started with
// another --peers list must refuse it (exit 11) rather than join a cluster
// its log does not belong to; an --id missing from --peers is a usage error.
#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace mq::test
