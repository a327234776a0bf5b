#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "node/kv/key_record.h"

using namespace mq::kv;

TEST_CASE("a key record holds user, key and value back to back", "[key_record]") {
  const KeyRecord r("alice", "k1", "hello");
  CHECK(r.user() == "alice");
  CHECK(r.key() == "k1");
  CHECK(r.value() == "hello");
}

TEST_CASE("a key record takes the largest user, key and value lengths", "[key_record]") {
  const std::string user(256, 'u'), key(1024, 'k'), value(70000, 'v');
  const KeyRecord r(user, key, value);
  CHECK(r.user() == user);
  CHECK(r.key() == key);
  CHECK(r.value() == value);
  const KeyRecord empty("", "", "");
  CHECK(empty.user().empty());
  CHECK(empty.key().empty());
  CHECK(empty.value().empty());
}

TEST_CASE("a key record's value grows, shrinks and empties in place", "[key_record]") {
  KeyRecord r("u", std::string("\x00key", 4), "short");
  r.set_value(std::string(5000, 'x'));
  CHECK(r.value() == std::string(5000, 'x'));
  CHECK(r.key() == std::string("\x00key", 4));
  r.set_value("");
  CHECK(r.value().empty());
  r.set_value(std::string("\xFF\x00", 2));
  CHECK(r.value() == std::string("\xFF\x00", 2));
  CHECK(r.user() == "u");
}

TEST_CASE("key records move without copying their block", "[key_record]") {
  KeyRecord a("u", "k", "v");
  const char* block = a.user().data();
  KeyRecord b(std::move(a));
  CHECK(b.user().data() == block);
  KeyRecord c("x", "y", "z");
  c = std::move(b);
  CHECK(c.user_key().key == "k");
  CHECK(c.value() == "v");
}

TEST_CASE("records order by user, then key, bytewise", "[key_record]") {
  const KeyRecordLess less;
  const KeyRecord u_b("u", "b", ""), u2_a("u2", "a", ""), u_hi("u", "\xFF", "");
  // A user that is a prefix of another sorts first, whatever the keys.
  CHECK(less(u_b, u2_a));
  CHECK_FALSE(less(u2_a, u_b));
  // Bytes compare unsigned: 0xFF is after 'b'.
  CHECK(less(u_b, u_hi));
  CHECK(less(UserKey{"u", "a"}, u_b));
  CHECK_FALSE(less(u_b, UserKey{"u", "b"}));
  CHECK_FALSE(less(UserKey{"u", "b"}, u_b));
}
