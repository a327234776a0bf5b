// The interactive REPL on a terminal: its prompt names the endpoint, says
// when the connection is down, and the next command reconnects.
#include <catch2/catch.hpp>

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
  const std::string disconnected_prompt = "mq " + node->endpoint() + " (disconnected)> ";
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
