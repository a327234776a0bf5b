// The binary's own help, version and spelling suggestions.
#include <catch2/catch.hpp>

#include <sstream>

#include "node_process.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace mq::test;

namespace {

// The subcommand names `mq help` lists under "Commands:".
std::vector<std::string> listed_subcommands() {
  const RunResult r = run_mq({"help"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  std::string line;
  bool in_commands = false;
  while (std::getline(lines, line)) {
    if (line == "Commands:") {
      in_commands = true;
      continue;
    }
    if (!in_commands) continue;
    if (line.empty()) break;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("mq --version and mq version print the version", "[process][usage]") {
  for (const char* flag : {"--version", "-V", "version"}) {
    const RunResult r = run_mq({flag});
    INFO(flag);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, StartsWith("mq 0."));
    CHECK(r.err.empty());
  }
}

TEST_CASE("mq help lists the commands with examples", "[process][usage]") {
  for (const char* flag : {"help", "--help", "-h"}) {
    const RunResult r = run_mq({flag});
    INFO(flag);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("Commands:") && Contains("Examples") && Contains("Exit codes"));
  }
  const std::vector<std::string> names = listed_subcommands();
  for (const char* expected : {"node", "set", "get", "del", "keys", "status", "repl", "help", "version"}) {
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  }
}

TEST_CASE("every subcommand's --help exits 0 and shows examples", "[process][usage]") {
  const std::vector<std::string> names = listed_subcommands();
  REQUIRE(names.size() >= 9);
  for (const auto& name : names) {
    const RunResult r = run_mq({name, "--help"});
    INFO("mq " << name << " --help\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("Examples"));
    if (name != "help") {
      const RunResult via_help = run_mq({"help", name});
      CHECK(via_help.exit_code == 0);
      CHECK(via_help.out == r.out);
    }
  }
}

TEST_CASE("an unknown subcommand exits 2 with a suggestion", "[process][usage]") {
  RunResult r = run_mq({"sett", "u", "k", "v"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("unknown command 'sett'") && Contains("did you mean 'mq set'?"));

  r = run_mq({"stauts"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("did you mean 'mq status'?"));

  r = run_mq({"frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown command 'frobnicate'"));
  CHECK_THAT(r.err, !Contains("did you mean"));

  r = run_mq({"help", "sett"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown command 'sett'") && Contains("did you mean 'set'?"));
}

TEST_CASE("bare mq without a terminal prints usage and exits 2", "[process][usage]") {
  const RunResult r = run_mq({});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("Usage: mq"));
}

namespace {

// The parser checks required arguments first; a mistyped flag must still be
// what the error names, not a missing argument it made look absent.
TEST_CASE("a mistyped flag or subcommand is named, not reported as a missing argument", "[process][usage]") {
  const RunResult r = run_mq({"get", "--hlep"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown option --hlep") != std::string::npos);
  CHECK(r.err.find("USER is required") == std::string::npos);

  const RunResult sub = run_mq({"demo", "failver"});
  CHECK(sub.exit_code == 2);
  CHECK(sub.err.find("unknown subcommand 'failver'; did you mean 'mq demo failover'?") != std::string::npos);

  const RunResult missing = run_mq({"get"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("USER is required") != std::string::npos);
}

}  // namespace
