// The interactive REPL on a terminal: its prompt names the endpoint, says
// when the connection is down, and the next command reconnects; Ctrl-C
// discards a line or cancels a request, never the REPL; the history file
// holds what was typed.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "cli/client/client.h"
#include "node_process.h"
#include "pty_process.h"

using namespace mq::test;

TEST_CASE("on a terminal the prompt says when the connection is down", "[process][repl]") {
  constexpr int kScreenTimeoutMs = 5000;
  TempDir dir;
  const uint16_t port = free_loopback_port();
  auto node = std::make_unique<NodeProcess>(dir / "n1", port);
  REQUIRE(node->wait_ready());

  const std::string connected_prompt = "mq " + node->endpoint() + "> ";
  const std::string disconnected_prompt = "mq " + node->endpoint() + " (not connected)> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node->endpoint(), "--timeout", "2s"},
                  {{"TERM", "dumb"}, {"MQ_HISTFILE", dir / "history"}});
  auto screen = [&](const std::string& needle) {
    INFO("waiting for: " << needle << "\nterminal so far: " << repl.pending());
    return repl.wait_for(needle, kScreenTimeoutMs);
  };

  REQUIRE(screen(connected_prompt));
  REQUIRE(repl.type("set u k typed-at-a-terminal\r"));
  CHECK(screen("OK"));
  REQUIRE(screen(connected_prompt));

  REQUIRE(node->stop() == std::optional<int>(0));
  node.reset();
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen("(error)"));
  CHECK(screen(disconnected_prompt));

  node = std::make_unique<NodeProcess>(dir / "n1", port);
  REQUIRE(node->wait_ready());
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen("typed-at-a-terminal"));
  CHECK(screen(connected_prompt));

  REQUIRE(repl.type("quit\r"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("on a terminal the prompt says 'not connected' until a node answers", "[process][repl]") {
  constexpr int kScreenTimeoutMs = 5000;
  TempDir dir;
  const uint16_t port = free_loopback_port();
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  PtyProcess repl({mq_binary(), "repl", "--endpoints", endpoint},
                  {{"TERM", "dumb"}, {"MQ_HISTFILE", dir / "history"}});
  auto screen = [&](const std::string& needle) {
    INFO("waiting for: " << needle << "\nterminal so far: " << repl.pending());
    return repl.wait_for(needle, kScreenTimeoutMs);
  };
  // Nothing listens yet: the banner and the prompt say so.
  CHECK(screen("not connected"));
  REQUIRE(screen("mq " + endpoint + " (not connected)> "));

  NodeProcess node(dir / "n1", port);
  REQUIRE(node.wait_ready());
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen("(nil)"));
  CHECK(screen("mq " + endpoint + "> "));
  REQUIRE(repl.type("quit\r"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("Ctrl-C at the prompt discards the line and the REPL goes on", "[process][repl]") {
  constexpr int kScreenTimeoutMs = 5000;
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::string prompt = "mq " + node.endpoint() + "> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node.endpoint()},
                  {{"TERM", "dumb"}, {"MQ_HISTFILE", dir / "history"}});
  auto screen = [&](const std::string& needle) {
    INFO("waiting for: " << needle << "\nterminal so far: " << repl.pending());
    return repl.wait_for(needle, kScreenTimeoutMs);
  };
  REQUIRE(screen(prompt));
  REQUIRE(repl.type("set u k never-sent"));
  REQUIRE(screen("never-sent"));
  REQUIRE(repl.type("\x03"));
  REQUIRE(screen("^C"));
  REQUIRE(screen(prompt));
  // The discarded line was not run: the key is still missing.
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen("(nil)"));
  REQUIRE(screen(prompt));
  // Ctrl-D on an empty line leaves.
  REQUIRE(repl.type("\x04"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("Ctrl-C during a slow request cancels it and the REPL goes on", "[process][repl]") {
  constexpr int kScreenTimeoutMs = 5000;
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  // Every write now waits 30 s for its log append.
  mq::cli::Client admin({{node.endpoint()}, 5000});
  mq::cli::FaultSet applied;
  REQUIRE(admin.set_faults({{}, {}, 30'000}, &applied).ok());

  const std::string prompt = "mq " + node.endpoint() + "> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node.endpoint(), "--timeout", "60s"},
                  {{"TERM", "dumb"}, {"MQ_HISTFILE", dir / "history"}});
  auto screen = [&](const std::string& needle) {
    INFO("waiting for: " << needle << "\nterminal so far: " << repl.pending());
    return repl.wait_for(needle, kScreenTimeoutMs);
  };
  REQUIRE(screen(prompt));
  REQUIRE(repl.type("set u k slow\r"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto interrupted = std::chrono::steady_clock::now();
  REQUIRE(repl.type("\x03"));
  // Sent, so its outcome is unknown; said well before the write would end.
  CHECK(screen("cancelled"));
  CHECK(screen("may or may not have happened"));
  CHECK(std::chrono::steady_clock::now() - interrupted < std::chrono::seconds(10));
  REQUIRE(screen(prompt));
  REQUIRE(repl.type("quit\r"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
  CHECK(admin.set_faults({}, &applied).ok());
}

TEST_CASE("the history file holds the commands as they were typed", "[process][repl]") {
  constexpr int kScreenTimeoutMs = 5000;
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::string prompt = "mq " + node.endpoint() + "> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node.endpoint()},
                  {{"TERM", "dumb"}, {"MQ_HISTFILE", dir / "history"}});
  REQUIRE(repl.wait_for(prompt, kScreenTimeoutMs));
  REQUIRE(repl.type("set u greeting \"hello world\"\r"));
  REQUIRE(repl.wait_for(prompt, kScreenTimeoutMs));
  REQUIRE(repl.type("quit\r"));
  REQUIRE(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
  std::ifstream in(dir / "history");
  std::string first;
  REQUIRE(std::getline(in, first));
  CHECK(first == "set u greeting \"hello world\"");
}
