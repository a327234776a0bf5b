// Where a client command's requests go: flags before the command, host
// names, --cluster, and what it says when the local cluster is stopped.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "node_process.h"

using Catch::Matchers::Contains;
using namespace mq::test;

namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

// A one-node local cluster in a private $MQ_HOME, taken down (and its
// processes reaped by `mq cluster down`) when the object goes away.
class LocalCluster {
 public:
  explicit LocalCluster(uint16_t port) : env_{{"MQ_HOME", home_.path()}}, port_(port) {
    up_ = run_mq({"cluster", "up", "-n", "1", "--shards", "2", "--base-port", std::to_string(port)}, {},
                 env_);
  }
  ~LocalCluster() { down(); }
  RunResult down() { return run_mq({"cluster", "down"}, {}, env_); }
  const RunResult& up() const { return up_; }
  const Env& env() const { return env_; }
  uint16_t port() const { return port_; }

 private:
  TempDir home_;
  Env env_;
  uint16_t port_;
  RunResult up_;
};

}  // namespace

TEST_CASE("client flags may come before the command", "[process][connect]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  RunResult r = run_mq({"--endpoints", node.endpoint(), "set", "u", "k", "v"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  r = run_mq({"--endpoints", node.endpoint(), "--timeout", "2s", "get", "u", "k"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "v");
  r = run_mq({"-o", "json", "--endpoints=" + node.endpoint(), "status"});
  CHECK(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out).contains("nodes"));
}

TEST_CASE("--endpoints takes host names", "[process][connect]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  // Upper case is no literal the parser knows: it is resolved as a name,
  // as any host name is (the hosts file maps localhost to loopback).
  const std::string by_name = "LOCALHOST:" + std::to_string(node.port());
  RunResult r = run_mq({"set", "--endpoints", by_name, "u", "k", "by name"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  r = run_mq({"get", "--endpoints", by_name, "u", "k"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "by name");
}

TEST_CASE("a stopped local cluster is named with its ports and the command that starts it",
          "[process][connect]") {
  const uint16_t port = free_loopback_port();
  LocalCluster cluster(port);
  INFO("cluster up: " << cluster.up().err);
  REQUIRE(cluster.up().exit_code == 0);

  // Running: found without --endpoints, and by name.
  RunResult r = run_mq({"set", "u", "k", "v"}, {}, cluster.env());
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  r = run_mq({"--cluster", "local", "get", "u", "k"}, {}, cluster.env());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "v");
  r = run_mq({"get", "--cluster", "nine", "u", "k"}, {}, cluster.env());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Contains("no local cluster 'nine'") && Contains("mq cluster up --cluster nine"));

  REQUIRE(cluster.down().exit_code == 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "u", "k"}, {"status"}, {"keys", "u"}}) {
    r = run_mq(args, {}, cluster.env());
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Contains("cluster 'local' is not running (ports " + address +
                               "); start it with: mq cluster up"));
    CHECK_THAT(r.err, !Contains("127.0.0.1:7001"));
  }
}

TEST_CASE("with no local cluster, the default endpoint is named with how to start one",
          "[process][connect]") {
  if (port_accepts(7001)) {
    WARN("something listens on 127.0.0.1:7001 here; the default's message is not checked");
    return;
  }
  TempDir home;
  const RunResult r = run_mq({"get", "u", "k"}, {}, {{"MQ_HOME", home.path()}});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Contains("nothing answers at 127.0.0.1:7001") && Contains("mq cluster up") &&
                        Contains("--endpoints"));
}
