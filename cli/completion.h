// Shell completion scripts for mq, generated from the command tree
// (command_table.h): the commands, the verbs of `mq cluster` and `mq demo`,
// and the flags each leaf declares. Nothing is listed by hand, so a new
// command or flag completes as soon as it exists.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/command_table.h"

namespace mq::cli {

// What the scripts complete: at each command path ("" for mq itself,
// "cluster", "cluster up"), the words that may come next.
struct CompletionNode {
  std::string path;                 // words after "mq", space-separated
  bool is_leaf = false;
  std::vector<std::string> words;   // next commands, or a leaf's flags and values
  std::vector<std::string> summaries;  // one per word, for shells that show them ("" if none)
  std::vector<bool> takes_value;       // one per word: a flag that needs a value
};

// The shells `mq completion` writes a script for.
inline const std::vector<std::string>& completion_shells() {
  static const std::vector<std::string> shells = {"bash", "zsh", "fish"};
  return shells;
}

// The nodes of mq's own tree.
std::vector<CompletionNode> completion_nodes();

// The script for `shell` (bash, zsh or fish), or nullopt for another shell.
std::optional<std::string> completion_script(const std::string& shell,
                                             const std::vector<CompletionNode>& nodes);

}  // namespace mq::cli
