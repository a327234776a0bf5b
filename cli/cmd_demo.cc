// mq demo failover: starts (or reuses) a local cluster, runs a concurrent
// workload, injects one fault, heals it, and reports how long writes were
// unavailable per shard, the leader changes, the operation outcomes, the
// throughput second by second and whether the history is linearizable.
//
// Ctrl-C or SIGTERM at any point undoes what the demo injected (resumes the
// stopped node, heals the partition, starts the killed node again), prints
// the report of the run so far marked as interrupted, and exits 130 or 143
// (see playground/demo_interrupt.h).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/duration.h"
#include "cli/output.h"
#include "playground/cluster_target.h"
#include "playground/demo_interrupt.h"
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
// Waits longer than this say what they wait for, and again at this period.
constexpr int64_t kProgressEveryMs = 2000;
// The workload's own progress is rarer: its start, fault and heal lines
// already mark a short run.
constexpr int64_t kWorkloadProgressEveryMs = 5000;

struct DemoFlags {
  pg::ClusterTarget target;
  std::string output;
  std::string fault = "kill-leader";
  Millis duration{6000};
  bool check = false;
  int clients = 16;
  Millis timeout{2000};
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

// Says "due" once per period, the first time a period after the start.
class ProgressClock {
 public:
  explicit ProgressClock(int64_t every_ms) : every_ms_(every_ms), next_(Clock::now() + period()) {}
  bool due() {
    if (Clock::now() < next_) return false;
    next_ = Clock::now() + period();
    return true;
  }

 private:
  std::chrono::milliseconds period() const { return std::chrono::milliseconds(every_ms_); }
  int64_t every_ms_;
  Clock::time_point next_;
};

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

bool kills(const std::string& fault) { return fault == "kill-leader" || fault == "kill-follower"; }

pg::Outcome inject(const std::string& dir, const pg::DemoTimeline& t) {
  if (kills(t.fault)) return pg::kill_node(dir, t.target_node, SIGKILL);
  if (t.fault == "pause") return pg::pause_node(dir, t.target_node);
  std::string others;
  for (const auto& n : t.cut_off_from) others += (others.empty() ? "" : ",") + n;
  return pg::partition(dir, t.target_node, others);
}

pg::Outcome undo(const std::string& dir, const pg::DemoTimeline& t) {
  if (kills(t.fault)) return pg::start_node(dir, t.target_node, kSettleTimeoutMs);
  if (t.fault == "pause") return pg::resume_node(dir, t.target_node);
  return pg::heal(dir);
}

// The command that finishes an undo by hand, for when the demo is killed
// before it could.
std::string undo_by_hand(const DemoFlags& f, const pg::DemoTimeline& t) {
  const std::string where = f.target.flags();
  if (kills(t.fault)) return "mq cluster start " + t.target_node + where;
  if (t.fault == "pause") return "mq cluster resume " + t.target_node + where;
  return "mq cluster heal" + where;
}

// "resuming n1 with SIGCONT": the undo about to run.
std::string undo_doing(const pg::DemoTimeline& t) {
  if (kills(t.fault)) {
    return "starting " + t.target_node + " again (waits up to " + std::to_string(kSettleTimeoutMs / 1000) +
           " s for it to answer)";
  }
  if (t.fault == "pause") return "resuming " + t.target_node + " with SIGCONT";
  return "healing the partition";
}

// Every shard led, and no leader change for kStableMs: a node restarted
// just before takes its preferred shards back, which would blur the fault.
// Returns early (ok) when interrupted; the caller asks the latch.
pg::Outcome settle(const pg::ClusterState& state, pg::InterruptLatch& latch) {
  constexpr int64_t kStableMs = 1000;
  const auto start = Clock::now();
  ProgressClock progress(kProgressEveryMs);
  pg::ClusterObserver observer(kObserveTimeoutMs);
  std::vector<std::string> leaders;
  auto stable_since = Clock::now();
  while (true) {
    pg::ClusterView v = observer.observe(state);
    std::vector<std::string> now;
    uint32_t led = 0;
    for (const auto& s : v.shards) {
      now.push_back(s.leader);
      led += !s.leader.empty();
    }
    if (led < v.shards.size() || now != leaders) {
      leaders = now;
      stable_since = Clock::now();
    } else if (us_since(stable_since) >= kStableMs * 1000) {
      return {};
    }
    if (us_since(start) >= static_cast<int64_t>(kSettleTimeoutMs) * 1000) {
      return {pg::kClusterUnavailable, "the cluster did not settle within " + std::to_string(kSettleTimeoutMs / 1000) +
                                           " s: " + v.health_line()};
    }
    if (progress.due()) {
      std::fprintf(stderr,
                   "waiting for the cluster to settle (every shard led, no leader change for %.1f s): %u/%zu "
                   "shards led, leaders unchanged for %.1f s; %.0f s so far, at most %d s\n",
                   kStableMs / 1000.0, led, v.shards.size(), us_since(stable_since) / 1e6, us_since(start) / 1e6,
                   kSettleTimeoutMs / 1000);
    }
    if (!latch.sleep_for(std::chrono::milliseconds(kObserveIntervalMs))) return {};
  }
}

// Sleeps until `until_us` on the workload's clock, saying every few
// seconds how far the workload got; false when interrupted.
bool run_workload_until(pg::InterruptLatch& latch, Clock::time_point epoch, int64_t until_us,
                        int64_t duration_us, const pg::Workload& workload) {
  ProgressClock progress(kWorkloadProgressEveryMs);
  const auto deadline = epoch + std::chrono::microseconds(until_us);
  // Bounded: each pass sleeps up to a second towards the deadline.
  while (Clock::now() < deadline) {
    if (!latch.sleep_until(std::min(deadline, Clock::now() + std::chrono::seconds(1)))) return false;
    if (progress.due()) {
      std::fprintf(stderr, "%.2fs: %llu operations so far (run of %.1f s)\n", us_since(epoch) / 1e6,
                   static_cast<unsigned long long>(workload.completed()), duration_us / 1e6);
    }
  }
  return !latch.interrupted();
}

// Like pg::wait_all_led, but it says what it waits for and stops on a
// signal.
bool wait_led_before_read_back(const pg::ClusterState& state, pg::InterruptLatch& latch) {
  const auto start = Clock::now();
  ProgressClock progress(kProgressEveryMs);
  pg::ClusterObserver observer(kObserveTimeoutMs);
  while (!latch.interrupted()) {
    const pg::ClusterView v = observer.observe(state);
    uint32_t led = 0;
    for (const auto& s : v.shards) led += !s.leader.empty();
    if (led == v.shards.size()) return true;
    if (us_since(start) >= static_cast<int64_t>(kSettleTimeoutMs) * 1000) return false;
    if (progress.due()) {
      std::fprintf(stderr, "waiting for every shard to have a leader before reading back: %u/%zu led, %.0f s so far, at most %d s\n",
                   led, v.shards.size(), us_since(start) / 1e6, kSettleTimeoutMs / 1000);
    }
    latch.sleep_for(std::chrono::milliseconds(kObserveIntervalMs));
  }
  return false;
}

// One run: workload, fault, heal, report. *reported says whether the
// workload ran (and so whether *report means anything).
pg::Outcome run_trial(const DemoFlags& f, const std::string& dir, int trial, pg::InterruptLatch& latch,
                      pg::DemoReport* report, bool* reported) {
  *reported = false;
  pg::ClusterState state;
  if (auto o = pg::open_cluster(dir, &state); !o.ok()) return o;
  if (f.shard >= state.shard_count) {
    return {pg::kClusterUsage, "--shard must be below " + std::to_string(state.shard_count)};
  }
  if (auto o = settle(state, latch); !o.ok() || latch.interrupted()) return o;

  pg::WorkloadOptions wo;
  wo.endpoints = state.endpoints();
  wo.tls = state.client_tls();
  wo.token = state.client_token();
  wo.clients = f.clients;
  wo.timeout_ms = static_cast<int>(f.timeout.count());
  wo.shard_count = state.shard_count;
  wo.seed = f.seed + static_cast<uint64_t>(trial);
  wo.key_prefix = "demo" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  const auto epoch = Clock::now();
  const int64_t duration_us = f.duration.count() * 1000;
  pg::DemoTimeline tl;
  tl.fault = f.fault;
  tl.target_shard = f.shard;
  pg::Workload workload(wo, epoch);
  EventRecorder recorder(state, epoch);
  workload.start();
  // A third of the run before the fault, a third under it, a third after.
  bool going = run_workload_until(latch, epoch, duration_us / 3, duration_us, workload);
  pg::Outcome injected;
  bool attempted = false;
  if (going) {
    injected = pick_target(state, f, &tl.target_node);
    if (f.fault == "partition") {
      for (const auto& n : state.nodes) {
        if (n.id != tl.target_node) tl.cut_off_from.push_back(n.id);
      }
    }
    tl.fault_us = us_since(epoch);
    if (injected.ok()) {
      attempted = true;
      injected = inject(dir, tl);
    }
    std::fprintf(stderr, "%.2fs: injected %s: %s%s\n", tl.fault_us / 1e6, f.fault.c_str(),
                 tl.target_node.empty() ? "no target" : pg::describe_fault(tl).c_str(),
                 injected.ok() ? "" : (" FAILED: " + injected.message).c_str());
    if (!attempted) tl.fault_us = -1;
  }
  if (going && attempted) going = run_workload_until(latch, epoch, 2 * duration_us / 3, duration_us, workload);
  if (!going) {
    tl.interrupted_by = latch.signal();
    tl.interrupted_us = us_since(epoch);
    std::fprintf(stderr, "%.2fs: interrupted by %s%s\n", tl.interrupted_us / 1e6,
                 pg::InterruptLatch::signal_name(tl.interrupted_by),
                 attempted ? ": undoing the fault first; another Ctrl-C will not skip that" : "");
  }
  pg::Outcome healed;
  if (attempted) {
    // What a second signal says while the undo runs (it does not stop it).
    latch.set_undo_note("mq demo failover: stopping; still " + undo_doing(tl) +
                        ", which ends by itself; if this process is killed first, finish it by hand: " +
                        undo_by_hand(f, tl) + "\n");
    std::fprintf(stderr, "%.2fs: %s\n", us_since(epoch) / 1e6, undo_doing(tl).c_str());
    tl.heal_us = us_since(epoch);
    healed = undo(dir, tl);
    latch.set_undo_note("");
    std::fprintf(stderr, "%.2fs: healed: %s%s\n", us_since(epoch) / 1e6,
                 (f.fault == "partition" ? pg::describe_heal(tl) : tl.target_node + " " + pg::describe_heal(tl)).c_str(),
                 healed.ok() ? "" : (" FAILED: " + healed.message + "; run: " + undo_by_hand(f, tl)).c_str());
  }
  if (going) going = run_workload_until(latch, epoch, duration_us, duration_us, workload);
  if (!going && tl.interrupted_by == 0) {
    tl.interrupted_by = latch.signal();
    tl.interrupted_us = us_since(epoch);
    std::fprintf(stderr, "%.2fs: interrupted by %s\n", tl.interrupted_us / 1e6,
                 pg::InterruptLatch::signal_name(tl.interrupted_by));
  }
  workload.stop();
  tl.end_us = us_since(epoch);
  recorder.stop();
  bool read_back = false;
  if (f.check && going) {
    // The read-back asks the healed cluster; an interrupt skips it (the
    // report then says the writes were not checked).
    if (wait_led_before_read_back(state, latch)) {
      ProgressClock progress(kProgressEveryMs);
      read_back = workload.read_back(kReadBackTimeoutMs, [&](size_t done, size_t total) {
        if (progress.due()) std::fprintf(stderr, "reading every key back: %zu/%zu\n", done, total);
        return !latch.interrupted();
      });
    }
    if (latch.interrupted()) {
      tl.interrupted_by = latch.signal();
      tl.interrupted_us = us_since(epoch);
    }
  }
  if (!injected.ok()) return injected;
  const auto history = workload.history();
  std::fprintf(stderr, "checking %zu operations for linearizability...\n", history.size());
  const auto check_start = Clock::now();
  *report = pg::make_report(tl, history, state.shard_count, static_cast<uint64_t>(f.clients),
                            recorder.events(), read_back);
  *reported = true;
  std::fprintf(stderr, "checked in %.1f s\n", us_since(check_start) / 1e6);
  if (!healed.ok()) return healed;
  return {};
}

void add_failover_flags(CLI::App* fo, DemoFlags* f) {
  add_cluster_target_flags(*fo, f->target);
  fo->add_option("-o,--output", f->output, "plain, json or table (default: table)");
  fo->add_option("--fault", f->fault, "kill-leader (default), kill-follower, partition or pause")
      ->check(CLI::IsMember({"kill-leader", "kill-follower", "partition", "pause"}));
  add_duration_option(*fo, "--duration", &f->duration, "Workload time; the fault spans the middle third",
                      Millis(1000), Millis(600'000));
  fo->add_flag("--check", f->check, "Read every key back after healing: acknowledged writes lost count as a violation");
  fo->add_option("--clients", f->clients, "Concurrent clients (default 16)")->check(CLI::Range(1, 256));
  add_duration_option(*fo, "--timeout", &f->timeout, "Client deadline per operation", Millis(50), Millis(60'000));
  fo->add_option("--shard", f->shard, "The fault hits this shard's leader (or a follower of it) (default 0)");
  fo->add_option("--trials", f->trials, "Repeat the run; reports the median and p90 of the longest unavailability")
      ->check(CLI::Range(1, 100));
  fo->add_option("--seed", f->seed, "Workload seed (default 0)");
  fo->footer(R"(Examples:
  mq demo failover
  mq demo failover --fault partition --duration 9s --check
  mq demo failover --trials 10 -o json | jq .median_ms

Every time in the report counts from the start of the workload. A shard's
unavailability is the longest a write to it waited for any write to that
shard to succeed; it is counted where the shard lost its leader during the
fault, or where a write waited 1 s or more, and shown as "-" elsewhere.

Ctrl-C or SIGTERM undoes the fault (resume, heal, restart what was
killed) before anything else, prints the report of the run so far marked
interrupted, and exits 130 (SIGINT) or 143 (SIGTERM). A second Ctrl-C does
not skip the undo; it says what is being undone.

Exit codes: 0 the history is linearizable (and, with --check, no
acknowledged write was lost), 1 it is not, 2 the checker could not decide,
3 the cluster could not be reached or did not settle, 5 it could not start,
130/143 interrupted.)");
}

int run_failover(const DemoFlags& f) {
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
    ProgressClock progress(kProgressEveryMs);
    const auto start = Clock::now();
    auto say = [&](uint32_t led, uint32_t total) {
      if (progress.due()) {
        std::fprintf(stderr, "waiting for every shard to have a leader: %u/%u led; %.0f s so far, at most %d s\n", led,
                     total, us_since(start) / 1e6, up.wait_ms / 1000);
      }
    };
    pg::Outcome o = pg::cluster_up(up, say, &state, &result);
    if (!o.ok()) {
      std::fprintf(stderr, "mq demo failover: %s\n", o.message.c_str());
      return o.exit_code;
    }
    std::fprintf(stderr, "%s cluster %s (%zu nodes); %d client(s), fault %s, %s%s\n",
                 result.already_running ? "using" : "started", state.name.c_str(), state.nodes.size(), f.clients,
                 f.fault.c_str(), format_duration(f.duration).c_str(),
                 f.trials > 1 ? (", " + std::to_string(f.trials) + " trials").c_str() : "");
  }
  // From here on a signal undoes what the demo did instead of killing it.
  pg::InterruptLatch latch;
  std::vector<pg::DemoReport> reports;
  int exit_code = 0;
  for (int trial = 0; trial < f.trials && !latch.interrupted(); ++trial) {
    pg::DemoReport r;
    bool reported = false;
    pg::Outcome o = run_trial(f, dir, trial, latch, &r, &reported);
    if (!o.ok()) {
      std::fprintf(stderr, "mq demo failover: %s\n", o.message.c_str());
      return latch.interrupted() ? pg::InterruptLatch::exit_code_for(latch.signal()) : o.exit_code;
    }
    if (!reported) break;  // interrupted before the workload started
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
  const int signal = latch.signal();
  if (format == Format::kJson) {
    std::fputs(pg::render_demo_json(reports, signal).c_str(), stdout);
  } else if (reports.empty()) {
    std::fputs("interrupted before the workload started: nothing to report\n", stdout);
  } else {
    std::fputs(pg::render_summary_text(reports, signal).c_str(), stdout);
  }
  std::fflush(stdout);
  return signal != 0 ? pg::InterruptLatch::exit_code_for(signal) : exit_code;
}

int demo_failover(int argc, char** argv) {
  DemoFlags f;
  CLI::App app{
      "Start or reuse a local cluster, run a concurrent workload, inject a fault, heal it, and "
      "report per shard whether it lost its leader and how long its writes were unavailable, the "
      "leader changes, the outcomes, the throughput and a linearizability verdict.",
      "mq demo failover"};
  add_failover_flags(&app, &f);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_failover(f);
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
      {"rebalance", "Grow 3 -> 5 -> 3 nodes under load; report moves, throughput, linearizability",
       demo_rebalance},
  };
  return table;
}

int cmd_demo(int argc, char** argv) {
  return dispatch("mq demo", "demo", demo_commands(), print_demo_usage, argc, argv);
}

}  // namespace mq::cli
