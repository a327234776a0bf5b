// What the node host counts about itself for /metrics: plain numbers owned
// by the loop thread, with no locks, no clock and no metrics library, so
// the simulator runs the same counting code as `mq node`. The one
// exception is a shard's lease reads, which gRPC threads serve: that
// counter is an atomic in ShardGroup.
//
// The exporter (metrics_export.h) never reads these directly: the loop
// copies them into a HostMetricsReport (NodeHost::report_metrics), and the
// copy is formatted off the host's state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/server/duration_histogram.h"
#include "node/server/node_clock.h"

namespace mq::server {

// Per shard, kept in its ShardGroup.
struct ShardCounters {
  uint64_t leader_changes_seen = 0;  // a new, known leader replaced another or none
  uint64_t proposals_committed = 0;  // writes proposed here that applied
  // Writes proposed here that did not apply as far as this node knows:
  // refused by the core, or abandoned with an unknown outcome when the
  // leadership moved or the node stopped.
  uint64_t proposals_failed = 0;
  uint64_t read_index_rounds = 0;    // rounds issued, lease renewals included
  // The snapshot write of an install in progress: persist() saves the
  // leader's snapshot, process_ready() restores it afterwards and observes
  // both together.
  double snapshot_install_write_seconds = 0;
};

// Times heartbeats to one peer, one at a time per shard: from the loop
// handing a heartbeat to the transport until the loop steps the peer's
// answer to it. That covers both network legs, both transports' queues and
// the peer's loop iteration (which may hold an fsync), so it is what a
// Raft round trip costs, not a bare network ping. An answer is matched by
// shard and context; a heartbeat without a ReadIndex context can be
// mistaken for an earlier one of the same shard only when a round trip
// outlasts the heartbeat interval.
class RoundTripProbes {
 public:
  // A probe whose answer never came (the peer was down, the message lost)
  // gives way to a new one after this long: as long as the histogram's
  // highest bound, so a slow answer is still measured, and per shard, so a
  // lost heartbeat stalls the timing of one shard only.
  static constexpr auto kAbandonAfter = std::chrono::seconds(10);

  void heartbeat_sent(uint32_t shard, const std::string& context, NodeTime now) {
    if (shard >= probes_.size()) probes_.resize(shard + 1);
    Probe& p = probes_[shard];
    if (p.waiting && now - p.sent < kAbandonAfter) return;
    p.waiting = true;
    p.context = context;
    p.sent = now;
  }
  // The round trip in seconds when this answer is to a timed heartbeat.
  std::optional<double> heartbeat_answered(uint32_t shard, const std::string& context, NodeTime now) {
    if (shard >= probes_.size()) return std::nullopt;
    Probe& p = probes_[shard];
    if (!p.waiting || context != p.context) return std::nullopt;
    p.waiting = false;
    return std::chrono::duration<double>(now - p.sent).count();
  }

 private:
  struct Probe {
    bool waiting = false;
    std::string context;
    NodeTime sent{};
  };
  std::vector<Probe> probes_;  // by shard
};

// Per peer, indexed by Raft id. Bytes are those of the encoded Raft
// messages the host hands to or takes from the transport, before the
// transport's own framing; messages the transport drops (a full queue, an
// injected partition) were still handed to it.
struct PeerCounters {
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;
  DurationHistogram round_trip{kLatencyBoundsSeconds};
  RoundTripProbes probes;
};

struct HostMetrics {
  // One WAL append of a loop iteration, write and fdatasync together
  // (fsync mode always: every group's sync in it); not observed in fsync
  // mode none, which syncs nothing.
  DurationHistogram wal_fsync{kLatencyBoundsSeconds};
  // Snapshots of this node's own state machine: creating the image and
  // writing it to disk.
  DurationHistogram snapshot_save{kSnapshotBoundsSeconds};
  // Snapshots received from a leader: writing them to disk and restoring
  // the state machine from them.
  DurationHistogram snapshot_install{kSnapshotBoundsSeconds};
  std::vector<PeerCounters> peers;  // by Raft id; [0] and self unused
};

// A copy of everything above plus the published gauges, taken on the loop
// thread in one go so that the numbers of one scrape agree with each other.
struct HostMetricsReport {
  struct Shard {
    uint32_t shard = 0;
    bool has_leader = false;
    bool is_leader = false;
    uint64_t term = 0;
    uint64_t commit_index = 0;
    uint64_t applied_index = 0;
    uint64_t proposals_pending = 0;  // proposed here, not yet applied or failed
    uint64_t lease_reads = 0;
    uint64_t keys = 0;
    uint64_t key_value_bytes = 0;
    ShardCounters counters;
  };
  struct Peer {
    std::string id;  // the node id, as in --peers
    uint64_t messages_sent = 0;
    uint64_t bytes_sent = 0;
    uint64_t messages_received = 0;
    uint64_t bytes_received = 0;
    DurationHistogram round_trip{kLatencyBoundsSeconds};
  };

  std::string node;
  std::vector<Shard> shards;  // the shards this node hosts, by shard id
  std::vector<Peer> peers;    // every other node of the cluster
  uint64_t wal_bytes_written = 0;
  uint64_t wal_segments = 0;
  // --max-memory (memory_limit.cc): the last count, the limit (0: none),
  // and whether writes are refused for it.
  uint64_t memory_in_use_bytes = 0;
  uint64_t memory_limit_bytes = 0;
  bool memory_full = false;
  DurationHistogram wal_fsync{kLatencyBoundsSeconds};
  DurationHistogram snapshot_save{kSnapshotBoundsSeconds};
  DurationHistogram snapshot_install{kSnapshotBoundsSeconds};
  // The peer transport's own counts (tcp_peer_transport.h), filled by the
  // process around the host (the simulator has no transport).
  struct Transport {
    uint64_t accepted = 0;     // inbound connections
    uint64_t refused = 0;      // inbound hellos refused
    uint64_t bad_streams = 0;  // inbound connections closed for a malformed frame
    uint64_t connected = 0;    // outbound connections established
    uint64_t dropped = 0;      // batches dropped from full queues
  } transport;
};

}  // namespace mq::server
