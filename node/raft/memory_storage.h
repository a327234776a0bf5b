// Storage held in memory: the simulator's disk, and the server's in-memory
// mirror of its WAL. Writers follow Ready: set_hard_state, apply_snapshot and
// append exactly what a Ready carries, before advance().
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "node/raft/storage.h"

namespace mq::raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;

  HardState hard_state() const override { return hard_state_; }
  uint64_t first_index() const override { return offset_ + 1; }
  uint64_t last_index() const override { return offset_ + entries_.size(); }
  StorageError term(uint64_t index, uint64_t* term_out) const override;
  StorageError entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                       std::vector<Entry>* out) const override;
  const SnapshotMeta& snapshot_meta() const override { return snapshot_.meta; }
  uint64_t snapshot_bytes() const override { return snapshot_bytes_; }
  std::string snapshot_chunk(uint64_t offset, uint64_t max_bytes) const override;
  // The newest snapshot, its image included unless images are kept
  // elsewhere (then its data is empty).
  const Snapshot& snapshot() const { return snapshot_; }

  // Reads up to max_bytes of the image of the snapshot `meta` from offset.
  using ImageReader =
      std::function<std::string(const SnapshotMeta& meta, uint64_t offset, uint64_t max_bytes)>;
  // From now on images are not held here, only their size: chunks are read
  // through reader (a server reads its snapshot files, so an image of a
  // hundred megabytes costs no memory between transfers).
  void keep_images_elsewhere(ImageReader reader) { image_reader_ = std::move(reader); }

  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  // Entries replace any stored entries at the same or later indexes, as a
  // follower's log is overwritten by its leader's.
  void append(const std::vector<Entry>& entries);
  // Replaces the whole log by the snapshot (a follower catching up).
  void apply_snapshot(const Snapshot& snapshot);
  // The application hands its state at `index` (<= last_index, > current
  // snapshot): the new snapshot a leader sends to lagging followers.
  // Returns false when index is not in that range.
  bool create_snapshot(uint64_t index, std::vector<NodeId> voters,
                       std::vector<NodeId> learners, std::string data);
  // Drops entries up to `index` (<= snapshot index). Returns false when out of range.
  bool compact(uint64_t index);
  // The highest index whose cut keeps at most `bytes` of payload in the
  // entries after it up to and including `upto` (<= last_index()).
  uint64_t cut_keeping_bytes(uint64_t upto, uint64_t bytes) const;

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  uint64_t snapshot_bytes_ = 0;
  ImageReader image_reader_;  // empty: images are held in snapshot_.data
  // The log is cut at offset_ (entries_[i].index == offset_ + 1 + i), which
  // trails or equals the snapshot index: create_snapshot and compact are
  // separate steps so an application may keep a tail for slow followers.
  uint64_t offset_ = 0;
  uint64_t offset_term_ = 0;
  // A deque, not a vector: entries leave from the front as the log is
  // compacted, and a vector kept the capacity of its longest log (16 shards
  // of 20,000 entries held 29 MB of slots).
  std::deque<Entry> entries_;
};

// Bootstraps a new group: entries 1..n, term 1, each adding one voter, all
// committed. Every initial member starts from exactly this log, so a node
// that joins later learns the whole membership from the log or a snapshot.
void bootstrap(MemoryStorage& storage, const std::vector<NodeId>& voters);

}  // namespace mq::raft
