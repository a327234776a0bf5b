// What `mq bench` runs: the validated form of its flags, shared by the
// driver, the report and the tests that drive a bench in-process.
#pragma once

#include "node/tls/tls_files.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mq::bench {

enum class BenchTarget { kMq, kEtcd };
enum class BenchWorkload { kSet, kGet, kMix };

struct BenchOptions {
  BenchTarget target = BenchTarget::kMq;
  std::vector<std::string> endpoints;  // host:port
  tls::TlsMaterial tls;                // the client flags' --cacert, --cert, --key
  std::string token;                   // --token
  BenchWorkload workload = BenchWorkload::kSet;
  double read_ratio = 0.9;             // share of gets in kMix
  uint32_t clients = 64;               // closed-loop clients (requests in flight)
  uint32_t connections = 4;            // gRPC connections per server address
  uint32_t threads = 0;                // polling threads; 0 = min(connections, cores)
  uint32_t value_bytes = 100;
  uint64_t keys = 100000;              // key space: key indices 0..keys-1
  uint32_t users = 1000;               // key index k belongs to user k % users
  double duration_s = 10;              // measured part
  double warmup_s = 2;                 // run but not measured, before duration_s
  uint32_t pipeline = 1;               // ops per Batch call; 1 = one unary RPC per op
  bool stale_reads = false;            // --consistency stale
  bool preload = false;                // write the key space before a get/mix run
  int timeout_ms = 5000;               // per request
  uint32_t shard_count = 16;           // for routing users to shard leaders (mq only)
};

// Largest values accepted by validation; they keep memory and run time
// bounded whatever the flags say.
constexpr uint32_t kBenchClientsMax = 10000;
constexpr uint32_t kBenchConnectionsMax = 256;
constexpr uint32_t kBenchPipelineMax = 10000;  // the server's Batch limit
constexpr uint64_t kBenchKeysMax = 100'000'000;
constexpr uint32_t kBenchValueBytesMax = 64u << 20;
constexpr double kBenchDurationSMax = 24 * 3600;

const char* target_name(BenchTarget t);
const char* workload_name(BenchWorkload w);

// "" when the options are usable, else the reason (a usage error). The
// endpoints are not looked at: the client flags resolve and check them.
std::string validate_bench_options(const BenchOptions& o);

}  // namespace mq::bench
