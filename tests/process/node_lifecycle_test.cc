// `mq node` refuses a bad configuration with one clear line before anything
// starts, and stops cleanly on SIGTERM.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "node_process.h"

using Catch::Matchers::Contains;
using namespace mq::test;

namespace {

bool is_one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

// Starts a node expected to fail: returns its exit status and stderr (the
// run is bounded; a node that starts after all is killed by run()).
RunResult start_failing_node(const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"node"};
  args.insert(args.end(), flags.begin(), flags.end());
  return run_mq(args);
}

// Holds a listening socket on a loopback port for the test's duration.
class PortHolder {
 public:
  PortHolder() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t len = sizeof sa;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      throw std::runtime_error("cannot hold a loopback port");
    }
    port_ = ntohs(sa.sin_port);
  }
  ~PortHolder() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("SIGTERM stops the node with exit 0", "[process][node]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  REQUIRE(node.client({"set", "u", "k", "v"}).exit_code == 0);

  const auto started = std::chrono::steady_clock::now();
  const auto code = node.stop(kNodeStopTimeoutMs);
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(elapsed_ms < kNodeStopTimeoutMs);
  CHECK_FALSE(port_accepts(node.port()));
  CHECK(node.client({"get", "u", "k"}).exit_code == 3);
}

TEST_CASE("SIGINT stops the node with exit 0 too", "[process][node]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  node.process().signal(SIGINT);
  const auto code = node.process().wait(kNodeStopTimeoutMs);
  REQUIRE(code);
  CHECK(*code == 0);
}

TEST_CASE("a bad --listen is refused before anything starts", "[process][node]") {
  TempDir dir;
  const std::string data_dir = dir / "n1";
  for (const char* listen : {"nonsense", "127.0.0.1:0", "127.0.0.1:99999", "example.com:7001"}) {
    const RunResult r = start_failing_node({"--id", "n1", "--listen", listen, "--data-dir", data_dir});
    INFO("--listen " << listen << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(is_one_line(r.err));
    CHECK_THAT(r.err, Contains("--listen") && Contains(listen));
    CHECK_FALSE(std::filesystem::exists(data_dir));  // nothing was created
  }
}

TEST_CASE("a bad --http-listen is refused before anything starts", "[process][node]") {
  TempDir dir;
  const std::string data_dir = dir / "n1";
  const std::string listen = "127.0.0.1:" + std::to_string(free_loopback_port());
  const std::vector<std::string> bad = {"nonsense", "127.0.0.1:0", "example.com:8001", listen};
  for (const std::string& http : bad) {
    const RunResult r = start_failing_node(
        {"--id", "n1", "--listen", listen, "--http-listen", http, "--data-dir", data_dir});
    INFO("--http-listen " << http << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(is_one_line(r.err));
    CHECK_THAT(r.err, Contains("--http-listen") && Contains(http));
    CHECK_FALSE(std::filesystem::exists(data_dir));
  }
  // Also from the environment, as every flag.
  const RunResult r = run_mq({"node", "--id", "n1", "--listen", listen, "--data-dir", data_dir}, {},
                             {{"MQ_HTTP_LISTEN", listen}});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--http-listen"));
}

TEST_CASE("an HTTP port in use is refused with one line naming --http-listen", "[process][node]") {
  TempDir dir;
  PortHolder holder;
  const uint16_t port = free_loopback_port();
  const std::string http = "127.0.0.1:" + std::to_string(holder.port());
  const RunResult r = start_failing_node({"--id", "n1", "--listen", "127.0.0.1:" + std::to_string(port),
                                          "--http-listen", http, "--data-dir", dir / "n1"});
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("cannot listen on " + http + " (--http-listen)") && Contains("in use"));
  CHECK_FALSE(port_accepts(port));
}

TEST_CASE("a bad --listen-peer is refused before anything starts", "[process][node]") {
  TempDir dir;
  const std::string data_dir = dir / "n1";
  const std::string listen = "127.0.0.1:" + std::to_string(free_loopback_port());
  const std::string http = "127.0.0.1:" + std::to_string(free_loopback_port());
  const std::vector<std::string> bad = {"nonsense", "127.0.0.1:0", "example.com:7101", listen, http};
  for (const std::string& peer : bad) {
    const RunResult r = start_failing_node({"--id", "n1", "--listen", listen, "--http-listen", http,
                                            "--listen-peer", peer, "--data-dir", data_dir});
    INFO("--listen-peer " << peer << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(is_one_line(r.err));
    CHECK_THAT(r.err, Contains("--listen-peer") && Contains(peer));
    CHECK_FALSE(std::filesystem::exists(data_dir));
  }
}

TEST_CASE("a peer port in use is refused with one line naming --listen-peer", "[process][node]") {
  TempDir dir;
  PortHolder holder;
  const uint16_t port = free_loopback_port();
  const std::string peer = "127.0.0.1:" + std::to_string(holder.port());
  const RunResult r = start_failing_node({"--id", "n1", "--listen", "127.0.0.1:" + std::to_string(port),
                                          "--listen-peer", peer, "--data-dir", dir / "n1"});
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("cannot listen on " + peer + " (--listen-peer)") && Contains("in use"));
  CHECK_FALSE(port_accepts(port));
}

TEST_CASE("a node listens for peers on --listen-peer", "[process][node]") {
  TempDir dir;
  const uint16_t peer_port = free_loopback_port();
  NodeProcess node(dir / "n1", free_loopback_port(),
                   {"--listen-peer", "127.0.0.1:" + std::to_string(peer_port)});
  REQUIRE(node.wait_ready());
  CHECK(port_accepts(peer_port));
}

TEST_CASE("missing or bad node flags exit 2", "[process][node]") {
  TempDir dir;
  RunResult r = start_failing_node({"--listen", "127.0.0.1:7001", "--data-dir", dir / "n1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--id"));

  r = start_failing_node({"--id", "bad id!", "--listen", "127.0.0.1:7001", "--data-dir", dir / "n1"});
  CHECK(r.exit_code == 2);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("--id"));

  r = start_failing_node({"--id", "n1", "--listen", "127.0.0.1:7001", "--data-dir", dir / "n1",
                          "--max-value-bytes", "0"});
  CHECK(r.exit_code == 2);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("--max-value-bytes"));
}

TEST_CASE("a port in use is refused with one line", "[process][node]") {
  TempDir dir;
  PortHolder holder;
  const std::string listen = "127.0.0.1:" + std::to_string(holder.port());
  const RunResult r = start_failing_node({"--id", "n1", "--listen", listen, "--data-dir", dir / "n1"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != -1);  // it exited by itself, promptly
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains(listen) && Contains("in use"));
}

TEST_CASE("an unusable data dir is refused with one line", "[process][node]") {
  TempDir dir;
  const std::string file = dir / "a-file";
  std::ofstream(file) << "not a directory\n";
  const uint16_t port = free_loopback_port();
  const RunResult r = start_failing_node({"--id", "n1", "--listen", "127.0.0.1:" + std::to_string(port),
                                          "--data-dir", file + "/data"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != -1);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("data dir") && Contains(file + "/data"));
  CHECK_FALSE(port_accepts(port));
}

TEST_CASE("a data dir in use by a running node is refused", "[process][node]") {
  TempDir dir;
  NodeProcess first(dir / "n1", free_loopback_port());
  REQUIRE(first.wait_ready());
  REQUIRE(first.client({"set", "u", "k", "v"}).exit_code == 0);

  const uint16_t port = free_loopback_port();
  const RunResult r = start_failing_node({"--id", "n1", "--listen", "127.0.0.1:" + std::to_string(port),
                                          "--data-dir", dir / "n1"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != -1);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("in use by another mq node"));
  CHECK_FALSE(port_accepts(port));

  // The first node is untouched.
  CHECK(first.client({"get", "u", "k"}).out == "v");
}

TEST_CASE("a restarted node keeps acknowledged writes", "[process][node]") {
  TempDir dir;
  const uint16_t port = free_loopback_port();
  {
    NodeProcess node(dir / "n1", port);
    REQUIRE(node.wait_ready());
    REQUIRE(node.client({"set", "u", "k", "kept"}).exit_code == 0);
    REQUIRE(node.client({"set", "u", "gone", "x"}).exit_code == 0);
    REQUIRE(node.client({"del", "u", "gone"}).exit_code == 0);
    REQUIRE(node.stop() == std::optional<int>(0));
  }
  NodeProcess node(dir / "n1", port);
  REQUIRE(node.wait_ready());
  CHECK(node.client({"get", "u", "k"}).out == "kept");
  CHECK(node.client({"get", "u", "gone"}).exit_code == 1);
}

TEST_CASE("a node killed with SIGKILL keeps acknowledged writes", "[process][node]") {
  TempDir dir;
  const uint16_t port = free_loopback_port();
  {
    NodeProcess node(dir / "n1", port);
    REQUIRE(node.wait_ready());
    for (int i = 0; i < 20; ++i) {
      REQUIRE(node.client({"set", "u", "k" + std::to_string(i), "v" + std::to_string(i)}).exit_code == 0);
    }
    node.process().signal(SIGKILL);
    REQUIRE(node.process().wait(kNodeStopTimeoutMs) == std::optional<int>(128 + SIGKILL));
  }
  NodeProcess node(dir / "n1", port);
  REQUIRE(node.wait_ready());
  for (int i = 0; i < 20; ++i) {
    CHECK(node.client({"get", "u", "k" + std::to_string(i)}).out == "v" + std::to_string(i));
  }
}
