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
// Each operation ends ok, failed or unknown. A write whose answer does not
// prove it did nothing (cli/request_outcome.h: a timeout, a lost
// connection, a server error) is unknown: it may have been applied. A read
// that fails is failed. At the end no new request is issued and those in
// flight are waited for, each until its own deadline, and counted in their
// class; a request still unanswered kBenchCutOffGraceMs after the last of
// those deadlines is cancelled and counted as cut short (unknown for a
// write, failed for a read), so every loop is bounded by the run's duration
// plus one request timeout.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/options.h"

namespace mq::bench {

// gRPC reports a passed deadline a little after it passes: the cut-off
// waits this long beyond the last deadline, so a request that simply timed
// out is counted as timed out, not as cut short.
constexpr int kBenchCutOffGraceMs = 500;

// Why an operation did not succeed. The first 17 are grpc::StatusCode values
// as the server (or the client's channel) returned them.
enum BenchErrorKind : int {
  kBenchErrorNoLeader = 17,  // NotLeader without a usable leader hint, or too many hops
  kBenchErrorCutShort = 18,  // still unanswered after its deadline when the run ended
  kBenchErrorKinds = 19,
};
const char* bench_error_name(int kind);  // "unavailable", "deadline_exceeded", "no_leader", ...

using BenchErrorCounts = std::array<uint64_t, kBenchErrorKinds>;  // operations per kind
uint64_t total_of(const BenchErrorCounts& counts);

struct BenchInterval {
  double end_s = 0;     // seconds since the measured part began
  double length_s = 0;
  uint64_t ops = 0;     // ok
  uint64_t failed = 0;
  uint64_t unknown = 0;
  uint64_t p50_us = 0;
  uint64_t p99_us = 0;
};

struct BenchResult {
  double elapsed_s = 0;   // length of the measured part, drain included
  uint64_t ops = 0;       // operations that succeeded (a get of a missing key included)
  uint64_t rpcs = 0;      // calls completed (a Batch counts once)
  uint64_t get_misses = 0;
  uint64_t leader_redirects = 0;  // requests sent again to the leader a NotLeader named
  // Operations that certainly did not happen: refused writes, failed reads.
  BenchErrorCounts failed{};
  // Writes that may or may not have happened.
  BenchErrorCounts unknown{};
  uint64_t failed_total() const { return total_of(failed); }
  uint64_t unknown_total() const { return total_of(unknown); }
  uint64_t errors_total() const { return failed_total() + unknown_total(); }
  // Operations still unanswered at the cut-off (included in failed/unknown).
  uint64_t cut_short() const { return failed[kBenchErrorCutShort] + unknown[kBenchErrorCutShort]; }
  LatencyHistogram latency;  // per successful operation, microseconds
  std::vector<BenchInterval> timeline;
  uint32_t threads = 0;      // polling threads used
  std::vector<std::string> unreachable;  // endpoints that did not answer at start
  // Ended early by the caller's stop flag (a signal): the numbers cover the
  // time measured until then, or the warm-up when it was not over yet.
  bool interrupted = false;
};

// Called once a second with a one-line summary (no newline).
using BenchProgress = std::function<void(const std::string&)>;

enum class BenchRunStatus { kRan, kNoEndpoint };

// Set (from a signal handler, say) to end a run early: it is looked at
// every kBenchStopPollMs; requests in flight are then waited for as at a
// normal end.
using BenchStopFlag = std::atomic<bool>;
constexpr int kBenchStopPollMs = 100;

// Runs the workload of `options` (already validated) and fills `result`.
// kNoEndpoint when not one endpoint accepted a connection at start.
BenchRunStatus run_bench(const BenchOptions& options, const BenchProgress& progress,
                         BenchResult* result, const BenchStopFlag* stop = nullptr);

// Writes every key of the key space once (sets, in batches of `batch_ops`
// for mq), stopping after time_limit_s at the latest; result as run_bench's.
BenchRunStatus run_preload(const BenchOptions& options, uint32_t batch_ops, double time_limit_s,
                           const BenchProgress& progress, BenchResult* result,
                           const BenchStopFlag* stop = nullptr);

}  // namespace mq::bench
