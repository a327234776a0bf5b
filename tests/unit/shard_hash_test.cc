// Expected values are Java's: String.hashCode() and Math.floorMod() run on
// the same strings, so a Java client routes every user exactly as mq does.
#include <catch2/catch.hpp>

#include "node/kv/shard_hash.h"

using mq::kv::is_valid_utf8;
using mq::kv::java_string_hash;
using mq::kv::shard_of;

TEST_CASE("java_string_hash matches String.hashCode for ASCII", "[shard_hash]") {
  CHECK(java_string_hash("") == 0);
  CHECK(java_string_hash("a") == 97);
  CHECK(java_string_hash("ab") == 97 * 31 + 98);
  CHECK(java_string_hash("hello") == 99162322);
  CHECK(java_string_hash("user123") == -147178873);
}

TEST_CASE("java_string_hash wraps like a Java int", "[shard_hash]") {
  // A well-known string whose hash is exactly Integer.MIN_VALUE.
  CHECK(java_string_hash("polygenelubricants") == INT32_MIN);
  // Colliding pair in Java: equal hashes, so equal shards.
  CHECK(java_string_hash("Aa") == 2112);
  CHECK(java_string_hash("BB") == 2112);
}

TEST_CASE("java_string_hash hashes UTF-16 code units, not UTF-8 bytes", "[shard_hash]") {
  CHECK(java_string_hash("\xC3\xA9") == 233);                  // U+00E9, one code unit
  CHECK(java_string_hash("\xE6\x97\xA5\xE6\x9C\xAC") == 835047);  // U+65E5 U+672C
  // U+1F600 is the surrogate pair D83D DE00: 0xD83D * 31 + 0xDE00.
  CHECK(java_string_hash("\xF0\x9F\x98\x80") == 0xD83D * 31 + 0xDE00);
  CHECK(java_string_hash("\xF0\x9F\x98\x80") == 1772899);
  CHECK(java_string_hash("a\xF0\x9F\x98\x80" "b") == 57849694);
}

TEST_CASE("shard_of is floorMod of the hash", "[shard_hash]") {
  CHECK(shard_of("user123", 16) == 7);  // the documented example
  CHECK(shard_of("user123", 7) == 5);   // negative hash: floorMod, not C's %
  CHECK(shard_of("polygenelubricants", 16) == 0);
  CHECK(shard_of("polygenelubricants", 7) == 5);  // INT32_MIN must not overflow
  CHECK(shard_of("", 16) == 0);
  CHECK(shard_of("a", 16) == 1);
  CHECK(shard_of("a", 7) == 6);
  CHECK(shard_of("\xC3\xA9", 16) == 9);
  CHECK(shard_of("\xE6\x97\xA5\xE6\x9C\xAC", 16) == 7);
  CHECK(shard_of("\xF0\x9F\x98\x80", 16) == 3);
  CHECK(shard_of("a\xF0\x9F\x98\x80" "b", 16) == 14);
  CHECK(shard_of("anything", 1) == 0);
}

TEST_CASE("shard_of stays in range for many users", "[shard_hash]") {
  for (uint32_t shards : {1u, 2u, 3u, 16u, 1024u}) {
    for (int i = 0; i < 2000; ++i) {
      const std::string user = "user" + std::to_string(i * 7919);
      CHECK(shard_of(user, shards) < shards);
    }
  }
}

TEST_CASE("is_valid_utf8 accepts UTF-8 and rejects the rest", "[shard_hash]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("\xC3\xA9"));
  CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));       // U+10FFFF, the last code point
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("\x80"));             // lone continuation byte
  CHECK_FALSE(is_valid_utf8("\xC3"));             // truncated
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));         // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));     // overlong, three bytes
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));     // U+D800, a surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("ok\xE6\x97"));       // truncated at the end
}

TEST_CASE("java_string_hash is total on invalid UTF-8", "[shard_hash]") {
  // Invalid bytes are rejected at the edge; here they must only hash
  // deterministically, one unit per byte.
  CHECK(java_string_hash("\xFF") == 0xFF);
  CHECK(java_string_hash("a\xFF") == 97 * 31 + 0xFF);
  CHECK(java_string_hash("\xC3") == java_string_hash("\xC3"));
}
