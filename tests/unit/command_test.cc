#include <catch2/catch.hpp>

#include <random>

#include "node/kv/command.h"

using namespace mq::kv;

namespace {

void require_round_trip(const Command& c) {
  const std::string bytes = encode_command(c);
  const auto back = decode_command(bytes);
  REQUIRE(back);
  CHECK(back->op == c.op);
  CHECK(back->user == c.user);
  CHECK(back->key == c.key);
  CHECK(back->value == (c.op == Op::kSet ? c.value : ""));
}

}  // namespace

TEST_CASE("set and delete commands round trip", "[command]") {
  require_round_trip({Op::kSet, "user123", "greeting", "hello world"});
  require_round_trip({Op::kSet, "u", "k", ""});
  require_round_trip({Op::kDelete, "u", "k", ""});
  require_round_trip({Op::kSet, "u", std::string("\x00\xFF\n", 3), std::string("\x00\x01", 2)});
  // Lengths past one varint byte (127) and past two (16383).
  require_round_trip({Op::kSet, std::string(200, 'u'), std::string(1024, 'k'), std::string(70000, 'v')});
}

TEST_CASE("the encoding is the documented one", "[command]") {
  const std::string bytes = encode_command({Op::kSet, "u", "k", "v"});
  CHECK(bytes == std::string("\x01\x01u\x01k\x01v", 7));
  CHECK(encode_command({Op::kDelete, "u", "k", "ignored"}) == std::string("\x02\x01u\x01k", 5));
}

TEST_CASE("random commands round trip", "[command]") {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 500; ++i) {
    Command c;
    c.op = rng() % 2 ? Op::kSet : Op::kDelete;
    auto random_bytes = [&](size_t n) {
      std::string s(n, '\0');
      for (char& ch : s) ch = static_cast<char>(rng());
      return s;
    };
    c.user = random_bytes(1 + rng() % 300);
    c.key = random_bytes(1 + rng() % 300);
    if (c.op == Op::kSet) c.value = random_bytes(rng() % 1000);
    require_round_trip(c);
  }
}

TEST_CASE("malformed commands do not decode", "[command]") {
  CHECK_FALSE(decode_command(""));
  CHECK_FALSE(decode_command(std::string("\x03\x01u\x01k", 5)));  // unknown op
  CHECK_FALSE(decode_command(std::string("\x00\x01u\x01k", 5)));  // op 0
  CHECK_FALSE(decode_command(std::string("\x01\x01u\x01k", 5)));  // set without a value
  CHECK_FALSE(decode_command(std::string("\x01\x01u\x01k\x05v", 6)));  // value cut short
  CHECK_FALSE(decode_command(std::string("\x02\x01u", 3)));  // delete without a key
  CHECK_FALSE(decode_command(std::string("\x02\x01u\x01k!", 6)));  // trailing bytes
  CHECK_FALSE(decode_command(std::string("\x02\x80", 2)));  // varint never ends
  CHECK_FALSE(decode_command(std::string("\x02\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 12)));
}

TEST_CASE("every truncation of a valid command fails to decode", "[command]") {
  const std::string bytes = encode_command({Op::kSet, "user", std::string(300, 'k'), "value"});
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_FALSE(decode_command(std::string_view(bytes).substr(0, n)));
  }
}

TEST_CASE("varints round trip and reject overlong input", "[command]") {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, (1ull << 32), ~0ull}) {
    std::string out;
    put_varint(out, v);
    std::string_view in = out;
    uint64_t back = 0;
    REQUIRE(get_varint(in, &back));
    CHECK(back == v);
    CHECK(in.empty());
  }
  std::string eleven(11, '\x80');
  std::string_view in = eleven;
  uint64_t v = 0;
  CHECK_FALSE(get_varint(in, &v));
}
