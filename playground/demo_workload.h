// The failover demo's workload: N threads, each with its own Client, issue
// sets and linearizable gets against a fixed set of keys that covers every
// shard, and record each operation with its invoke and completion times
// (microseconds on one steady clock) and outcome, for the report and the
// linearizability check.
//
// Outcomes: ok; failed only when the client knows the operation did not
// happen (refused, no leader, cannot reach the cluster before sending);
// unknown when it may have happened (a write that timed out or lost its
// connection after sending). Values are unique per write, so a read names
// the write it saw.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "node/tls/tls_files.h"

#include "playground/lincheck.h"

namespace mq::playground {

struct WorkloadOptions {
  std::vector<std::string> endpoints;
  tls::TlsMaterial tls;  // the cluster's client TLS, if it runs with it
  std::string token;     // the cluster's admin token, if it runs with --auth
  int clients = 16;
  int timeout_ms = 2000;     // client deadline per operation
  uint32_t shard_count = 16;
  int users_per_shard = 2;
  int keys_per_user = 2;
  int write_percent = 75;    // the rest are linearizable gets
  uint64_t seed = 1;
  // Prefixed to every key: each run starts from keys nobody wrote, which
  // the checker's model (every key initially absent) requires.
  std::string key_prefix = "demo";
};

struct RecordedOp {
  lincheck::Operation op;  // key is "user/key"
  uint32_t shard = 0;
  std::string error;       // the client's message when not ok
};

// The demo's user ids: users_per_shard per shard, found by hashing.
std::vector<std::string> users_covering_shards(uint32_t shard_count, int users_per_shard);

class Workload {
 public:
  using Clock = std::chrono::steady_clock;
  Workload(WorkloadOptions options, Clock::time_point epoch);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void start();
  // Asks the threads to finish their current operation and joins them.
  void stop();

  // Reads every key once more (linearizable, retried within timeout_ms) and
  // records the reads as one more client: after the faults are healed this
  // tells whether acknowledged writes survived. go_on, when given, is asked
  // before each key with the keys read so far and in all; false stops the
  // read-back (returns false then).
  bool read_back(int timeout_ms, const std::function<bool(size_t done, size_t total)>& go_on = {});

  // Call after stop(): every operation, in no particular order.
  std::vector<RecordedOp> history() const;
  uint64_t completed() const { return completed_.load(); }

 private:
  struct Thread;
  void run(Thread* t);
  int64_t now_us() const;

  WorkloadOptions options_;
  Clock::time_point epoch_;
  std::vector<std::string> users_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> completed_{0};
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<RecordedOp> read_back_ops_;
};

}  // namespace mq::playground
