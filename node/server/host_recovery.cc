// Opening a node: recovery from its data dir, or the bootstrap of a new
// cluster, and the refusal of a data dir that is empty when it must not be.
#include <algorithm>

#include "node/raft/memory_storage.h"
#include "node/server/exit_codes.h"
#include "node/server/group_ids.h"
#include "node/server/node_host.h"
#include "node/storage/storage.h"

namespace mq::server {

NodeHost::NodeHost(const NodeHostOptions& options, NodeEnv env)
    : options_(options), env_(std::move(env)), started_(env_.now()) {
  next_tick_ = started_ + std::chrono::milliseconds(options_.tick_ms);
  own_vote_refusal_us_ =
      std::chrono::duration_cast<std::chrono::microseconds>(
          ReadLease::vote_refusal(options_.election_ticks, options_.tick_ms))
          .count();
  size_peer_tables();
  publish_topology();
  next_request_id_ = env_.seed;
}

NodeHost::~NodeHost() = default;

std::unique_ptr<NodeHost> NodeHost::open(const NodeHostOptions& options, NodeEnv env,
                                         std::string* error, int* exit_code) {
  std::unique_ptr<NodeHost> host(new NodeHost(options, std::move(env)));
  const Topology& t = host->topology();
  storage::StorageOptions so;
  so.data_dir = options.data_dir;
  so.node_id = t.self_info().id;
  so.cluster_id = t.cluster_id;
  so.member_id = t.self;
  so.shard_count = t.shard_count;
  so.fsync_mode = options.fsync_mode;
  so.segment_size_bytes_max = options.wal_segment_bytes;
  so.fs = host->env_.fs;
  NodeHost* raw = host.get();
  so.log = [raw](const std::string& line) { raw->log(LogLevel::kInfo, line); };
  storage::RecoveredState recovered;
  auto opened = storage::Storage::open(so, &recovered);
  if (!opened.is_ok()) {
    *error = opened.status().to_string();
    *exit_code = storage::exit_code_for(opened.status());
    return nullptr;
  }
  host->disk_ = std::move(opened.value());
  if (!host->recover_or_bootstrap(recovered, error, exit_code)) return nullptr;
  // Counted at once, not only at the first check: /metrics may be asked
  // before it (a fix for a test that read 0 in one run of 25).
  if (host->env_.memory_in_use) host->memory_in_use_ = host->env_.memory_in_use();
  return host;
}

// An empty data dir is a new node only when the operator says so: a node
// whose disk was wiped or replaced would otherwise bootstrap the same cluster
// again, vote with an empty log and no memory of its votes, and be credited
// by its leader with entries it no longer has.
std::string NodeHost::empty_data_dir_refusal(int* exit_code) const {
  const std::string& state = options_.initial_cluster_state;
  if (state == "new" || topology().nodes.size() == 1 || options_.mutations.bootstrap_wiped_node) {
    return "";
  }
  if (state == "existing") {
    *exit_code = kNodeExitDataLost;
    return "data dir " + options_.data_dir + " is empty, but node " + topology().self_info().id +
           " is a member of an existing cluster (--initial-cluster-state existing): its log and "
           "votes are lost, and it cannot rejoin safely with an empty disk; restore its data dir, "
           "or recreate the cluster";
  }
  *exit_code = kNodeExitUsage;
  return "data dir " + options_.data_dir + " is empty: pass --initial-cluster-state new to "
         "bootstrap a new cluster with these peers (a node of a running cluster whose data dir "
         "was lost must not bootstrap again)";
}

std::unique_ptr<ShardGroup> NodeHost::new_group(uint32_t slot, uint32_t storage_id) {
  auto g = std::make_unique<ShardGroup>(slot, storage_id, options_.read_lease);
  g->created_at_tick = ticks_;
  // The image of a group's snapshot stays in its file; a follower that
  // needs it is sent chunks read from there.
  g->log.keep_images_elsewhere([this, slot, storage_id](const raft::SnapshotMeta& meta,
                                                        uint64_t offset, uint64_t max_bytes) {
    std::string chunk;
    const storage::Status s =
        disk_->read_snapshot_data(storage_id, meta.index, offset, max_bytes, &chunk);
    if (!s.is_ok()) {
      env_.halt(s.code() == storage::StatusCode::kCorrupt ? kNodeExitCorruptData
                                                          : kNodeExitStorageFailed,
                group_name(slot) + ": cannot read its snapshot to send it: " + s.to_string());
    }
    return chunk;
  });
  return g;
}

bool NodeHost::recover_or_bootstrap(storage::RecoveredState& recovered, std::string* error,
                                    int* exit_code) {
  const Topology& t = topology();
  const bool fresh = recovered.empty();
  const bool joining = options_.initial_cluster_state == "join";
  // Every group gone, and the WAL still says so: the node left them all.
  if (fresh && !disk_->removed_groups().empty()) {
    *error = "node " + t.self_info().id + " was removed from its groups and holds nothing; its "
             "data dir cannot rejoin: start it with an empty data dir and --join";
    *exit_code = kNodeExitRemoved;
    return false;
  }
  if (fresh && !joining) {
    if (std::string refusal = empty_data_dir_refusal(exit_code); !refusal.empty()) {
      *error = std::move(refusal);
      return false;
    }
  }
  const uint32_t meta = t.meta_shard();
  groups_.resize(meta + 1);
  next_incarnation_.assign(meta + 1, 0);
  dropped_at_tick_.assign(meta + 1, 0);
  tombstones_.assign(meta + 1, {});
  auto note_id = [this](uint32_t storage_id) {
    uint32_t& next = next_incarnation_[slot_of_group(storage_id)];
    next = std::max(next, incarnation_of_group(storage_id) + 1);
  };
  for (const auto& [id, tombstone] : disk_->removed_groups()) {
    if (slot_of_group(id) > meta) continue;
    note_id(id);
    note_tombstone(slot_of_group(id), tombstone);
  }
  // A node hosts the groups its data dir holds, whatever the flags say:
  // membership changes move replicas after the flags were written.
  for (auto& [storage_id, rg] : recovered) {
    const uint32_t slot = slot_of_group(storage_id);
    if (slot > meta) {
      *error = "data dir holds a replica of shard " + std::to_string(slot) + ", but the cluster has " +
               std::to_string(t.shard_count) + " shards: it was written by another configuration";
      *exit_code = kNodeExitForeignData;
      return false;
    }
    if (groups_[slot]) {
      *error = "data dir holds two replicas of " + group_name(slot) + " (groups " +
               std::to_string(groups_[slot]->storage_id) + " and " + std::to_string(storage_id) + ")";
      *exit_code = kNodeExitCorruptData;
      return false;
    }
    note_id(storage_id);
    auto g = new_group(slot, storage_id);
    uint64_t applied = 0;
    // Moved: a snapshot image can be hundreds of megabytes.
    if (!recover_group(*g, std::move(rg), &applied, error) || !make_raft_node(*g, applied, error)) {
      *exit_code = kNodeExitCorruptData;
      return false;
    }
    groups_[slot] = std::move(g);
  }
  storage::WriteBatch bootstrap_batch;
  // The batch views these entries: they must live until it is written.
  std::vector<std::vector<raft::Entry>> bootstrap_entries(meta + 1);
  auto bootstrap_group = [&](uint32_t slot, const std::vector<raft::NodeId>& voters,
                             const std::vector<raft::NodeId>& learners, const std::string& data) {
    auto g = new_group(slot, group_storage_id(slot, next_incarnation_[slot]++));
    bootstrap_log(g->log, voters, learners, data);
    storage::GroupWrite w;
    w.group = g->storage_id;
    w.hard_state = g->log.hard_state();
    g->persisted = g->log.hard_state();
    (void)g->log.entries(1, g->log.last_index() + 1, UINT64_MAX, &bootstrap_entries[slot]);
    w.entries = bootstrap_entries[slot];
    bootstrap_batch.push_back(std::move(w));
    groups_[slot] = std::move(g);
  };
  // The metadata group starts from the map the flags describe; every
  // bootstrapping node writes the same one. A data dir written before the
  // metadata group existed gets it the same way at its first start; one
  // whose replica of it was dropped (the node left the group) does not.
  const bool bootstrap_meta = !joining && !groups_[meta] && (fresh || disk_->predates_membership());
  if (bootstrap_meta) {
    std::vector<Member> members;
    for (const auto& p : t.nodes) members.push_back({p.raft_id, p.id, p.address, MemberState::kActive});
    const ClusterMap first = ClusterMap::bootstrap(t.cluster_id, members, t.shard_count, t.replication);
    bootstrap_group(meta, first.meta_voters(), first.meta_learners(), map_entry(first));
  }
  if (fresh && !joining) {
    for (uint32_t shard = 0; shard < t.shard_count; ++shard) {
      if (t.hosts(t.self, shard)) bootstrap_group(shard, t.replicas(shard), {}, "");
    }
  }
  for (auto& g : groups_) {
    if (g && !g->node && !make_raft_node(*g, 0, error)) {
      *exit_code = kNodeExitUsage;
      return false;
    }
  }
  if (!bootstrap_batch.empty()) {
    const storage::Status s = disk_->append(bootstrap_batch);
    if (!s.is_ok()) {
      *error = "cannot write the initial state: " + s.to_string();
      *exit_code = kNodeExitCannotStart;
      return false;
    }
  }
  topology_shard_count_ = t.shard_count;
  lease_view_ = std::make_unique<std::atomic<const ShardGroup*>[]>(meta + 1);
  for (uint32_t slot = 0; slot <= meta; ++slot) {
    if (ShardGroup* g = groups_[slot].get()) {
      refresh_replicas(*g);
      // Left before the restart (its snapshot's members exclude it): it
      // goes as any group this node leaves.
      g->removed_self = !g->replicas.empty() &&
                        std::find(g->replicas.begin(), g->replicas.end(), t.self) == g->replicas.end();
    }
    lease_view_[slot].store(groups_[slot].get(), std::memory_order_release);
  }
  refresh_map();
  if (fresh && !joining) {
    log(LogLevel::kInfo, "bootstrapped a new cluster " + t.cluster_id + " with " +
                             std::to_string(t.nodes.size()) + " nodes, " +
                             std::to_string(t.shard_count) + " shards, replication " +
                             std::to_string(t.replication));
    campaign_on_start_ = true;
  } else if (fresh) {
    log(LogLevel::kInfo, "joined cluster " + t.cluster_id + " as member " +
                             std::to_string(t.self) + "; replicas arrive as placement assigns them");
  } else {
    log(LogLevel::kInfo, "recovered " + std::to_string(recovered.size()) + " groups from " +
                             options_.data_dir);
    if (bootstrap_meta) {
      log(LogLevel::kInfo, "the data dir predates the metadata group: started it from the flags");
    }
    // A removed member still holding replicas starts, to hand them over
    // (its leaders remove it once others have caught up); one holding none
    // has nothing to do, and its data dir can never be a member again.
    if (const Member* m = map_.find(t.self); m && m->state == MemberState::kRemoved) {
      size_t replicas = 0;
      for (uint32_t slot = 0; slot < meta; ++slot) replicas += groups_[slot] ? 1 : 0;
      if (replicas == 0) {
        *error = "node " + t.self_info().id + " (member " + std::to_string(t.self) +
                 ") was removed from cluster " + t.cluster_id +
                 "; its data dir cannot rejoin: start it with an empty data dir and --join";
        *exit_code = kNodeExitRemoved;
        return false;
      }
      log(LogLevel::kWarn, "this node was removed from the cluster and still holds " +
                               std::to_string(replicas) + " replicas: it runs until they have moved");
    }
    // Alone, a node has no peer whose lease it could break: it may lead at once.
    if (t.nodes.size() > 1) {
      votes_quiet_until_ =
          started_ + std::chrono::milliseconds(options_.election_ticks * options_.tick_ms);
    }
  }
  return true;
}

// A group's state from its data dir: the newest snapshot, then the hard
// state and the entries after it.
bool NodeHost::recover_group(ShardGroup& g, storage::RecoveredGroup rg, uint64_t* applied,
                             std::string* error) {
  if (rg.snapshot) {
    g.log.apply_snapshot(*rg.snapshot);
    std::string restore_error;
    if (!g.sm.restore(rg.snapshot->data, &restore_error)) {
      *error = group_name(g.shard) + " snapshot: " + restore_error;
      return false;
    }
    *applied = rg.snapshot->meta.index;
    g.config_from = {rg.snapshot->meta.index, rg.snapshot->meta.term};
    // The log in memory starts after the snapshot, and so will every later
    // recovery: the WAL's entries up to it are never read again, and the
    // segments holding only such entries can go now rather than after the
    // group's next snapshot.
    if (const storage::Status s = disk_->compact(g.storage_id, rg.snapshot->meta.index); !s.is_ok()) {
      *error = group_name(g.shard) + ": " + s.to_string();
      return false;
    }
  }
  // The commit index is written lazily (see persist()), so it may trail the
  // snapshot; a snapshot only ever covers committed entries.
  if (rg.snapshot && rg.hard_state.commit < rg.snapshot->meta.index) {
    rg.hard_state.commit = rg.snapshot->meta.index;
  }
  g.log.set_hard_state(rg.hard_state);
  g.persisted = rg.hard_state;
  if (!rg.entries.empty()) g.log.append(rg.entries);
  return true;
}

bool NodeHost::make_raft_node(ShardGroup& g, uint64_t applied, std::string* error) {
  raft::Config c;
  c.id = topology().self;
  c.election_tick = options_.election_ticks;
  c.heartbeat_tick = options_.heartbeat_ticks;
  c.applied = applied;
  c.split_messages_before_persist = true;
  // One entry must always fit in one Raft message: a command carries the
  // value plus the user, the key and a few bytes of framing.
  constexpr uint64_t kCommandOverheadBytes = 4096;
  c.max_size_per_msg_bytes = std::max<uint64_t>(c.max_size_per_msg_bytes,
                                                options_.value_bytes_max + kCommandOverheadBytes);
  c.max_uncommitted_bytes = std::max<uint64_t>(c.max_uncommitted_bytes, 4 * c.max_size_per_msg_bytes);
  c.random_seed = env_.seed ^ (static_cast<uint64_t>(g.storage_id) * 0x9E3779B97F4A7C15ULL);
  if (auto e = c.validate(); !e.empty()) {
    *error = "raft configuration: " + e;
    return false;
  }
  g.node = std::make_unique<raft::RawNode>(c, g.log);
  return true;
}

}  // namespace mq::server
