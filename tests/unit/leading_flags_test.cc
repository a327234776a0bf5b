#include <catch2/catch.hpp>

#include "cli/leading_flags.h"

using Catch::Matchers::Contains;
using mq::cli::move_leading_flags;
using Args = std::vector<std::string>;

TEST_CASE("flags before the command move to just after it", "[leading_flags]") {
  CHECK(move_leading_flags({"--endpoints", "h:1", "get", "u", "k"}).args ==
        Args{"get", "--endpoints", "h:1", "u", "k"});
  CHECK(move_leading_flags({"-o", "json", "status"}).args == Args{"status", "-o", "json"});
  CHECK(move_leading_flags({"-o=json", "-v", "keys", "u"}).args == Args{"keys", "-o", "json", "-v", "u"});
  CHECK(move_leading_flags({"--timeout=2s", "get", "u", "k"}).args ==
        Args{"get", "--timeout", "2s", "u", "k"});
  // Under a command with verbs they go after the verb.
  CHECK(move_leading_flags({"-o", "json", "cluster", "status", "--name", "x"}).args ==
        Args{"cluster", "status", "-o", "json", "--name", "x"});
}

TEST_CASE("arguments that do not start with a flag are left alone", "[leading_flags]") {
  CHECK(move_leading_flags({"get", "-o", "json", "u", "k"}).args == Args{"get", "-o", "json", "u", "k"});
  CHECK(move_leading_flags({}).args.empty());
}

TEST_CASE("a leading flag is refused when unknown or not the command's", "[leading_flags]") {
  auto r = move_leading_flags({"--endpoint", "h:1", "get", "u", "k"});
  CHECK_THAT(r.error, Contains("unknown flag '--endpoint'") && Contains("did you mean '--endpoints'?"));
  r = move_leading_flags({"--frobnicate", "get"});
  CHECK_THAT(r.error, Contains("unknown flag '--frobnicate'"));
  r = move_leading_flags({"--endpoints", "h:1", "cluster", "up"});
  CHECK_THAT(r.error, Contains("'mq cluster up' takes no flag '--endpoints'"));
  r = move_leading_flags({"-o"});
  CHECK_THAT(r.error, Contains("needs a value"));
  r = move_leading_flags({"-o", "json"});
  CHECK_THAT(r.error, Contains("a command is needed"));
  r = move_leading_flags({"-v=yes", "get"});
  CHECK_THAT(r.error, Contains("takes no value"));
}

TEST_CASE("an unknown command after leading flags is left for the dispatcher", "[leading_flags]") {
  CHECK(move_leading_flags({"-o", "json", "stauts"}).args == Args{"stauts"});
  CHECK(move_leading_flags({"-o", "json", "cluster", "sttus"}).args ==
        Args{"cluster", "sttus", "-o", "json"});
}
