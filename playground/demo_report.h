// The failover demo's report, computed from the recorded history and the
// events seen while it ran: the write-unavailability window of each shard
// (the longest gap between two successful writes to it that overlaps the
// fault), the leader changes with their terms, operation counts, a
// per-second throughput sparkline, acknowledged writes lost, and the
// linearizability verdict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "playground/demo_workload.h"
#include "playground/lincheck.h"
#include "playground/watch_view.h"

namespace mq::playground {

struct DemoTimeline {
  std::string fault;        // kill-leader, kill-follower, partition, pause
  std::string target_node;  // the node the fault hit
  uint32_t target_shard = 0;
  int64_t fault_us = 0, heal_us = 0, end_us = 0;  // on the workload's clock
};

struct ShardWindow {
  uint32_t shard = 0;
  int64_t window_ms = 0;   // longest gap between successful writes around the fault
  int64_t gap_start_ms = 0, gap_end_ms = 0;  // since the fault (may be negative)
};

struct OpCounts {
  uint64_t ok = 0, failed = 0, unknown = 0;
};

struct DemoReport {
  DemoTimeline timeline;
  std::vector<ShardWindow> windows;  // every shard, by shard id
  int64_t max_window_ms = 0;
  std::vector<ClusterEvent> leader_changes;
  OpCounts writes, reads;
  std::vector<uint64_t> ok_per_second;  // successful operations, second by second
  std::string sparkline;
  uint64_t lost_writes = 0;             // acknowledged writes the read-back proved lost
  std::vector<std::string> lost_examples;
  lincheck::Result verdict{lincheck::Result::kUnknown, ""};
};

// Longest gap between consecutive successful writes (by completion time)
// of each shard that ends after fault_us; writes before the workload's
// first are not gaps. Shards with fewer than two successful writes report
// the whole span since the fault.
std::vector<ShardWindow> unavailability_windows(const std::vector<RecordedOp>& history,
                                                uint32_t shard_count, int64_t fault_us,
                                                int64_t end_us);

std::vector<uint64_t> ok_per_second(const std::vector<RecordedOp>& history, int64_t end_us);
// One block character per value, scaled to the largest: ▁▂▃▄▅▆▇█.
std::string sparkline(const std::vector<uint64_t>& values);

// An acknowledged write is lost when the final read of its key (client
// reader) shows absence, or a value whose write completed before the lost
// write was invoked. Each hit is a real violation; the checker finds the
// rest.
uint64_t count_lost_writes(const std::vector<RecordedOp>& history, uint64_t reader,
                           std::vector<std::string>* examples);

DemoReport make_report(const DemoTimeline& timeline, const std::vector<RecordedOp>& history,
                       uint32_t shard_count, uint64_t reader,
                       const std::vector<ClusterEvent>& events, bool check);

std::string render_report_text(const DemoReport& r);
std::string render_report_json(const DemoReport& r);

// 0 linearizable, 1 not linearizable (or writes lost), 2 unknown.
int report_exit_code(const DemoReport& r);

}  // namespace mq::playground
