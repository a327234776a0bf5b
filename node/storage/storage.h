// What a node's Raft groups persist: the seam between the node's event loop
// and the disk.
//
// Data dir layout:
//   <data-dir>/IDENTITY   node id and cluster id (identity.h)
//   <data-dir>/WAL_HEAD   the newest WAL segment written (wal.h)
//   <data-dir>/wal/       WAL segments shared by all groups (wal.h)
//   <data-dir>/snap/      one snapshot file per group (snapshot_file.h)
//
// Use, per event-loop iteration: append() one WriteBatch holding every
// group's new entries and hard state; when it returns ok, the batch is on
// disk (fsync batch or always) and may be acknowledged. save_snapshot() when
// a group's state machine is snapshotted or a snapshot is installed;
// compact() once a snapshot covers an index, to let WAL segments go.
//
// Recovery (open): the newest valid snapshot of each group, then the WAL
// replayed on top of it: entries at or below the snapshot index are dropped,
// an entry at index i replaces everything from i on, the last hard state
// wins. Entries after the snapshot index are returned as written, even when
// an installed snapshot disagreed with them; the Raft core reconciles them
// with the leader as it does for any follower log.
//
// open() fails, never repairs silently, when:
//   - the identity names another node or cluster (kForeignDataDir; exit 11)
//   - a WAL batch other than the torn last one is damaged, a segment is
//     missing, a group's entries skip an index (their segment or the
//     snapshot they follow is gone), or a group's commit index is beyond the
//     entries and snapshot that survive (kCorrupt naming the file and offset;
//     exit 10)
//   - wal/ or snap/ is not a directory, or the disk cannot be read or
//     written (exit 5, cannot start).
// A torn last batch (damaged anywhere, by a power loss that kept some of its
// pages and lost others, with no intact batch after it: never acknowledged)
// is truncated with a log line; the unused preallocated zeros ending the last
// WAL segment are truncated silently (wal.h). A WriteBatch is recovered whole
// or not at all (fsync mode always: a prefix of its groups, each whole).
//
// Not thread-safe: one event loop owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/raft/types.h"
#include "node/storage/file_system.h"
#include "node/storage/status.h"
#include "node/storage/wal.h"

namespace mq::storage {

struct StorageOptions {
  std::string data_dir;
  std::string node_id;     // stored in IDENTITY on first open, checked after
  std::string cluster_id;
  uint64_t member_id = 0;  // the node's Raft id, stored beside them (0: not recorded)
  uint32_t shard_count = 0;  // likewise: a node that joined learns it from here
  FsyncMode fsync_mode = FsyncMode::kBatch;
  // 16 MiB: segments are shared by every group and go only once all of them
  // are covered, so the size is the granularity of what the WAL keeps
  // beyond what it needs.
  uint64_t segment_size_bytes_max = 16u << 20;
  FileSystem* fs = nullptr;  // nullptr: the real disk
  LogFn log;                 // nullptr: lines go to stderr
};

struct RecoveredGroup {
  std::optional<raft::Snapshot> snapshot;  // newest valid one
  raft::HardState hard_state;
  std::vector<raft::Entry> entries;  // consecutive, starting after the snapshot
};
using RecoveredState = std::map<GroupId, RecoveredGroup>;

class Storage {
 public:
  // Creates the data dir if needed and recovers it into *recovered.
  static Result<std::unique_ptr<Storage>> open(const StorageOptions& options, RecoveredState* recovered);

  // Durable (per fsync mode) when ok. After any write or sync failure every
  // later call fails with kStopped: the node must stop acknowledging.
  Status append(const WriteBatch& batch);

  // Persists the snapshot (atomically, checksummed) and drops the group's
  // older snapshot files. snapshot.data is written straight from the
  // caller's buffer.
  Status save_snapshot(GroupId group, const raft::Snapshot& snapshot);

  // As save_snapshot, but the fsync is left for sync_snapshots(): the file
  // is readable at once (a leader may stream it), and counts for compact()
  // only once synced. A node's own snapshots go this way, so their fsync,
  // which took 100 ms for a 12 MB shard, does not hold the loop: the
  // writeback starts now and the sync, a second later, finds it done.
  Status save_snapshot_deferred(GroupId group, const raft::Snapshot& snapshot);
  Status sync_snapshots();
  bool has_deferred_snapshots() const { return !deferred_.empty(); }
  // The group's newest durable snapshot index (0: none): compact() goes no
  // further.
  uint64_t snapshot_index(GroupId group) const {
    auto it = snapshot_index_.find(group);
    return it == snapshot_index_.end() ? 0 : it->second;
  }

  // Up to max_bytes of the image of the group's snapshot at index, from
  // offset, read from its file (see read_snapshot_data).
  Status read_snapshot_data(GroupId group, uint64_t index, uint64_t offset, uint64_t max_bytes,
                            std::string* out);

  // Declares that the group no longer needs entries at or below index;
  // releases WAL segments nobody needs. index must not exceed the group's
  // saved snapshot (kInvalidArgument otherwise).
  Status compact(GroupId group, uint64_t index);

  // The node no longer hosts the group: its removal is made durable, then
  // its snapshot files are deleted, and the WAL keeps nothing for it. The
  // id must not be written again; a later replica of the same shard takes
  // another (recovery refuses records of a group after its removal).
  Status remove_group(GroupId group, const GroupTombstone& tombstone);
  // Every group removed from this node, with its tombstone (wal.h): their
  // ids are not to be reused.
  const std::map<GroupId, GroupTombstone>& removed_groups() const { return removed_groups_; }
  // The data dir was written before nodes recorded their member id (and
  // before the cluster map existed).
  bool predates_membership() const { return predates_membership_; }

  const Status& failure() const { return wal_->failure(); }
  FsyncMode fsync_mode() const { return options_.fsync_mode; }
  size_t wal_segment_count() const { return wal_->segment_count(); }

  // Disk follows the data: the WAL segments before the one being written
  // may hold as many bytes as the groups' snapshots (and two segments in
  // any case). Beyond that the WAL is over budget, and oldest_segment_pins()
  // names what keeps its oldest segment: each group whose entries in it are
  // not yet compacted, with the index it must compact through to let it go
  // (the caller snapshots such a group early).
  bool wal_over_budget() const;
  std::map<GroupId, uint64_t> oldest_segment_pins() const;
  uint64_t wal_bytes_written() const { return wal_->bytes_written(); }

  ~Storage();

 private:
  explicit Storage(StorageOptions options);
  Status forget_snapshots(GroupId group);

  StorageOptions options_;
  std::unique_ptr<FileSystem> owned_fs_;
  FileSystem* fs_ = nullptr;
  std::unique_ptr<Wal> wal_;
  std::map<GroupId, uint64_t> snapshot_index_;
  std::map<GroupId, uint64_t> snapshot_bytes_;  // the image size of each group's snapshot
  struct Deferred {
    GroupId group;
    uint64_t index;
    uint64_t bytes;
  };
  std::vector<Deferred> deferred_;  // written, not yet synced
  std::map<GroupId, uint64_t> compacted_through_;
  std::map<GroupId, GroupTombstone> removed_groups_;
  bool predates_membership_ = false;
};

}  // namespace mq::storage
