#include "node/raft/memory_storage.h"

#include <algorithm>

#include "node/raft/conf_change.h"
#include "node/raft/invariant.h"

namespace mq::raft {

StorageError MemoryStorage::term(uint64_t index, uint64_t* term_out) const {
  if (index < offset_) return StorageError::kCompacted;
  if (index > last_index()) return StorageError::kUnavailable;
  *term_out = index == offset_ ? offset_term_ : entries_[index - offset_ - 1].term;
  return StorageError::kOk;
}

StorageError MemoryStorage::entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                                    std::vector<Entry>* out) const {
  if (lo <= offset_) return StorageError::kCompacted;
  if (hi > last_index() + 1) return StorageError::kUnavailable;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset_ - 1];
    bytes += e.data.size();
    if (!out->empty() && bytes > max_bytes) break;
    out->push_back(e);
  }
  return StorageError::kOk;
}

void MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const uint64_t first_new = entries.front().index;
  // Raft never rewrites what the state machine may have seen; a caller
  // appending below the cut is a bug in the caller.
  MQ_INVARIANT(first_new > offset_);
  MQ_INVARIANT(first_new <= last_index() + 1);
  entries_.resize(first_new - offset_ - 1);
  for (const Entry& e : entries) {
    MQ_INVARIANT(e.index == offset_ + 1 + entries_.size());
    entries_.push_back(e);
  }
}

std::string MemoryStorage::snapshot_chunk(uint64_t offset, uint64_t max_bytes) const {
  if (image_reader_) return image_reader_(snapshot_.meta, offset, max_bytes);
  if (offset >= snapshot_.data.size()) return {};
  return snapshot_.data.substr(offset, max_bytes);
}

void MemoryStorage::apply_snapshot(const Snapshot& snapshot) {
  snapshot_.meta = snapshot.meta;
  snapshot_bytes_ = snapshot.data.size();
  if (image_reader_) {
    snapshot_.data.clear();
  } else {
    snapshot_.data = snapshot.data;
  }
  entries_.clear();
  offset_ = snapshot.meta.index;
  offset_term_ = snapshot.meta.term;
}

bool MemoryStorage::create_snapshot(uint64_t index, std::vector<NodeId> voters,
                                    std::vector<NodeId> learners, std::string data) {
  if (index <= snapshot_.meta.index || index > last_index() || index < offset_) return false;
  uint64_t t = 0;
  MQ_INVARIANT(term(index, &t) == StorageError::kOk);
  snapshot_.meta.index = index;
  snapshot_.meta.term = t;
  snapshot_.meta.voters = std::move(voters);
  snapshot_.meta.learners = std::move(learners);
  snapshot_bytes_ = data.size();
  if (image_reader_) {
    snapshot_.data.clear();
  } else {
    snapshot_.data = std::move(data);
  }
  return true;
}

uint64_t MemoryStorage::cut_keeping_bytes(uint64_t upto, uint64_t bytes) const {
  uint64_t kept = 0;
  uint64_t cut = std::min(upto, last_index());
  while (cut > offset_) {
    const uint64_t size = entries_[cut - offset_ - 1].data.size();
    if (kept + size > bytes) break;
    kept += size;
    --cut;
  }
  return cut;
}

bool MemoryStorage::compact(uint64_t index) {
  if (index <= offset_ || index > snapshot_.meta.index) return false;
  uint64_t t = 0;
  MQ_INVARIANT(term(index, &t) == StorageError::kOk);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(index - offset_));
  offset_ = index;
  offset_term_ = t;
  return true;
}

void bootstrap(MemoryStorage& storage, const std::vector<NodeId>& voters) {
  std::vector<Entry> entries;
  for (NodeId id : voters) {
    Entry e;
    e.term = 1;
    e.index = entries.size() + 1;
    e.type = EntryType::kConfChange;
    e.data = encode(ConfChange{ConfChangeType::kAddVoter, id});
    entries.push_back(std::move(e));
  }
  storage.append(entries);
  storage.set_hard_state(HardState{1, kNoNode, entries.size()});
}

}  // namespace mq::raft
