#include "cli/bench_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace mq::cli {

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

std::string errors_text(const BenchResult& r) {
  std::string out = std::to_string(r.errors_total());
  std::string kinds;
  for (int k = 1; k < kBenchErrorKinds; ++k) {
    if (r.errors[k] == 0) continue;
    kinds += (kinds.empty() ? "" : ", ") + std::string(bench_error_name(k)) + " " +
             std::to_string(r.errors[k]);
  }
  return kinds.empty() ? out : out + " (" + kinds + ")";
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
  j["ops"] = r.ops;
  j["ops_per_s"] = per_second(r.ops, r.elapsed_s);
  j["rpcs"] = r.rpcs;
  j["errors"] = r.errors_total();
  json kinds = json::object();
  for (int k = 1; k < kBenchErrorKinds; ++k) {
    if (r.errors[k] > 0) kinds[bench_error_name(k)] = r.errors[k];
  }
  j["errors_by_kind"] = std::move(kinds);
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
                        {"errors", t.errors},
                        {"p50_ms", ms(t.p50_us)},
                        {"p99_ms", ms(t.p99_us)}});
  }
  j["timeline"] = std::move(timeline);
  if (!r.unreachable.empty()) j["unreachable"] = r.unreachable;
  if (preload.ran) {
    j["preload"] = {{"keys", preload.keys},
                    {"errors", preload.errors},
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
    return render_table({"TARGET", "WORKLOAD", "OPS", "OPS/S", "ERRORS", "P50 MS", "P90 MS",
                         "P99 MS", "P99.9 MS", "MAX MS"},
                        {{target_name(o.target),
                          std::string(workload_name(o.workload)) +
                              (o.pipeline > 1 ? " x" + std::to_string(o.pipeline) : ""),
                          std::to_string(r.ops), ops_per_s, errors_text(r), p50, p90, p99, p999,
                          max}});
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
                        " s, " + std::to_string(preload.errors) + " errors");
  }
  line("duration", fixed(r.elapsed_s, 2) + " s after " + fixed(o.warmup_s, 1) + " s warm-up");
  line("ops", std::to_string(r.ops) + " (" + std::to_string(r.rpcs) + " calls, " +
                  std::to_string(r.get_misses) + " gets of missing keys, " +
                  std::to_string(r.leader_redirects) + " leader redirects)");
  line("ops/s", ops_per_s);
  line("errors", errors_text(r));
  line("latency ms", "p50 " + p50 + "  p90 " + p90 + "  p99 " + p99 + "  p99.9 " + p999 +
                         "  max " + max);
  if (!r.unreachable.empty()) line("unreachable", join(r.unreachable));
  return out;
}

}  // namespace mq::cli
