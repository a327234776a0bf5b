// Opening a node: recovery from its data dir, or the bootstrap of a new
// cluster, and the refusal of a data dir that is empty when it must not be.
#include <algorithm>

#include "node/raft/memory_storage.h"
#include "node/server/exit_codes.h"
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
  peer_vote_refusal_us_.assign(options_.topology.nodes.size() + 1, 0);
  peer_memory_full_.resize(options_.topology.nodes.size() + 1);
  metrics_.peers.resize(options_.topology.nodes.size() + 1);
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

bool NodeHost::recover_or_bootstrap(storage::RecoveredState& recovered, std::string* error,
                                    int* exit_code) {
  const Topology& t = topology();
  const bool fresh = recovered.empty();
  if (fresh) {
    if (std::string refusal = empty_data_dir_refusal(exit_code); !refusal.empty()) {
      *error = std::move(refusal);
      return false;
    }
  }
  groups_.resize(t.shard_count);
  storage::WriteBatch bootstrap_batch;
  // The batch views these entries: they must live until it is written.
  std::vector<std::vector<raft::Entry>> bootstrap_entries(t.shard_count);
  for (uint32_t shard = 0; shard < t.shard_count; ++shard) {
    if (!t.hosts(t.self, shard)) continue;
    auto g = std::make_unique<ShardGroup>(shard, t.replicas(shard), options_.read_lease);
    // The image of a group's snapshot stays in its file; a follower that
    // needs it is sent chunks read from there.
    g->log.keep_images_elsewhere([this, shard](const raft::SnapshotMeta& meta, uint64_t offset,
                                               uint64_t max_bytes) {
      std::string chunk;
      const storage::Status s = disk_->read_snapshot_data(shard, meta.index, offset, max_bytes, &chunk);
      if (!s.is_ok()) {
        env_.halt(s.code() == storage::StatusCode::kCorrupt ? kNodeExitCorruptData : kNodeExitStorageFailed,
                  "shard " + std::to_string(shard) + ": cannot read its snapshot to send it: " +
                      s.to_string());
      }
      return chunk;
    });
    uint64_t applied = 0;
    auto it = recovered.find(shard);
    if (it != recovered.end()) {
      // Moved: a snapshot image can be hundreds of megabytes.
      if (!recover_group(*g, std::move(it->second), &applied, error)) {
        *exit_code = kNodeExitCorruptData;
        return false;
      }
    } else if (fresh) {
      raft::bootstrap(g->log, g->replicas);
      storage::GroupWrite w;
      w.group = shard;
      w.hard_state = g->log.hard_state();
      g->persisted = g->log.hard_state();
      (void)g->log.entries(1, g->log.last_index() + 1, UINT64_MAX, &bootstrap_entries[shard]);
      w.entries = bootstrap_entries[shard];
      bootstrap_batch.push_back(std::move(w));
    } else {
      *error = "data dir has no state for shard " + std::to_string(shard) +
               " although this node hosts it: it was written by another configuration";
      *exit_code = kNodeExitForeignData;
      return false;
    }
    if (!make_raft_node(*g, applied, error)) {
      *exit_code = kNodeExitUsage;
      return false;
    }
    groups_[shard] = std::move(g);
  }
  if (!bootstrap_batch.empty()) {
    const storage::Status s = disk_->append(bootstrap_batch);
    if (!s.is_ok()) {
      *error = "cannot write the initial state: " + s.to_string();
      *exit_code = kNodeExitCannotStart;
      return false;
    }
    log(LogLevel::kInfo, "bootstrapped a new cluster " + t.cluster_id + " with " +
                             std::to_string(t.nodes.size()) + " nodes, " +
                             std::to_string(t.shard_count) + " shards, replication " +
                             std::to_string(t.replication));
    campaign_on_start_ = true;
  } else {
    log(LogLevel::kInfo, "recovered " + std::to_string(recovered.size()) + " shard groups from " +
                             options_.data_dir);
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
      *error = "shard " + std::to_string(g.shard) + " snapshot: " + restore_error;
      return false;
    }
    *applied = rg.snapshot->meta.index;
    // The log in memory starts after the snapshot, and so will every later
    // recovery: the WAL's entries up to it are never read again, and the
    // segments holding only such entries can go now rather than after the
    // group's next snapshot.
    if (const storage::Status s = disk_->compact(g.shard, rg.snapshot->meta.index); !s.is_ok()) {
      *error = "shard " + std::to_string(g.shard) + ": " + s.to_string();
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
  c.random_seed = env_.seed ^ (static_cast<uint64_t>(g.shard) * 0x9E3779B97F4A7C15ULL);
  if (auto e = c.validate(); !e.empty()) {
    *error = "raft configuration: " + e;
    return false;
  }
  g.node = std::make_unique<raft::RawNode>(c, g.log);
  return true;
}

}  // namespace mq::server
