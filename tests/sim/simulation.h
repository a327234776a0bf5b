// One simulated run, a pure function of its seed: 3 or 5 Raft nodes in one
// process over a simulated network (drops, delays, duplicates, reordering,
// symmetric / one-way / bridge partitions), simulated disks (a crash loses
// whatever a node had not persisted through Ready, and may lose what it wrote
// without a sync; a crash may strike after a Ready's early messages left and
// before its write), a simulated clock, and
// clients writing and reading a KV map with timeouts and retries.
//
// A run has a safety phase under faults, then a liveness phase with every
// fault healed in which a leader must emerge and every client must complete
// fresh writes and reads within a bounded time. Cluster invariants are
// checked after every event, and the client history is checked for
// linearizability at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mq::sim {

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;
  int64_t safety_ms = 8'000;
  int64_t liveness_ms_max = 10'000;
  bool trace = false;  // keep a readable trace of every event
  // Print trace lines as they happen instead of keeping them: a broken
  // invariant inside the core aborts the process, and the trace up to that
  // point must already be out.
  bool stream_trace = false;
};

struct SimResult {
  bool ok = true;
  std::vector<std::string> violations;
  std::vector<std::string> trace;
  // Counters for the summary line.
  uint64_t ops_ok = 0;
  uint64_t ops_fail = 0;
  uint64_t ops_unknown = 0;
  uint64_t elections = 0;
  uint64_t snapshots_installed = 0;
  uint64_t conf_changes = 0;
  uint64_t transfers = 0;
  uint64_t crashes = 0;
  // Crashes between a Ready's early messages and its write.
  uint64_t crashes_before_write = 0;
  // Commit indexes written without a sync and lost in a crash.
  uint64_t commits_lost = 0;
  uint64_t messages = 0;
  uint64_t messages_before_persist = 0;
  int64_t liveness_ms = 0;
};

SimResult run_simulation(const SimOptions& options);

}  // namespace mq::sim
