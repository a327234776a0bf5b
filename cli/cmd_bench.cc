// mq bench: the built-in load generator (flags, preload, progress, report).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <optional>

#include "bench/loadgen/driver.h"
#include "cli/bench_report.h"
#include "cli/client_flags.h"
#include "cli/commands.h"

namespace mq::cli {

using namespace mq::bench;  // the load generator this command drives

namespace {

constexpr uint32_t kPreloadBatchOps = 100;
constexpr double kPreloadTimeLimitS = 120;

// "10", "10s", "1.5s", "500ms", "2m" -> seconds.
std::optional<double> parse_duration_s(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || rest == text.data()) return std::nullopt;
  const std::string unit(rest, end);
  if (unit.empty() || unit == "s") return value;
  if (unit == "ms") return value / 1000.0;
  if (unit == "m") return value * 60.0;
  if (unit == "h") return value * 3600.0;
  return std::nullopt;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  ClientFlags flags;
  BenchOptions o;
  std::string target = "mq", workload = "set", duration = "10", warmup = "2";
  CLI::App app{"Load-test a cluster (or an etcd cluster, for comparison) with a closed loop of "
               "concurrent clients, and report throughput and latency percentiles.",
               "mq bench"};
  add_client_flags(app, flags, true);
  app.add_option("--target", target, "mq (default) or etcd (v3 API: Put and Range)");
  app.add_option("--workload", workload, "set (default), get, or mix (--read-ratio gets)");
  app.add_option("--read-ratio", o.read_ratio, "Share of gets in the mix workload (default 0.9)");
  app.add_option("--clients", o.clients, "Concurrent requests in flight (default 64)");
  app.add_option("--connections", o.connections, "gRPC connections per server (default 4)");
  app.add_option("--threads", o.threads,
                 "Polling threads (default: min(connections, cores))");
  app.add_option("--value-bytes", o.value_bytes, "Size of each value written (default 100)");
  app.add_option("--keys", o.keys, "Key space: keys key0..keyN-1 (default 100000)");
  app.add_option("--users", o.users, "Users the keys are spread over (default 1000)");
  app.add_option("--duration", duration, "Measured time: 10, 10s, 1500ms, 2m (default 10s)");
  app.add_option("--warmup", warmup, "Unmeasured run before it (default 2s)");
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

Exit codes: 0 the run happened (failures are in the report), 2 bad
arguments, 3 no endpoint answered at start.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;

  auto usage = [](const std::string& message) {
    std::fprintf(stderr, "mq bench: %s\nRun 'mq bench --help' for usage.\n", message.c_str());
    return 2;
  };
  if (target == "mq") {
    o.target = BenchTarget::kMq;
  } else if (target == "etcd") {
    o.target = BenchTarget::kEtcd;
    if (flags.endpoints.empty()) flags.endpoints = "127.0.0.1:2379";
  } else {
    return usage("--target must be mq or etcd, not '" + target + "'");
  }
  if (workload == "set") {
    o.workload = BenchWorkload::kSet;
  } else if (workload == "get") {
    o.workload = BenchWorkload::kGet;
  } else if (workload == "mix") {
    o.workload = BenchWorkload::kMix;
  } else {
    return usage("--workload must be set, get or mix, not '" + workload + "'");
  }
  const auto duration_s = parse_duration_s(duration);
  if (!duration_s) return usage("--duration: '" + duration + "' is not a duration like 10s");
  const auto warmup_s = parse_duration_s(warmup);
  if (!warmup_s) return usage("--warmup: '" + warmup + "' is not a duration like 2s");
  o.duration_s = *duration_s;
  o.warmup_s = *warmup_s;
  ResolvedClient resolved;
  if (auto e = resolve_client_flags(flags, &resolved); !e.empty()) return usage(e);
  o.endpoints = resolved.options.endpoints;
  o.timeout_ms = resolved.options.timeout_ms;
  o.stale_reads = resolved.consistency == Consistency::kStale;
  if (auto e = validate_bench_options(o); !e.empty()) return usage(e);

  const bool tty = isatty(STDERR_FILENO);
  // On a terminal the progress line rewrites itself; in a log, one line a second.
  auto progress = [tty](const std::string& line) {
    std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
    std::fflush(stderr);
  };
  auto end_progress = [tty] {
    if (tty) std::fputc('\n', stderr);
  };

  BenchPreloadSummary preload;
  if (o.preload && o.workload != BenchWorkload::kSet) {
    std::fprintf(stderr, "mq bench: preloading %llu keys\n",
                 static_cast<unsigned long long>(o.keys));
    BenchResult r;
    if (run_preload(o, kPreloadBatchOps, kPreloadTimeLimitS, progress, &r) ==
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
  }
  BenchResult result;
  if (run_bench(o, progress, &result) == BenchRunStatus::kNoEndpoint) {
    std::fprintf(stderr, "mq bench: no endpoint answered (%s)\n",
                 flags.endpoints.empty() ? "127.0.0.1:7001" : flags.endpoints.c_str());
    return 3;
  }
  end_progress();
  for (const auto& e : result.unreachable) {
    std::fprintf(stderr, "mq bench: %s did not answer at start; not used\n", e.c_str());
  }
  const std::string report = render_bench_report(resolved.format, o, result, preload);
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace mq::cli
