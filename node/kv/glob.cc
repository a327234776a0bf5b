#include "node/kv/glob.h"

namespace mq::kv {

std::optional<Glob> Glob::compile(std::string_view p, std::string* error) {
  Glob g;
  size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '*') {
      // Runs of * are one token: keeps matching linear in practice.
      if (g.tokens_.empty() || g.tokens_.back().kind != Token::kAnyRun) {
        g.tokens_.push_back({Token::kAnyRun});
      }
      ++i;
    } else if (c == '?') {
      g.tokens_.push_back({Token::kAnyOne});
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= p.size()) {
        *error = "invalid glob: trailing backslash";
        return std::nullopt;
      }
      g.tokens_.push_back({Token::kLiteral, p[i + 1]});
      i += 2;
    } else if (c == '[') {
      Token t{Token::kClass};
      size_t j = i + 1;
      if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
        t.negated = true;
        ++j;
      }
      bool first = true;
      bool closed = false;
      while (j < p.size()) {
        unsigned char lo = static_cast<unsigned char>(p[j]);
        if (lo == ']' && !first) {
          closed = true;
          ++j;
          break;
        }
        first = false;
        if (lo == '\\') {
          if (j + 1 >= p.size()) break;
          lo = static_cast<unsigned char>(p[++j]);
        }
        unsigned char hi = lo;
        if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
          j += 2;
          hi = static_cast<unsigned char>(p[j]);
          if (hi == '\\') {
            if (j + 1 >= p.size()) break;
            hi = static_cast<unsigned char>(p[++j]);
          }
          if (hi < lo) {
            *error = "invalid glob: range '" + std::string(1, static_cast<char>(lo)) + "-" +
                     std::string(1, static_cast<char>(hi)) + "' is reversed";
            return std::nullopt;
          }
        }
        t.ranges.emplace_back(lo, hi);
        ++j;
      }
      if (!closed) {
        *error = "invalid glob: '[' at offset " + std::to_string(i) + " is never closed";
        return std::nullopt;
      }
      g.tokens_.push_back(std::move(t));
      i = j;
    } else {
      g.tokens_.push_back({Token::kLiteral, c});
      ++i;
    }
  }
  for (const Token& t : g.tokens_) {
    if (t.kind != Token::kLiteral) break;
    g.prefix_.push_back(t.literal);
  }
  return g;
}

bool Glob::class_matches(const Token& t, unsigned char c) const {
  bool in = false;
  for (const auto& [lo, hi] : t.ranges) {
    if (c >= lo && c <= hi) {
      in = true;
      break;
    }
  }
  return in != t.negated;
}

bool Glob::matches(std::string_view text) const {
  // Iterative matcher with one backtrack point (the last *): O(n*m) worst
  // case, no recursion, so a hostile pattern cannot blow the stack.
  size_t ti = 0, pi = 0;
  size_t star_pi = std::string::npos, star_ti = 0;
  while (ti < text.size()) {
    if (pi < tokens_.size()) {
      const Token& t = tokens_[pi];
      const unsigned char c = static_cast<unsigned char>(text[ti]);
      if (t.kind == Token::kAnyRun) {
        star_pi = pi++;
        star_ti = ti;
        continue;
      }
      const bool ok = (t.kind == Token::kAnyOne) ||
                      (t.kind == Token::kLiteral && static_cast<unsigned char>(t.literal) == c) ||
                      (t.kind == Token::kClass && class_matches(t, c));
      if (ok) {
        ++pi, ++ti;
        continue;
      }
    }
    if (star_pi == std::string::npos) return false;
    pi = star_pi + 1;
    ti = ++star_ti;
  }
  while (pi < tokens_.size() && tokens_[pi].kind == Token::kAnyRun) ++pi;
  return pi == tokens_.size();
}

}  // namespace mq::kv
