// The command tree, walked as `mq completion` and the flag mover walk it:
// every leaf declares its flags through parse_or_exit, every flag has its
// MQ_ variable, every time flag takes the one duration syntax, and a
// mistyped name is answered with the nearest one at every level.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "cli/command_table.h"
#include "cli/commands.h"

using Catch::Matchers::Contains;
using namespace mq::cli;

namespace {

std::string env_name_of(const std::string& long_name) {
  std::string env = "MQ_";
  for (char c : long_name.substr(2)) {
    env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return env;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// A flag whose value is an amount of time, by its name.
bool is_time_flag(const std::string& long_name) {
  for (const char* word : {"timeout", "duration", "wait", "warmup", "interval", "delay", "period"}) {
    if (long_name.find(word) != std::string::npos) return true;
  }
  return long_name == "--tick" || long_name.ends_with("-ms") || long_name.ends_with("-s");
}

}  // namespace

TEST_CASE("every command of the tree is described through parse_or_exit", "[command_tree]") {
  const std::vector<DescribedCommand> tree = describe_tree();
  REQUIRE(tree.size() >= 25);
  for (const auto& c : tree) {
    INFO("mq " << joined(c.words));
    // An empty path means the command did not reach parse_or_exit, so it
    // cannot be described (or completed). An alias (`mq cluster ls`) is
    // described under the name of the command it runs.
    std::vector<std::string> parent = c.words;
    parent.pop_back();
    CHECK_THAT(c.spec.path, Catch::Matchers::StartsWith("mq " + joined(parent)));
    if (joined(c.words) != "cluster ls") CHECK(c.spec.path == "mq " + joined(c.words));
  }
}

TEST_CASE("every flag of every command has its MQ_ variable", "[command_tree]") {
  size_t flags_checked = 0;
  for (const auto& c : describe_tree()) {
    for (const auto& f : c.spec.flags) {
      INFO("mq " << joined(c.words) << " " << f.primary_name() << " (envname '" << f.envname << "')");
      bool matches = false;
      for (const auto& name : f.names) {
        if (name.rfind("--", 0) == 0 && f.envname == env_name_of(name)) matches = true;
      }
      CHECK(matches);
      ++flags_checked;
    }
  }
  CHECK(flags_checked > 80);
}

TEST_CASE("every time flag takes a duration (250ms, 5s, 2m), none a bare number", "[command_tree]") {
  size_t time_flags = 0;
  for (const auto& c : describe_tree()) {
    for (const auto& f : c.spec.flags) {
      for (const auto& name : f.names) {
        if (name.rfind("--", 0) != 0 || !is_time_flag(name)) continue;
        INFO("mq " << joined(c.words) << " " << name);
        CHECK(f.type_name == "DURATION");
        // A unit in the name is the mark of a flag that takes a bare number.
        CHECK_FALSE(name.ends_with("-ms"));
        ++time_flags;
      }
    }
  }
  // --timeout of seven client commands, --duration and --warmup of bench,
  // --wait of up, --timeout of down, --tick of node.
  CHECK(time_flags >= 12);
}

TEST_CASE("the nearest name is suggested at every level of the tree", "[command_tree]") {
  CHECK_THAT(unknown_name_message("mq", "command", subcommands(), "clustr"),
             Contains("unknown command 'clustr'; did you mean 'mq cluster'?"));
  CHECK_THAT(unknown_name_message("mq cluster", "verb", cluster_verbs(), "sttus"),
             Contains("unknown verb 'sttus'; did you mean 'mq cluster status'?"));
  CHECK_THAT(unknown_name_message("mq demo", "demo", demo_commands(), "failver"),
             Contains("did you mean 'mq demo failover'?"));
  CHECK_THAT(unknown_name_message("mq", "command", subcommands(), "frobnicate"),
             !Contains("did you mean"));
}

TEST_CASE("lookup follows the words down to a leaf", "[command_tree]") {
  CommandLookup up = lookup_command({"cluster", "up", "-n", "5"});
  CHECK(up.words_used == 2);
  REQUIRE(up.is_leaf);
  CHECK(up.spec.path == "mq cluster up");
  CHECK(up.spec.find_flag("--wait") != nullptr);
  CHECK(up.spec.find_flag("-n") != nullptr);

  CommandLookup get = lookup_command({"get", "u", "k"});
  CHECK(get.words_used == 1);
  REQUIRE(get.is_leaf);
  CHECK(get.spec.positionals == std::vector<std::string>{"USER", "KEY"});

  CommandLookup cluster = lookup_command({"cluster", "sttus"});
  CHECK(cluster.words_used == 1);
  CHECK_FALSE(cluster.is_leaf);
  CHECK(lookup_command({"nothing"}).command == nullptr);
}
