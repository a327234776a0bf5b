// The write-ahead log: every Raft group of a node appends to one shared
// sequence of segment files, so one fsync makes a whole loop iteration's
// writes (many groups, many entries) durable at once.
//
// On disk (directory <data-dir>/wal):
//   wal-<seq, 16 hex digits>.log, seq = 1, 2, 3, ... with no gaps.
//   Each segment is a sequence of records (framing in record.h). It starts
//   with a kSegmentHeader naming its own seq, then a checkpoint: one
//   kHardState record for every group known when the segment was opened, so
//   that releasing older segments never loses a hard state. Then kHardState
//   and kEntry records in write order. A segment is closed (a new one opened)
//   before a batch that would take it past segment_size_bytes_max, so a
//   segment exceeds the limit only when a single batch does.
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
//   - The last segment normally ends in preallocated zeros: where only zero
//     bytes follow the last record, the log ends cleanly, and open()
//     truncates the zeros without a log line.
//   - append() returns ok only after the data is synced (fsync mode always
//     or batch). A crash may leave a partial last batch: the final segment
//     then ends in an incomplete record, or in a damaged one with no valid
//     record after it (zeros may follow either). That torn tail was never
//     acknowledged; open() truncates it and says so through the log function.
//   - Any other damage (a bad record followed by a valid one, a bad record or
//     a zero tail in a segment that is not the last, a gap in the seq
//     numbers, a header that does not match its file name) is kCorrupt naming
//     the file and the byte offset. open() never skips data.
//   - Every open starts a new segment; the directory is fsynced after a
//     segment is created so its name survives a crash.
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
struct GroupWrite {
  GroupId group = 0;
  std::optional<raft::HardState> hard_state;
  std::span<const raft::Entry> entries;
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
};

struct WalOptions {
  FsyncMode fsync_mode = FsyncMode::kBatch;
  uint64_t segment_size_bytes_max = 64u << 20;
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
  std::vector<std::string> segment_names() const;
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
  std::string buffer_;                              // reused encoding buffer
  Status failure_;
};

std::string segment_file_name(uint64_t seq);

}  // namespace mq::storage
