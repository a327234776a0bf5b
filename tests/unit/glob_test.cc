#include <catch2/catch.hpp>

#include "node/kv/glob.h"

using Catch::Matchers::Contains;
using mq::kv::Glob;

namespace {

Glob compiled(std::string_view pattern) {
  std::string error;
  auto g = Glob::compile(pattern, &error);
  INFO("pattern " << pattern << ": " << error);
  REQUIRE(g);
  return *g;
}

bool match(std::string_view pattern, std::string_view text) { return compiled(pattern).matches(text); }

std::string compile_error(std::string_view pattern) {
  std::string error;
  auto g = Glob::compile(pattern, &error);
  INFO("pattern " << pattern);
  REQUIRE_FALSE(g);
  return error;
}

}  // namespace

TEST_CASE("literal patterns match only themselves", "[glob]") {
  CHECK(match("abc", "abc"));
  CHECK_FALSE(match("abc", "ab"));
  CHECK_FALSE(match("abc", "abcd"));
  CHECK(match("", ""));
  CHECK_FALSE(match("", "a"));
}

TEST_CASE("star matches any run, including none", "[glob]") {
  CHECK(match("*", ""));
  CHECK(match("*", "anything at all"));
  CHECK(match("a*", "a"));
  CHECK(match("a*", "abc"));
  CHECK_FALSE(match("a*", "ba"));
  CHECK(match("*c", "abc"));
  CHECK(match("a*c", "ac"));
  CHECK(match("a*b*c", "a-b-b-c"));
  CHECK_FALSE(match("a*b*c", "a-b-b-"));
  CHECK(match("**", "x"));
  CHECK(match("*a*a*a*", "aaa"));
  CHECK_FALSE(match("*a*a*a*", "aa"));
}

TEST_CASE("question mark matches exactly one byte", "[glob]") {
  CHECK(match("?", "x"));
  CHECK_FALSE(match("?", ""));
  CHECK_FALSE(match("?", "xy"));
  CHECK(match("a?c", "abc"));
  CHECK(match("??", "\xC3\xA9"));  // bytes, not characters
}

TEST_CASE("classes, ranges and negation", "[glob]") {
  CHECK(match("[abc]", "b"));
  CHECK_FALSE(match("[abc]", "d"));
  CHECK(match("[a-c]x", "bx"));
  CHECK_FALSE(match("[a-c]x", "dx"));
  CHECK(match("[!a]", "b"));
  CHECK_FALSE(match("[!a]", "a"));
  CHECK(match("[^a]", "b"));
  CHECK_FALSE(match("[^a]", "a"));
  CHECK(match("[]]", "]"));      // a leading ] is a member
  CHECK(match("[!]]", "a"));
  CHECK_FALSE(match("[!]]", "]"));
  CHECK(match("[a-]", "-"));     // a trailing - is a member
  CHECK(match("[a-]", "a"));
  CHECK(match("[\\]]", "]"));
  CHECK(match("[0-9a-f]*", "7ff"));
  CHECK_FALSE(match("[0-9a-f]*", "g7"));
  CHECK(match("[\x80-\xFF]", "\xC3"));  // byte ranges above ASCII
}

TEST_CASE("backslash escapes a metacharacter", "[glob]") {
  CHECK(match("a\\*", "a*"));
  CHECK_FALSE(match("a\\*", "ab"));
  CHECK(match("\\?", "?"));
  CHECK_FALSE(match("\\?", "x"));
  CHECK(match("\\[x", "[x"));
}

TEST_CASE("literal prefix lets listing seek", "[glob]") {
  CHECK(compiled("session:*").literal_prefix() == "session:");
  CHECK(compiled("abc").literal_prefix() == "abc");
  CHECK(compiled("*abc").literal_prefix().empty());
  CHECK(compiled("a?c").literal_prefix() == "a");
  CHECK(compiled("a\\*b*").literal_prefix() == "a*b");
  CHECK(compiled("ab[cd]").literal_prefix() == "ab");
}

TEST_CASE("malformed patterns are refused with a reason", "[glob]") {
  CHECK_THAT(compile_error("["), Contains("never closed") && Contains("offset 0"));
  CHECK_THAT(compile_error("ab[cd"), Contains("offset 2"));
  CHECK_THAT(compile_error("[]"), Contains("never closed"));
  CHECK_THAT(compile_error("a\\"), Contains("trailing backslash"));
  CHECK_THAT(compile_error("[z-a]"), Contains("reversed"));
  CHECK_THAT(compile_error("[a\\"), Contains("never closed"));
}

TEST_CASE("matching a hostile pattern stays fast", "[glob]") {
  // Exponential backtracking would take ages here; one backtrack point does not.
  const Glob g = compiled("*a*a*a*a*a*a*a*a*a*a*b");
  const std::string text(4000, 'a');
  CHECK_FALSE(g.matches(text));
}
