// The engine of `mq bench`: a closed-loop load generator on gRPC completion
// queues.
//
// C client slots each keep exactly one request (one unary RPC, or one Batch
// of --pipeline ops) in flight and issue the next when it completes, so the
// offered load adapts to the server and latency is never hidden by a queue
// inside the client. The slots are split into groups, each with its own
// CompletionQueue and one polling thread; a completion costs the client one
// wake-up and no thread hand-off, which keeps the generator's own CPU per
// request well below a synchronous client's (the server under test shares
// the machine's cores with it).
//
// Statistics are per group behind a mutex the polling thread holds for a few
// instructions per completion; the caller's thread takes them over once a
// second, which gives both the progress line and the per-second timeline.
//
// Every loop is bounded by the run's duration: at the end no new request is
// issued and those in flight are cut off by their deadline, at most
// kBenchDrainMs after the end.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/bench_histogram.h"
#include "cli/bench_options.h"

namespace mq::cli {

constexpr int kBenchDrainMs = 1000;

// Why an operation failed. The first 17 are grpc::StatusCode values as the
// server (or the client's channel) returned them.
enum BenchErrorKind : int {
  kBenchErrorNoLeader = 17,  // NotLeader without a usable leader hint, or too many hops
  kBenchErrorKinds = 18,
};
const char* bench_error_name(int kind);  // "unavailable", "deadline_exceeded", "no_leader", ...

struct BenchInterval {
  double end_s = 0;     // seconds since the measured part began
  double length_s = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  uint64_t p50_us = 0;
  uint64_t p99_us = 0;
};

struct BenchResult {
  double elapsed_s = 0;   // length of the measured part, drain included
  uint64_t ops = 0;       // operations that succeeded (a get of a missing key included)
  uint64_t rpcs = 0;      // calls completed (a Batch counts once)
  uint64_t get_misses = 0;
  uint64_t leader_redirects = 0;  // requests sent again to the leader a NotLeader named
  std::array<uint64_t, kBenchErrorKinds> errors{};
  uint64_t errors_total() const;
  LatencyHistogram latency;  // per successful operation, microseconds
  std::vector<BenchInterval> timeline;
  uint32_t threads = 0;      // polling threads used
  std::vector<std::string> unreachable;  // endpoints that did not answer at start
};

// Called once a second with a one-line summary (no newline).
using BenchProgress = std::function<void(const std::string&)>;

enum class BenchRunStatus { kRan, kNoEndpoint };

// Runs the workload of `options` (already validated) and fills `result`.
// kNoEndpoint when not one endpoint accepted a connection at start.
BenchRunStatus run_bench(const BenchOptions& options, const BenchProgress& progress,
                         BenchResult* result);

// Writes every key of the key space once (sets, in batches of `batch_ops`
// for mq), stopping after time_limit_s at the latest; result as run_bench's.
BenchRunStatus run_preload(const BenchOptions& options, uint32_t batch_ops, double time_limit_s,
                           const BenchProgress& progress, BenchResult* result);

}  // namespace mq::cli
