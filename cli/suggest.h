// "Did you mean ...?" for mistyped subcommands and REPL commands.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mq::cli {

size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a distance that still looks like a typo
// (at most 2, and less than the word's length), or "" when none is close.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace mq::cli
