// `mq completion`: the scripts come from the command tree, and the bash one
// completes for real inside bash (COMP_WORDS set as bash sets them on TAB).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "node_process.h"

using Catch::Matchers::Contains;
using namespace mq::test;

namespace {

// What the bash script offers for the words typed so far (the last one is
// the word under the cursor), one candidate per element.
std::vector<std::string> bash_complete(const std::string& script_path,
                                       const std::vector<std::string>& words) {
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  const std::string program = "source '" + script_path + "' && COMP_WORDS=(" + array +
                              ") && COMP_CWORD=" + std::to_string(words.size() - 1) +
                              " && _mq && printf '%s\\n' \"${COMPREPLY[@]}\"";
  const RunResult r = run({"/bin/bash", "--norc", "--noprofile", "-c", program});
  INFO("bash: " << program << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> candidates;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) candidates.push_back(line);
  }
  return candidates;
}

}  // namespace

TEST_CASE("the bash completion completes commands, verbs and flags", "[process][completion]") {
  const RunResult script = run_mq({"completion", "bash"});
  REQUIRE(script.exit_code == 0);
  TempDir dir;
  const std::string path = dir / "mq.bash";
  std::ofstream(path) << script.out;

  using V = std::vector<std::string>;
  CHECK(bash_complete(path, {"mq", "clu"}) == V{"cluster"});
  CHECK(bash_complete(path, {"mq", "cluster", "sta"}) == V{"status", "start"});
  CHECK(bash_complete(path, {"mq", "cluster", "up", "--wa"}) == V{"--wait"});
  CHECK(bash_complete(path, {"mq", "get", "--endp"}) == V{"--endpoints"});
  // Flags and their values before the command do not hide it.
  CHECK(bash_complete(path, {"mq", "-o", "json", "cluster", "do"}) == V{"down"});
  CHECK(bash_complete(path, {"mq", "demo", ""}) == V{"failover", "rebalance"});
  CHECK(bash_complete(path, {"mq", "completion", "z"}) == V{"zsh"});
  CHECK(bash_complete(path, {"mq", "help", "clu"}) == V{"cluster"});
  CHECK(bash_complete(path, {"mq", "member", "re"}) == V{"remove", "replace"});
  CHECK(bash_complete(path, {"mq", "member", "remove", "--fo"}) == V{"--force"});
}

TEST_CASE("the fish completion completes for real inside fish", "[process][completion]") {
  const RunResult script = run_mq({"completion", "fish"});
  REQUIRE(script.exit_code == 0);
  CHECK_THAT(script.out, Contains("complete -c mq") && Contains("-l 'wait'"));
  if (access("/usr/bin/fish", X_OK) != 0) {
    WARN("fish is not installed; its script is not run");
    return;
  }
  TempDir dir;
  const std::string path = dir / "mq.fish";
  std::ofstream(path) << script.out;
  // `complete -C LINE` prints what fish offers for LINE: WORD<TAB>summary.
  auto offers = [&](const std::string& line) {
    const RunResult r = run({"/usr/bin/fish", "--no-config", "-c",
                             "source '" + path + "'; complete -C '" + line + "'"});
    INFO("fish: " << line << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> words;
    std::istringstream lines(r.out);
    std::string l;
    while (std::getline(lines, l)) words.push_back(l.substr(0, l.find('\t')));
    return words;
  };
  using V = std::vector<std::string>;
  CHECK(offers("mq clu") == V{"cluster"});
  CHECK(offers("mq cluster up --wa") == V{"--wait"});
  CHECK(offers("mq -o json cluster do") == V{"down"});
}

TEST_CASE("the zsh completion offers what the tree holds", "[process][completion]") {
  const RunResult script = run_mq({"completion", "zsh"});
  REQUIRE(script.exit_code == 0);
  CHECK_THAT(script.out, Contains("#compdef mq"));
  if (access("/usr/bin/zsh", X_OK) != 0) {
    WARN("zsh is not installed; its script is not run");
    return;
  }
  TempDir dir;
  const std::string path = dir / "_mq";
  std::ofstream(path) << script.out;
  // Outside a completion widget compadd and compdef do not exist: these
  // stand-ins print what _mq offers (zsh itself then keeps the words that
  // start with what was typed).
  auto offers = [&](const std::string& words, int current) {
    const std::string program =
        "compdef() { :; }; compadd() { print -l -- ${(P)2}; }; source '" + path +
        "'; words=(" + words + "); CURRENT=" + std::to_string(current) + "; _mq";
    const RunResult r = run({"/usr/bin/zsh", "-f", "-c", program});
    INFO("zsh: " << program << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  CHECK_THAT(offers("mq clu", 2), Contains("\ncluster\n") && Contains("\nget\n"));
  const std::string up = offers("mq cluster up --wa", 4);
  CHECK_THAT(up, Contains("--wait\n") && Contains("--base-port\n"));
  CHECK_THAT(up, !Contains("\nstatus\n"));
}

TEST_CASE("an unknown shell is refused", "[process][completion]") {
  const RunResult other = run_mq({"completion", "tcsh"});
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.err, Contains("bash, zsh or fish"));
}
