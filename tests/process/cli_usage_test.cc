// The binary's own help, version and spelling suggestions.
#include <catch2/catch.hpp>

#include <sstream>

#include "node_process.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace mq::test;

namespace {

// The subcommand names `mq help` lists under "Commands:".
// The first word of each line of `text` under the line `heading`, up to
// the next empty line: the names a usage lists.
std::vector<std::string> names_listed_under(const std::string& text, const std::string& heading) {
  std::vector<std::string> names;
  std::istringstream lines(text);
  std::string line;
  bool in_list = false;
  while (std::getline(lines, line)) {
    if (line == heading) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty()) break;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

std::vector<std::string> listed_subcommands() {
  const RunResult r = run_mq({"help"});
  REQUIRE(r.exit_code == 0);
  return names_listed_under(r.out, "Commands:");
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
  CHECK_THAT(r.err, Contains("unknown command 'sett'") && Contains("did you mean 'mq set'?"));
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
  CHECK(r.err.find("unknown flag '--hlep'; did you mean '--help'?") != std::string::npos);
  CHECK(r.err.find("USER is required") == std::string::npos);

  const RunResult sub = run_mq({"demo", "failver"});
  CHECK(sub.exit_code == 2);
  CHECK(sub.err.find("unknown demo 'failver'; did you mean 'mq demo failover'?") != std::string::npos);

  const RunResult missing = run_mq({"get"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("USER is required") != std::string::npos);
}

}  // namespace

namespace {

// The verb names `mq cluster --help` lists under "Verbs:".
std::vector<std::string> listed_cluster_verbs() {
  const RunResult r = run_mq({"cluster", "--help"});
  REQUIRE(r.exit_code == 0);
  return names_listed_under(r.out, "Verbs:");
}

}  // namespace

TEST_CASE("mq help VERB... is the verb's own --help", "[process][usage]") {
  const std::vector<std::string> verbs = listed_cluster_verbs();
  REQUIRE(verbs.size() >= 15);
  for (const auto& verb : verbs) {
    const RunResult direct = run_mq({"cluster", verb, "--help"});
    const RunResult via_help = run_mq({"help", "cluster", verb});
    INFO("mq help cluster " << verb << "\nstderr: " << via_help.err);
    CHECK(direct.exit_code == 0);
    CHECK(via_help.exit_code == 0);
    CHECK_THAT(via_help.out, Contains("mq cluster " + (verb == "ls" ? std::string("status") : verb)));
    CHECK(via_help.out == direct.out);
  }
  const RunResult demo = run_mq({"help", "demo", "failover"});
  CHECK(demo.exit_code == 0);
  CHECK(demo.out == run_mq({"demo", "failover", "--help"}).out);
  CHECK(run_mq({"help", "cluster"}).out == run_mq({"cluster", "--help"}).out);
}

TEST_CASE("a mistyped verb is named with the nearest one", "[process][usage]") {
  RunResult r = run_mq({"cluster", "sttus"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("mq cluster: unknown verb 'sttus'; did you mean 'mq cluster status'?"));
  r = run_mq({"help", "cluster", "dwn"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("did you mean 'mq cluster down'?"));
  r = run_mq({"clustr", "up"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("did you mean 'mq cluster'?"));
}

TEST_CASE("a flag before the command is the command's, or named as unknown", "[process][usage]") {
  RunResult r = run_mq({"--frobnicate", "get", "u", "k"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("mq: unknown flag '--frobnicate'"));
  r = run_mq({"--endpoint", "127.0.0.1:1", "get", "u", "k"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown flag '--endpoint'; did you mean '--endpoints'?"));
  r = run_mq({"--endpoints", "127.0.0.1:1", "cluster", "status"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("'mq cluster status' takes no flag '--endpoints'"));
  r = run_mq({"get", "--frobnicate", "u", "k"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown flag '--frobnicate'"));
}

TEST_CASE("time flags take 250ms, 5s, 2m; a bare number is refused naming the syntax", "[process][usage]") {
  const std::vector<std::vector<std::string>> commands = {
      {"get", "--endpoints", "127.0.0.1:1", "--timeout", "5", "u", "k"},
      {"cluster", "up", "--wait", "10000"},
      {"cluster", "down", "--timeout", "3"},
      {"node", "--id", "n1", "--listen", "127.0.0.1:1", "--data-dir", "unused", "--tick", "10"},
      {"bench", "--endpoints", "127.0.0.1:1", "--duration", "10"},
  };
  for (const auto& args : commands) {
    const RunResult r = run_mq(args);
    INFO(args[0] << " " << args[1] << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("is not a duration like 250ms, 5s or 2m"));
  }
  // The same from the environment.
  const RunResult env = run_mq({"get", "--endpoints", "127.0.0.1:1", "u", "k"}, {}, {{"MQ_TIMEOUT", "5"}});
  CHECK(env.exit_code == 2);
  CHECK_THAT(env.err, Contains("is not a duration"));
  // The old spellings are gone rather than silently kept with another unit.
  for (const char* old : {"--wait-ms", "--timeout-ms"}) {
    const RunResult r = run_mq({"cluster", std::string(old) == "--wait-ms" ? "up" : "down", old, "1000"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(std::string("unknown flag '") + old + "'"));
  }
}

TEST_CASE("a flag no declaration gave a variable still reads MQ_<FLAG>", "[process][usage]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  for (const char* key : {"a", "b", "c"}) REQUIRE(node.client({"set", "u", key, "v"}).exit_code == 0);
  // keys --limit is declared without an envname: parse_or_exit gives it MQ_LIMIT.
  const RunResult r = run_mq({"keys", "--endpoints", node.endpoint(), "u"}, {}, {{"MQ_LIMIT", "2"}});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "a\nb\n");
}
