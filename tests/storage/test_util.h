// Helpers shared by the storage tests: deterministic entries and batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "node/raft/types.h"
#include "node/storage/storage.h"

namespace mq::storage::testing {

// The payload is a function of (group, index, term), so any recovered entry
// can be checked without remembering what was written.
inline std::string payload(GroupId group, uint64_t index, uint64_t term, size_t size_bytes = 100) {
  std::string s = "g" + std::to_string(group) + "-i" + std::to_string(index) + "-t" + std::to_string(term) + "-";
  while (s.size() < size_bytes) s.push_back(static_cast<char>('a' + (s.size() + index) % 26));
  s.resize(size_bytes);
  return s;
}

inline std::vector<raft::Entry> make_entries(GroupId group, uint64_t first, uint64_t count, uint64_t term,
                                             size_t size_bytes = 100) {
  std::vector<raft::Entry> out;
  for (uint64_t i = first; i < first + count; ++i) {
    raft::Entry e;
    e.term = term;
    e.index = i;
    e.data = payload(group, i, term, size_bytes);
    out.push_back(std::move(e));
  }
  return out;
}

inline StorageOptions memory_options(FileSystem* fs, FsyncMode mode = FsyncMode::kBatch) {
  StorageOptions o;
  o.data_dir = "/data";
  o.node_id = "n1";
  o.cluster_id = "c1";
  o.fsync_mode = mode;
  // Far below the 64 MiB default (no test writes this much): each replay
  // reads the last segment's preallocated zeros, and tests replay thousands
  // of times.
  o.segment_size_bytes_max = 1u << 20;
  o.fs = fs;
  o.log = [](const std::string&) {};
  return o;
}

}  // namespace mq::storage::testing
