// The write-ahead log: every Raft group of a node appends to one shared
// sequence of segment files, so one fsync makes a whole loop iteration's
// writes (many groups, many entries) durable at once.
//
// On disk (directory <data-dir>/wal):
//   wal-<seq, 16 hex digits>.log, seq = 1, 2, 3, ... with no gaps.
//   Each segment is a sequence of batches; each batch frames records
//   (record.h). A segment's first batch holds a kSegmentHeader record naming
//   the segment's seq, then a checkpoint: one kHardState record for every
//   group known when the segment was opened, so that releasing older segments
//   never loses a hard state. Each later batch holds what one append() wrote:
//   kEntry and kHardState records in write order (in fsync mode always, one
//   batch per group, as each group is synced on its own). A segment is closed
//   (a new one opened) before a batch that would take it past
//   segment_size_bytes_max, so a segment exceeds the limit only when a single
//   batch does.
//
// Batch frame (all integers little-endian; format version 2 in the segment
// header, version 1 had bare records and is refused):
//   offset 0   u32  magic 0x4257514D (bytes "MQWB")
//   offset 4   u32  crc32c of bytes [8, 24): the rest of the header
//   offset 8   u64  batch sequence number: 1 for the first batch of the log,
//                   then +1 for every batch, across segments
//   offset 16  u32  length of the records in bytes
//   offset 20  u32  crc32c of the records
//   offset 24       records, each with its own checksum (record.h)
// The two checksums cover every byte. A batch is atomic on replay: all of its
// records are applied or none, so the last append() (fsync mode batch) is
// recovered whole or not at all; in fsync mode always, a prefix of its groups.
//
// Preallocation: a segment is created at segment_size_bytes_max bytes of
// zeros (fallocate, synced with its header), and records overwrite the zeros
// in place, so each append's fdatasync has no file size change to journal.
// Only the last segment ends in such zeros: before the next segment is
// created, the finished one is truncated to the bytes written, and synced.
// Where the file system cannot preallocate, segments grow as they are
// written, as if nothing had been preallocated.
//
// Meaning on replay, in file order: a kHardState replaces the group's hard
// state; a kEntry with index i replaces the group's entries from i on (this is
// how an overwritten follower suffix is truncated: logically, by the later
// record, never by rewriting a file).
//
// Crash behaviour:
//   - append() returns ok only after the batch is synced (fsync mode always
//     or batch), and the next batch is written only after that. One
//     fdatasync orders nothing between the pages of a batch, though: a power
//     loss during the last batch can keep any subset of its pages (a lost
//     one reads as zeros in a preallocated segment, or as whatever the disk
//     held), and tear a sector.
//   - Recovery reads batches in order. At the first one that is damaged
//     (bad magic or header checksum, records checksum mismatch, or running
//     past the end of the file) it looks for an intact batch further on with
//     a sequence number above the one expected there. Finding one proves the
//     damaged batch was synced before that later one was written: the damage
//     hit acknowledged data, and open() fails with kCorrupt naming the file
//     and the offset of the damaged batch. Finding none, in the newest
//     segment, means the damage is the torn last batch, which was never
//     acknowledged: open() truncates the segment at that batch and says so
//     through the log function. (An intact batch with a sequence number not
//     above the expected one proves nothing: it can only be a copy inside a
//     record, such as an entry holding WAL bytes.)
//   - Zeros from a batch boundary to the end of the newest segment are the
//     log's clean end (preallocated space never written): open() truncates
//     them without a log line. A zeroed page followed by non-zero bytes of
//     the same last batch is a torn tail as above, not a clean end.
//   - Any damage in a segment that is not the newest, zeros ending one, an
//     intact batch whose records do not decode, a batch sequence number out
//     of order, a gap in the segment seqs, or a header that does not match
//     its file name is kCorrupt naming the file and the byte offset. open()
//     never skips data.
//   - fsync mode none syncs nothing, so no batch proves another was synced:
//     after a power loss its log can be refused as corrupt.
//   - Every open starts a new segment; the directory is fsynced after a
//     segment is created so its name survives a crash. A newest segment whose
//     first batch is torn (a crash while it was created) is removed.
//   - A head file (WalOptions::head_path, outside the segment directory so
//     that emptying that directory is noticed) names the newest segment made
//     durable: "mq-wal-head <seq> <crc32c hex>". It is replaced atomically
//     (temp file, fsync, rename, fsync dir) after each new segment is durable,
//     so open() can tell a log whose newest segments were lost (kCorrupt)
//     from one that simply ends. Only a log of segment 1 alone may lack it
//     (a crash between creating that segment and writing the head file).
//   - After any failed write or sync, the Wal refuses every later append
//     (kStopped, carrying the first error): after a failed fsync the kernel
//     may have dropped the dirty pages, so retrying could acknowledge data
//     that is not on disk.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "node/raft/types.h"
#include "node/storage/file_system.h"
#include "node/storage/status.h"

namespace mq::storage {

using GroupId = uint32_t;

enum class FsyncMode {
  kAlways,  // one fsync per group written in a batch: no sharing across groups
  kBatch,   // one fsync per append() for all groups (group commit); the default
  kNone,    // no fsync at all: benchmarks only, acknowledged data can be lost
};
const char* fsync_mode_name(FsyncMode mode);
bool parse_fsync_mode(std::string_view text, FsyncMode* mode);

// What one Raft group persists in one loop iteration. Entries have
// consecutive indexes; the first replaces the group's log from its index on.
// The hard state is written after the entries: a torn tail then never keeps a
// commit index while losing the entries it covers. Both are durable before
// append() returns, so the order never shows to a caller that waits for it.
//
// removed: the group is gone from this node (its replica was removed from
// the group): recovery forgets every earlier record of it, and the WAL no
// longer keeps segments or checkpoints for it. Such a write carries nothing
// else, and the group id is not written again (a replica created later gets
// another id).
// What a removed group leaves behind: its last hard state and the position
// of its last entry. A replica of the same Raft group started later on this
// node (under another id) begins at that term and vote, and refuses votes
// to candidates whose logs are behind that position: members that have not
// learned of the removal still count this node as a voter, and an empty
// replica's vote would elect a leader lacking entries this one had.
struct GroupTombstone {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t last_index = 0;
  uint64_t last_term = 0;
};

struct GroupWrite {
  GroupId group = 0;
  std::optional<raft::HardState> hard_state;
  std::span<const raft::Entry> entries;
  bool removed = false;
  GroupTombstone tombstone;  // with removed
};
using WriteBatch = std::vector<GroupWrite>;

using LogFn = std::function<void(const std::string& line)>;

// Receives the records of every segment in order during Wal::open.
class WalReplayHandler {
 public:
  virtual ~WalReplayHandler() = default;
  // `where` is "<file> offset <n>", ready for an error message.
  virtual Status on_hard_state(GroupId group, const raft::HardState& hs, const std::string& where) = 0;
  virtual Status on_entry(GroupId group, raft::Entry&& entry, const std::string& where) = 0;
  virtual Status on_group_removed(GroupId group, const GroupTombstone& tombstone,
                                  const std::string& where) = 0;
};

struct WalOptions {
  FsyncMode fsync_mode = FsyncMode::kBatch;
  uint64_t segment_size_bytes_max = 16u << 20;
  std::string head_path;  // empty: <dir>/HEAD
};

class Wal {
 public:
  // Replays every segment in dir through handler, truncates a torn tail or
  // the zero tail of the last segment, then opens a fresh (preallocated)
  // segment for writing. dir must exist.
  static Result<std::unique_ptr<Wal>> open(FileSystem* fs, const std::string& dir, const WalOptions& options,
                                           WalReplayHandler* handler, const LogFn& log);

  // Writes the batch and syncs it as fsync_mode says; ok means durable
  // (except in kNone).
  Status append(const WriteBatch& batch);

  // Deletes the oldest segments all of whose entries are at or below their
  // group's index in compacted_through (groups not named: nothing compacted).
  // The segment being written is never deleted.
  Status release(const std::map<GroupId, uint64_t>& compacted_through);

  size_t segment_count() const { return segments_.size(); }
  uint64_t segment_size_bytes_max() const { return options_.segment_size_bytes_max; }
  // The highest entry index of each group in the oldest segment, when it is
  // not the one being written (nullptr then): what keeps it on disk.
  const std::map<GroupId, uint64_t>* oldest_segment_max_index() const {
    return segments_.size() > 1 ? &segments_.front().max_index : nullptr;
  }
  std::vector<std::string> segment_names() const;
  // Bytes appended to segments since this Wal was opened: batches, and each
  // new segment's header with its hard-state checkpoint; not the
  // preallocated zeros, which are reserved rather than written.
  uint64_t bytes_written() const { return bytes_written_; }
  // ok while writes are accepted; the first failure afterwards.
  const Status& failure() const { return failure_; }

 private:
  struct Segment {
    uint64_t seq = 0;
    std::map<GroupId, uint64_t> max_index;  // highest entry index per group in it
  };

  Wal(FileSystem* fs, std::string dir, WalOptions options) : fs_(fs), dir_(std::move(dir)), options_(options) {}
  Status replay(WalReplayHandler* handler, const LogFn& log);
  Status replay_segment(uint64_t seq, bool is_last, WalReplayHandler* handler, const LogFn& log);
  // Dispatches the records of one intact batch; `at` is its offset.
  Status replay_batch(const std::string& path, uint64_t at, std::string_view records, Segment* segment,
                      bool* saw_header, WalReplayHandler* handler);
  void forget_group(GroupId group);
  Status roll();
  Status write_head(uint64_t seq);
  Status check_head(uint64_t newest_seq);
  Status write_and_sync(std::string_view data, bool sync);
  Status fail(Status status);

  FileSystem* fs_;
  std::string dir_;
  WalOptions options_;
  std::vector<Segment> segments_;  // oldest first; the last one is being written
  std::unique_ptr<WritableFile> active_;
  uint64_t active_header_bytes_ = 0;
  std::map<GroupId, raft::HardState> hard_states_;  // latest, for checkpoints
  // Removed groups, checkpointed into every new segment like hard states,
  // so their tombstones outlive the segment that first recorded them.
  std::map<GroupId, GroupTombstone> removed_;
  std::string buffer_;                              // reused encoding buffer
  uint64_t next_batch_seq_ = 0;  // the next batch's sequence number; 0 while replay has seen none
  uint64_t bytes_written_ = 0;
  Status failure_;
};

std::string segment_file_name(uint64_t seq);

}  // namespace mq::storage
