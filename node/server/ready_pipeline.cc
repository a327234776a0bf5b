// The Ready pipeline: what the loop does with every group's Raft output in
// one iteration. The order is the safety argument:
//   1. role and term changes are published first, and a lease voided, so
//      that no read is served under a lease after this node's vote for
//      another candidate (sent below) can exist;
//   2. what the core allows to overtake the disk (a leader's appends and
//      heartbeats of an already durable term) leaves before this node's own
//      fsync (Raft dissertation 10.2.1): followers' disks work in parallel
//      with the leader's, which counts its own copy only once this
//      iteration's fsync is done;
//   3. one WAL append with every group's entries and hard state, one sync;
//   4. everything that answers a peer (votes, acknowledgements) leaves;
//   5. entries apply, writes and reads are answered.
#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "node/raft/codec.h"
#include "node/raft/conf_change.h"
#include "node/raft/invariant.h"
#include "node/server/exit_codes.h"
#include "node/server/node_host.h"

namespace mq::server {

namespace {

// Below the node's gRPC receive limit (the value ceiling plus overhead).
constexpr size_t kPeerBatchBytesMax = 16 << 20;
// A commit index that changed alone is written with the next batch, not
// synced on its own (it is volatile in Raft); but it is not left behind by
// more than this many entries, so that a restart replays most of what was
// committed (membership included) before it hears a leader.
constexpr uint64_t kCommitLagEntriesMax = 1024;

double seconds_between(NodeTime from, NodeTime to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

void NodeHost::process_ready() {
  std::vector<std::pair<ShardGroup*, raft::Ready>> readies;
  std::vector<ShardGroup*> lost_leadership;
  for (auto& g : groups_) {
    if (!g || !g->node->has_ready()) continue;
    readies.emplace_back(g.get(), g->node->ready());
    // The core reports every change of role, term or leader in a Ready
    // (one of a leader stepping down in its own term says nothing else).
    if (const auto& soft = readies.back().second.soft_state) {
      const bool was_leader = g->role == raft::Role::kLeader;
      const uint64_t term = g->term;
      publish_role(*g, *soft);
      if (was_leader && (g->role != raft::Role::kLeader || g->term != term)) {
        lost_leadership.push_back(g.get());
      }
    }
  }
  if (readies.empty()) return;

  send_messages(readies, /*early=*/true);
  // On their way before the fsync, not after it: the followers' disks work
  // while this one does.
  env_.peers->flush();
  persist(readies);
  send_messages(readies, /*early=*/false);
  // Acknowledgements and votes go before the entries are applied.
  env_.peers->flush();

  for (auto& [g, rd] : readies) {
    if (rd.snapshot) {
      const NodeTime restore_began = env_.now();
      restore(*g, *rd.snapshot);
      metrics_.snapshot_install.observe(g->counters.snapshot_install_write_seconds +
                                        seconds_between(restore_began, env_.now()));
    }
    apply(*g, rd.committed_entries);
    confirm_reads(*g, rd.read_states);
    serve_ready_reads(*g);
    g->node->advance(rd);
    after_membership_applied(*g, rd);
    maybe_snapshot(*g);
  }
  for (ShardGroup* g : lost_leadership) {
    fail_group(*g, "leadership of " + group_name(g->shard) + " moved");
  }
}

// What applying may have changed beyond the state machine: the group's
// members (a membership change or an installed snapshot), this node's own
// removal from it, and (for the metadata group) the cluster map.
void NodeHost::after_membership_applied(ShardGroup& g, const raft::Ready& rd) {
  bool changed = rd.snapshot.has_value();
  if (rd.snapshot) {
    g.last_conf_index = std::max(g.last_conf_index, rd.snapshot->meta.index);
    g.config_from = {rd.snapshot->meta.index, rd.snapshot->meta.term};
  }
  for (const raft::Entry& e : rd.committed_entries) {
    if (e.type != raft::EntryType::kConfChange) continue;
    changed = true;
    g.last_conf_index = e.index;
    g.config_from = {e.index, e.term};
    const auto cc = raft::decode_conf_change(e.data);
    if (cc && cc->type == raft::ConfChangeType::kRemoveNode && cc->node == topology().self) {
      g.removed_self = true;
    }
  }
  if (changed) {
    std::unique_lock lock(g.shared_state);
    refresh_replicas(g);
  }
  // Removed and then added back before this iteration: it stays. A peer's
  // notice that it was removed is void once a configuration applied here
  // holds it again (it was added back).
  const bool member = std::find(g.replicas.begin(), g.replicas.end(), topology().self) != g.replicas.end();
  if (g.removed_self && member) g.removed_self = false;
  if (changed && member) g.told_removed = false;
  if (is_meta(g) && (rd.snapshot || !rd.committed_entries.empty())) refresh_map();
}

// Snapshots received from leaders first, then one batch with every group's
// entries and hard state, one sync for all of them.
void NodeHost::persist(std::vector<std::pair<ShardGroup*, raft::Ready>>& readies) {
  storage::WriteBatch batch;
  std::vector<std::pair<ShardGroup*, raft::HardState>> commit_only;
  for (auto& [g, rd] : readies) {
    if (rd.snapshot) {
      const NodeTime began = env_.now();
      check_storage(disk_->save_snapshot(g->storage_id, *rd.snapshot));
      g->counters.snapshot_install_write_seconds = seconds_between(began, env_.now());
    }
    // Term and vote must be durable before any vote or append is
    // acknowledged; a change of commit alone costs no sync (the core says
    // which is which), except one that commits a membership change: the
    // configuration a node counts votes and acknowledgements by is the one
    // its commit index reaches, and after a restart it must not fall back
    // to an older one, whose majority may not overlap the current one's
    // (node simulator, seed 12: a node restarted two changes back won an
    // election with a removed member's vote, without an entry the current
    // members had committed).
    const bool commits_membership =
        std::any_of(rd.committed_entries.begin(), rd.committed_entries.end(),
                    [](const raft::Entry& e) { return e.type == raft::EntryType::kConfChange; });
    std::optional<raft::HardState> hs;
    if (rd.hard_state) {
      if (rd.must_sync || commits_membership) {
        MQ_INVARIANT(rd.hard_state->term >= g->persisted.term);
        hs = rd.hard_state;
      } else {
        commit_only.emplace_back(g, *rd.hard_state);
      }
    }
    if (hs || !rd.entries.empty()) {
      storage::GroupWrite w;
      w.group = g->storage_id;
      w.hard_state = hs;
      w.entries = rd.entries;
      batch.push_back(std::move(w));
      if (hs) g->persisted = *hs;
    }
  }
  // Commit-only changes ride along when there is a sync anyway, or when
  // the durable commit index has fallen too far behind.
  for (auto& [g, hs] : commit_only) {
    if (batch.empty() && hs.commit < g->persisted.commit + kCommitLagEntriesMax) continue;
    storage::GroupWrite w;
    w.group = g->storage_id;
    w.hard_state = hs;
    batch.push_back(std::move(w));
    g->persisted = hs;
  }
  if (!batch.empty()) {
    // An injected slow disk is timed with the fsync it slows: it stands for
    // a disk that is slow, and the histogram should show it.
    const NodeTime began = env_.now();
    if (const auto delay = fsync_delay(); delay.count() > 0 && env_.sleep) env_.sleep(delay);
    check_storage(disk_->append(batch));
    if (options_.fsync_mode != storage::FsyncMode::kNone) {
      metrics_.wal_fsync.observe(seconds_between(began, env_.now()));
    }
  }
  for (auto& [g, rd] : readies) {
    if (rd.snapshot) {
      log(LogLevel::kInfo, group_name(g->shard) + ": installed a snapshot at index " +
                               std::to_string(rd.snapshot->meta.index) + " from the leader");
      g->log.apply_snapshot(*rd.snapshot);
      check_storage(disk_->compact(g->storage_id, rd.snapshot->meta.index));
    }
    if (rd.hard_state) g->log.set_hard_state(*rd.hard_state);
    if (!rd.entries.empty()) g->log.append(rd.entries);
  }
}

// Sends the early (the core's messages_before_persist) or the remaining
// messages of every Ready, coalesced: one batch per destination for all
// groups, split only when it would outgrow what a peer accepts in one
// message.
void NodeHost::send_messages(std::vector<std::pair<ShardGroup*, raft::Ready>>& readies, bool early) {
  std::map<raft::NodeId, std::pair<peer::PeerBatch, size_t>> out;
  auto flush = [&](raft::NodeId to, peer::PeerBatch& batch) {
    batch.set_vote_refusal_us(static_cast<uint64_t>(own_vote_refusal_us_));
    if (memory_full_) {
      batch.set_memory_full(true);
      batch.set_memory_used_bytes(memory_in_use_);
      batch.set_memory_limit_bytes(options_.max_memory_bytes);
    }
    env_.peers->send(to, std::move(batch));
  };
  for (auto& [g, rd] : readies) {
    if (early && options_.mutations.votes_before_sync) {
      for (auto& m : rd.messages) rd.messages_before_persist.push_back(std::move(m));
      rd.messages.clear();
    }
    std::vector<raft::Message>& messages = early ? rd.messages_before_persist : rd.messages;
    for (raft::Message& m : messages) {
      MQ_INVARIANT(m.from == topology().self);
      auto& [batch, bytes] = out[m.to];
      std::string encoded = raft::encode(m);
      if (bytes > 0 && bytes + encoded.size() > kPeerBatchBytesMax) {
        flush(m.to, batch);
        batch = peer::PeerBatch();
        bytes = 0;
      }
      bytes += encoded.size();
      count_sent(m.to, g->shard, m, encoded.size());
      auto* gm = batch.add_messages();
      gm->set_shard(g->shard);
      gm->set_message(std::move(encoded));
      gm->set_applied(g->sm.applied_index());
    }
    messages.clear();
  }
  for (auto& [to, b] : out) flush(to, b.first);
}

void NodeHost::count_sent(raft::NodeId to, uint32_t shard, const raft::Message& m, size_t bytes) {
  if (to >= metrics_.peers.size()) return;
  PeerCounters& p = metrics_.peers[to];
  ++p.messages_sent;
  p.bytes_sent += bytes;
  if (m.type == raft::MessageType::kHeartbeat) p.probes.heartbeat_sent(shard, m.context, env_.now());
}

void NodeHost::check_storage(const storage::Status& s) {
  if (s.is_ok()) return;
  // Nothing past this point was acknowledged. Stopping is the only way to
  // keep that promise: a node that cannot persist must not vote or ack.
  env_.halt(kNodeExitStorageFailed, "storage failed: " + s.to_string() +
                                        "; stopping so that nothing unpersisted is acknowledged");
}

void NodeHost::restore(ShardGroup& g, const raft::Snapshot& snap) {
  std::string error;
  std::unique_lock lock(g.shared_state);
  if (!g.sm.restore(snap.data, &error)) {
    env_.halt(kNodeExitCorruptData, group_name(g.shard) + ": snapshot at index " +
                                        std::to_string(snap.meta.index) +
                                        " cannot be restored: " + error);
  }
}

void NodeHost::maybe_snapshot(ShardGroup& g) {
  const uint64_t applied = g.sm.applied_index();
  if (applied < g.log.snapshot_meta().index + options_.snapshot_every_entries &&
      g.applied_bytes_since_snapshot < options_.snapshot_log_bytes) {
    return;
  }
  // One snapshot per loop iteration: shards under the same load come due
  // together, and sixteen snapshots of large shards in one iteration held
  // the loop (heartbeats included) for seconds. The others wait their turn.
  if (snapshot_taken_this_iteration_) {
    g.snapshot_due = true;
    return;
  }
  snapshot_and_compact(g);
}

void NodeHost::take_one_due_snapshot() {
  if (snapshot_taken_this_iteration_) return;
  for (auto& gp : groups_) {
    if (gp && gp->snapshot_due) {
      snapshot_and_compact(*gp);
      return;
    }
  }
}

void NodeHost::snapshot_and_compact(ShardGroup& g) {
  g.snapshot_due = false;
  const uint64_t applied = g.sm.applied_index();
  if (!take_snapshot(g)) return;
  // The tail kept: at most log_tail_entries, and no more of them than fit
  // in log_tail_bytes.
  uint64_t through = applied > options_.log_tail_entries ? applied - options_.log_tail_entries : 0;
  through = std::max(through, g.log.cut_keeping_bytes(applied, options_.log_tail_bytes));
  if (through >= g.log.first_index() && g.log.compact(through)) compact_disk_later(g, through);
}

void NodeHost::compact_disk_later(ShardGroup& g, uint64_t through) {
  g.disk_compact_through = std::max(g.disk_compact_through, through);
}

// A second after they were written, the node's own snapshots are synced
// (their writeback started when they were written, so the sync is short),
// and only then may the WAL let go of what they cover.
void NodeHost::sync_snapshots() {
  if (!disk_->has_deferred_snapshots()) return;
  check_storage(disk_->sync_snapshots());
  for (auto& gp : groups_) {
    if (!gp || gp->disk_compact_through == 0) continue;
    const uint64_t through = std::min(gp->disk_compact_through, disk_->snapshot_index(gp->storage_id));
    if (through > 0) check_storage(disk_->compact(gp->storage_id, through));
    gp->disk_compact_through = 0;
  }
}

bool NodeHost::take_snapshot(ShardGroup& g) {
  const uint64_t applied = g.sm.applied_index();
  const NodeTime began = env_.now();
  // Written first, then the log's snapshot moves: a follower is only ever
  // sent chunks of a file that exists. Durable a little later
  // (sync_snapshots); the WAL keeps what it covers until then.
  raft::Snapshot snap;
  snap.meta.index = applied;
  if (applied <= g.log.snapshot_meta().index ||
      g.log.term(applied, &snap.meta.term) != raft::StorageError::kOk) {
    return false;
  }
  snap.meta.voters = g.node->voters();
  snap.meta.learners = g.node->learners();
  snap.data = g.sm.snapshot();
  check_storage(disk_->save_snapshot_deferred(g.storage_id, snap));
  const bool created = g.log.create_snapshot(applied, std::move(snap.meta.voters),
                                             std::move(snap.meta.learners), std::move(snap.data));
  MQ_INVARIANT(created);
  g.applied_bytes_since_snapshot = 0;
  snapshot_taken_this_iteration_ = true;
  metrics_.snapshot_save.observe(seconds_between(began, env_.now()));
  return true;
}

}  // namespace mq::server
