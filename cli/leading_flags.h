// Flags given before the subcommand: `mq --endpoints X get u k`,
// `mq -o json cluster status`. They are moved to just after the words that
// name the command, where that command's parser reads them; a flag no
// command knows, or one the named command does not take, is refused there
// rather than taken for a subcommand name.
#pragma once

#include <string>
#include <vector>

namespace mq::cli {

struct LeadingFlagsResult {
  std::vector<std::string> args;  // the arguments after "mq", reordered
  std::string error;              // "" on success, else a usage error (exit 2)
};

// `args` are the arguments after "mq". Nothing changes when the first one
// is not a flag.
LeadingFlagsResult move_leading_flags(const std::vector<std::string>& args);

}  // namespace mq::cli
