#include "node/storage/storage.h"

#include <iostream>
#include <set>

#include "node/storage/identity.h"
#include "node/storage/snapshot_file.h"

namespace mq::storage {
namespace {

constexpr const char* kWalDir = "wal";
constexpr const char* kSnapDir = "snap";
constexpr const char* kWalHeadFile = "WAL_HEAD";

// Builds each group's log from the replayed records (the rules are in
// storage.h).
class Rebuilder final : public WalReplayHandler {
 public:
  Rebuilder(RecoveredState* state, std::map<GroupId, GroupTombstone>* removed)
      : state_(state), removed_(removed) {}

  // The group's snapshot goes too: the files of a removed group are
  // deleted once its removal is durable, so any left are from before it.
  Status on_group_removed(GroupId group, const GroupTombstone& tombstone,
                          const std::string&) override {
    state_->erase(group);
    (*removed_)[group] = tombstone;
    gaps_.erase(group);
    return Status::ok();
  }

  // A gap in a group's entries is corruption, unless the group's removal
  // follows it: the WAL released the segments before the gap once the
  // group was removed. Known only at the end of the replay.
  Status gaps() const { return gaps_.empty() ? Status::ok() : gaps_.begin()->second; }

  Status on_hard_state(GroupId group, const raft::HardState& hs, const std::string& where) override {
    if (removed_->count(group)) return written_after_removal(group, where);
    (*state_)[group].hard_state = hs;
    return Status::ok();
  }

  Status on_entry(GroupId group, raft::Entry&& entry, const std::string& where) override {
    if (removed_->count(group)) return written_after_removal(group, where);
    if (gaps_.count(group)) return Status::ok();
    RecoveredGroup& g = (*state_)[group];
    const uint64_t base = g.snapshot ? g.snapshot->meta.index : 0;
    if (entry.index == 0) return {StatusCode::kCorrupt, where + ": entry with index 0"};
    if (entry.index <= base) {
      // Rewrites a covered index, so whatever followed it was overwritten too.
      g.entries.clear();
      return Status::ok();
    }
    const uint64_t next = g.entries.empty() ? base + 1 : g.entries.back().index + 1;
    if (entry.index > next) {
      gaps_.emplace(group, Status{StatusCode::kCorrupt,
                                  where + ": group " + std::to_string(group) + " entry " +
                                      std::to_string(entry.index) + " follows index " +
                                      std::to_string(next - 1) +
                                      " (a WAL segment or the snapshot before it is missing)"});
      return Status::ok();
    }
    const uint64_t first = g.entries.empty() ? next : g.entries.front().index;
    g.entries.resize(entry.index - first);
    g.entries.push_back(std::move(entry));
    return Status::ok();
  }

 private:
  static Status written_after_removal(GroupId group, const std::string& where) {
    return {StatusCode::kCorrupt, where + ": group " + std::to_string(group) +
                                      " is written after its removal (group ids are never reused)"};
  }

  RecoveredState* state_;
  std::map<GroupId, GroupTombstone>* removed_;
  std::map<GroupId, Status> gaps_;
};

Status validate_batch(const WriteBatch& batch) {
  for (const GroupWrite& w : batch) {
    for (size_t i = 0; i < w.entries.size(); ++i) {
      if (w.entries[i].index == 0 || (i > 0 && w.entries[i].index != w.entries[i - 1].index + 1)) {
        return {StatusCode::kInvalidArgument, "group " + std::to_string(w.group) +
                                                  ": entries must have consecutive indexes starting above 0"};
      }
    }
  }
  return Status::ok();
}

}  // namespace

Storage::Storage(StorageOptions options) : options_(std::move(options)) {}
Storage::~Storage() = default;

Result<std::unique_ptr<Storage>> Storage::open(const StorageOptions& options, RecoveredState* recovered) {
  std::unique_ptr<Storage> st(new Storage(options));
  if (!st->options_.log) {
    st->options_.log = [](const std::string& line) { std::cerr << "mq storage: " << line << std::endl; };
  }
  if (st->options_.fs == nullptr) {
    st->owned_fs_ = make_posix_file_system();
    st->options_.fs = st->owned_fs_.get();
  }
  st->fs_ = st->options_.fs;
  FileSystem* fs = st->fs_;
  const LogFn& log = st->options_.log;
  const std::string& dir = options.data_dir;
  if (dir.empty()) return Status(StatusCode::kInvalidArgument, "data dir is empty");
  if (options.fsync_mode == FsyncMode::kNone) {
    log("WARNING: --fsync none: writes are acknowledged WITHOUT reaching the disk; a crash loses them. "
        "For benchmarks only, never for data you keep.");
  }

  const std::string wal_dir = join_path(dir, kWalDir);
  const std::string snap_dir = join_path(dir, kSnapDir);
  if (Status s = fs->create_dir(dir); !s.is_ok()) return s;
  // An existing wal/ or snap/ must be a directory (create_dir of an existing
  // name checks that and creates nothing), checked first: a file in its
  // place would otherwise pass for a log (has_data) or fail later as an
  // unexplained I/O error.
  for (const std::string& sub : {wal_dir, snap_dir}) {
    if (!fs->exists(sub)) continue;
    if (Status s = fs->create_dir(sub); !s.is_ok()) {
      return Status(s.code(), s.message() + "; the data dir cannot be used");
    }
  }
  // Data is a file in wal/ or snap/: the directories alone are what a first
  // start killed before writing its identity leaves.
  bool has_data = false;
  for (const std::string& sub : {wal_dir, snap_dir}) {
    if (!fs->exists(sub)) continue;
    auto names = fs->list_dir(sub);
    if (!names.is_ok()) return names.status();
    has_data = has_data || !names.value().empty();
  }
  const bool had_identity = fs->exists(join_path(dir, kIdentityFileName));
  if (had_identity && !fs->exists(wal_dir)) {
    return Status(StatusCode::kCorrupt, wal_dir + " is missing from an initialised data dir");
  }
  // The directories are durable before the identity is written, so an
  // identity always stands beside its wal/: a first start killed between
  // the two must not leave a data dir that reads as corrupt.
  for (const std::string& sub : {wal_dir, snap_dir}) {
    if (Status s = fs->create_dir(sub); !s.is_ok()) return s;
  }
  if (Status s = fs->sync_dir(dir); !s.is_ok()) return s;
  if (Status s = check_or_create_identity(fs, dir, options.node_id, options.cluster_id, has_data,
                                            options.member_id, options.shard_count); !s.is_ok()) {
    return s;
  }
  if (Identity stored; had_identity && read_identity(fs, dir, &stored).is_ok()) {
    st->predates_membership_ = stored.member_id == 0;
  }

  recovered->clear();
  std::map<GroupId, raft::Snapshot> snapshots;
  if (Status s = load_snapshots(fs, snap_dir, log, &snapshots); !s.is_ok()) return s;
  // A snapshot written just before a crash may not be durable yet (its data
  // or its name: see Durability::kLater). It is what recovery now stands on,
  // and the node may release WAL segments because of it: made durable here,
  // before anything relies on it, and the group's older files go.
  for (const auto& [group, snap] : snapshots) {
    if (Status s = sync_snapshot(fs, snap_dir, group, snap.meta.index); !s.is_ok()) return s;
  }
  for (auto& [group, snap] : snapshots) {
    st->snapshot_index_[group] = snap.meta.index;
    st->snapshot_bytes_[group] = snap.data.size();
    (*recovered)[group].snapshot = std::move(snap);
  }

  Rebuilder rebuilder(recovered, &st->removed_groups_);
  WalOptions wal_options;
  wal_options.fsync_mode = options.fsync_mode;
  wal_options.segment_size_bytes_max = options.segment_size_bytes_max;
  wal_options.head_path = join_path(dir, kWalHeadFile);
  auto wal = Wal::open(fs, wal_dir, wal_options, &rebuilder, log);
  if (!wal.is_ok()) return wal.status();
  if (Status s = rebuilder.gaps(); !s.is_ok()) return s;
  st->wal_ = std::move(wal.value());

  // A crash between a group's removal and the deletion of its snapshot
  // files leaves them behind: they go now.
  for (const auto& [group, tombstone] : st->removed_groups_) {
    if (Status s = st->forget_snapshots(group); !s.is_ok()) return s;
  }
  for (const auto& [group, g] : *recovered) {
    const uint64_t last = g.entries.empty() ? (g.snapshot ? g.snapshot->meta.index : 0) : g.entries.back().index;
    if (g.hard_state.commit > last) {
      return Status(StatusCode::kCorrupt, wal_dir + ": group " + std::to_string(group) + " committed index " +
                                              std::to_string(g.hard_state.commit) + " but only " +
                                              std::to_string(last) + " survive (lost WAL segment or snapshot)");
    }
  }
  return st;
}

Status Storage::append(const WriteBatch& batch) {
  if (Status s = validate_batch(batch); !s.is_ok()) return s;
  return wal_->append(batch);
}

Status Storage::remove_group(GroupId group, const GroupTombstone& tombstone) {
  GroupWrite w;
  w.group = group;
  w.removed = true;
  w.tombstone = tombstone;
  if (Status s = wal_->append({w}); !s.is_ok()) return s;
  removed_groups_[group] = tombstone;
  return forget_snapshots(group);
}

Status Storage::forget_snapshots(GroupId group) {
  const std::string dir = join_path(options_.data_dir, kSnapDir);
  if (Status s = remove_older_snapshots(fs_, dir, group, UINT64_MAX); !s.is_ok()) return s;
  if (Status s = fs_->sync_dir(dir); !s.is_ok()) return s;
  snapshot_index_.erase(group);
  snapshot_bytes_.erase(group);
  compacted_through_.erase(group);
  std::erase_if(deferred_, [group](const Deferred& d) { return d.group == group; });
  return Status::ok();
}

Status Storage::save_snapshot(GroupId group, const raft::Snapshot& snapshot) {
  if (!wal_->failure().is_ok()) return {StatusCode::kStopped, wal_->failure().to_string()};
  auto it = snapshot_index_.find(group);
  if (it != snapshot_index_.end() && it->second > snapshot.meta.index) {
    return {StatusCode::kInvalidArgument, "group " + std::to_string(group) + " already has a snapshot at " +
                                              std::to_string(it->second) + ", newer than " +
                                              std::to_string(snapshot.meta.index)};
  }
  if (Status s = write_snapshot(fs_, join_path(options_.data_dir, kSnapDir), group, snapshot); !s.is_ok()) {
    return s;
  }
  snapshot_index_[group] = snapshot.meta.index;
  snapshot_bytes_[group] = snapshot.data.size();
  return Status::ok();
}

Status Storage::save_snapshot_deferred(GroupId group, const raft::Snapshot& snapshot) {
  if (!wal_->failure().is_ok()) return {StatusCode::kStopped, wal_->failure().to_string()};
  if (Status s = write_snapshot(fs_, join_path(options_.data_dir, kSnapDir), group, snapshot,
                                Durability::kLater);
      !s.is_ok()) {
    return s;
  }
  deferred_.push_back({group, snapshot.meta.index, snapshot.data.size()});
  return Status::ok();
}

Status Storage::sync_snapshots() {
  const std::string dir = join_path(options_.data_dir, kSnapDir);
  std::vector<Deferred> pending;
  pending.swap(deferred_);
  for (const Deferred& d : pending) {
    auto it = snapshot_index_.find(d.group);
    // Superseded by a newer snapshot saved since (its save removed this one).
    if (it != snapshot_index_.end() && it->second >= d.index) continue;
    bool newest = true;
    for (const Deferred& other : pending) newest = newest && !(other.group == d.group && other.index > d.index);
    if (!newest) continue;  // a newer one of the group is synced instead
    if (Status s = sync_snapshot(fs_, dir, d.group, d.index); !s.is_ok()) return s;
    snapshot_index_[d.group] = d.index;
    snapshot_bytes_[d.group] = d.bytes;
  }
  return Status::ok();
}

Status Storage::read_snapshot_data(GroupId group, uint64_t index, uint64_t offset,
                                   uint64_t max_bytes, std::string* out) {
  return storage::read_snapshot_data(fs_, join_path(options_.data_dir, kSnapDir), group, index,
                                     offset, max_bytes, out);
}

bool Storage::wal_over_budget() const {
  const size_t older = wal_->segment_count() > 0 ? wal_->segment_count() - 1 : 0;
  if (older <= 2) return false;
  uint64_t snapshots = 0;
  for (const auto& [group, bytes] : snapshot_bytes_) snapshots += bytes;
  return older * wal_->segment_size_bytes_max() > snapshots;
}

std::map<GroupId, uint64_t> Storage::oldest_segment_pins() const {
  std::map<GroupId, uint64_t> pins;
  const auto* oldest = wal_->oldest_segment_max_index();
  if (oldest == nullptr) return pins;
  for (const auto& [group, max_index] : *oldest) {
    auto it = compacted_through_.find(group);
    if (it == compacted_through_.end() || it->second < max_index) pins[group] = max_index;
  }
  return pins;
}

Status Storage::compact(GroupId group, uint64_t index) {
  auto it = snapshot_index_.find(group);
  if (it == snapshot_index_.end() || it->second < index) {
    return {StatusCode::kInvalidArgument, "group " + std::to_string(group) + ": cannot compact through " +
                                              std::to_string(index) + " without a snapshot covering it"};
  }
  uint64_t& through = compacted_through_[group];
  through = std::max(through, index);
  return wal_->release(compacted_through_);
}

}  // namespace mq::storage
