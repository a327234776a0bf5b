#include "node/raft/raft_log.h"

#include <algorithm>

#include "node/raft/invariant.h"

namespace mq::raft {

RaftLog::RaftLog(const Storage& storage) : storage_(storage) {
  unstable_offset_ = storage.last_index() + 1;
  committed_ = storage.hard_state().commit;
  // The snapshot is applied by definition; everything before it is too.
  applied_ = storage.first_index() - 1;
  MQ_INVARIANT(committed_ <= storage.last_index());
}

uint64_t RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index + 1;
  return storage_.first_index();
}

uint64_t RaftLog::last_index() const {
  if (!unstable_entries_.empty()) return unstable_offset_ + unstable_entries_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return storage_.last_index();
}

uint64_t RaftLog::last_term() const {
  auto t = term(last_index());
  MQ_INVARIANT(t.has_value());
  return *t;
}

std::optional<uint64_t> RaftLog::term(uint64_t index) const {
  if (index + 1 < first_index() || index > last_index()) return std::nullopt;
  if (!unstable_entries_.empty() && index >= unstable_offset_) {
    return unstable_entries_[index - unstable_offset_].term;
  }
  if (unstable_snapshot_) {
    if (index == unstable_snapshot_->meta.index) return unstable_snapshot_->meta.term;
    return std::nullopt;
  }
  uint64_t t = 0;
  if (storage_.term(index, &t) != StorageError::kOk) return std::nullopt;
  return t;
}

bool RaftLog::match_term(uint64_t index, uint64_t t) const {
  auto mine = term(index);
  return mine.has_value() && *mine == t;
}

bool RaftLog::is_up_to_date(uint64_t index, uint64_t t) const {
  const uint64_t lt = last_term();
  return t > lt || (t == lt && index >= last_index());
}

std::optional<uint64_t> RaftLog::maybe_append(uint64_t index, uint64_t log_term, uint64_t commit,
                                              const std::vector<Entry>& entries) {
  if (!match_term(index, log_term)) return std::nullopt;
  const uint64_t last_new = index + entries.size();
  // The first entry that is new or conflicts; everything before it matches.
  size_t first_diff = entries.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!match_term(entries[i].index, entries[i].term)) {
      first_diff = i;
      break;
    }
  }
  if (first_diff < entries.size()) {
    // A committed entry never changes: a leader asking for it is a bug.
    MQ_INVARIANT(entries[first_diff].index > committed_);
    append(std::vector<Entry>(entries.begin() + static_cast<long>(first_diff), entries.end()));
  }
  // Only up to the last entry this message proved to match: entries past it
  // may be stale leftovers of another term.
  commit_to(std::min(commit, last_new));
  return last_new;
}

uint64_t RaftLog::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return last_index();
  const uint64_t after = entries.front().index - 1;
  MQ_INVARIANT(after >= committed_);
  MQ_INVARIANT(after <= last_index());
  if (after + 1 == unstable_offset_ + unstable_entries_.size()) {
    // Plain extension of the unstable tail.
  } else if (after + 1 <= unstable_offset_) {
    // Replaces stable entries too: the unstable tail now starts here and
    // shadows the storage from this index on.
    unstable_offset_ = after + 1;
    unstable_entries_.clear();
  } else {
    unstable_entries_.resize(after + 1 - unstable_offset_);
  }
  for (const Entry& e : entries) {
    MQ_INVARIANT(e.index == unstable_offset_ + unstable_entries_.size());
    unstable_entries_.push_back(e);
  }
  return last_index();
}

uint64_t RaftLog::find_conflict_by_term(uint64_t index, uint64_t t) const {
  index = std::min(index, last_index());
  while (index > 0) {
    auto mine = term(index);
    if (!mine.has_value()) return index;  // compacted: the snapshot point is as far as we know
    if (*mine <= t) return index;
    --index;
  }
  return 0;
}

bool RaftLog::slice(uint64_t lo, uint64_t hi, uint64_t max_bytes, std::vector<Entry>* out) const {
  if (lo < first_index()) return false;
  hi = std::min(hi, last_index() + 1);
  if (lo >= hi) return true;
  uint64_t bytes = 0;
  if (lo < unstable_offset_ && !unstable_snapshot_) {
    const uint64_t stable_hi = std::min(hi, unstable_offset_);
    std::vector<Entry> stable;
    if (storage_.entries(lo, stable_hi, max_bytes, &stable) != StorageError::kOk) return false;
    for (const Entry& e : stable) bytes += e.data.size();
    const bool truncated = stable.size() < stable_hi - lo;
    out->insert(out->end(), stable.begin(), stable.end());
    if (truncated) return true;
    lo = stable_hi;
  }
  for (uint64_t i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_entries_[i - unstable_offset_];
    bytes += e.data.size();
    if (!out->empty() && bytes > max_bytes) break;
    out->push_back(e);
  }
  return true;
}

bool RaftLog::entries_from(uint64_t lo, uint64_t max_bytes, uint64_t max_count,
                           std::vector<Entry>* out) const {
  const uint64_t hi = std::min(last_index() + 1, lo + max_count);
  return slice(lo, hi, max_bytes, out);
}

void RaftLog::commit_to(uint64_t index) {
  if (index <= committed_) return;
  MQ_INVARIANT(index <= last_index());
  committed_ = index;
}

void RaftLog::applied_to(uint64_t index) {
  if (index <= applied_) return;
  MQ_INVARIANT(index <= committed_);
  applied_ = index;
}

bool RaftLog::has_next_committed() const {
  return !unstable_snapshot_ && committed_ > applied_;
}

std::vector<Entry> RaftLog::next_committed(uint64_t max_bytes) const {
  std::vector<Entry> out;
  if (!has_next_committed()) return out;
  MQ_INVARIANT(slice(applied_ + 1, committed_ + 1, max_bytes, &out));
  return out;
}

void RaftLog::restore(const Snapshot& snapshot) {
  committed_ = snapshot.meta.index;
  unstable_snapshot_ = snapshot;
  unstable_offset_ = snapshot.meta.index + 1;
  unstable_entries_.clear();
}

void RaftLog::stable_to(uint64_t index, uint64_t t) {
  if (unstable_entries_.empty() || index < unstable_offset_) return;
  if (index >= unstable_offset_ + unstable_entries_.size()) return;
  // A later append may have replaced the persisted entry; then it is still unstable.
  if (unstable_entries_[index - unstable_offset_].term != t) return;
  unstable_entries_.erase(unstable_entries_.begin(),
                          unstable_entries_.begin() + static_cast<long>(index + 1 - unstable_offset_));
  unstable_offset_ = index + 1;
}

void RaftLog::stable_snapshot_to(uint64_t index) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == index) unstable_snapshot_.reset();
}

}  // namespace mq::raft
