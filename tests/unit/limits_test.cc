#include <catch2/catch.hpp>

#include "node/kv/limits.h"

using Catch::Matchers::Contains;
using namespace mq::kv;

TEST_CASE("user ids are 1..256 bytes of UTF-8", "[limits]") {
  CHECK_FALSE(validate_user("u"));
  CHECK_FALSE(validate_user(std::string(kUserBytesMax, 'u')));
  CHECK_FALSE(validate_user("\xC3\xA9"));

  const auto empty = validate_user("");
  REQUIRE(empty);
  CHECK_THAT(*empty, Contains("empty") && Contains("256"));

  const auto long_user = validate_user(std::string(kUserBytesMax + 1, 'u'));
  REQUIRE(long_user);
  CHECK_THAT(*long_user, Contains("257 bytes") && Contains("limit is 256"));

  const auto bad = validate_user("\xFF");
  REQUIRE(bad);
  CHECK_THAT(*bad, Contains("UTF-8"));
}

TEST_CASE("the user limit counts bytes, not characters", "[limits]") {
  // 128 two-byte characters are 256 bytes: allowed; one more is not.
  std::string user;
  for (int i = 0; i < 128; ++i) user += "\xC3\xA9";
  CHECK_FALSE(validate_user(user));
  user += "\xC3\xA9";
  CHECK(validate_user(user));
}

TEST_CASE("keys are 1..1024 arbitrary bytes", "[limits]") {
  CHECK_FALSE(validate_key("k"));
  CHECK_FALSE(validate_key(std::string(kKeyBytesMax, 'k')));
  CHECK_FALSE(validate_key(std::string("\x00\xFF", 2)));  // binary keys are fine

  const auto empty = validate_key("");
  REQUIRE(empty);
  CHECK_THAT(*empty, Contains("empty") && Contains("1024"));

  const auto long_key = validate_key(std::string(kKeyBytesMax + 1, 'k'));
  REQUIRE(long_key);
  CHECK_THAT(*long_key, Contains("1025 bytes") && Contains("limit is 1024"));
}

TEST_CASE("values are limited by the node's setting", "[limits]") {
  CHECK(kValueBytesMaxDefault == 1024 * 1024);
  CHECK_FALSE(validate_value("", kValueBytesMaxDefault));  // empty values are allowed
  CHECK_FALSE(validate_value(std::string(kValueBytesMaxDefault, 'v'), kValueBytesMaxDefault));

  const auto over = validate_value(std::string(kValueBytesMaxDefault + 1, 'v'), kValueBytesMaxDefault);
  REQUIRE(over);
  CHECK_THAT(*over, Contains("1048577 bytes") && Contains("limit is 1048576") &&
                        Contains("--max-value-bytes"));

  CHECK_FALSE(validate_value(std::string(10, 'v'), 10));
  const auto small = validate_value(std::string(11, 'v'), 10);
  REQUIRE(small);
  CHECK_THAT(*small, Contains("limit is 10 bytes"));
}
