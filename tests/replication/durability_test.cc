// Durability: every acknowledged write survives kill -9 of the whole
// cluster at a random (seeded) moment while clients are writing.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/replication/local_cluster.h"

namespace mq::test {
namespace {

constexpr int kWritersPerTrial = 2;
constexpr int kUsers = 40;
constexpr int kKillAfterMsMin = 200;
constexpr int kKillAfterMsMax = 1500;
constexpr int kWritesPerWriterMax = 200'000;

// What the writers learnt: acknowledged writes must all be there after a
// crash; writes of unknown outcome may or may not be.
struct WriteLog {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, std::string> acked;
  std::map<std::pair<std::string, std::string>, std::string> unknown;
};

// Writes fresh keys until told to stop; records each outcome.
void write_until_stopped(LocalCluster& cluster, const std::string& tag, const std::atomic<bool>& stop,
                         WriteLog& log) {
  auto client = cluster.client({}, 1000);
  for (int i = 0; i < kWritesPerWriterMax && !stop.load(); ++i) {
    const std::string user = "dur" + std::to_string(i % kUsers);
    const std::string key = tag + "-" + std::to_string(i);
    const std::string value = "value-" + key;
    cli::SetResult r;
    const cli::Error e = client->set(user, key, value, &r);
    std::lock_guard<std::mutex> lock(log.mu);
    if (e.ok()) {
      log.acked[{user, key}] = value;
    } else {
      if (e.kind == cli::ErrorKind::kUnknownOutcome) log.unknown[{user, key}] = value;
      // The cluster is down: do not spin on refused connections.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

// Runs the writers, kills every node at a seeded random moment, restarts
// them all, and checks what was acknowledged (this trial and earlier ones).
void crash_trial(LocalCluster& cluster, uint32_t seed, int trial, WriteLog& log) {
  std::mt19937 rng(seed);
  const int kill_after_ms = std::uniform_int_distribution<int>(kKillAfterMsMin, kKillAfterMsMax)(rng);
  INFO("seed " << seed << ", trial " << trial << ", kill -9 after " << kill_after_ms << " ms");
  REQUIRE(cluster.wait_for_leaders());

  size_t acked_before = 0;
  {
    std::lock_guard<std::mutex> lock(log.mu);
    acked_before = log.acked.size();
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWritersPerTrial; ++w) {
    const std::string tag = "t" + std::to_string(trial) + "w" + std::to_string(w);
    writers.emplace_back([&cluster, tag, &stop, &log] { write_until_stopped(cluster, tag, stop, log); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
  cluster.kill_all();
  // Let the writers meet the dead cluster before they stop, so a write in
  // flight at the kill is never counted as acknowledged by accident.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& t : writers) t.join();

  for (size_t i = 0; i < cluster.size(); ++i) cluster.start(i);
  REQUIRE(cluster.wait_for_leaders());

  std::lock_guard<std::mutex> lock(log.mu);
  WARN("seed " << seed << ": " << log.acked.size() - acked_before << " writes acknowledged before kill -9 at "
                << kill_after_ms << " ms, " << log.unknown.size() << " of unknown outcome so far");
  REQUIRE(log.acked.size() > acked_before);  // the kill came while writes were flowing
  auto reader = cluster.client({}, 5000);
  size_t missing = 0;
  std::string first_missing;
  for (const auto& [user_key, value] : log.acked) {
    cli::GetResult g;
    const cli::Error e = reader->get(user_key.first, user_key.second, cli::Consistency::kLinearizable, &g);
    INFO(user_key.first << " " << user_key.second << ": " << e.message);
    REQUIRE(e.ok());
    if (!g.found || g.value != value) {
      if (first_missing.empty()) first_missing = user_key.first + " " + user_key.second;
      ++missing;
    }
  }
  INFO("first missing: " << first_missing);
  CHECK(missing == 0);
  // A write of unknown outcome may be absent, but never hold another value.
  for (const auto& [user_key, value] : log.unknown) {
    cli::GetResult g;
    REQUIRE(reader->get(user_key.first, user_key.second, cli::Consistency::kLinearizable, &g).ok());
    if (g.found) CHECK(g.value == value);
  }
}

TEST_CASE("kill -9 of all three nodes loses no acknowledged write", "[replication][durability]") {
  LocalCluster cluster;
  WriteLog log;
  const uint32_t seeds[] = {101, 202, 303};
  for (int trial = 0; trial < 3; ++trial) crash_trial(cluster, seeds[trial], trial, log);
}

TEST_CASE("kill -9 of a single node with --fsync always loses no acknowledged write",
          "[replication][durability]") {
  LocalClusterOptions options;
  options.node_count = 1;
  options.with_peers = false;
  options.node_flags = {"--fsync", "always"};
  LocalCluster cluster(options);
  WriteLog log;
  const uint32_t seeds[] = {11, 12, 13};
  for (int trial = 0; trial < 3; ++trial) crash_trial(cluster, seeds[trial], trial, log);
}

}  // namespace
}  // namespace mq::test
