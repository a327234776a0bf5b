#include "cli/tokenizer.h"

namespace mq::cli {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

std::optional<std::vector<std::string>> tokenize(std::string_view line, std::string* error) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) break;
    std::string word;
    // A word may join quoted and bare parts: a"b c"d is one word.
    while (i < line.size() && !is_space(line[i])) {
      const char c = line[i];
      if (c == '\'') {
        const size_t close = line.find('\'', i + 1);
        if (close == std::string_view::npos) {
          *error = "unterminated single quote";
          return std::nullopt;
        }
        word.append(line.substr(i + 1, close - i - 1));
        i = close + 1;
      } else if (c == '"') {
        ++i;
        bool closed = false;
        while (i < line.size()) {
          const char d = line[i];
          if (d == '"') {
            closed = true;
            ++i;
            break;
          }
          if (d != '\\') {
            word.push_back(d);
            ++i;
            continue;
          }
          if (i + 1 >= line.size()) break;
          const char e = line[i + 1];
          i += 2;
          switch (e) {
            case 'n': word.push_back('\n'); break;
            case 't': word.push_back('\t'); break;
            case 'r': word.push_back('\r'); break;
            case '\\': word.push_back('\\'); break;
            case '"': word.push_back('"'); break;
            case 'x': {
              const int hi = i < line.size() ? hex_digit(line[i]) : -1;
              const int lo = i + 1 < line.size() ? hex_digit(line[i + 1]) : -1;
              if (hi < 0 || lo < 0) {
                *error = "\\x must be followed by two hex digits";
                return std::nullopt;
              }
              word.push_back(static_cast<char>(hi << 4 | lo));
              i += 2;
              break;
            }
            default:
              *error = std::string("unknown escape \\") + e + " (use \\\\ for a backslash)";
              return std::nullopt;
          }
        }
        if (!closed) {
          *error = "unterminated double quote";
          return std::nullopt;
        }
      } else {
        word.push_back(c);
        ++i;
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace mq::cli
