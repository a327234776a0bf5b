// The node's log as the protocol sees it: the stable part in Storage, and the
// unstable tail (entries and perhaps a snapshot) not yet handed out in a
// Ready. The unstable tail is what a crash loses.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "node/raft/storage.h"
#include "node/raft/types.h"

namespace mq::raft {

class RaftLog {
 public:
  explicit RaftLog(const Storage& storage);

  uint64_t first_index() const;
  uint64_t last_index() const;
  uint64_t last_term() const;
  // Term of entry `index`; nullopt when compacted or past the end.
  std::optional<uint64_t> term(uint64_t index) const;
  bool match_term(uint64_t index, uint64_t term) const;
  // Does a log ending at (last_index, last_term) hold everything this one does?
  bool is_up_to_date(uint64_t last_index, uint64_t last_term) const;

  // Follower side of AppendEntries: if the entry at `index` has `log_term`,
  // writes `entries` after it (truncating a conflicting suffix) and returns
  // the index of the last new entry.
  std::optional<uint64_t> maybe_append(uint64_t index, uint64_t log_term, uint64_t commit,
                                       const std::vector<Entry>& entries);
  // Appends after truncating anything at or past entries.front().index.
  uint64_t append(const std::vector<Entry>& entries);
  // Largest index <= `index` whose term is <= `term`: where a leader and a
  // follower can both agree the logs might match (the fast back-off hint).
  uint64_t find_conflict_by_term(uint64_t index, uint64_t term) const;

  // Entries from lo to the end, bounded by bytes and count (at least one when
  // any exist). Returns false when lo is compacted.
  bool entries_from(uint64_t lo, uint64_t max_bytes, uint64_t max_count,
                    std::vector<Entry>* out) const;
  bool slice(uint64_t lo, uint64_t hi, uint64_t max_bytes, std::vector<Entry>* out) const;

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  void commit_to(uint64_t index);
  void applied_to(uint64_t index);

  // Committed entries not yet applied; none while a snapshot is pending,
  // since the snapshot replaces them.
  bool has_next_committed() const;
  std::vector<Entry> next_committed(uint64_t max_bytes) const;

  // Replaces the log with a snapshot received from the leader.
  void restore(const Snapshot& snapshot);

  const std::vector<Entry>& unstable_entries() const { return unstable_entries_; }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  // The caller persisted entries up to (index, term) / the snapshot.
  void stable_to(uint64_t index, uint64_t term);
  void stable_snapshot_to(uint64_t index);

 private:
  const Storage& storage_;
  std::optional<Snapshot> unstable_snapshot_;
  // unstable_entries_[i].index == unstable_offset_ + i.
  uint64_t unstable_offset_ = 0;
  std::vector<Entry> unstable_entries_;
  uint64_t committed_ = 0;
  uint64_t applied_ = 0;
};

}  // namespace mq::raft
