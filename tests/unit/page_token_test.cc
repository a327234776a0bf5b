#include <catch2/catch.hpp>

#include <random>

#include "node/kv/page_token.h"

using namespace mq::kv;

TEST_CASE("page tokens are lowercase hex of the last key", "[page_token]") {
  CHECK(encode_page_token("") == "");
  CHECK(encode_page_token("a") == "61");
  CHECK(encode_page_token(std::string("\x00\xFF", 2)) == "00ff");
}

TEST_CASE("page tokens round trip for any bytes", "[page_token]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string key(rng() % 64, '\0');
    for (char& c : key) c = static_cast<char>(rng());
    const auto back = decode_page_token(encode_page_token(key));
    REQUIRE(back);
    CHECK(*back == key);
  }
}

TEST_CASE("tokens not made by encode_page_token are refused", "[page_token]") {
  CHECK_FALSE(decode_page_token("6"));    // odd length
  CHECK_FALSE(decode_page_token("6g"));   // not hex
  CHECK_FALSE(decode_page_token("6A"));   // uppercase is never issued
  CHECK_FALSE(decode_page_token("zz"));
  CHECK_FALSE(decode_page_token(" 61"));
  const auto empty = decode_page_token("");
  REQUIRE(empty);  // the first page
  CHECK(empty->empty());
}
