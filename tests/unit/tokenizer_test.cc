#include <catch2/catch.hpp>

#include <random>

#include "cli/output.h"
#include "cli/tokenizer.h"

using Catch::Matchers::Contains;
using mq::cli::display_bytes;
using mq::cli::tokenize;
using Words = std::vector<std::string>;

namespace {

Words words(std::string_view line) {
  std::string error;
  auto w = tokenize(line, &error);
  INFO("line: " << line << " error: " << error);
  REQUIRE(w);
  return *w;
}

std::string tokenize_error(std::string_view line) {
  std::string error;
  INFO("line: " << line);
  REQUIRE_FALSE(tokenize(line, &error));
  return error;
}

}  // namespace

TEST_CASE("whitespace separates words", "[tokenizer]") {
  CHECK(words("").empty());
  CHECK(words("   \t ").empty());
  CHECK(words("set u k v") == Words{"set", "u", "k", "v"});
  CHECK(words("  get\tu   k  \r") == Words{"get", "u", "k"});
}

TEST_CASE("quotes group and escape", "[tokenizer]") {
  CHECK(words(R"(set u k "hello world")") == Words{"set", "u", "k", "hello world"});
  CHECK(words(R"('a b' "c d")") == Words{"a b", "c d"});
  CHECK(words(R"("")") == Words{""});
  CHECK(words(R"('')") == Words{""});
  CHECK(words(R"(a"b c"d)") == Words{"ab cd"});
  CHECK(words(R"("line\nnext\ttab\rcr\\\"")") == Words{"line\nnext\ttab\rcr\\\""});
  CHECK(words(R"("\x00\xff\x41")") == Words{std::string("\x00\xff" "A", 3)});
  CHECK(words(R"('no \n escapes')") == Words{"no \\n escapes"});
  CHECK(words(R"("it's")") == Words{"it's"});
  CHECK(words(R"('say "hi"')") == Words{"say \"hi\""});
}

TEST_CASE("malformed quoting is an error", "[tokenizer]") {
  CHECK_THAT(tokenize_error(R"("open)"), Contains("unterminated double quote"));
  CHECK_THAT(tokenize_error(R"('open)"), Contains("unterminated single quote"));
  CHECK_THAT(tokenize_error(R"("ends in \)"), Contains("unterminated double quote"));
  CHECK_THAT(tokenize_error(R"("\q")"), Contains("unknown escape \\q"));
  CHECK_THAT(tokenize_error(R"("\x4")"), Contains("two hex digits"));
  CHECK_THAT(tokenize_error(R"("\xzz")"), Contains("two hex digits"));
}

TEST_CASE("display_bytes leaves simple words bare", "[tokenizer]") {
  CHECK(display_bytes("hello") == "hello");
  CHECK(display_bytes("\xC3\xA9t\xC3\xA9") == "\xC3\xA9t\xC3\xA9");
  CHECK(display_bytes("") == "\"\"");
  CHECK(display_bytes("hello world") == "\"hello world\"");
  CHECK(display_bytes("a\nb") == "\"a\\nb\"");
  CHECK(display_bytes(std::string("\x00\xFF", 2)) == "\"\\x00\\xff\"");
  CHECK(display_bytes("it's") == "\"it's\"");
}

TEST_CASE("display_bytes output tokenizes back to the same bytes", "[tokenizer]") {
  std::mt19937 rng(424242);
  const std::string alphabet = std::string("ab \t\n\r\"'\\#x\x7F\x01\xC3\xA9\xFF\x80\0", 18);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 24, '\0');
    const bool from_alphabet = i % 2 == 0;  // half: tricky bytes dense; half: uniform bytes
    for (char& c : bytes) {
      c = from_alphabet ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    }
    const std::string shown = display_bytes(bytes);
    INFO("shown as " << shown);
    CHECK(shown.find('\n') == std::string::npos);  // one line, always
    const Words back = words(shown);
    REQUIRE(back.size() == 1);
    CHECK(back[0] == bytes);
  }
}
