#include <catch2/catch.hpp>

#include "cli/suggest.h"

using mq::cli::closest;
using mq::cli::edit_distance;

TEST_CASE("edit distance counts insertions, deletions and substitutions", "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "abc") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("nod", "node") == 1);
  CHECK(edit_distance("sett", "set") == 1);
  CHECK(edit_distance("gte", "get") == 2);
}

TEST_CASE("closest suggests only a likely typo", "[suggest]") {
  const std::vector<std::string> names = {"node", "set", "get", "del", "keys", "status", "repl",
                                          "help", "version"};
  CHECK(closest("nod", names) == "node");
  CHECK(closest("sett", names) == "set");
  CHECK(closest("stauts", names) == "status");
  CHECK(closest("versoin", names) == "version");
  CHECK(closest("key", names) == "keys");
  CHECK(closest("frobnicate", names).empty());
  CHECK(closest("", names).empty());
  // One letter is too short to be a typo of anything but itself.
  CHECK(closest("x", names).empty());
  CHECK(closest("anything", {}).empty());
}

TEST_CASE("closest prefers the nearest candidate", "[suggest]") {
  CHECK(closest("abcd", {"abxy", "abcx"}) == "abcx");
  // Ties keep the first in table order, so suggestions are stable.
  CHECK(closest("set", {"get", "let"}) == "get");
}
