// mq demo failover: starts (or reuses) a local cluster, runs a concurrent
// workload, injects one fault, heals it, and reports how long writes were
// unavailable per shard, the leader changes, the operation outcomes, the
// throughput second by second and whether the history is linearizable.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "playground/cluster_target.h"
#include "playground/demo_report.h"
#include "playground/demo_workload.h"
#include "playground/launcher.h"

namespace mq::cli {

namespace pg = mq::playground;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kObserveIntervalMs = 50;
constexpr int kObserveTimeoutMs = 250;
constexpr int kSettleTimeoutMs = 15'000;
constexpr int kReadBackTimeoutMs = 5000;

struct DemoFlags {
  pg::ClusterTarget target;
  std::string output;
  std::string fault = "kill-leader";
  double duration_s = 6;
  bool check = false;
  int clients = 16;
  int timeout_ms = 2000;
  uint32_t shard = 0;
  int trials = 1;
  uint64_t seed = 0;
};

// Records events from views taken every kObserveIntervalMs on the
// workload's clock, until stopped.
class EventRecorder {
 public:
  EventRecorder(const pg::ClusterState& state, Clock::time_point epoch)
      : state_(state), epoch_(epoch), thread_([this] { run(); }) {}
  ~EventRecorder() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<pg::ClusterEvent> events() {
    std::lock_guard<std::mutex> g(mu_);
    return events_;
  }

 private:
  void run() {
    pg::ClusterObserver observer(kObserveTimeoutMs);
    pg::EventTracker tracker;
    while (!stopping_) {
      const auto t = Clock::now();
      pg::ClusterView v = observer.observe(state_);
      const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - epoch_).count();
      auto fresh = tracker.observe(v, now_ms);
      {
        std::lock_guard<std::mutex> g(mu_);
        events_.insert(events_.end(), fresh.begin(), fresh.end());
      }
      std::this_thread::sleep_until(t + std::chrono::milliseconds(kObserveIntervalMs));
    }
  }

  pg::ClusterState state_;
  Clock::time_point epoch_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<pg::ClusterEvent> events_;
  std::thread thread_;
};

int64_t us_since(Clock::time_point epoch) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
}

// Picks the node the fault hits: the shard's leader, or for kill-follower
// a replica of the shard that does not lead it.
pg::Outcome pick_target(const pg::ClusterState& state, const DemoFlags& f, std::string* node) {
  pg::ClusterView view = pg::observe_cluster(state, kObserveTimeoutMs);
  const pg::ShardView& s = view.shards[f.shard];
  if (s.leader.empty()) return {pg::kClusterUnavailable, "shard " + std::to_string(f.shard) + " has no leader"};
  if (f.fault != "kill-follower") {
    *node = s.leader;
    return {};
  }
  for (const auto& r : s.replicas) {
    if (r.node != s.leader) {
      *node = r.node;
      return {};
    }
  }
  return {pg::kClusterUsage, "shard " + std::to_string(f.shard) + " has no follower (one replica)"};
}

pg::Outcome inject(const std::string& dir, const pg::ClusterState& state, const std::string& fault,
                   const std::string& node) {
  if (fault == "kill-leader" || fault == "kill-follower") return pg::kill_node(dir, node, SIGKILL);
  if (fault == "pause") return pg::pause_node(dir, node);
  std::string others;
  for (const auto& n : state.nodes) {
    if (n.id != node) others += (others.empty() ? "" : ",") + n.id;
  }
  return pg::partition(dir, node, others);
}

pg::Outcome heal(const std::string& dir, const std::string& fault, const std::string& node) {
  if (fault == "kill-leader" || fault == "kill-follower") return pg::start_node(dir, node, kSettleTimeoutMs);
  if (fault == "pause") return pg::resume_node(dir, node);
  return pg::heal(dir);
}

// Every shard led, and no leader change for kStableMs: a node restarted
// just before takes its preferred shards back, which would blur the fault.
pg::Outcome settle(const pg::ClusterState& state) {
  constexpr int64_t kStableMs = 1000;
  const auto start = Clock::now();
  pg::ClusterObserver observer(kObserveTimeoutMs);
  std::vector<std::string> leaders;
  auto stable_since = Clock::now();
  while (true) {
    pg::ClusterView v = observer.observe(state);
    std::vector<std::string> now;
    bool all = true;
    for (const auto& s : v.shards) {
      now.push_back(s.leader);
      all &= !s.leader.empty();
    }
    if (!all || now != leaders) {
      leaders = now;
      stable_since = Clock::now();
    } else if (us_since(stable_since) >= kStableMs * 1000) {
      return {};
    }
    if (us_since(start) >= static_cast<int64_t>(kSettleTimeoutMs) * 1000) {
      return {pg::kClusterUnavailable, "the cluster did not settle: " + v.health_line()};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kObserveIntervalMs));
  }
}

void sleep_until_us(Clock::time_point epoch, int64_t us) {
  std::this_thread::sleep_until(epoch + std::chrono::microseconds(us));
}

// One run: workload, fault, heal, report. exit_code gets the verdict's.
pg::Outcome run_trial(const DemoFlags& f, const std::string& dir, int trial, pg::DemoReport* report) {
  pg::ClusterState state;
  if (auto o = pg::open_cluster(dir, &state); !o.ok()) return o;
  if (f.shard >= state.shard_count) {
    return {pg::kClusterUsage, "--shard must be below " + std::to_string(state.shard_count)};
  }
  if (auto o = settle(state); !o.ok()) return o;

  pg::WorkloadOptions wo;
  wo.endpoints = state.endpoints();
  wo.clients = f.clients;
  wo.timeout_ms = f.timeout_ms;
  wo.shard_count = state.shard_count;
  wo.seed = f.seed + static_cast<uint64_t>(trial);
  wo.key_prefix = "demo" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  const auto epoch = Clock::now();
  const int64_t duration_us = static_cast<int64_t>(f.duration_s * 1e6);
  pg::DemoTimeline tl;
  tl.fault = f.fault;
  tl.target_shard = f.shard;
  pg::Workload workload(wo, epoch);
  EventRecorder recorder(state, epoch);
  workload.start();
  // A third of the run before the fault, a third under it, a third after.
  sleep_until_us(epoch, duration_us / 3);
  std::string target;
  pg::Outcome injected = pick_target(state, f, &target);
  tl.target_node = target;
  tl.fault_us = us_since(epoch);
  if (injected.ok()) injected = inject(dir, state, f.fault, target);
  std::fprintf(stderr, "%.2fs: %s %s%s\n", tl.fault_us / 1e6, f.fault.c_str(), target.c_str(),
               injected.ok() ? "" : (" failed: " + injected.message).c_str());
  sleep_until_us(epoch, 2 * duration_us / 3);
  tl.heal_us = us_since(epoch);
  pg::Outcome healed = target.empty() ? pg::Outcome{} : heal(dir, f.fault, target);
  std::fprintf(stderr, "%.2fs: healed%s\n", us_since(epoch) / 1e6,
               healed.ok() ? "" : (": " + healed.message).c_str());
  sleep_until_us(epoch, duration_us);
  workload.stop();
  tl.end_us = us_since(epoch);
  recorder.stop();
  if (f.check) {
    pg::ClusterView v;
    pg::wait_all_led(state, kSettleTimeoutMs, nullptr, &v);
    workload.read_back(kReadBackTimeoutMs);
  }
  if (!injected.ok()) return injected;
  const auto history = workload.history();
  std::fprintf(stderr, "checking %zu operations for linearizability...\n", history.size());
  const auto check_start = Clock::now();
  *report = pg::make_report(tl, history, state.shard_count, static_cast<uint64_t>(f.clients),
                            recorder.events(), f.check);
  std::fprintf(stderr, "checked in %.1f s\n", us_since(check_start) / 1e6);
  if (!healed.ok()) return healed;
  return {};
}

int64_t percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

namespace {

int demo_failover(int argc, char** argv) {
  DemoFlags f;
  CLI::App app{
      "Start or reuse a local cluster, run a concurrent workload, inject a fault, heal it, and "
      "report the write-unavailability window per shard, the leader changes, the outcomes, the "
      "throughput and a linearizability verdict.",
      "mq demo failover"};
  CLI::App* fo = &app;
  fo->add_option("--name", f.target.name, "Cluster name (default local)")->envname("MQ_CLUSTER");
  fo->add_option("--dir", f.target.dir, "State directory")->envname("MQ_CLUSTER_DIR");
  fo->add_option("-o,--output", f.output, "plain, json or table (default: table)")->envname("MQ_OUTPUT");
  fo->add_option("--fault", f.fault, "kill-leader (default), kill-follower, partition or pause")
      ->check(CLI::IsMember({"kill-leader", "kill-follower", "partition", "pause"}));
  fo->add_option("--duration", f.duration_s, "Seconds of workload; the fault spans the middle third (default 6)")
      ->check(CLI::Range(1.0, 600.0));
  fo->add_flag("--check", f.check, "Read every key back after healing: acknowledged writes lost count as a violation");
  fo->add_option("--clients", f.clients, "Concurrent clients (default 16)")->check(CLI::Range(1, 256));
  fo->add_option("--timeout-ms", f.timeout_ms, "Client deadline per operation (default 2000)")
      ->check(CLI::Range(50, 60'000));
  fo->add_option("--shard", f.shard, "The fault hits this shard's leader (or a follower of it) (default 0)");
  fo->add_option("--trials", f.trials, "Repeat the run; reports the median and p90 of the longest window")
      ->check(CLI::Range(1, 100));
  fo->add_option("--seed", f.seed, "Workload seed (default 0)");
  app.footer(R"(Examples:
  mq demo failover
  mq demo failover --fault partition --duration 9 --check
  mq demo failover --trials 10 -o json | jq .median_ms

Exit codes: 0 the history is linearizable (and, with --check, no
acknowledged write was lost), 1 it is not, 2 the checker could not decide,
3 the cluster could not be reached or did not settle, 5 it could not start.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format = Format::kTable;
  if (!f.output.empty()) {
    auto p = parse_format(f.output);
    if (!p) {
      std::fprintf(stderr, "mq demo failover: -o must be plain, json or table\n");
      return 2;
    }
    format = *p;
  }
  const std::string dir = f.target.resolved_dir();
  {
    pg::UpOptions up;
    up.name = f.target.name;
    up.dir = dir;
    pg::ClusterState state;
    pg::UpResult result;
    pg::Outcome o = pg::cluster_up(up, nullptr, &state, &result);
    if (!o.ok()) {
      std::fprintf(stderr, "mq demo failover: %s\n", o.message.c_str());
      return o.exit_code;
    }
    std::fprintf(stderr, "%s cluster %s (%zu nodes); %d client(s), fault %s, %.1f s%s\n",
                 result.already_running ? "using" : "started", state.name.c_str(), state.nodes.size(),
                 f.clients, f.fault.c_str(), f.duration_s, f.trials > 1 ? (", " + std::to_string(f.trials) + " trials").c_str() : "");
  }
  std::vector<pg::DemoReport> reports;
  int exit_code = 0;
  for (int trial = 0; trial < f.trials; ++trial) {
    pg::DemoReport r;
    pg::Outcome o = run_trial(f, dir, trial, &r);
    if (!o.ok()) {
      std::fprintf(stderr, "mq demo failover: %s\n", o.message.c_str());
      return o.exit_code;
    }
    const int code = pg::report_exit_code(r);
    // The worst verdict wins: not linearizable over unknown over valid.
    if (code == 1 || (code == 2 && exit_code == 0)) exit_code = code;
    if (format != Format::kJson) {
      std::string text = pg::render_report_text(r);
      if (f.trials > 1) text = "=== trial " + std::to_string(trial + 1) + "\n" + text;
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    reports.push_back(std::move(r));
  }
  std::vector<int64_t> longest;
  for (const auto& r : reports) longest.push_back(r.max_window_ms);
  if (format == Format::kJson) {
    if (reports.size() == 1) {
      std::fputs(pg::render_report_json(reports[0]).c_str(), stdout);
    } else {
      nlohmann::json j;
      j["trials"] = nlohmann::json::array();
      for (const auto& r : reports) j["trials"].push_back(nlohmann::json::parse(pg::render_report_json(r)));
      j["longest_ms"] = longest;
      j["median_ms"] = percentile(longest, 0.5);
      j["p90_ms"] = percentile(longest, 0.9);
      std::fputs((j.dump() + "\n").c_str(), stdout);
    }
  } else if (reports.size() > 1) {
    std::string line = "\nlongest write-unavailability per trial (ms):";
    for (int64_t v : longest) line += " " + std::to_string(v);
    line += "\nmedian " + std::to_string(percentile(longest, 0.5)) + " ms, p90 " +
            std::to_string(percentile(longest, 0.9)) + " ms over " + std::to_string(longest.size()) + " trials\n";
    std::fputs(line.c_str(), stdout);
  }
  std::fflush(stdout);
  return exit_code;
}

void print_demo_usage(FILE* to) {
  std::fprintf(to, "Usage: mq demo <demo> [flags]   (mq demo <demo> --help for details)\n\n"
                   "Demonstrations on a local cluster.\n\nDemos:\n");
  for (const auto& d : demo_commands()) std::fprintf(to, "  %-10s %s\n", d.name, d.summary);
  std::fprintf(to, "\nExamples:\n  mq demo failover --check\n  mq help demo failover\n");
}

}  // namespace

const CommandTable& demo_commands() {
  static const CommandTable table = {
      {"failover", "Inject a fault under load; report unavailability and check linearizability",
       demo_failover},
  };
  return table;
}

int cmd_demo(int argc, char** argv) {
  return dispatch("mq demo", "demo", demo_commands(), print_demo_usage, argc, argv);
}

}  // namespace mq::cli
