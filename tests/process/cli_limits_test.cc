// Bad input gets exit 2 and a one-line error naming the limit, and nothing
// is stored.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "node_process.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace mq::test;

namespace {

constexpr size_t kMiB = 1024 * 1024;

bool is_one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

// Keys stored on the node, over all shards, as `mq status` reports them.
uint64_t stored_key_count(const NodeProcess& node) {
  const RunResult r = node.client({"status", "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  uint64_t keys = 0;
  for (const auto& shard : j["shards"]) keys += shard["keys"].get<uint64_t>();
  return keys;
}

void check_refused(const RunResult& r, const std::string& limit_text) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains(limit_text));
}

}  // namespace

TEST_CASE("user ids over 256 bytes are refused", "[process][limits]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  check_refused(node.client({"set", std::string(257, 'u'), "k", "v"}), "limit is 256 bytes");
  check_refused(node.client({"get", std::string(257, 'u'), "k"}), "limit is 256 bytes");
  check_refused(node.client({"keys", std::string(257, 'u')}), "limit is 256 bytes");
  check_refused(node.client({"set", "", "k", "v"}), "user id is empty");
  CHECK(stored_key_count(node) == 0);

  // The boundary itself is allowed.
  CHECK(node.client({"set", std::string(256, 'u'), "k", "v"}).exit_code == 0);
  CHECK(stored_key_count(node) == 1);
}

TEST_CASE("keys over 1024 bytes are refused", "[process][limits]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  check_refused(node.client({"set", "u", std::string(1025, 'k'), "v"}), "limit is 1024 bytes");
  check_refused(node.client({"del", "u", std::string(1025, 'k')}), "limit is 1024 bytes");
  check_refused(node.client({"set", "u", "", "v"}), "key is empty");
  CHECK(node.client({"keys", "u"}).out.empty());
  CHECK(stored_key_count(node) == 0);

  const std::string longest(1024, 'k');
  CHECK(node.client({"set", "u", longest, "v"}).exit_code == 0);
  CHECK(node.client({"get", "u", longest}).out == "v");
}

TEST_CASE("values over 1 MiB are refused by default", "[process][limits]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  check_refused(node.client({"set", "u", "big", "-"}, std::string(kMiB + 1, 'v')),
                "limit is 1048576 bytes");
  RunResult r = node.client({"set", "u", "big", "-"}, std::string(kMiB + 1, 'v'));
  CHECK_THAT(r.err, Contains("--max-value-bytes"));
  CHECK(node.client({"get", "u", "big"}).exit_code == 1);
  CHECK(stored_key_count(node) == 0);

  // Exactly 1 MiB is allowed and comes back whole.
  const std::string limit_value(kMiB, 'x');
  r = node.client({"set", "u", "big", "-"}, limit_value);
  CHECK(r.exit_code == 0);
  r = node.client({"get", "u", "big"});
  CHECK(r.exit_code == 0);
  const bool same = r.out == limit_value;  // not printed: a megabyte of text helps nobody
  CHECK(same);
}

TEST_CASE("--max-value-bytes raises the value limit", "[process][limits]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port(), {"--max-value-bytes", std::to_string(2 * kMiB)});
  REQUIRE(node.wait_ready());

  std::string value(kMiB + kMiB / 2, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 131 % 251);
  RunResult r = node.client({"set", "u", "big", "-"}, value);
  CHECK(r.exit_code == 0);
  r = node.client({"get", "u", "big"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == value.size());
  const bool same = r.out == value;
  CHECK(same);

  check_refused(node.client({"set", "u", "bigger", "-"}, std::string(2 * kMiB + 1, 'v')),
                "limit is 2097152 bytes");
  CHECK(node.client({"get", "u", "bigger"}).exit_code == 1);
  CHECK(stored_key_count(node) == 1);
}

TEST_CASE("an invalid glob exits 2 with the reason", "[process][limits]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  REQUIRE(node.client({"set", "u", "k", "v"}).exit_code == 0);

  check_refused(node.client({"keys", "u", "["}), "never closed");
  check_refused(node.client({"keys", "u", "[z-a]"}), "reversed");
  check_refused(node.client({"keys", "u", "k\\"}), "trailing backslash");
  CHECK(node.client({"keys", "u", "[k]"}).out == "k\n");
}
