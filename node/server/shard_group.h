// One shard's Raft group as a node hosts it: the Raft core and its log, the
// state machine, the requests waiting on them, and the read lease. Owned by
// the node's loop; lease readers on other threads see only the fields
// marked as published, under shared_state.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "node/kv/kv_state_machine.h"
#include "node/raft/memory_storage.h"
#include "node/raft/raw_node.h"
#include "node/server/host_metrics.h"
#include "node/server/node_clock.h"
#include "node/server/outcome.h"
#include "node/server/read_lease.h"
#include "node/server/writer_preferring_mutex.h"

namespace mq::server {

// Runs once a read may be answered from the group's applied state (or with
// the reason it may not), on the loop thread.
using ReadDone = std::function<void(const Outcome&)>;
// Runs once a write applied (ok) or cannot be known to (an error).
using WriteDone = std::function<void(const Outcome&, const kv::ApplyResult&)>;

struct ShardGroup {
  // One ReadIndex round: the reads waiting for it (none for a round that
  // only renews the lease), and when and in which term it was issued.
  struct ReadRound {
    std::vector<ReadDone> reads;
    NodeTime issued;
    uint64_t term = 0;
  };

  ShardGroup(uint32_t shard, uint32_t storage_id, bool lease_enabled)
      : shard(shard), storage_id(storage_id), lease(lease_enabled) {}

  const uint32_t shard;  // the slot: a shard, or Topology::meta_shard()
  // The group's id in the data dir: a replica of a shard created after an
  // earlier one was removed from this node gets a new one (group_ids.h).
  const uint32_t storage_id;
  // The group's voters and learners as of the applied index (refreshed
  // after every applied membership change and installed snapshot).
  std::vector<raft::NodeId> replicas;
  // This node's removal from the group applied: the group is dropped once
  // nobody has written to it for a while (reconcile.cc).
  bool removed_self = false;
  // A peer whose applied configuration omits this node, and whose map does
  // not place it here, said so: this replica missed its removal while
  // away, and goes the same way (removal_notice.cc).
  bool told_removed = false;
  bool leaving() const { return removed_self || told_removed; }
  uint64_t created_at_tick = 0;
  uint64_t last_heard_tick = 0;  // a peer last asked something of this replica
  uint64_t last_fed_tick = 0;    // a leader last sent entries, a heartbeat or a snapshot
  // The index of the last membership change applied here, and what each
  // peer last said it applied (GroupMessage.applied), for reconcile.cc.
  uint64_t last_conf_index = 0;
  // The entry the applied configuration comes from: the last membership
  // change applied, or the snapshot it was restored from (removal_notice.cc).
  struct LogPoint {
    uint64_t index = 0, term = 0;
  } config_from;
  std::unordered_map<raft::NodeId, uint64_t> peer_applied;
  raft::MemoryStorage log;
  std::unique_ptr<raft::RawNode> node;
  kv::KvStateMachine sm;  // published

  // Published: the loop's view of the core, changed under shared_state held
  // exclusively before any message of a new role or term leaves the node.
  raft::Role role = raft::Role::kFollower;
  uint64_t term = 0;
  raft::NodeId lead = raft::kNoNode;
  ReadLease lease;

  raft::HardState persisted;       // the last hard state written to the WAL
  // Payload applied since the last snapshot (or restart): a snapshot is due
  // when it grows past NodeHostOptions::snapshot_log_bytes.
  uint64_t applied_bytes_since_snapshot = 0;
  bool snapshot_due = false;
  // The WAL may drop entries up to here once the snapshot covering them is
  // synced (NodeHost::sync_snapshots); 0: nothing waiting.
  uint64_t disk_compact_through = 0;  // over a trigger, waiting for an iteration without a snapshot
  uint64_t leader_since_tick = 0;  // when this node last became leader

  std::unordered_map<uint64_t, WriteDone> writes;  // by request id, proposed here
  std::vector<std::string> writes_to_issue;  // envelopes, proposed after the inbox drains
  std::vector<uint64_t> write_ids_to_issue;
  std::vector<ReadDone> reads_to_issue;
  std::unordered_map<std::string, ReadRound> reads_in_flight;
  std::deque<std::pair<uint64_t, std::vector<ReadDone>>> reads_ready;  // by read index
  bool lease_renewal_in_flight = false;
  // A read was served under the lease since the last renewal: only then is
  // it worth renewing, so an idle shard sends no extra rounds.
  mutable std::atomic<bool> lease_used{false};

  ShardCounters counters;  // loop thread only
  // Linearizable reads answered under the lease, on gRPC threads as well
  // as on the loop: the one counter they share.
  mutable std::atomic<uint64_t> lease_reads{0};

  // The loop is the only writer of published fields; it reads them freely
  // and changes them holding this exclusively. Lease readers hold it shared.
  mutable WriterPreferringMutex shared_state;
};

}  // namespace mq::server
