// The node-level simulator: the real node host (node/server/node_host.h),
// the code `mq node` runs, on 3 or 5 simulated nodes in one process. A run
// is a pure function of its options; a failing seed replays exactly.
//
// What is simulated:
//   clocks   each node's clock runs at its own rate (within 3% of real
//            time, inside the 20% the read lease allows) from its own
//            origin; an iteration costs the time its disk spends syncing;
//   disks    MemoryFileSystem per node: a crash forgets whatever was not
//            synced; syncs take time, are slow for a while, fail (the node
//            halts), or lose power half way (the node crashes there);
//   network  per-message delays, drops, duplicates and reordering;
//            symmetric, one-way and isolating partitions;
//   nodes    crash and restart, sometimes with another election timeout,
//            sometimes with an empty data dir (which must be refused);
//   clients  writes, linearizable reads (ReadIndex rounds and lease reads
//            served between loop iterations, as gRPC threads do) and stale
//            reads, with deadlines, following NotLeader redirects;
//   members  an operator adds spare nodes (which join), removes members and
//            replaces them, through the metadata group's leader, while the
//            leaders move replicas to match (and faults go on).
//
// A run has a safety phase under faults, then a liveness phase with every
// fault healed in which every client must complete a write and a read, and
// a final read of every key. Checked: at most one leader per shard and term,
// every history linearizable (acknowledged writes are durable: the final
// reads must see them), stale reads return written values, replicas that
// applied the same index hold the same state, and (with membership
// changes) the cluster then settles on its newest map: removed members
// stop, every shard's replicas are the ones placed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "node/server/node_host.h"

namespace mq::nodesim {

struct NodeSimOptions {
  uint64_t seed = 1;
  int nodes = 3;
  uint32_t shards = 3;
  int64_t safety_ms = 6'000;
  int64_t liveness_ms_max = 15'000;
  // With membership changes: after the final reads, the cluster must
  // settle on its newest map within this long.
  int64_t convergence_ms_max = 30'000;
  bool trace = false;
  bool stream_trace = false;  // print trace lines as they happen
  bool membership = true;     // operators change the members during the run
  server::HostMutations mutations;
};

struct NodeSimResult {
  bool ok = true;
  std::vector<std::string> violations;
  std::vector<std::string> trace;
  uint64_t ops_ok = 0;
  uint64_t ops_fail = 0;
  uint64_t ops_unknown = 0;
  uint64_t lease_reads = 0;
  uint64_t crashes = 0;
  uint64_t wipes_refused = 0;
  uint64_t memory_refusals = 0;  // writes refused because a replica was over --max-memory
  uint64_t member_changes = 0;   // membership changes that applied
  uint64_t joins = 0;            // spare nodes that joined
  uint64_t convergence_unchecked = 0;  // runs where a wiped member could never settle
  uint64_t retimed_restarts = 0;
  uint64_t messages = 0;
  int64_t liveness_ms = 0;
};

NodeSimResult run_node_simulation(const NodeSimOptions& options);

}  // namespace mq::nodesim
