// The command tree of the mq binary: one table per level (mq's
// subcommands, `mq cluster`'s verbs, `mq demo`'s demonstrations) and one
// lookup for all of them, with one spelling suggestion for a mistyped name
// at every level (`mq clustr`, `mq cluster sttus`, `mq demo failver`).
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "cli/command_spec.h"

namespace mq::cli {

struct Command;
using CommandTable = std::vector<Command>;

struct Command {
  const char* name;
  const char* summary;
  // argv[0] is the command's full name ("mq cluster up"); returns the
  // process exit code. For a command with children, the dispatcher.
  int (*run)(int argc, char** argv);
  // The next level (`mq cluster`'s verbs), or nullptr for a leaf.
  const CommandTable& (*children)() = nullptr;
};

// mq's own subcommands: the root of the tree.
const CommandTable& subcommands();

// The entry named `name`, or nullptr.
const Command* find_command(const CommandTable& table, const std::string& name);

// "mq cluster: unknown verb 'sttus'; did you mean 'mq cluster status'?"
// `path` is the level's own name ("mq cluster"), `what` the kind of word.
std::string unknown_name_message(const std::string& path, const char* what,
                                 const CommandTable& table, const std::string& word);

// Runs the entry of `table` that argv[1] names, with argv[0] = path + " " +
// name. Without a word, prints the level's usage to stderr (exit 2); with
// --help, -h or help, to stdout (exit 0); an unknown word is named with the
// nearest entry (exit 2).
int dispatch(const std::string& path, const char* what, const CommandTable& table,
             const std::function<void(FILE*)>& usage, int argc, char** argv);

// What leaf `c`, named by `words` ({"cluster", "up"}), declares: it is run
// under a DescribeScope. An empty path when it never reached parse_or_exit.
CommandSpec describe_command(const Command& c, const std::vector<std::string>& words);

// A leaf of the tree, described by running it under a DescribeScope.
struct DescribedCommand {
  std::vector<std::string> words;  // {"cluster", "up"}
  CommandSpec spec;
};

// Every leaf of the tree, in table order. A leaf that did not reach
// parse_or_exit has an empty spec.path (the walk test fails on it).
std::vector<DescribedCommand> describe_tree();

// The leaf named by the leading words of `words` ({"cluster", "up", ...}):
// how many words name it (0 when the first is not a subcommand) and, when
// they name a leaf, its description.
struct CommandLookup {
  size_t words_used = 0;
  const Command* command = nullptr;  // the deepest entry found
  bool is_leaf = false;
  CommandSpec spec;  // when is_leaf
};
CommandLookup lookup_command(const std::vector<std::string>& words);

}  // namespace mq::cli
