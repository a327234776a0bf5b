#include <catch2/catch.hpp>

#include <CLI/CLI.hpp>

#include "cli/client_flags.h"
#include "cli/output.h"

using Catch::Matchers::Contains;
using namespace mq::cli;

namespace {

ResolvedClient resolved(const ClientFlags& flags) {
  ResolvedClient out;
  const std::string error = resolve_client_flags(flags, &out);
  INFO(error);
  REQUIRE(error.empty());
  return out;
}

std::string resolve_error(const ClientFlags& flags) {
  ResolvedClient out;
  return resolve_client_flags(flags, &out);
}

// Runs parse_or_exit on a command line; argv[0] is the program name.
int parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_or_exit(app, static_cast<int>(args.size()), argv.data());
}

}  // namespace

TEST_CASE("endpoints split on commas and are checked", "[client_flags]") {
  ClientFlags flags;
  flags.output = "plain";
  flags.endpoints = "127.0.0.1:7001,localhost:7002,[::1]:7003";
  CHECK(resolved(flags).options.endpoints ==
        std::vector<std::string>{"127.0.0.1:7001", "localhost:7002", "[::1]:7003"});

  flags.endpoints = "";
  CHECK(resolved(flags).options.endpoints == default_endpoints());
  CHECK(default_endpoints() == std::vector<std::string>{"127.0.0.1:7001"});

  flags.endpoints = "127.0.0.1:7001,";
  CHECK_THAT(resolve_error(flags), Contains("--endpoints") && Contains("empty endpoint"));
  flags.endpoints = "127.0.0.1:7001,,127.0.0.1:7002";
  CHECK_THAT(resolve_error(flags), Contains("empty endpoint"));
  flags.endpoints = "127.0.0.1";
  CHECK_THAT(resolve_error(flags), Contains("--endpoints") && Contains("not host:port"));
  flags.endpoints = "127.0.0.1:99999";
  CHECK_THAT(resolve_error(flags), Contains("1..65535"));
}

TEST_CASE("output format and consistency are checked", "[client_flags]") {
  ClientFlags flags;
  flags.output = "json";
  CHECK(resolved(flags).format == Format::kJson);
  flags.output = "table";
  CHECK(resolved(flags).format == Format::kTable);
  flags.output = "xml";
  CHECK_THAT(resolve_error(flags), Contains("plain, json or table") && Contains("'xml'"));

  flags.output = "plain";
  CHECK(resolved(flags).consistency == Consistency::kLinearizable);
  flags.consistency = "stale";
  CHECK(resolved(flags).consistency == Consistency::kStale);
  flags.consistency = "eventual";
  CHECK_THAT(resolve_error(flags), Contains("linearizable or stale"));
}

TEST_CASE("timeout and verbosity pass through", "[client_flags]") {
  ClientFlags flags;
  flags.output = "plain";
  flags.timeout_ms = 250;
  flags.verbose = true;
  const ResolvedClient r = resolved(flags);
  CHECK(r.options.timeout_ms == 250);
  CHECK(r.options.verbose);
}

TEST_CASE("parse_or_exit: go on, help, or a usage error", "[client_flags]") {
  SECTION("valid arguments go on") {
    ClientFlags flags;
    std::string user;
    CLI::App app{"test", "mq test"};
    app.add_option("USER", user)->required();
    add_client_flags(app, flags, true);
    CHECK(parse(app, {"mq test", "--endpoints", "127.0.0.1:1", "-o", "json", "--timeout", "10",
                      "--consistency", "stale", "-v", "alice"}) == -1);
    CHECK(user == "alice");
    CHECK(flags.endpoints == "127.0.0.1:1");
    CHECK(flags.output == "json");
    CHECK(flags.timeout_ms == 10);
    CHECK(flags.consistency == "stale");
    CHECK(flags.verbose);
  }
  SECTION("help exits 0") {
    CLI::App app{"test", "mq test"};
    CHECK(parse(app, {"mq test", "--help"}) == 0);
  }
  SECTION("a missing argument exits 2") {
    std::string user;
    CLI::App app{"test", "mq test"};
    app.add_option("USER", user)->required();
    CHECK(parse(app, {"mq test"}) == 2);
  }
  SECTION("an unknown flag exits 2") {
    CLI::App app{"test", "mq test"};
    CHECK(parse(app, {"mq test", "--frobnicate"}) == 2);
  }
  SECTION("a timeout out of range exits 2") {
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--timeout", "0"}) == 2);
  }
  SECTION("consistency is only a flag where it applies") {
    ClientFlags flags;
    CLI::App app{"test", "mq test"};
    add_client_flags(app, flags, false);
    CHECK(parse(app, {"mq test", "--consistency", "stale"}) == 2);
  }
}

namespace {

std::vector<std::string> split(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string program = "mq";
  argv.push_back(program.data());
  for (auto& a : args) argv.push_back(a.data());
  return split_attached_short_values(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("-o=json is taken as -o json, for every short option", "[client_flags]") {
  using V = std::vector<std::string>;
  CHECK(split({"get", "-o=json", "u", "k"}) == V{"get", "-o", "json", "u", "k"});
  CHECK(split({"-n=5"}) == V{"-n", "5"});
  CHECK(split({"-o==json"}) == V{"-o", "=json"});  // still refused: '=json' is no format
  CHECK_FALSE(parse_format(split({"-o==json"})[1]));
  CHECK(split({"--output=json"}) == V{"--output=json"});  // long options: the parser splits them
  CHECK(split({"set", "u", "k", "--", "-v=x"}) == V{"set", "u", "k", "--", "-v=x"});
  CHECK(split({"-o"}) == V{"-o"});
}

TEST_CASE("a command parses -o=json", "[client_flags]") {
  std::string output;
  CLI::App app{"test", "mq test"};
  app.add_option("-o,--output", output);
  std::vector<std::string> args = {"mq", "-o=json"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  CHECK(parse_or_exit(app, static_cast<int>(argv.size()), argv.data()) == -1);
  CHECK(output == "json");
}
