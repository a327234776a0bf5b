// `mq completion`: the scripts come from the command tree, and the bash one
// completes for real inside bash (COMP_WORDS set as bash sets them on TAB).
#include <catch2/catch.hpp>

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
  CHECK(bash_complete(path, {"mq", "demo", ""}) == V{"failover"});
  CHECK(bash_complete(path, {"mq", "completion", "z"}) == V{"zsh"});
  CHECK(bash_complete(path, {"mq", "help", "clu"}) == V{"cluster"});
}

TEST_CASE("zsh and fish scripts are generated from the same tree", "[process][completion]") {
  const RunResult zsh = run_mq({"completion", "zsh"});
  CHECK(zsh.exit_code == 0);
  CHECK_THAT(zsh.out, Contains("#compdef mq") && Contains("'cluster up'") && Contains("--wait"));
  const RunResult fish = run_mq({"completion", "fish"});
  CHECK(fish.exit_code == 0);
  CHECK_THAT(fish.out, Contains("complete -c mq") && Contains("-l 'wait'") &&
                           Contains("'__mq_at \\'cluster up\\''"));
  const RunResult other = run_mq({"completion", "tcsh"});
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.err, Contains("bash, zsh or fish"));
}
