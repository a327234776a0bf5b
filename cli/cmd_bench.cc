// mq bench: the built-in load generator (flags, preload, progress, report).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "bench/loadgen/driver.h"
#include "cli/bench_report.h"
#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/duration.h"

namespace mq::cli {

using namespace mq::bench;  // the load generator this command drives

namespace {

constexpr uint32_t kPreloadBatchOps = 100;
constexpr double kPreloadTimeLimitS = 120;

// Ctrl-C or SIGTERM ends the run early; what was measured until then is
// still reported. The handler only stores (a lock-free atomic and a
// sig_atomic_t are all a handler may touch); the run looks at the flag.
BenchStopFlag stop_requested{false};
volatile sig_atomic_t stop_signal = 0;

void on_stop_signal(int sig) {
  stop_signal = sig;
  stop_requested.store(true, std::memory_order_relaxed);
  // A second Ctrl-C, while the requests in flight are waited for, ends the
  // process at once.
  std::signal(sig, SIG_DFL);
}

// Installs the handlers for the life of the run and restores the previous
// ones after.
class StopOnSignals {
 public:
  StopOnSignals() {
    stop_requested.store(false);
    stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    // A shell starts a background job (`mq bench ... &`) with SIGINT
    // ignored, so that Ctrl-C meant for the foreground spares it: keep it so.
    if (old_int_.sa_handler == SIG_IGN) sigaction(SIGINT, &old_int_, nullptr);
  }
  ~StopOnSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// "" when --target and --workload name what the load generator runs.
std::string apply_target_and_workload(const std::string& target, const std::string& workload,
                                      BenchOptions* o) {
  if (target == "mq") {
    o->target = BenchTarget::kMq;
  } else if (target == "etcd") {
    o->target = BenchTarget::kEtcd;
  } else {
    return "--target must be mq or etcd, not '" + target + "'";
  }
  if (workload == "set") {
    o->workload = BenchWorkload::kSet;
  } else if (workload == "get") {
    o->workload = BenchWorkload::kGet;
  } else if (workload == "mix") {
    o->workload = BenchWorkload::kMix;
  } else {
    return "--workload must be set, get or mix, not '" + workload + "'";
  }
  return "";
}

// The shell's convention for a process ended by signal N (130 for SIGINT,
// 143 for SIGTERM), so a script can tell an interrupted run from a complete
// one although the report was printed.
int interrupted_exit_code() { return 128 + static_cast<int>(stop_signal); }

}  // namespace

int cmd_bench(int argc, char** argv) {
  ClientFlags flags;
  BenchOptions o;
  std::string target = "mq", workload = "set";
  Millis duration{10'000}, warmup{2000};
  CLI::App app{"Load-test a cluster (or an etcd cluster, for comparison) with a closed loop of "
               "concurrent clients, and report throughput and latency percentiles.",
               "mq bench"};
  add_client_flags(app, flags, true);
  app.add_option("--target", target, "mq (default) or etcd (v3 API: Put and Range)")
      ->each([&flags](const std::string& t) {
        // etcd has a default endpoint of its own, not the local mq cluster.
        if (t == "etcd") flags.local_cluster_default = false;
      });
  app.add_option("--workload", workload, "set (default), get, or mix (--read-ratio gets)");
  app.add_option("--read-ratio", o.read_ratio, "Share of gets in the mix workload (default 0.9)");
  app.add_option("--clients", o.clients, "Concurrent requests in flight (default 64)");
  app.add_option("--connections", o.connections, "gRPC connections per server (default 4)");
  app.add_option("--threads", o.threads, "Polling threads (default: min(connections, cores))");
  app.add_option("--value-bytes", o.value_bytes, "Size of each value written (default 100)");
  app.add_option("--keys", o.keys, "Key space: keys key0..keyN-1 (default 100000)");
  app.add_option("--users", o.users, "Users the keys are spread over (default 1000)");
  add_duration_option(app, "--duration", &duration, "Measured time", Millis(1),
                      Millis(static_cast<int64_t>(kBenchDurationSMax * 1000)));
  add_duration_option(app, "--warmup", &warmup, "Unmeasured run before it", Millis(0),
                      Millis(static_cast<int64_t>(kBenchDurationSMax * 1000)));
  app.add_option("--pipeline", o.pipeline,
                 "Operations per Batch call (default 1: one unary RPC per operation)");
  app.add_option("--shards", o.shard_count, "Shards of the cluster, for routing (default 16)");
  app.add_flag("--preload", o.preload,
               "Before a get or mix run, write every key once (at most 2 minutes)");
  app.footer(R"(Examples:
  mq bench --endpoints 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
  mq bench --workload get --preload --duration 30s
  mq bench --pipeline 16 -o json > set-pipelined.json
  mq bench --target etcd --endpoints 127.0.0.1:2379 --workload mix --read-ratio 0.5

Each client sends its next request when the previous one completes. A line
of progress goes to stderr every second; the report goes to stdout (-o json
adds a per-second timeline). Requests for a shard follow the leader hints
of the nodes. With --target etcd the key is "user/key" and the endpoints
default to 127.0.0.1:2379.

Every operation is counted once: ok, failed (certainly not done: refused,
or a read that failed) or unknown (a write that got no answer saying whether
it happened: timed out, connection lost, a server error). Requests in
flight at the end are waited for until their deadline (--timeout) and
counted; any still unanswered then is cancelled and reported as cut short.

Ctrl-C (SIGINT) or SIGTERM ends the run early: the requests in flight are
waited for as at a normal end, and the report of what was measured is
printed, marked interrupted ("interrupted": true in JSON). A second Ctrl-C
ends it at once.

Exit codes: 0 the run happened (failures are in the report), 2 bad
arguments, 3 no endpoint answered at start, 130 / 143 interrupted by
SIGINT / SIGTERM (after the report).)");
  // Runs once every flag is parsed, before the nodes are resolved: a bad
  // flag is reported as such (exit 2) even when no cluster runs.
  flags.usage_check = [&]() -> std::string {
    if (auto e = apply_target_and_workload(target, workload, &o); !e.empty()) return e;
    o.duration_s = static_cast<double>(duration.count()) / 1000.0;
    o.warmup_s = static_cast<double>(warmup.count()) / 1000.0;
    o.timeout_ms = static_cast<int>(flags.timeout.count());
    return validate_bench_options(o);
  };
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  if (o.target == BenchTarget::kEtcd && flags.endpoints.empty()) flags.endpoints = "127.0.0.1:2379";
  ResolvedClient resolved;
  if (auto e = resolve_client_flags(flags, &resolved); !e.empty()) {
    std::fprintf(stderr, "mq bench: %s\nRun 'mq bench --help' for usage.\n", e.c_str());
    return 2;
  }
  o.endpoints = resolved.options.endpoints;
  o.tls = resolved.options.tls;
  o.token = resolved.options.token;
  o.stale_reads = resolved.consistency == Consistency::kStale;

  const bool tty = isatty(STDERR_FILENO);
  // On a terminal the progress line rewrites itself; in a log, one line a second.
  auto progress = [tty](const std::string& line) {
    std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
    std::fflush(stderr);
  };
  auto end_progress = [tty] {
    if (tty) std::fputc('\n', stderr);
  };

  StopOnSignals stop_on_signals;
  BenchPreloadSummary preload;
  if (o.preload && o.workload != BenchWorkload::kSet) {
    std::fprintf(stderr, "mq bench: preloading %llu keys\n",
                 static_cast<unsigned long long>(o.keys));
    BenchResult r;
    if (run_preload(o, kPreloadBatchOps, kPreloadTimeLimitS, progress, &r, &stop_requested) ==
        BenchRunStatus::kNoEndpoint) {
      end_progress();
      std::fprintf(stderr, "mq bench: no endpoint answered (%s)\n", flags.endpoints.c_str());
      return 3;
    }
    end_progress();
    preload = {true, r.ops, r.failed_total(), r.unknown_total(), r.elapsed_s};
    std::fprintf(stderr, "mq bench: preloaded %llu keys in %.2f s (%llu failed, %llu unknown)\n",
                 static_cast<unsigned long long>(r.ops), r.elapsed_s,
                 static_cast<unsigned long long>(r.failed_total()),
                 static_cast<unsigned long long>(r.unknown_total()));
    if (r.interrupted) {
      std::fprintf(stderr, "mq bench: interrupted during the preload; nothing measured\n");
      return interrupted_exit_code();
    }
  }
  BenchResult result;
  if (run_bench(o, progress, &result, &stop_requested) == BenchRunStatus::kNoEndpoint) {
    std::fprintf(stderr, "mq bench: no endpoint answered (%s)\n", flags.endpoints.c_str());
    return 3;
  }
  end_progress();
  if (result.interrupted) {
    std::fprintf(stderr, "mq bench: interrupted by %s after %.2f s; reporting what was measured\n",
                 stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", result.elapsed_s);
  }
  for (const auto& e : result.unreachable) {
    std::fprintf(stderr, "mq bench: %s did not answer at start; not used\n", e.c_str());
  }
  const std::string report = render_bench_report(resolved.format, o, result, preload);
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  return result.interrupted ? interrupted_exit_code() : 0;
}

}  // namespace mq::cli
