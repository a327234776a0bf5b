#include <catch2/catch.hpp>

#include <random>

#include "node/kv/command.h"
#include "node/kv/kv_state_machine.h"

using Catch::Matchers::Contains;
using namespace mq::kv;

namespace {

std::string set_cmd(const std::string& user, const std::string& key, const std::string& value) {
  return encode_command({Op::kSet, user, key, value});
}
std::string del_cmd(const std::string& user, const std::string& key) {
  return encode_command({Op::kDelete, user, key, ""});
}

Glob glob(std::string_view pattern) {
  std::string error;
  auto g = Glob::compile(pattern, &error);
  REQUIRE(g);
  return *g;
}

// Applies commands at consecutive indexes after the current one.
void apply_all(KvStateMachine& sm, const std::vector<std::string>& commands) {
  for (const auto& c : commands) {
    const ApplyResult r = sm.apply(sm.applied_index() + 1, c);
    REQUIRE(r.ok);
  }
}

std::vector<std::string> all_keys(const KvStateMachine& sm, const std::string& user) {
  return sm.list(user, glob("*"), "", 1'000'000).keys;
}

}  // namespace

TEST_CASE("set, get, overwrite and delete", "[kv_state_machine]") {
  KvStateMachine sm;
  CHECK(sm.applied_index() == 0);
  CHECK_FALSE(sm.get("u", "k"));

  ApplyResult r = sm.apply(1, set_cmd("u", "k", "v1"));
  CHECK(r.ok);
  CHECK_FALSE(r.existed);
  CHECK(sm.get("u", "k") == std::optional<std::string>("v1"));
  CHECK(sm.key_count() == 1);
  CHECK(sm.key_value_bytes() == 3);
  CHECK(sm.applied_index() == 1);

  r = sm.apply(2, set_cmd("u", "k", "v2"));
  CHECK(r.existed);
  CHECK(sm.get("u", "k") == std::optional<std::string>("v2"));
  CHECK(sm.key_count() == 1);
  r = sm.apply(3, set_cmd("u", "k", "a longer value"));
  CHECK(sm.key_value_bytes() == 1 + 14);
  r = sm.apply(4, set_cmd("u", "k", "v2"));
  CHECK(sm.key_value_bytes() == 3);
  sm.apply(5, set_cmd("u", "other", "xyz"));
  CHECK(sm.key_value_bytes() == 3 + 8);
  sm.apply(6, del_cmd("u", "other"));
  CHECK(sm.key_value_bytes() == 3);

  r = sm.apply(7, del_cmd("u", "k"));
  CHECK(r.ok);
  CHECK(r.existed);
  CHECK_FALSE(sm.get("u", "k"));
  CHECK(sm.key_count() == 0);
  CHECK(sm.key_value_bytes() == 0);

  r = sm.apply(8, del_cmd("u", "k"));
  CHECK(r.ok);
  CHECK_FALSE(r.existed);
  CHECK(sm.applied_index() == 8);
}

TEST_CASE("users are separate namespaces", "[kv_state_machine]") {
  KvStateMachine sm;
  apply_all(sm, {set_cmd("alice", "k", "a"), set_cmd("bob", "k", "b")});
  CHECK(sm.get("alice", "k") == std::optional<std::string>("a"));
  CHECK(sm.get("bob", "k") == std::optional<std::string>("b"));
  CHECK_FALSE(sm.get("carol", "k"));
  CHECK(sm.key_count() == 2);
  apply_all(sm, {del_cmd("alice", "k")});
  CHECK(sm.get("bob", "k") == std::optional<std::string>("b"));
  CHECK(all_keys(sm, "alice").empty());
}

TEST_CASE("no-ops advance the index; bad commands are reported", "[kv_state_machine]") {
  KvStateMachine sm;
  ApplyResult r = sm.apply(1, "");
  CHECK(r.ok);
  CHECK(sm.applied_index() == 1);
  r = sm.apply(2, "\x09garbage");
  CHECK_FALSE(r.ok);
  CHECK(sm.applied_index() == 2);  // a bad entry is still consumed
  CHECK(sm.key_count() == 0);
}

TEST_CASE("binary keys and values are stored exactly", "[kv_state_machine]") {
  KvStateMachine sm;
  const std::string key("\x00k\xFF", 3), value("\x00\x01\x02\xFE", 4);
  apply_all(sm, {set_cmd("u", key, value)});
  CHECK(sm.get("u", key) == std::optional<std::string>(value));
  CHECK_FALSE(sm.get("u", std::string("\x00k", 2)));
}

TEST_CASE("list filters by glob in byte order", "[kv_state_machine]") {
  KvStateMachine sm;
  apply_all(sm, {set_cmd("u", "b", "1"), set_cmd("u", "a2", "1"), set_cmd("u", "a1", "1"),
                 set_cmd("u", "c", "1"), set_cmd("u", "ab", "1"), set_cmd("v", "a3", "1")});
  CHECK(all_keys(sm, "u") == std::vector<std::string>{"a1", "a2", "ab", "b", "c"});
  CHECK(sm.list("u", glob("a*"), "", 100).keys == std::vector<std::string>{"a1", "a2", "ab"});
  CHECK(sm.list("u", glob("a[0-9]"), "", 100).keys == std::vector<std::string>{"a1", "a2"});
  CHECK(sm.list("u", glob("*b"), "", 100).keys == std::vector<std::string>{"ab", "b"});
  CHECK(sm.list("u", glob("?"), "", 100).keys == std::vector<std::string>{"b", "c"});
  CHECK(sm.list("u", glob("zz*"), "", 100).keys.empty());
  CHECK(sm.list("nobody", glob("*"), "", 100).keys.empty());
}

TEST_CASE("list pages through every match exactly once", "[kv_state_machine]") {
  KvStateMachine sm;
  std::vector<std::string> commands;
  for (int i = 0; i < 250; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%03d", i);
    commands.push_back(set_cmd("u", key, "v"));
  }
  apply_all(sm, commands);
  const Glob g = glob("k*[0369]");  // not every key matches: pages skip the others
  for (size_t limit : {1u, 7u, 50u, 1000u}) {
    std::vector<std::string> seen;
    std::string after;
    int pages = 0;
    while (pages < 1000) {
      ++pages;
      auto page = sm.list("u", g, after, limit);
      CHECK(page.keys.size() <= limit);
      seen.insert(seen.end(), page.keys.begin(), page.keys.end());
      if (!page.more) break;
      REQUIRE_FALSE(page.keys.empty());
      after = page.keys.back();
    }
    std::vector<std::string> want;
    for (int i = 0; i < 250; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "k%03d", i);
      const char last = key[3];
      if (last == '0' || last == '3' || last == '6' || last == '9') want.push_back(key);
    }
    INFO("limit " << limit);
    CHECK(seen == want);
  }
}

TEST_CASE("list reports more only when another match exists", "[kv_state_machine]") {
  KvStateMachine sm;
  apply_all(sm, {set_cmd("u", "a1", "v"), set_cmd("u", "a2", "v"), set_cmd("u", "b1", "v")});
  auto page = sm.list("u", glob("a*"), "", 2);
  CHECK(page.keys == std::vector<std::string>{"a1", "a2"});
  CHECK_FALSE(page.more);  // b1 is past the prefix range, not a further match
  page = sm.list("u", glob("*"), "", 2);
  CHECK(page.more);
  page = sm.list("u", glob("*"), "a2", 10);
  CHECK(page.keys == std::vector<std::string>{"b1"});
  // A resume point before the pattern's prefix starts at the prefix.
  page = sm.list("u", glob("b*"), "a1", 10);
  CHECK(page.keys == std::vector<std::string>{"b1"});
  CHECK(sm.list("u", glob("*"), "", 0).more);
}

TEST_CASE("snapshot and restore round trip", "[kv_state_machine]") {
  KvStateMachine a;
  std::mt19937 rng(99);
  std::vector<std::string> commands;
  for (int i = 0; i < 2000; ++i) {
    const std::string user = "user" + std::to_string(rng() % 40);
    const std::string key = "k" + std::to_string(rng() % 60);
    if (rng() % 4 == 0) {
      commands.push_back(del_cmd(user, key));
    } else {
      std::string value(rng() % 20, '\0');
      for (char& c : value) c = static_cast<char>(rng());
      commands.push_back(set_cmd(user, key, value));
    }
  }
  apply_all(a, commands);
  const std::string image = a.snapshot();

  KvStateMachine b;
  apply_all(b, {set_cmd("stale", "k", "gone after restore")});
  std::string error;
  REQUIRE(b.restore(image, &error));
  CHECK(b.applied_index() == a.applied_index());
  CHECK(b.key_count() == a.key_count());
  CHECK(b.key_value_bytes() == a.key_value_bytes());
  CHECK_FALSE(b.get("stale", "k"));
  for (int u = 0; u < 40; ++u) {
    const std::string user = "user" + std::to_string(u);
    CHECK(all_keys(b, user) == all_keys(a, user));
    for (const auto& key : all_keys(a, user)) CHECK(b.get(user, key) == a.get(user, key));
  }
  // The image of equal states is the same bytes, whatever the history.
  CHECK(b.snapshot() == image);

  // Both go on identically after the restore.
  apply_all(a, {set_cmd("user1", "new", "x"), del_cmd("user2", "k1")});
  apply_all(b, {set_cmd("user1", "new", "x"), del_cmd("user2", "k1")});
  CHECK(b.snapshot() == a.snapshot());
  CHECK(b.key_value_bytes() == a.key_value_bytes());
}

TEST_CASE("snapshot of an empty machine restores to empty", "[kv_state_machine]") {
  KvStateMachine a;
  a.apply(1, "");
  KvStateMachine b;
  apply_all(b, {set_cmd("u", "k", "v")});
  std::string error;
  REQUIRE(b.restore(a.snapshot(), &error));
  CHECK(b.key_count() == 0);
  CHECK(b.key_value_bytes() == 0);
  CHECK(b.applied_index() == 1);
  CHECK_FALSE(b.get("u", "k"));
}

TEST_CASE("corrupt snapshot images are refused and change nothing", "[kv_state_machine]") {
  KvStateMachine source;
  apply_all(source, {set_cmd("u", "k1", "v1"), set_cmd("u", "k2", "v2"), set_cmd("w", "k", "v")});
  const std::string image = source.snapshot();

  KvStateMachine target;
  apply_all(target, {set_cmd("keep", "k", "v")});
  const std::string before = target.snapshot();
  auto refused = [&](const std::string& bad, const char* reason) {
    std::string error;
    INFO("expecting: " << reason);
    CHECK_FALSE(target.restore(bad, &error));
    CHECK_THAT(error, Contains(reason));
    CHECK(target.snapshot() == before);
  };

  refused("", "no MQKV header");
  refused("MQK", "no MQKV header");
  refused("XQKV\x01" + image.substr(5), "no MQKV header");
  refused("MQKV\x02" + image.substr(5), "format 2");
  refused("MQKV\x01", "header is truncated");
  refused(image + "x", "trailing bytes");
  for (size_t n = 6; n < image.size(); ++n) {
    std::string error;
    INFO("truncated to " << n << " bytes");
    CHECK_FALSE(target.restore(image.substr(0, n), &error));
    CHECK_FALSE(error.empty());
  }
  CHECK(target.snapshot() == before);
}

TEST_CASE("a snapshot image with a repeated record is refused", "[kv_state_machine]") {
  // Each (user, key) appears once in a real image; a repeat would make the
  // key count disagree with the map.
  std::string image("MQKV\x01", 5);
  put_varint(image, 7);  // applied index
  put_varint(image, 2);  // record count
  for (int i = 0; i < 2; ++i) {
    put_bytes(image, "u");
    put_bytes(image, "k");
    put_bytes(image, "v");
  }
  KvStateMachine sm;
  std::string error;
  CHECK_FALSE(sm.restore(image, &error));
  CHECK_THAT(error, Contains("record 1"));
  CHECK(sm.key_count() == 0);
  CHECK(sm.applied_index() == 0);
}

TEST_CASE("a user whose id prefixes another's lists only its own keys", "[kv_state_machine]") {
  KvStateMachine sm;
  apply_all(sm, {set_cmd("u", "k2", "1"), set_cmd("u2", "k1", "1"), set_cmd("u", "k1", "1"),
                 set_cmd("", "k0", "1")});
  CHECK(all_keys(sm, "u") == std::vector<std::string>{"k1", "k2"});
  CHECK(all_keys(sm, "u2") == std::vector<std::string>{"k1"});
  CHECK(all_keys(sm, "") == std::vector<std::string>{"k0"});
  CHECK(sm.list("u", glob("k*"), "k1", 10).keys == std::vector<std::string>{"k2"});
  CHECK(sm.list("u", glob("k*"), "k2", 10).keys.empty());
}

TEST_CASE("the snapshot image keeps format 1 byte for byte", "[kv_state_machine]") {
  // Written by format 1 before the map's layout changed: a restarted node
  // must read images older versions wrote, and replicas of different
  // versions must agree on the bytes.
  KvStateMachine sm;
  apply_all(sm, {set_cmd("bob", "k", "2"), set_cmd("al", "z", "1"), set_cmd("al", "a", "")});
  const std::string expected("MQKV\x01\x03\x03"
                             "\x02" "al" "\x01" "a" "\x00"
                             "\x02" "al" "\x01" "z" "\x01" "1"
                             "\x03" "bob" "\x01" "k" "\x01" "2",
                             7 + 6 + 7 + 8);
  CHECK(sm.snapshot() == expected);
  KvStateMachine restored;
  std::string error;
  REQUIRE(restored.restore(expected, &error));
  CHECK(restored.get("al", "a") == std::optional<std::string>(""));
  CHECK(restored.key_value_bytes() == 1 + 0 + 1 + 1 + 1 + 1);
}

TEST_CASE("a snapshot image out of order restores to the same state", "[kv_state_machine]") {
  std::string image("MQKV\x01\x05\x02", 7);
  put_bytes(image, "u");
  put_bytes(image, "b");
  put_bytes(image, "2");
  put_bytes(image, "u");
  put_bytes(image, "a");
  put_bytes(image, "1");
  KvStateMachine sm;
  std::string error;
  REQUIRE(sm.restore(image, &error));
  CHECK(all_keys(sm, "u") == std::vector<std::string>{"a", "b"});
  CHECK(sm.applied_index() == 5);
  CHECK(sm.key_count() == 2);
}
