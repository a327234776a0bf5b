// A node that missed writes while stopped catches up after a restart from
// its data dir: from the leader's log, or by InstallSnapshot once the
// leader has compacted the log past what the node has.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "tests/replication/local_cluster.h"
#include "tests/replication/node_rpc.h"

namespace mq::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kShards = 16;
constexpr int kCatchUpTimeoutMs = 15'000;

// Polls the node's Status until each listed shard's applied index reaches
// the given commit index; false after the timeout.
bool applied_reaches(LocalCluster& cluster, size_t node, const std::map<uint32_t, uint64_t>& commits,
                     std::string* behind) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kCatchUpTimeoutMs);
  while (true) {
    behind->clear();
    if (auto st = cluster.status(node)) {
      std::map<uint32_t, uint64_t> applied;
      for (const auto& s : st->shards) applied[s.id] = s.applied;
      for (const auto& [shard, commit] : commits) {
        if (applied[shard] < commit) {
          *behind += "shard " + std::to_string(shard) + " applied " + std::to_string(applied[shard]) +
                     " < " + std::to_string(commit) + "; ";
        }
      }
    } else {
      *behind = "no status";
    }
    if (behind->empty()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Polls a stale read on one replica until it shows want; false after the timeout.
bool stale_shows(NodeRpc& rpc, const std::string& user, const std::string& key, const std::string& want) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kCatchUpTimeoutMs);
  while (true) {
    const StaleRead r = rpc.stale_get(user, key, 1000);
    if (r.ok && r.found && r.value == want) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Bytes written to the WAL segments of a data dir (layout in
// node/storage/storage.h). Not their file sizes: the segment being written
// is preallocated to its full size with zeros (node/storage/wal.h), so only
// the bytes up to its last non-zero one were written.
uintmax_t wal_bytes(const std::string& data_dir) {
  uintmax_t total = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(data_dir + "/wal", ec)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t last_non_zero = data.find_last_not_of('\0');
    total += last_non_zero == std::string::npos ? 0 : last_non_zero + 1;
  }
  return total;
}

// The commit index of every shard as its leader reports it.
std::map<uint32_t, uint64_t> leader_commits(LocalCluster& cluster) {
  std::map<uint32_t, uint64_t> out;
  // A node stopped a moment ago may still be the leader its peers name:
  // wait until they elected another.
  REQUIRE(cluster.wait_for_leaders());
  const auto leaders = cluster.leaders();
  REQUIRE(leaders);
  std::map<size_t, cli::ClusterStatus> statuses;
  for (const auto& [shard, leader] : *leaders) {
    if (!statuses.count(leader)) {
      auto st = cluster.status(leader);
      REQUIRE(st);
      statuses[leader] = *st;
    }
    for (const auto& s : statuses[leader].shards) {
      if (s.id == shard) out[shard] = s.commit;
    }
  }
  REQUIRE(out.size() == kShards);
  return out;
}

TEST_CASE("a stopped node restarts from its data dir and catches up on missed writes",
          "[replication][catch-up]") {
  LocalCluster cluster;
  REQUIRE(cluster.wait_for_leaders());
  const size_t stopped = 2;
  const std::vector<size_t> others = {0, 1};

  // Before the stop: replicated to everyone, so on the stopped node's disk.
  auto client = cluster.client(others);
  for (uint32_t s = 0; s < kShards; ++s) {
    cli::SetResult r;
    REQUIRE(client->set(user_in_shard(s, kShards, 0), "before", "b", &r).ok());
  }
  REQUIRE(cluster.stop(stopped) == 0);
  REQUIRE(cluster.wait_for_leaders());

  std::map<std::pair<std::string, std::string>, std::string> missed;
  for (uint32_t s = 0; s < kShards; ++s) {
    const std::string user = user_in_shard(s, kShards, 0);
    for (int k = 0; k < 4; ++k) {
      const std::string key = "missed" + std::to_string(k);
      cli::SetResult r;
      REQUIRE(client->set(user, key, user + "=" + key, &r).ok());
      missed[{user, key}] = user + "=" + key;
    }
  }
  const auto commits = leader_commits(cluster);

  cluster.start(stopped);
  std::string behind;
  const bool caught_up = applied_reaches(cluster, stopped, commits, &behind);
  INFO("behind: " << behind);
  REQUIRE(caught_up);

  NodeRpc rpc(cluster.endpoint(stopped));
  for (const auto& [user_key, value] : missed) {
    INFO(user_key.first << " " << user_key.second);
    REQUIRE(stale_shows(rpc, user_key.first, user_key.second, value));
  }
  for (uint32_t s = 0; s < kShards; ++s) {
    REQUIRE(stale_shows(rpc, user_in_shard(s, kShards, 0), "before", "b"));
  }
  REQUIRE(cluster.wait_for_leaders());
}

TEST_CASE("a node behind a compacted log catches up by snapshot", "[replication][catch-up][snapshot]") {
  // Snapshots every 200 applied entries; the node keeps a tail of 2000
  // entries behind each snapshot for slow followers, so after 2400 writes
  // the leader's log starts past index 400 and the stopped node (at a few
  // entries) can only be brought up to date with InstallSnapshot.
  constexpr int kKeys = 2400;
  constexpr int kKeysPerBatch = 200;
  LocalClusterOptions options;
  options.node_flags = {"--snapshot-entries", "200"};
  LocalCluster cluster(options);
  REQUIRE(cluster.wait_for_leaders());

  const uint32_t shard = 9;
  const std::string user = user_in_shard(shard, kShards, 0, "snap");
  auto leaders = cluster.leaders();
  REQUIRE(leaders);
  const size_t leader = leaders->at(shard);
  const size_t stopped = (leader + 1) % cluster.size();
  REQUIRE(cluster.stop(stopped) == 0);

  NodeRpc to_leader(cluster.endpoint(leader));
  for (int first = 0; first < kKeys; first += kKeysPerBatch) {
    std::vector<std::pair<std::string, std::string>> kvs;
    for (int k = first; k < first + kKeysPerBatch; ++k) {
      kvs.emplace_back("key" + std::to_string(k), "value" + std::to_string(k));
    }
    const BatchSetResult r = to_leader.batch_set(user, kvs, 10'000);
    INFO("batch from key " << first << " via " << cluster.id(leader) << ": " << r.first_error);
    REQUIRE(r.first_error == "");
    REQUIRE(r.ok_count == kvs.size());
  }
  const auto commits = leader_commits(cluster);
  REQUIRE(commits.at(shard) > static_cast<uint64_t>(kKeys));

  cluster.start(stopped);
  std::string behind;
  const bool caught_up = applied_reaches(cluster, stopped, {{shard, commits.at(shard)}}, &behind);
  INFO("behind: " << behind);
  REQUIRE(caught_up);

  NodeRpc rpc(cluster.endpoint(stopped));
  for (int k : {0, 1, 399, 1234, kKeys - 2, kKeys - 1}) {
    INFO("key" << k << " on " << cluster.id(stopped));
    REQUIRE(stale_shows(rpc, user, "key" + std::to_string(k), "value" + std::to_string(k)));
  }
  // Every key, not just samples: a snapshot that dropped a range would show here.
  const StaleRead probe = rpc.stale_get(user, "key0", 1000);
  REQUIRE(probe.node == cluster.id(stopped));
  int found = 0;
  for (int k = 0; k < kKeys; ++k) {
    const StaleRead r = rpc.stale_get(user, "key" + std::to_string(k), 1000);
    if (r.ok && r.found && r.value == "value" + std::to_string(k)) ++found;
  }
  CHECK(found == kKeys);

  // Proof of the path taken: caught up by log replay, the node's WAL would
  // hold all 2400 entries as the leader's does; by InstallSnapshot it holds
  // a small tail, and the state arrives as a snapshot file.
  const uintmax_t leader_wal = wal_bytes(cluster.data_dir(leader));
  const uintmax_t caught_up_wal = wal_bytes(cluster.data_dir(stopped));
  INFO("WAL bytes: leader " << leader_wal << ", caught-up node " << caught_up_wal);
  CHECK(caught_up_wal * 2 < leader_wal);
  CHECK_FALSE(std::filesystem::is_empty(cluster.data_dir(stopped) + "/snap"));
}

}  // namespace
}  // namespace mq::test
