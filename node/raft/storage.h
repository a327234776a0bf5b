// The stable log as the core reads it. The caller writes it (Ready.entries,
// Ready.snapshot) before acknowledging anything; the core only reads. A
// server keeps its WAL on disk and mirrors it into MemoryStorage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/raft/types.h"

namespace mq::raft {

enum class StorageError {
  kOk = 0,
  kCompacted,    // the index precedes the snapshot: send the snapshot instead
  kUnavailable,  // the index is past the last entry
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual HardState hard_state() const = 0;
  // Index of the first entry still held (snapshot index + 1).
  virtual uint64_t first_index() const = 0;
  virtual uint64_t last_index() const = 0;
  // Term of entry `index`; the snapshot's own index answers its term.
  virtual StorageError term(uint64_t index, uint64_t* term_out) const = 0;
  // Entries [lo, hi), at least one when lo < hi, then as many as fit in
  // max_bytes of payload.
  virtual StorageError entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                               std::vector<Entry>* out) const = 0;
  // The newest snapshot: its metadata, the size of its image, and up to
  // max_bytes of the image from offset (a leader sends it in chunks).
  virtual const SnapshotMeta& snapshot_meta() const = 0;
  virtual uint64_t snapshot_bytes() const = 0;
  virtual std::string snapshot_chunk(uint64_t offset, uint64_t max_bytes) const = 0;
};

}  // namespace mq::raft
