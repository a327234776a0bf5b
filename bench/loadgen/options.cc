#include "bench/loadgen/options.h"

namespace mq::bench {

const char* target_name(BenchTarget t) { return t == BenchTarget::kEtcd ? "etcd" : "mq"; }

const char* workload_name(BenchWorkload w) {
  switch (w) {
    case BenchWorkload::kSet: return "set";
    case BenchWorkload::kGet: return "get";
    case BenchWorkload::kMix: return "mix";
  }
  return "set";
}

std::string validate_bench_options(const BenchOptions& o) {
  auto range = [](const char* flag, uint64_t v, uint64_t lo, uint64_t hi) -> std::string {
    if (v >= lo && v <= hi) return "";
    return std::string(flag) + " must be between " + std::to_string(lo) + " and " +
           std::to_string(hi) + ", not " + std::to_string(v);
  };
  if (auto e = range("--clients", o.clients, 1, kBenchClientsMax); !e.empty()) return e;
  if (auto e = range("--connections", o.connections, 1, kBenchConnectionsMax); !e.empty()) return e;
  if (auto e = range("--threads", o.threads, 0, kBenchConnectionsMax); !e.empty()) return e;
  if (auto e = range("--value-bytes", o.value_bytes, 0, kBenchValueBytesMax); !e.empty()) return e;
  if (auto e = range("--keys", o.keys, 1, kBenchKeysMax); !e.empty()) return e;
  // Every user must own at least one key, or a batch could not be filled
  // from its shard.
  if (auto e = range("--users", o.users, 1, o.keys); !e.empty()) return e + " (at most --keys)";
  if (auto e = range("--pipeline", o.pipeline, 1, kBenchPipelineMax); !e.empty()) return e;
  if (auto e = range("--shards", o.shard_count, 1, 4096); !e.empty()) return e;
  if (!(o.duration_s > 0 && o.duration_s <= kBenchDurationSMax)) {
    return "--duration must be more than 0 and at most 24h";
  }
  if (!(o.warmup_s >= 0 && o.warmup_s <= kBenchDurationSMax)) {
    return "--warmup must be at least 0 and at most 24h";
  }
  if (!(o.read_ratio >= 0 && o.read_ratio <= 1)) return "--read-ratio must be between 0 and 1";
  if (o.timeout_ms < 1) return "--timeout must be at least 1 ms";
  if (o.target == BenchTarget::kEtcd && o.pipeline > 1) {
    return "--pipeline uses mq's Batch call; with --target etcd it must be 1";
  }
  return "";
}

}  // namespace mq::bench
