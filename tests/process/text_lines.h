// A command's output split into its lines (no trailing newlines), for the
// tests that compare what a command prints line by line.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace mq::test {

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace mq::test
