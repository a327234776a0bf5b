// The failover demo's report, computed from the recorded history and the
// events seen while it ran: per shard, whether it lost its leader and how
// long its writes were unavailable, the leader changes with their terms,
// operation counts, a per-second throughput sparkline, acknowledged writes
// lost, and the linearizability verdict; over several trials, the median
// and p90 of the longest unavailability.
//
// One time origin: every time in the report (text and JSON) is counted
// from the start of the workload.
//
// Unavailability of a shard: the longest time a write to it waited, from
// its invocation, until some write to that shard completed successfully
// (its own or another client's), over the writes waiting at or after the
// fault. A gap in which no client happened to write to the shard is not
// unavailability (the clients may all be stuck on another shard), and a
// client stuck on an unreachable node does not make a shard unavailable
// while other clients' writes to it succeed. The wait is reported as the
// shard's unavailability only when the shard lost its leader after the
// fault (the fault's node no longer leading it, or a new leader or term), or when the
// wait exceeds kStallCountedMs; other shards report 0 and show "-".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "playground/demo_workload.h"
#include "playground/lincheck.h"
#include "playground/watch_view.h"

namespace mq::playground {

// A write that waits this long with no write to its shard succeeding is a
// stall even where no leader change was seen: over twice the longest
// election timeout (20-40 ticks of 10 ms), so an election would have been
// seen, and above the latency spikes of a loaded machine (tens of ms to a
// few hundred under 16 clients on 2 cores).
constexpr int64_t kStallCountedMs = 1000;

struct DemoTimeline {
  std::string fault;        // kill-leader, kill-follower, partition, pause
  std::string target_node;  // the node the fault hit ("" when none was picked)
  std::vector<std::string> cut_off_from;  // partition: the other side
  uint32_t target_shard = 0;
  // Microseconds from the start of the workload; -1 when it did not happen.
  int64_t fault_us = -1, heal_us = -1, end_us = 0;
  int interrupted_by = 0;  // the signal that cut the run short, 0 when none
  int64_t interrupted_us = -1;
};

struct ShardWindow {
  uint32_t shard = 0;
  bool lost_leader = false;    // no leader, or a new leader or term, after the fault
  int64_t longest_wait_ms = 0;  // see the header comment
  int64_t wait_from_ms = 0, wait_to_ms = 0;  // that wait, from the start of the run
  bool counted = false;        // lost_leader, or longest_wait_ms >= kStallCountedMs
  // Some write to the shard was waiting at or after the fault: without one
  // a shard that lost its leader has no measure (null in JSON, "?").
  bool measured = false;
  int64_t unavailable_ms() const { return counted ? longest_wait_ms : 0; }
};

struct OpCounts {
  uint64_t ok = 0, failed = 0, unknown = 0;
};

struct DemoReport {
  DemoTimeline timeline;
  std::vector<ShardWindow> windows;  // every shard, by shard id
  int64_t max_window_ms = 0;         // the longest counted unavailability
  std::vector<ClusterEvent> leader_changes;
  OpCounts writes, reads;
  std::vector<uint64_t> ok_per_second;  // successful operations, second by second
  std::string sparkline;
  // Acknowledged writes the read-back proved lost; unknown without --check
  // (or when the run was interrupted before the read-back).
  std::optional<uint64_t> lost_writes;
  std::vector<std::string> lost_examples;
  lincheck::Result verdict{lincheck::Result::kUnknown, ""};
  bool interrupted() const { return timeline.interrupted_by != 0; }
};

// Per shard, the longest wait of a write for a success on its shard (see
// above), over the writes whose wait ends after fault_us; a wait still
// open at end_us ends there. Not yet counted: see mark_counted.
std::vector<ShardWindow> write_waits(const std::vector<RecordedOp>& history, uint32_t shard_count,
                                     int64_t fault_us, int64_t end_us);

// Sets lost_leader from the events at or after the fault (a new leader or
// term, or the fault's node seen no longer leading) and counted from it
// and the stall threshold.
void mark_counted(std::vector<ShardWindow>* windows, const std::vector<ClusterEvent>& events,
                  int64_t fault_us, const std::string& target_node);

std::vector<uint64_t> ok_per_second(const std::vector<RecordedOp>& history, int64_t end_us);
// One block character per value, scaled to the largest: ▁▂▃▄▅▆▇█.
std::string sparkline(const std::vector<uint64_t>& values);

// An acknowledged write is lost when the final read of its key (client
// reader) shows absence, or a value whose write completed before the lost
// write was invoked. Each hit is a real violation; the checker finds the
// rest.
uint64_t count_lost_writes(const std::vector<RecordedOp>& history, uint64_t reader,
                           std::vector<std::string>* examples);

// events: on the workload's clock in ms. check: the history holds the
// read-back of client `reader`.
DemoReport make_report(const DemoTimeline& timeline, const std::vector<RecordedOp>& history,
                       uint32_t shard_count, uint64_t reader,
                       const std::vector<ClusterEvent>& events, bool check);

// "n1 (shard 0's leader) stopped with SIGSTOP": what the fault did, to whom.
std::string describe_fault(const DemoTimeline& t);
// "resumed with SIGCONT": what undid it.
std::string describe_heal(const DemoTimeline& t);

std::string render_report_text(const DemoReport& r);

// Median and p90 of the longest unavailability over the trials that ran
// to their end (an interrupted one is partial). The median of an even
// count is the mean of the middle two; p90 is the nearest rank. nullopt
// when no trial ran to its end.
std::optional<int64_t> median_ms(std::vector<int64_t> values);
std::optional<int64_t> p90_ms(std::vector<int64_t> values);
std::vector<int64_t> completed_longest_ms(const std::vector<DemoReport>& trials);

// After the trials' reports: the summary line(s) for any number of trials.
std::string render_summary_text(const std::vector<DemoReport>& trials, int interrupted_by);

// One JSON document whatever the number of trials:
// {"trials": [report...], "longest_ms": [...], "median_ms", "p90_ms",
//  "linearizable" (the worst verdict), "lost_writes" (sum; null when not
//  checked), "interrupted", "signal"}. Unknown numbers are null.
std::string render_demo_json(const std::vector<DemoReport>& trials, int interrupted_by);

// 0 linearizable, 1 not linearizable (or writes lost), 2 unknown.
int report_exit_code(const DemoReport& r);

}  // namespace mq::playground
