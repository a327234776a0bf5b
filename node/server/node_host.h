// The node host: every Raft group a node hosts and the event loop's work on
// them, with no threads, no gRPC and no clock of its own. `mq node` runs it
// on one loop thread behind gRPC (raft_backend.h); the node-level simulator
// (tests/nodesim) runs the very same code on simulated clocks, disks and
// networks. Everything the outside world provides comes through NodeEnv.
//
// One loop iteration (run_iteration), in order:
//   1. the writes and reads that arrived are proposed, one batch and one
//      ReadIndex round per group (write_path.cc, read_path.cc);
//   2. at most one tick, when due; leadership policy (leadership.cc);
//   3. the Ready pipeline (ready_pipeline.cc): role and term changes are
//      published (the lease voided on a step-down) before anything is sent;
//      a leader's appends leave before its own fsync, the rest after; one
//      WAL append and one sync for every group; apply; answer;
//   4. at most one snapshot per iteration: a shard that came due waits for
//      an iteration that took none (maybe_snapshot).
// Recovery and bootstrap are in host_recovery.cc, status in status_report.cc,
// the counters behind /metrics in host_metrics.h and metrics_report.cc.
//
// Threads: every method is for the loop thread, except try_lease_read.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mq/peer/raft.pb.h"
#include "mq/v1/cluster.pb.h"
#include "node/kv/command.h"
#include "node/server/host_metrics.h"
#include "node/server/log.h"
#include "node/server/node_clock.h"
#include "node/server/peer_sender.h"
#include "node/server/role_change_ring.h"
#include "node/server/shard_group.h"
#include "node/server/cluster_map.h"
#include "node/server/group_ids.h"
#include "node/server/topology.h"
#include "node/storage/file_system.h"
#include "node/storage/storage.h"
#include "node/storage/wal.h"

namespace mq::server {

// Deliberate bugs, for the simulator's mutation checks only: each must make
// some seed fail, which shows the simulator can see that class of bug.
// Never set by `mq node`.
struct HostMutations {
  // The lease survives losing leadership and handing it away (a step-down
  // or the start of a transfer leaves it standing).
  bool lease_kept_on_step_down = false;
  int lease_length_factor = 1;           // 10: a lease ten times too long
  bool lease_from_own_timing = false;    // the lease ignores the peers' shorter windows
  bool bootstrap_wiped_node = false;     // an empty data dir bootstraps silently
  bool votes_before_sync = false;        // every message leaves before the fsync
};

// A peer heard from within this window counts as alive (status, and the
// hand-back of leadership to a preferred leader).
constexpr int64_t kPeerAliveWindowMs = 1000;
// How often (in ticks) the node counts its memory against --max-memory.
constexpr uint64_t kMemoryCheckEveryTicks = 5;
// How often (in ticks) the node checks that its WAL keeps no more than its
// budget (wal_retention.cc).
constexpr uint64_t kWalCheckEveryTicks = 20;
// How often (in ticks) the node's own snapshots written since are synced.
constexpr uint64_t kSnapshotSyncEveryTicks = 100;
// How often (in ticks) a leader moves its groups toward the cluster map's
// placement (reconcile.cc).
constexpr uint64_t kReconcileEveryTicks = 10;
constexpr uint64_t kAskWhenQuietEveryTicks = 100;  // removal_notice.cc

struct NodeHostOptions {
  Topology topology;
  std::string data_dir;
  storage::FsyncMode fsync_mode = storage::FsyncMode::kBatch;
  uint64_t wal_segment_bytes = 16 << 20;  // see storage::StorageOptions
  // "new": an empty data dir bootstraps the cluster; "existing": the node
  // belongs to a running cluster, so an empty data dir means its state was
  // lost and it refuses to start; "join": the node was just admitted as a
  // new member (its id is topology.self): it starts empty and its replicas
  // arrive from their leaders; "": an empty data dir of a node with peers
  // is refused with a message asking for one of the two.
  std::string initial_cluster_state;
  int tick_ms = 10;
  int election_ticks = 20;  // election timeout drawn from [20, 40) ticks
  int heartbeat_ticks = 5;
  // A snapshot is taken after this many applied entries or this many bytes
  // of them, whichever comes first; then the log is cut, keeping a tail of
  // at most log_tail_entries and log_tail_bytes for slow followers. The
  // bytes bound what the in-memory log costs with large values: 16 shards
  // of 20,000 4 KiB entries would hold 1.3 GB.
  uint64_t snapshot_every_entries = 20000;
  uint64_t snapshot_log_bytes = 2 << 20;
  uint64_t log_tail_entries = 2000;
  uint64_t log_tail_bytes = 512 << 10;
  size_t value_bytes_max = 1 << 20;         // the largest value a command may carry
  bool read_lease = true;                   // false: every linearizable read takes a round
  size_t reads_per_round_max = 50'000;      // reads waiting on one group's next round
  size_t writes_pending_max = 100'000;      // writes proposed here and not yet applied, per group
  // Above this many bytes in use (NodeEnv::memory_in_use) the node refuses
  // new writes, and so do the leaders of the shards it replicates; reads
  // and deletes go on. 0: no limit.
  uint64_t max_memory_bytes = 0;
  HostMutations mutations;
};

struct NodeEnv {
  std::function<NodeTime()> now = [] { return BootClock::now(); };  // any thread
  PeerSender* peers = nullptr;
  storage::FileSystem* fs = nullptr;  // nullptr: the real disk
  std::function<void(LogLevel, std::string_view)> log = [](LogLevel l, std::string_view m) {
    server::log(l, m);
  };
  // The node cannot go on (storage failed, corrupt snapshot): must not
  // return. A process exits with the code; the simulator unwinds the node.
  std::function<void(int exit_code, const std::string& why)> halt;
  // An injected slow disk (SetFaults): a process sleeps, the simulator
  // advances the node's clock.
  std::function<void(std::chrono::milliseconds)> sleep;
  uint64_t seed = 0;  // request ids and election randomness
  // Bytes the node holds, as --max-memory counts them (memory_gauge.h);
  // any thread. Empty: the node never counts, and never refuses for memory.
  std::function<uint64_t()> memory_in_use;
};

class NodeHost {
 public:
  // Recovers the data dir (or bootstraps a fresh one); on failure returns
  // nullptr with a one-line error and the node's exit code.
  static std::unique_ptr<NodeHost> open(const NodeHostOptions& options, NodeEnv env,
                                        std::string* error, int* exit_code);
  ~NodeHost();

  // The loop's first step: on a fresh cluster the preferred leaders stand.
  void start();
  void run_iteration();
  NodeTime next_tick() const { return next_tick_; }
  // Answers everything pending (at shutdown): writes as unknown, reads as
  // unavailable.
  void fail_everything(const std::string& why);

  // Requests. `command` views bytes that must live until done runs.
  void propose_write(uint32_t shard, const kv::CommandView& command, WriteDone done);
  void read(uint32_t shard, bool stale, ReadDone done);
  void transfer_leader(uint32_t shard, const std::string& to_node,
                       std::function<void(const Outcome&)> done);
  // A change to the cluster's members, on the metadata group's leader
  // (elsewhere: kNotLeader naming it). done runs once the new map applied,
  // with it (the host's own map follows at the end of that iteration).
  using MemberChangeDone =
      std::function<void(const Outcome&, const MapChange&, const ClusterMap& next)>;
  void change_members(const MapCommand& command, MemberChangeDone done);
  const ClusterMap& cluster_map() const { return map_; }
  // Where a membership command goes: nullopt on the metadata group's
  // leader, else the kNotLeader answer naming it.
  std::optional<Outcome> meta_not_leader() const;
  // Groups this node leads whose replicas are not yet where the map wants
  // them.
  size_t moves_in_flight() const;
  void on_peer_batch(raft::NodeId from, const peer::PeerBatch& batch);
  void fill_status(v1::StatusResponse* resp);
  // A copy of the host's counters and gauges, for /metrics (metrics_report.cc).
  void report_metrics(HostMetricsReport* report) const;

  // Any thread: serves a linearizable read from the leader's applied state
  // when its lease covers it, calling serve under the group's shared state;
  // false when the loop must take the read.
  bool try_lease_read(uint32_t shard, const std::function<void(const ShardGroup&)>& serve) const;

  // The loop's view; other threads take shared_topology(), a copy
  // replaced whenever the cluster map changes.
  const Topology& topology() const { return options_.topology; }
  std::shared_ptr<const Topology> shared_topology() const {
    std::lock_guard lock(published_mutex_);
    return published_topology_;
  }
  // Shards and the metadata group (at topology().meta_shard()).
  ShardGroup* group(uint32_t shard) {
    return shard < groups_.size() ? groups_[shard].get() : nullptr;
  }
  const ShardGroup* group(uint32_t shard) const {
    return shard < groups_.size() ? groups_[shard].get() : nullptr;
  }
  bool is_meta(const ShardGroup& g) const { return g.shard == topology().meta_shard(); }
  Outcome not_leader(uint32_t shard, const ShardGroup* g) const;
  std::string node_name(raft::NodeId id) const;
  void set_fsync_delay(std::chrono::milliseconds delay) { fsync_delay_ms_ = delay.count(); }
  std::chrono::milliseconds fsync_delay() const {
    return std::chrono::milliseconds(fsync_delay_ms_.load());
  }

 private:
  NodeHost(const NodeHostOptions& options, NodeEnv env);

  // host_recovery.cc
  bool recover_or_bootstrap(storage::RecoveredState& recovered, std::string* error,
                            int* exit_code);
  std::string empty_data_dir_refusal(int* exit_code) const;
  bool recover_group(ShardGroup& g, storage::RecoveredGroup rg, uint64_t* applied,
                     std::string* error);
  bool make_raft_node(ShardGroup& g, uint64_t applied, std::string* error);
  std::unique_ptr<ShardGroup> new_group(uint32_t slot, uint32_t storage_id);

  // meta_group.cc
  static std::string map_entry(const ClusterMap& map, uint64_t request_id = 0);
  static void bootstrap_log(raft::MemoryStorage& log, const std::vector<raft::NodeId>& voters,
                            const std::vector<raft::NodeId>& learners, const std::string& data);
  std::string group_name(uint32_t slot) const;
  void size_peer_tables();
  raft::NodeId preferred_leader(uint32_t slot) const;
  void refresh_map();

  // reconcile.cc
  struct GroupTarget {
    std::vector<raft::NodeId> voters, learners;
  };
  GroupTarget target_of(const ShardGroup& g) const;
  bool settled(const ShardGroup& g) const;  // its members are its target's
  void reconcile();
  void refresh_replicas(ShardGroup& g);
  bool voters_applied_last_change(const ShardGroup& g, const std::vector<raft::NodeId>& voters) const;
  void drop_removed_groups();
  void drop_group(std::unique_ptr<ShardGroup>& gp, const std::string& why);
  ShardGroup* group_for_message(uint32_t slot, const raft::Message& m);
  void drop_stray_replicas();
  void note_tombstone(uint32_t slot, const storage::GroupTombstone& t);
  bool vote_behind_tombstone(uint32_t slot, const raft::Message& m) const;

  // removal_notice.cc
  bool sender_left_group(raft::NodeId from, const ShardGroup& g) const;
  void answer_quiet_groups(raft::NodeId from, const peer::PeerBatch& batch);
  void ask_when_quiet();
  void tell_removed(raft::NodeId to, const std::vector<uint32_t>& slots);
  bool missed_removal(const ShardGroup& g, const peer::GroupLeft& left) const;
  void on_removal_notice(raft::NodeId from, const peer::RemovalNotice& notice);
  void stop_if_removed();

  // write_path.cc
  void issue_writes();
  void apply(ShardGroup& g, const std::vector<raft::Entry>& entries);
  Outcome propose_error(raft::ProposeError e, const ShardGroup& g) const;

  // read_path.cc
  void issue_reads();
  void confirm_reads(ShardGroup& g, std::vector<raft::ReadState>& read_states);
  void serve_ready_reads(ShardGroup& g);
  bool lease_covers_read(const ShardGroup& g) const;
  NodeTime::duration lease_length(const ShardGroup& g) const;

  // ready_pipeline.cc
  void process_ready();
  void after_membership_applied(ShardGroup& g, const raft::Ready& rd);
  void persist(std::vector<std::pair<ShardGroup*, raft::Ready>>& readies);
  void send_messages(std::vector<std::pair<ShardGroup*, raft::Ready>>& readies, bool early);
  void maybe_snapshot(ShardGroup& g);
  void snapshot_and_compact(ShardGroup& g);
  void take_one_due_snapshot();  // ends each iteration: one due snapshot, if it took none
  void compact_disk_later(ShardGroup& g, uint64_t through);  // once its snapshot is synced
  void sync_snapshots();
  bool take_snapshot(ShardGroup& g);  // at the applied index; false when nothing is new
  void restore(ShardGroup& g, const raft::Snapshot& snap);
  void check_storage(const storage::Status& s);
  void count_sent(raft::NodeId to, uint32_t shard, const raft::Message& m, size_t bytes);

  // wal_retention.cc
  void release_wal();

  // memory_limit.cc
  void check_memory();
  std::optional<Outcome> memory_refusal(const ShardGroup& g) const;

  // leadership.cc
  void publish_role(ShardGroup& g, const raft::SoftState& soft);
  void fail_pending(ShardGroup& g, const Outcome& unknown, const Outcome& retry);
  void fail_group(ShardGroup& g, const std::string& why);
  void forbid_lease(ShardGroup& g);
  void campaign_where_preferred();
  void rebalance();
  void tick();

  void log(LogLevel level, std::string_view message) const { env_.log(level, message); }

  NodeHostOptions options_;
  NodeEnv env_;
  std::unique_ptr<storage::Storage> disk_;
  std::vector<std::unique_ptr<ShardGroup>> groups_;  // indexed by slot; null when not hosted
  // What lease readers on other threads see of groups_ (they never read
  // groups_ itself, which the loop changes as replicas come and go), and
  // the dropped groups they may still hold.
  std::unique_ptr<std::atomic<const ShardGroup*>[]> lease_view_;
  uint32_t topology_shard_count_ = 0;
  std::vector<std::unique_ptr<ShardGroup>> retired_groups_;
  std::vector<uint32_t> next_incarnation_;  // by slot: the next storage id's incarnation
  std::vector<uint64_t> dropped_at_tick_;   // by slot: 1 + the tick it was last dropped (0: never)
  std::vector<storage::GroupTombstone> tombstones_;  // by slot: what removed replicas reached
  ClusterMap map_;  // the metadata group's, as last applied (empty before)
  // A peer said this node was removed from the cluster (removal_notice.cc).
  struct ToldRemoved {
    std::string by;
    uint64_t map_version = 0;  // 0: nobody said so
  } told_removed_;
  std::unordered_map<raft::NodeId, uint64_t> removal_told_at_tick_;  // 1 + when told, by peer
  uint64_t handovers_ = 0;  // leaderships handed over since told it was removed
  mutable std::mutex published_mutex_;
  std::shared_ptr<const Topology> published_topology_;
  void publish_topology();
  const NodeTime started_;
  // A node restarted from its data dir remembers no follower lease it may
  // have granted before the restart, so for one election timeout it neither
  // votes nor campaigns (see read_lease.h); a leader's transfer still goes.
  NodeTime votes_quiet_until_{};
  NodeTime next_tick_{};
  // How long each peer refuses votes after hearing its leader, from its own
  // batches (0: not heard yet); indexed by Raft id.
  std::vector<int64_t> peer_vote_refusal_us_;
  int64_t own_vote_refusal_us_ = 0;
  std::atomic<int64_t> fsync_delay_ms_{0};
  // The memory limit (memory_limit.cc): the last count, whether this node is
  // over it, and what each peer last said of itself (by Raft id).
  uint64_t memory_in_use_ = 0;
  bool memory_full_ = false;
  std::vector<MemoryFullInfo> peer_memory_full_;  // node empty: not full
  bool campaign_on_start_ = false;  // a fresh cluster: preferred leaders stand at once
  bool snapshot_taken_this_iteration_ = false;  // see maybe_snapshot
  uint64_t next_request_id_ = 0;
  uint64_t next_read_context_ = 0;
  uint64_t ticks_ = 0;
  RoleChangeRing role_changes_;  // recorded by publish_role, reported by fill_status
  HostMetrics metrics_;          // reported by report_metrics
};

}  // namespace mq::server
