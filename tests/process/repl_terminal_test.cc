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

namespace {

constexpr int kScreenTimeoutMs = 5000;

// The environment of a REPL on a terminal: no escape codes, history in dir.
std::vector<std::pair<std::string, std::string>> repl_env(const TempDir& dir) {
  return {{"TERM", "dumb"}, {"MQ_HISTFILE", dir / "history"}};
}

// Waits for needle on the terminal; on failure the report shows what the
// terminal did print.
bool screen(PtyProcess& repl, const std::string& needle) {
  if (repl.wait_for(needle, kScreenTimeoutMs)) return true;
  UNSCOPED_INFO("waited for: " << needle << "\nterminal so far: " << repl.pending());
  return false;
}

}  // namespace

TEST_CASE("on a terminal the prompt says when the connection is down", "[process][repl]") {
  TempDir dir;
  const uint16_t port = free_loopback_port();
  auto node = std::make_unique<NodeProcess>(dir / "n1", port);
  REQUIRE(node->wait_ready());

  const std::string connected_prompt = "mq " + node->endpoint() + "> ";
  const std::string disconnected_prompt = "mq " + node->endpoint() + " (not connected)> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node->endpoint(), "--timeout", "2s"},
                  repl_env(dir));

  REQUIRE(screen(repl, connected_prompt));
  REQUIRE(repl.type("set u k typed-at-a-terminal\r"));
  CHECK(screen(repl, "OK"));
  REQUIRE(screen(repl, connected_prompt));

  REQUIRE(node->stop() == std::optional<int>(0));
  node.reset();
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen(repl, "(error)"));
  CHECK(screen(repl, disconnected_prompt));

  node = std::make_unique<NodeProcess>(dir / "n1", port);
  REQUIRE(node->wait_ready());
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen(repl, "typed-at-a-terminal"));
  CHECK(screen(repl, connected_prompt));

  REQUIRE(repl.type("quit\r"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("on a terminal the prompt says 'not connected' until a node answers", "[process][repl]") {
  TempDir dir;
  const uint16_t port = free_loopback_port();
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  PtyProcess repl({mq_binary(), "repl", "--endpoints", endpoint},
                  repl_env(dir));
  // Nothing listens yet: the banner and the prompt say so.
  CHECK(screen(repl, "not connected"));
  REQUIRE(screen(repl, "mq " + endpoint + " (not connected)> "));

  NodeProcess node(dir / "n1", port);
  REQUIRE(node.wait_ready());
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen(repl, "(nil)"));
  CHECK(screen(repl, "mq " + endpoint + "> "));
  REQUIRE(repl.type("quit\r"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("Ctrl-C at the prompt discards the line and the REPL goes on", "[process][repl]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::string prompt = "mq " + node.endpoint() + "> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node.endpoint()},
                  repl_env(dir));
  REQUIRE(screen(repl, prompt));
  REQUIRE(repl.type("set u k never-sent"));
  REQUIRE(screen(repl, "never-sent"));
  REQUIRE(repl.type("\x03"));
  REQUIRE(screen(repl, "^C"));
  REQUIRE(screen(repl, prompt));
  // The discarded line was not run: the key is still missing.
  REQUIRE(repl.type("get u k\r"));
  CHECK(screen(repl, "(nil)"));
  REQUIRE(screen(repl, prompt));
  // Ctrl-D on an empty line leaves.
  REQUIRE(repl.type("\x04"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
}

TEST_CASE("Ctrl-C during a slow request cancels it and the REPL goes on", "[process][repl]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port(), {"--enable-fault-injection"});
  REQUIRE(node.wait_ready());
  // Every write now waits 30 s for its log append.
  mq::cli::Client admin({{node.endpoint()}, 5000});
  mq::cli::FaultSet applied;
  REQUIRE(admin.set_faults({{}, {}, 30'000}, &applied).ok());

  const std::string prompt = "mq " + node.endpoint() + "> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node.endpoint(), "--timeout", "60s"},
                  repl_env(dir));
  REQUIRE(screen(repl, prompt));
  REQUIRE(repl.type("set u k slow\r"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto interrupted = std::chrono::steady_clock::now();
  REQUIRE(repl.type("\x03"));
  // Sent, so its outcome is unknown; said well before the write would end.
  CHECK(screen(repl, "cancelled"));
  CHECK(screen(repl, "may or may not have happened"));
  CHECK(std::chrono::steady_clock::now() - interrupted < std::chrono::seconds(10));
  REQUIRE(screen(repl, prompt));
  REQUIRE(repl.type("quit\r"));
  CHECK(repl.wait_exit(kScreenTimeoutMs) == std::optional<int>(0));
  CHECK(admin.set_faults({}, &applied).ok());
}

TEST_CASE("the history file holds the commands as they were typed", "[process][repl]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::string prompt = "mq " + node.endpoint() + "> ";
  PtyProcess repl({mq_binary(), "repl", "--endpoints", node.endpoint()},
                  repl_env(dir));
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
