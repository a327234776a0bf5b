// Glob patterns for listing keys: * ? [abc] [a-z] [!a] [^a] and \x escapes.
// Matching is over bytes; compile() rejects malformed patterns with a reason,
// so a bad pattern is an INVALID_ARGUMENT rather than a silent empty list.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::kv {

class Glob {
 public:
  static std::optional<Glob> compile(std::string_view pattern, std::string* error);

  bool matches(std::string_view text) const;
  // The literal bytes every match starts with: lets a sorted map seek
  // straight to the candidates instead of scanning every key.
  const std::string& literal_prefix() const { return prefix_; }

 private:
  struct Token {
    enum Kind { kLiteral, kAnyOne, kAnyRun, kClass } kind;
    char literal = 0;
    bool negated = false;
    std::vector<std::pair<unsigned char, unsigned char>> ranges;
  };
  bool class_matches(const Token& t, unsigned char c) const;

  std::vector<Token> tokens_;
  std::string prefix_;
};

}  // namespace mq::kv
