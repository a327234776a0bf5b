// The REPL's line handling that needs no server: parsing, help, quit and
// errors. Every answer must be exactly one line in piped mode.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli/repl.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace mq::cli;

namespace {

// Nothing listens on port 1 of the loopback: any request fails fast.
ClientOptions unreachable() {
  ClientOptions o;
  o.endpoints = {"127.0.0.1:1"};
  o.timeout_ms = 2000;
  o.dial_timeout_ms = 500;
  return o;
}

std::string run_line(Client& client, const std::string& line, Format f = Format::kPlain) {
  const ReplStep step = repl_execute(client, line, f, Consistency::kLinearizable, true);
  CHECK_FALSE(step.quit);
  return step.output;
}

bool is_one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

}  // namespace

TEST_CASE("quit and exit end the REPL", "[repl]") {
  Client client(unreachable());
  CHECK(repl_execute(client, "quit", Format::kPlain, Consistency::kLinearizable, true).quit);
  CHECK(repl_execute(client, "  exit  ", Format::kJson, Consistency::kLinearizable, true).quit);
}

TEST_CASE("empty lines print nothing", "[repl]") {
  Client client(unreachable());
  CHECK(run_line(client, "").empty());
  CHECK(run_line(client, "   ").empty());
}

TEST_CASE("help is one line when piped", "[repl]") {
  Client client(unreachable());
  const std::string plain = run_line(client, "help");
  CHECK(is_one_line(plain));
  CHECK_THAT(plain, Contains("set USER KEY VALUE"));
  const std::string json = run_line(client, "help", Format::kJson);
  CHECK(is_one_line(json));
  // The same text as plain, whatever characters it holds.
  CHECK(nlohmann::json::parse(json)["help"].get<std::string>() + "\n" == plain);
  const ReplStep terminal = repl_execute(client, "help", Format::kPlain, Consistency::kLinearizable, false);
  CHECK(std::count(terminal.output.begin(), terminal.output.end(), '\n') > 3);
}

TEST_CASE("bad lines answer with one error line", "[repl]") {
  Client client(unreachable());
  std::string out = run_line(client, "sett u k v");
  CHECK(is_one_line(out));
  CHECK_THAT(out, StartsWith("(error) unknown command 'sett'") && Contains("did you mean 'set'?"));

  out = run_line(client, "set u k \"unterminated");
  CHECK(is_one_line(out));
  CHECK_THAT(out, Contains("unterminated double quote"));

  out = run_line(client, "get u");
  CHECK(is_one_line(out));
  CHECK_THAT(out, Contains("usage: get USER KEY"));

  out = run_line(client, "keys u [z-a]");
  CHECK(is_one_line(out));
  CHECK_THAT(out, Contains("invalid glob"));

  out = run_line(client, "get u " + std::string(1025, 'k'));
  CHECK(is_one_line(out));
  CHECK_THAT(out, Contains("limit is 1024"));

  const std::string json = run_line(client, "frob", Format::kJson);
  CHECK(is_one_line(json));
  const auto j = nlohmann::json::parse(json);
  CHECK(j["error"]["code"] == "invalid_argument");
  CHECK_THAT(j["error"]["message"].get<std::string>(), Contains("unknown command 'frob'"));
}

TEST_CASE("an unreachable node is one error line, and the client says so", "[repl]") {
  Client client(unreachable());
  const std::string out = run_line(client, "get u k");
  CHECK(is_one_line(out));
  CHECK_THAT(out, StartsWith("(error) cannot reach the cluster") && Contains("127.0.0.1:1"));
  CHECK_FALSE(client.connected());
  CHECK(client.current_endpoint() == "127.0.0.1:1");

  const auto j = nlohmann::json::parse(run_line(client, "set u k v", Format::kJson));
  CHECK(j["error"]["code"] == "unavailable");
}
