#include "cli/bench_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace mq::cli {

using namespace mq::bench;  // the load generator this command drives

namespace {

using nlohmann::json;

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

// Milliseconds with enough digits for sub-millisecond latencies.
std::string ms_text(uint64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, us < 10000 ? "%.3f" : "%.1f", ms(us));
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double per_second(uint64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; }

// "12 (unavailable 10, no_leader 2)".
std::string counts_text(const BenchErrorCounts& counts) {
  std::string out = std::to_string(total_of(counts));
  std::string kinds;
  for (int k = 1; k < kBenchErrorKinds; ++k) {
    if (counts[k] == 0) continue;
    kinds += (kinds.empty() ? "" : ", ") + std::string(bench_error_name(k)) + " " +
             std::to_string(counts[k]);
  }
  return kinds.empty() ? out : out + " (" + kinds + ")";
}

json counts_by_kind(const BenchErrorCounts& counts) {
  json kinds = json::object();
  for (int k = 1; k < kBenchErrorKinds; ++k) {
    if (counts[k] > 0) kinds[bench_error_name(k)] = counts[k];
  }
  return kinds;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

json to_json(const BenchOptions& o, const BenchResult& r, const BenchPreloadSummary& preload) {
  json j;
  j["target"] = target_name(o.target);
  j["endpoints"] = o.endpoints;
  j["workload"] = workload_name(o.workload);
  if (o.workload == BenchWorkload::kMix) j["read_ratio"] = o.read_ratio;
  j["consistency"] = o.stale_reads ? "stale" : "linearizable";
  j["clients"] = o.clients;
  j["connections"] = o.connections;
  j["threads"] = r.threads;
  j["value_bytes"] = o.value_bytes;
  j["keys"] = o.keys;
  j["users"] = o.users;
  j["pipeline"] = o.pipeline;
  j["warmup_s"] = o.warmup_s;
  j["duration_s"] = r.elapsed_s;
  // Stopped by a signal: duration_s and every count cover what ran until
  // then.
  j["interrupted"] = r.interrupted;
  j["ops"] = r.ops;
  j["ops_per_s"] = per_second(r.ops, r.elapsed_s);
  j["rpcs"] = r.rpcs;
  // Every operation is exactly one of ok, failed (certainly not done) and
  // unknown (a write that may or may not have happened).
  j["ok"] = r.ops;
  j["failed"] = r.failed_total();
  j["failed_by_kind"] = counts_by_kind(r.failed);
  j["unknown"] = r.unknown_total();
  j["unknown_by_kind"] = counts_by_kind(r.unknown);
  j["cut_short"] = r.cut_short();
  // failed + unknown, for scripts that only ask whether anything went wrong.
  BenchErrorCounts errors = r.failed;
  for (int k = 0; k < kBenchErrorKinds; ++k) errors[k] += r.unknown[k];
  j["errors"] = r.errors_total();
  j["errors_by_kind"] = counts_by_kind(errors);
  j["get_misses"] = r.get_misses;
  j["leader_redirects"] = r.leader_redirects;
  j["latency_ms"] = {{"p50", ms(r.latency.percentile_us(0.5))},
                     {"p90", ms(r.latency.percentile_us(0.9))},
                     {"p99", ms(r.latency.percentile_us(0.99))},
                     {"p99_9", ms(r.latency.percentile_us(0.999))},
                     {"max", ms(r.latency.max_us())},
                     {"mean", r.latency.mean_us() / 1000.0}};
  json timeline = json::array();
  for (const auto& t : r.timeline) {
    timeline.push_back({{"t_s", t.end_s},
                        {"ops", t.ops},
                        {"ops_per_s", per_second(t.ops, t.length_s)},
                        {"failed", t.failed},
                        {"unknown", t.unknown},
                        {"p50_ms", ms(t.p50_us)},
                        {"p99_ms", ms(t.p99_us)}});
  }
  j["timeline"] = std::move(timeline);
  if (!r.unreachable.empty()) j["unreachable"] = r.unreachable;
  if (preload.ran) {
    j["preload"] = {{"keys", preload.keys},
                    {"failed", preload.failed},
                    {"unknown", preload.unknown},
                    {"errors", preload.failed + preload.unknown},
                    {"duration_s", preload.elapsed_s}};
  }
  return j;
}

}  // namespace

std::string render_bench_report(Format f, const BenchOptions& o, const BenchResult& r,
                                const BenchPreloadSummary& preload) {
  if (f == Format::kJson) return to_json(o, r, preload).dump() + "\n";
  const std::string p50 = ms_text(r.latency.percentile_us(0.5));
  const std::string p90 = ms_text(r.latency.percentile_us(0.9));
  const std::string p99 = ms_text(r.latency.percentile_us(0.99));
  const std::string p999 = ms_text(r.latency.percentile_us(0.999));
  const std::string max = ms_text(r.latency.max_us());
  const std::string ops_per_s = fixed(per_second(r.ops, r.elapsed_s), 0);
  if (f == Format::kTable) {
    return render_table({"TARGET", "WORKLOAD", "OK", "OPS/S", "FAILED", "UNKNOWN", "P50 MS",
                         "P90 MS", "P99 MS", "P99.9 MS", "MAX MS"},
                        {{target_name(o.target),
                          std::string(workload_name(o.workload)) +
                              (o.pipeline > 1 ? " x" + std::to_string(o.pipeline) : ""),
                          std::to_string(r.ops), ops_per_s, counts_text(r.failed),
                          counts_text(r.unknown), p50, p90, p99, p999, max}});
  }
  std::string out;
  auto line = [&](const char* key, const std::string& value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%-12s", key);
    out += buf + value + "\n";
  };
  line("target", std::string(target_name(o.target)) + " " + join(o.endpoints));
  std::string workload = workload_name(o.workload);
  if (o.workload == BenchWorkload::kMix) workload += " (read ratio " + fixed(o.read_ratio, 2) + ")";
  if (o.workload != BenchWorkload::kSet) workload += o.stale_reads ? ", stale" : ", linearizable";
  line("workload", workload + ", " + std::to_string(o.clients) + " clients, " +
                       std::to_string(o.connections) + " connections, " +
                       std::to_string(o.value_bytes) + "-byte values, " + std::to_string(o.keys) +
                       " keys, pipeline " + std::to_string(o.pipeline));
  if (preload.ran) {
    line("preload", std::to_string(preload.keys) + " keys in " + fixed(preload.elapsed_s, 2) +
                        " s, " + std::to_string(preload.failed) + " failed, " +
                        std::to_string(preload.unknown) + " unknown");
  }
  line("duration", fixed(r.elapsed_s, 2) + " s after " + fixed(o.warmup_s, 1) + " s warm-up" +
                       (r.interrupted ? " (interrupted: the numbers cover what ran until then)" : ""));
  line("ok", std::to_string(r.ops) + " operations (" + std::to_string(r.rpcs) + " calls, " +
                 std::to_string(r.get_misses) + " gets of missing keys, " +
                 std::to_string(r.leader_redirects) + " leader redirects)");
  line("ops/s", ops_per_s);
  line("failed", counts_text(r.failed) + ": did not happen (refused writes, failed reads)");
  line("unknown", counts_text(r.unknown) + ": writes that may or may not have happened");
  line("cut short", std::to_string(r.cut_short()) +
                        " still unanswered after their deadline at the end (counted above)");
  line("latency ms", "p50 " + p50 + "  p90 " + p90 + "  p99 " + p99 + "  p99.9 " + p999 +
                         "  max " + max);
  if (!r.unreachable.empty()) line("unreachable", join(r.unreachable));
  return out;
}

}  // namespace mq::cli
