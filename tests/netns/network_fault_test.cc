// mq across real interfaces under packet-level faults: clusters of 3 and 5
// nodes, each in its own network namespace, TLS between clients and nodes
// and between peers, and nftables dropping packets. Under each fault the
// failover demo's workload (users spread over 8 shards, sets and
// linearizable gets, unique values) runs, then the faults are healed, every
// key is read back, and the same checks as `mq demo failover --check` hold:
// no acknowledged write lost, the whole history linearizable. Where a
// shard's leader is cut off, writes to that shard must resume within the
// election timeout plus a margin.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <thread>

#include "playground/demo_report.h"
#include "playground/demo_workload.h"
#include "playground/lincheck.h"
#include "tests/netns/lab_cluster.h"

namespace mq::netns {
extern NetLab* the_lab;
namespace {

using Clock = std::chrono::steady_clock;
namespace pg = mq::playground;

constexpr uint32_t kShards = 8;
constexpr int kClients = 8;
constexpr int kClientTimeoutMs = 1000;
// The longest election timeout: --election-ticks 20 (the default) of 10 ms,
// randomized up to twice that.
constexpr int64_t kElectionTimeoutMaxMs = 400;
// The margin over it: the client's deadline (a request sent to the cut-off
// leader waits that long before the client asks elsewhere) and a second
// for a loaded 2-core machine running five nodes, the TLS handshakes of
// reconnecting clients and the test.
constexpr int64_t kResumeLimitMs = kElectionTimeoutMaxMs + kClientTimeoutMs + 1000;
// The soonest a follower can campaign after its leader is cut off: the
// shortest election timeout (20 ticks) less a heartbeat interval (5 ticks),
// the most it may have waited already. A write acknowledged sooner would
// mean the cut let the old leader commit: the fault did not take hold.
constexpr int64_t kFastestElectionMs = 200 - 50;
constexpr int kSettleMs = 15'000;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void require_led(LabCluster& cluster) {
  if (!cluster.wait_all_led(kSettleMs)) {
    FAIL("not every shard had a leader within " << kSettleMs / 1000 << " s\n" << cluster.logs_tail());
  }
}

struct RunResult {
  std::vector<pg::RecordedOp> history;
  pg::DemoReport report;  // as `mq demo failover --check` computes it
  bool read_back = false;
};

// One fault step: what it does, run on the workload's clock (`now_us`
// gives the time in microseconds, for marking when a leader was cut off).
using FaultSteps = std::function<void(const std::function<int64_t()>& now_us)>;

// The demo's workload for a second before the faults, during them, and
// two seconds after they are healed; then the read-back and the demo's
// report of it.
RunResult run_workload(LabCluster& cluster, uint64_t seed, const FaultSteps& faults) {
  const auto epoch = Clock::now();
  auto now_us = [epoch] {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
  };
  pg::WorkloadOptions wo;
  wo.endpoints = cluster.endpoints();
  wo.tls = cluster.client_tls();
  wo.clients = kClients;
  wo.timeout_ms = kClientTimeoutMs;
  wo.shard_count = kShards;
  wo.seed = seed;
  wo.key_prefix = "netns" + std::to_string(seed);
  pg::Workload workload(wo, epoch);
  pg::DemoTimeline timeline;
  workload.start();
  sleep_ms(1000);
  timeline.fault_us = now_us();
  faults(now_us);
  timeline.heal_us = now_us();
  sleep_ms(2000);
  workload.stop();
  timeline.end_us = now_us();
  RunResult r;
  require_led(cluster);
  r.read_back = workload.read_back(10'000);
  r.history = workload.history();
  // The read-back is the client after the workload's.
  r.report = pg::make_report(timeline, r.history, kShards, static_cast<uint64_t>(kClients), {}, true);
  return r;
}

// The checks every run must pass.
void require_safe(const RunResult& r) {
  INFO("lost: " << (r.report.lost_examples.empty() ? std::string("-") : r.report.lost_examples.front()));
  CHECK(r.read_back);
  CHECK(r.report.writes.ok > 100);
  CHECK(r.report.lost_writes == std::optional<uint64_t>(0));
  INFO(r.report.verdict.explanation);
  CHECK(r.report.verdict.verdict == lincheck::Result::kLinearizable);
}

// How long after cut_us the first write to `shard` invoked after it was
// acknowledged; -1 when none was.
int64_t resume_ms(const RunResult& r, uint32_t shard, int64_t cut_us) {
  int64_t first = -1;
  for (const auto& op : r.history) {
    if (op.shard != shard || op.op.kind != lincheck::OpKind::kSet) continue;
    if (op.op.outcome != lincheck::Outcome::kOk || op.op.invoke_time < cut_us) continue;
    if (first < 0 || op.op.complete_time < first) first = op.op.complete_time;
  }
  return first < 0 ? -1 : (first - cut_us) / 1000;
}

// One line per run on stdout, so the numbers are in the test's log.
void report(const std::string& test, const RunResult& r, int64_t resumed_ms) {
  std::printf("netns: %s: %llu acknowledged writes, %zu operations, %llu lost, writes resumed %lld ms "
              "after the cut (limit %lld)\n",
              test.c_str(), static_cast<unsigned long long>(r.report.writes.ok), r.history.size(),
              static_cast<unsigned long long>(r.report.lost_writes.value_or(0)), static_cast<long long>(resumed_ms),
              static_cast<long long>(kResumeLimitMs));
  std::fflush(stdout);
}

std::vector<std::string> others(const LabCluster& c, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& o : c.ids()) {
    if (o != id) out.push_back(o);
  }
  return out;
}

// The resume checks of a run in which `shard`'s leader was cut off at cut_us.
void require_resumed(const RunResult& r, uint32_t shard, int64_t cut_us, const std::string& what) {
  const int64_t resumed = resume_ms(r, shard, cut_us);
  INFO("shard " << shard << "'s writes resumed " << resumed << " ms after " << what);
  report(Catch::getResultCapture().getCurrentTestName(), r, resumed);
  CHECK(resumed >= kFastestElectionMs);
  CHECK(resumed <= kResumeLimitMs);
}

// Three nodes; shard 0's leader is cut off from its two peers by `cut`
// (the leader, a peer's IP) for three seconds.
void cut_leader_of_three(int subnet, uint64_t seed,
                         const std::function<void(const std::string&, const std::string&)>& cut) {
  LabCluster cluster(the_lab, {.subnet = subnet, .nodes = 3, .shards = kShards});
  for (const auto& id : cluster.ids()) cluster.start(id);
  require_led(cluster);
  const std::string leader = cluster.leader_of(0);
  REQUIRE(!leader.empty());
  int64_t cut_us = 0;
  const RunResult r = run_workload(cluster, seed, [&](const auto& now_us) {
    for (const auto& o : others(cluster, leader)) cut(leader, cluster.ip(o));
    cut_us = now_us();  // once the rules are in: writes invoked before may still commit
    sleep_ms(3000);
    the_lab->heal(leader);
  });
  require_safe(r);
  require_resumed(r, 0, cut_us, "its leader " + leader + " was cut off");
}

TEST_CASE("3 nodes over TLS: a leader cut off from its peers both ways", "[netns]") {
  cut_leader_of_three(1, 1, [](const std::string& leader, const std::string& peer_ip) {
    the_lab->drop_between(leader, peer_ip);
  });
}

TEST_CASE("3 nodes over TLS: a one-way partition, the leader's packets to its peers dropped", "[netns]") {
  cut_leader_of_three(2, 2, [](const std::string& leader, const std::string& peer_ip) {
    the_lab->drop_outgoing(leader, peer_ip);
  });
}

TEST_CASE("5 nodes over TLS: a flapping link, then a node whose packets are all dropped", "[netns]") {
  LabCluster cluster(the_lab, {.subnet = 3, .nodes = 5, .shards = kShards});
  for (const auto& id : cluster.ids()) cluster.start(id);
  require_led(cluster);
  std::string dropped;
  int64_t cut_us = 0;
  uint32_t dropped_shard = 1;
  const RunResult r = run_workload(cluster, 3, [&](const auto& now_us) {
    // The link between shard 0's leader and another node goes down and up
    // at random every 100-600 ms for four seconds.
    const std::string a = cluster.leader_of(0);
    REQUIRE(!a.empty());
    const std::string b = others(cluster, a).front();
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> period(100, 600);
    bool down = false;
    const auto flap_end = Clock::now() + std::chrono::seconds(4);
    for (int flips = 0; flips < 100 && Clock::now() < flap_end; ++flips) {
      if (down) {
        the_lab->heal(a);
      } else {
        the_lab->drop_between(a, cluster.ip(b));
      }
      down = !down;
      sleep_ms(period(rng));
    }
    the_lab->heal(a);
    require_led(cluster);
    sleep_ms(1000);
    // Then shard 1's leader drops every packet, clients' included.
    dropped = cluster.leader_of(dropped_shard);
    REQUIRE(!dropped.empty());
    the_lab->drop_all(dropped);
    cut_us = now_us();
    sleep_ms(4000);
    the_lab->heal(dropped);
  });
  require_safe(r);
  require_resumed(r, dropped_shard, cut_us, "every packet of its leader " + dropped + " was dropped");
}

}  // namespace
}  // namespace mq::netns
