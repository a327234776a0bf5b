// --max-memory with real processes: a node over its limit refuses new
// writes with RESOURCE_EXHAUSTED naming the limit (exit 2 from the CLI, 507
// over HTTP), serves reads and deletes, says so in its status, and takes
// writes again once deletes bring it below; a follower over its limit makes
// its shards' leaders refuse for it, without elections and without losing
// an acknowledged write.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "local_cluster.h"
#include "tests/process/http_client.h"
#include "tests/process/node_process.h"

using Catch::Matchers::Contains;
using namespace mq::test;
using mq::cli::ErrorKind;

namespace {

constexpr size_t kValueBytes = 256 << 10;
// Enough 256 KiB values to pass a 96 MiB limit several times over: the
// loop ends at the first refusal, long before.
constexpr int kKeysMax = 1200;

std::string value_of(int i) { return "v" + std::to_string(i) + ":" + std::string(kValueBytes, static_cast<char>('a' + i % 26)); }

// Writes keys k0, k1, ... of users spread over every shard until a write is
// refused for memory; the keys acknowledged before it, and that error.
struct Fill {
  std::vector<int> acknowledged;  // key i of user i % 50
  mq::cli::Error refusal;
  std::vector<std::pair<std::string, int>> extra;  // (user, i): acknowledged afterwards
};
Fill fill_until_refused(mq::cli::Client& client) {
  Fill f;
  for (int i = 0; i < kKeysMax; ++i) {
    mq::cli::SetResult r;
    const mq::cli::Error e = client.set("user" + std::to_string(i % 50), "k" + std::to_string(i), value_of(i), &r);
    if (e.kind == ErrorKind::kOk) {
      f.acknowledged.push_back(i);
      continue;
    }
    f.refusal = e;
    break;
  }
  return f;
}

// Polls pred every 100 ms for at most 10 s.
bool poll_until(const std::function<bool()>& pred) {
  for (int i = 0; i < 100; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void delete_all(mq::cli::Client& client, const std::vector<int>& keys) {
  for (int i : keys) {
    mq::cli::DeleteResult d;
    REQUIRE(client.del("user" + std::to_string(i % 50), "k" + std::to_string(i), &d).kind == ErrorKind::kOk);
  }
}

}  // namespace

TEST_CASE("a node over --max-memory refuses writes, serves reads and deletes, then resumes",
          "[memory][replication]") {
  TempDir dir;
  const uint16_t http_port = free_loopback_port();
  NodeProcess node(dir / "n1", free_loopback_port(),
                   {"--max-memory", "96MiB", "--http-listen", "127.0.0.1:" + std::to_string(http_port)});
  REQUIRE(node.wait_ready());
  mq::cli::Client client({{node.endpoint()}, 10'000});

  const Fill f = fill_until_refused(client);
  INFO(node.log());
  REQUIRE(f.refusal.kind == ErrorKind::kMemoryFull);
  CHECK(f.acknowledged.size() > 100);  // 96 MiB held about 300 of them
  CHECK_THAT(f.refusal.message, Contains("node n1 holds") && Contains("over its --max-memory 96 MiB"));
  CHECK_THAT(node.log(), Contains("reached --max-memory 96 MiB: refusing new writes"));

  // The CLI: exit 2, the reason on stderr; JSON names the kind.
  const RunResult set = node.client({"set", "user1", "another", "value"});
  CHECK(set.exit_code == 2);
  CHECK_THAT(set.err, Contains("--max-memory 96 MiB"));
  const RunResult set_json = node.client({"set", "-o", "json", "user1", "another", "value"});
  CHECK(set_json.exit_code == 2);
  CHECK_THAT(set_json.out, Contains("\"memory_full\""));
  // HTTP: 507 Insufficient Storage.
  auto http = http_call(http_port, "PUT", "/api/v1/memory/users/user1/keys/another", R"({"value":"x"})",
                        "application/json");
  REQUIRE(http);
  CHECK(http->status == 507);
  CHECK_THAT(http->body, Contains("memory_full"));

  // Reads go on, and every acknowledged value is there.
  for (int i : {f.acknowledged.front(), f.acknowledged.back()}) {
    mq::cli::GetResult g;
    REQUIRE(client.get("user" + std::to_string(i % 50), "k" + std::to_string(i),
                       mq::cli::Consistency::kLinearizable, &g).kind == ErrorKind::kOk);
    CHECK(g.found);
    CHECK(g.value == value_of(i));
  }
  // Status says so.
  const RunResult status = node.client({"status", "-o", "json"});
  REQUIRE(status.exit_code == 0);
  const auto s = nlohmann::json::parse(status.out);
  CHECK(s["memory"]["full"] == true);
  CHECK(s["memory"]["limit_bytes"] == 96u << 20);
  // Full until it falls below 90% of the limit: status counts memory when
  // asked, after the allocator may have returned some (seen: 94 MiB, full).
  CHECK(s["memory"]["used_bytes"] >= (96u << 20) / 10 * 9);

  // Deletes are served, and bring the node below its limit: writes resume.
  delete_all(client, f.acknowledged);
  CHECK(poll_until([&] {
    mq::cli::SetResult r;
    return client.set("user1", "after", "deletes", &r).kind == ErrorKind::kOk;
  }));
  CHECK_THAT(node.log(), Contains("is below 90% of --max-memory 96 MiB again: accepting writes"));
}

TEST_CASE("a follower over --max-memory makes its leaders refuse writes, without elections or loss",
          "[memory][replication]") {
  LocalClusterOptions options;
  LocalCluster cluster(options);
  REQUIRE(cluster.wait_for_leaders());
  // n3 alone has a limit; n1 and n2 have none.
  REQUIRE(cluster.stop(2));
  cluster.set_node_flags(2, {"--max-memory", "96MiB"});
  cluster.start(2);
  // Leadership moves back to n3 only once: before the terms are taken.
  REQUIRE(cluster.wait_for_preferred_leaders());
  auto client = cluster.client({}, 10'000);

  Fill f = fill_until_refused(*client);
  INFO(cluster.log_tail(2));
  REQUIRE(f.refusal.kind == ErrorKind::kMemoryFull);
  CHECK_THAT(f.refusal.message, Contains("node n3 holds"));

  // Every shard refuses, also those n3 does not lead: their leaders refuse
  // on its behalf, naming it, once n3's next batch told them (a heartbeat).
  auto leaders = cluster.leaders();
  REQUIRE(leaders);
  std::map<uint32_t, uint64_t> terms;
  const auto before = cluster.status(0);
  REQUIRE(before);
  for (const auto& sh : before->shards) terms[sh.id] = sh.term;
  size_t refused_for_n3 = 0;
  int extra = kKeysMax;
  for (uint32_t shard = 0; shard < 16; ++shard) {
    if (leaders->at(shard) == 2) continue;
    mq::cli::Error e;
    CHECK(poll_until([&] {
      const int i = extra++;
      mq::cli::SetResult r;
      e = client->set(user_in_shard(shard, 16, 0), "k" + std::to_string(i), value_of(i), &r);
      if (e.kind == ErrorKind::kOk) f.extra.emplace_back(user_in_shard(shard, 16, 0), i);
      return e.kind != ErrorKind::kOk;
    }));
    CHECK(e.kind == ErrorKind::kMemoryFull);
    CHECK_THAT(e.message, Contains("node n3 holds"));
    refused_for_n3 += e.kind == ErrorKind::kMemoryFull;
  }
  CHECK(refused_for_n3 > 0);

  // No election loop: leaders and terms stay put while the follower is full.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(cluster.leaders() == leaders);
  const auto after = cluster.status(0);
  REQUIRE(after);
  for (const auto& sh : after->shards) CHECK(terms[sh.id] == sh.term);
  // n3 reports itself full; the others do not.
  const auto n3 = cluster.status(2);
  REQUIRE(n3);
  CHECK(n3->memory_full);
  CHECK_FALSE(after->memory_full);

  // Every acknowledged write is there, with its value.
  for (int i : f.acknowledged) {
    mq::cli::GetResult g;
    REQUIRE(client->get("user" + std::to_string(i % 50), "k" + std::to_string(i),
                        mq::cli::Consistency::kLinearizable, &g).kind == ErrorKind::kOk);
    REQUIRE(g.found);
    REQUIRE(g.value == value_of(i));
  }

  for (const auto& [user, i] : f.extra) {
    mq::cli::GetResult g;
    REQUIRE(client->get(user, "k" + std::to_string(i), mq::cli::Consistency::kLinearizable, &g).kind ==
            ErrorKind::kOk);
    REQUIRE(g.value == value_of(i));
  }

  // Deletes go through, and writes resume everywhere.
  delete_all(*client, f.acknowledged);
  for (const auto& [user, i] : f.extra) {
    mq::cli::DeleteResult d;
    REQUIRE(client->del(user, "k" + std::to_string(i), &d).kind == ErrorKind::kOk);
  }
  CHECK(poll_until([&] {
    for (uint32_t shard = 0; shard < 16; ++shard) {
      mq::cli::SetResult r;
      if (client->set(user_in_shard(shard, 16, 0), "after", "deletes", &r).kind != ErrorKind::kOk) return false;
    }
    return true;
  }));
}
