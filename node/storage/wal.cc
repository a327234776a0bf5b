#include "node/storage/wal.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "node/storage/crc32c.h"
#include "node/storage/record.h"
#include "node/storage/wal_batch.h"

namespace mq::storage {
namespace {

bool parse_segment_name(const std::string& name, uint64_t* seq) {
  constexpr size_t kHexDigits = 16;
  if (name.size() != 4 + kHexDigits + 4 || name.compare(0, 4, "wal-") != 0 ||
      name.compare(4 + kHexDigits, 4, ".log") != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 4; i < 4 + kHexDigits; ++i) {
    const char c = name[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *seq = v;
  return true;
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string head_text(uint64_t seq) {
  const std::string body = "mq-wal-head " + std::to_string(seq);
  char crc[16];
  std::snprintf(crc, sizeof(crc), " %08x\n", crc32c(body));
  return body + crc;
}

std::string where(const std::string& path, uint64_t offset) {
  return path + " offset " + std::to_string(offset);
}

// Format version 1 wrote bare records, so its segments start with a segment
// header record where version 2 has a batch. Left unrecognised, such a
// segment would read as a torn first batch and be removed.
Status refuse_bare_records(std::string_view data, const std::string& path) {
  RecordReader reader(data);
  SegmentHeader h;
  if (reader.next() == RecordReader::Next::kRecord && reader.type() == RecordType::kSegmentHeader &&
      decode_segment_header(reader.payload(), &h) && h.magic == kSegmentMagic) {
    return {StatusCode::kCorrupt, where(path, 0) + ": unsupported WAL format version " + std::to_string(h.version) +
                                      " (segment header outside a batch; this build reads version " +
                                      std::to_string(kSegmentFormatVersion) + ")"};
  }
  return Status::ok();
}

}  // namespace

const char* fsync_mode_name(FsyncMode mode) {
  switch (mode) {
    case FsyncMode::kAlways:
      return "always";
    case FsyncMode::kBatch:
      return "batch";
    case FsyncMode::kNone:
      return "none";
  }
  return "?";
}

bool parse_fsync_mode(std::string_view text, FsyncMode* mode) {
  for (FsyncMode m : {FsyncMode::kAlways, FsyncMode::kBatch, FsyncMode::kNone}) {
    if (text == fsync_mode_name(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

std::string segment_file_name(uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "wal-%016" PRIx64 ".log", seq);
  return name;
}

Result<std::unique_ptr<Wal>> Wal::open(FileSystem* fs, const std::string& dir, const WalOptions& options,
                                       WalReplayHandler* handler, const LogFn& log) {
  if (options.segment_size_bytes_max < 4096) {
    return Status(StatusCode::kInvalidArgument, "segment_size_bytes_max must be at least 4096");
  }
  WalOptions resolved = options;
  if (resolved.head_path.empty()) resolved.head_path = join_path(dir, "HEAD");
  std::unique_ptr<Wal> wal(new Wal(fs, dir, resolved));
  if (Status s = wal->replay(handler, log); !s.is_ok()) return s;
  // What was replayed is what the node now stands on, but a sync that
  // failed before a restart (no power lost) leaves the last segment's tail
  // readable and not durable, and no later sync would reach it: writes go
  // to a new segment. A power loss then would damage a segment that is no
  // longer the last. Synced here, before anything is built on it.
  if (!wal->segments_.empty()) {
    auto last = fs->open_append(join_path(dir, segment_file_name(wal->segments_.back().seq)));
    if (!last.is_ok()) return last.status();
    if (Status s = last.value()->sync(); !s.is_ok()) return s;
  }
  if (Status s = wal->roll(); !s.is_ok()) return s;
  return wal;
}

Status Wal::replay(WalReplayHandler* handler, const LogFn& log) {
  auto names = fs_->list_dir(dir_);
  if (!names.is_ok()) return names.status();
  std::vector<uint64_t> seqs;
  for (const std::string& name : names.value()) {
    uint64_t seq;
    if (parse_segment_name(name, &seq)) seqs.push_back(seq);
  }
  std::sort(seqs.begin(), seqs.end());
  for (size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] != seqs[i - 1] + 1) {
      return {StatusCode::kCorrupt, "missing WAL segment(s) in " + dir_ + ": " + segment_file_name(seqs[i - 1]) +
                                        " is followed by " + segment_file_name(seqs[i])};
    }
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (Status s = replay_segment(seqs[i], i + 1 == seqs.size(), handler, log); !s.is_ok()) return s;
  }
  if (next_batch_seq_ == 0) next_batch_seq_ = 1;
  return check_head(segments_.empty() ? 0 : segments_.back().seq);
}

Status Wal::check_head(uint64_t newest_seq) {
  const std::string& path = options_.head_path;
  std::string text;
  Status read = fs_->read_file(path, &text);
  if (read.code() == StatusCode::kNotFound) {
    if (newest_seq <= 1) return Status::ok();
    return {StatusCode::kCorrupt, path + " is missing beside " + segment_file_name(newest_seq)};
  }
  if (!read.is_ok()) return read;
  uint64_t head_seq = 0;
  const size_t space = text.find(' ', 12);
  if (text.compare(0, 12, "mq-wal-head ") != 0 || space == std::string::npos) {
    return {StatusCode::kCorrupt, path + ": unrecognised contents"};
  }
  head_seq = std::strtoull(text.c_str() + 12, nullptr, 10);
  if (text != head_text(head_seq)) return {StatusCode::kCorrupt, path + ": checksum mismatch"};
  if (head_seq > newest_seq) {
    return {StatusCode::kCorrupt, "WAL in " + dir_ + " ends at " +
                                      (newest_seq == 0 ? std::string("no segment") : segment_file_name(newest_seq)) +
                                      " but " + segment_file_name(head_seq) +
                                      " was written: the newest segments are missing"};
  }
  return Status::ok();
}

Status Wal::write_head(uint64_t seq) {
  const std::string& path = options_.head_path;
  const std::string tmp = path + ".tmp";
  const bool sync = options_.fsync_mode != FsyncMode::kNone;
  if (fs_->exists(tmp)) {
    if (Status s = fs_->remove(tmp); !s.is_ok()) return s;
  }
  {
    auto file = fs_->open_append(tmp);
    if (!file.is_ok()) return file.status();
    if (Status s = file.value()->append(head_text(seq)); !s.is_ok()) return s;
    if (sync) {
      if (Status s = file.value()->sync(); !s.is_ok()) return s;
    }
  }
  if (Status s = fs_->rename(tmp, path); !s.is_ok()) return s;
  return sync ? fs_->sync_dir(parent_dir(path)) : Status::ok();
}

Status Wal::replay_segment(uint64_t seq, bool is_last, WalReplayHandler* handler, const LogFn& log) {
  const std::string path = join_path(dir_, segment_file_name(seq));
  // The file is data, then zero_tail_bytes of zeros left unread.
  std::string data;
  uint64_t zero_tail_bytes = 0;
  if (Status s = fs_->read_file_without_zero_tail(path, &data, &zero_tail_bytes); !s.is_ok()) return s;
  const uint64_t file_bytes = data.size() + zero_tail_bytes;
  // From here to the end of the file there is nothing but zeros.
  const uint64_t zero_fill_from = zero_fill_start(data);
  Segment segment;
  segment.seq = seq;
  std::optional<uint64_t> zero_fill_end_of_log;
  bool saw_header = false;
  uint64_t offset = 0;
  while (offset < file_bytes) {
    if (offset >= zero_fill_from) {
      // Only the segment being written when the log was last open keeps its
      // preallocated zeros (roll() cuts the others to size): anywhere else
      // they stand where batches were lost.
      if (!is_last) {
        return {StatusCode::kCorrupt, where(path, offset) + ": " + std::to_string(file_bytes - offset) +
                                          " zero bytes before the end of the log"};
      }
      // Nothing but zeros follows the last batch: the clean end of the log.
      zero_fill_end_of_log = offset;
      break;
    }
    WalBatch batch;
    BatchCheck check = check_batch(data, offset, &batch);
    if (check == BatchCheck::kIncomplete && offset + batch.size_bytes <= file_bytes) {
      // The batch ends in zeros that were left unread with the zero tail.
      data.resize(offset + batch.size_bytes, '\0');
      check = check_batch(data, offset, &batch);
    }
    if (check != BatchCheck::kIntact) {
      if (offset == 0) {
        if (Status s = refuse_bare_records(data, path); !s.is_ok()) return s;
      }
      const char* problem = batch_check_name(check);
      if (!is_last) return {StatusCode::kCorrupt, where(path, offset) + ": " + problem + " before the end of the log"};
      // A later batch is written only after this one was synced (wal.h), so
      // one that survives intact proves this damage hit acknowledged data.
      if (const std::optional<uint64_t> later = find_intact_batch(data, offset, next_batch_seq_ + 1)) {
        WalBatch proof;
        (void)check_batch(data, *later, &proof);
        return {StatusCode::kCorrupt, where(path, offset) + ": " + problem + ", but batch " +
                                          std::to_string(proof.seq) + " at offset " + std::to_string(*later) +
                                          " was written after it was synced: acknowledged data is damaged"};
      }
      if (offset == 0) break;  // a segment torn while being created: removed below
      // The last batch, interrupted by a crash, which therefore was never acknowledged.
      std::string torn = std::to_string(zero_fill_from - offset) + " bytes, " + problem +
                         ", no intact batch after it";
      if (zero_fill_from < file_bytes) {
        torn += ", then " + std::to_string(file_bytes - zero_fill_from) + " preallocated zero bytes";
      }
      log("WAL " + path + ": truncating torn tail at offset " + std::to_string(offset) + " (" + torn + ")");
      if (Status s = fs_->truncate(path, offset); !s.is_ok()) return s;
      break;
    }
    if (next_batch_seq_ != 0 && batch.seq != next_batch_seq_) {
      return {StatusCode::kCorrupt, where(path, offset) + ": batch " + std::to_string(batch.seq) + " where batch " +
                                        std::to_string(next_batch_seq_) + " was expected (batches are missing)"};
    }
    if (Status s = replay_batch(path, offset, batch.records, &segment, &saw_header, handler); !s.is_ok()) return s;
    next_batch_seq_ = batch.seq + 1;
    offset += batch.size_bytes;
  }
  if (!saw_header) {
    // Only a crash while a segment was being created leaves it without an
    // intact first batch, and then nothing was written after it.
    if (!is_last) return {StatusCode::kCorrupt, path + " offset 0: segment has no header"};
    log("WAL " + path + ": removing segment torn while being created");
    if (Status s = fs_->remove(path); !s.is_ok()) return s;
    return fs_->sync_dir(dir_);
  }
  if (zero_fill_end_of_log) {
    // The normal end of a preallocated segment, so no log line. Cut before
    // the next segment exists, which makes this one no longer the last.
    if (Status s = fs_->truncate(path, *zero_fill_end_of_log); !s.is_ok()) return s;
  }
  segments_.push_back(std::move(segment));
  return Status::ok();
}

Status Wal::replay_batch(const std::string& path, uint64_t at, std::string_view records, Segment* segment,
                         bool* saw_header, WalReplayHandler* handler) {
  // The batch passed its checksums, so anything wrong in here was written
  // that way: never a torn write.
  RecordReader reader(records);
  while (true) {
    const RecordReader::Next next = reader.next();
    if (next == RecordReader::Next::kEnd) break;
    const std::string here = where(path, at + kBatchHeaderBytes + reader.offset());
    if (next != RecordReader::Next::kRecord) return {StatusCode::kCorrupt, here + ": damaged record in an intact batch"};
    switch (reader.type()) {
      case RecordType::kSegmentHeader: {
        SegmentHeader h;
        if (*saw_header || at != 0 || reader.offset() != 0 || !decode_segment_header(reader.payload(), &h) ||
            h.magic != kSegmentMagic) {
          return {StatusCode::kCorrupt, here + ": misplaced or malformed segment header"};
        }
        if (h.version != kSegmentFormatVersion) {
          return {StatusCode::kCorrupt, here + ": unsupported WAL format version " + std::to_string(h.version)};
        }
        if (h.seq != segment->seq) {
          return {StatusCode::kCorrupt, here + ": header names segment " + std::to_string(h.seq)};
        }
        *saw_header = true;
        break;
      }
      case RecordType::kHardState: {
        uint32_t group;
        raft::HardState hs;
        if (!*saw_header || !decode_hard_state(reader.payload(), &group, &hs)) {
          return {StatusCode::kCorrupt, here + ": malformed hard state record"};
        }
        hard_states_[group] = hs;
        if (Status s = handler->on_hard_state(group, hs, here); !s.is_ok()) return s;
        break;
      }
      case RecordType::kEntry: {
        uint32_t group;
        raft::Entry entry;
        if (!*saw_header || !decode_entry(reader.payload(), &group, &entry)) {
          return {StatusCode::kCorrupt, here + ": malformed entry record"};
        }
        uint64_t& max_index = segment->max_index[group];
        max_index = std::max(max_index, entry.index);
        if (Status s = handler->on_entry(group, std::move(entry), here); !s.is_ok()) return s;
        break;
      }
      case RecordType::kGroupRemoved: {
        uint32_t group;
        GroupTombstone tombstone;
        if (!*saw_header || !decode_group_removed(reader.payload(), &group, &tombstone)) {
          return {StatusCode::kCorrupt, here + ": malformed group removal record"};
        }
        // The segment being replayed is not yet among segments_.
        segment->max_index.erase(group);
        forget_group(group);
        removed_[group] = tombstone;
        if (Status s = handler->on_group_removed(group, tombstone, here); !s.is_ok()) return s;
        break;
      }
      default:
        return {StatusCode::kCorrupt, here + ": unknown record type " +
                                          std::to_string(static_cast<int>(reader.type()))};
    }
  }
  if (!*saw_header) return {StatusCode::kCorrupt, where(path, at) + ": segment has no header"};
  return Status::ok();
}

Status Wal::roll() {
  if (active_) {
    // Replay accepts a zero tail only in the last segment, so the finished
    // one loses its unused preallocation (durably) before a later one exists.
    const uint64_t written_bytes = active_->size_bytes();
    active_.reset();
    const std::string finished = join_path(dir_, segment_file_name(segments_.back().seq));
    if (Status s = fs_->truncate(finished, written_bytes); !s.is_ok()) return fail(s);
  }
  const uint64_t seq = segments_.empty() ? 1 : segments_.back().seq + 1;
  const std::string path = join_path(dir_, segment_file_name(seq));
  auto file = fs_->open_append(path);
  if (!file.is_ok()) return fail(file.status());
  active_ = std::move(file.value());
  if (active_->size_bytes() != 0) {
    return fail({StatusCode::kCorrupt, path + " already exists with data; refusing to append to it"});
  }
  segments_.push_back(Segment{seq, {}});
  // Appends then overwrite zeros in place: their fdatasync journals no size
  // change. The sync after the header below makes the zeros durable too.
  if (Status s = active_->preallocate(options_.segment_size_bytes_max); !s.is_ok()) return fail(s);
  buffer_.clear();
  const size_t start = begin_batch(&buffer_);
  append_segment_header(&buffer_, seq);
  for (const auto& [group, hs] : hard_states_) append_hard_state(&buffer_, group, hs);
  for (const auto& [group, t] : removed_) append_group_removed(&buffer_, group, t);
  seal_batch(&buffer_, start, next_batch_seq_++);
  active_header_bytes_ = buffer_.size();
  const bool sync = options_.fsync_mode != FsyncMode::kNone;
  if (Status s = write_and_sync(buffer_, sync); !s.is_ok()) return s;
  if (sync) {
    if (Status s = fs_->sync_dir(dir_); !s.is_ok()) return fail(s);
  }
  if (Status s = write_head(seq); !s.is_ok()) return fail(s);
  return Status::ok();
}

Status Wal::write_and_sync(std::string_view data, bool sync) {
  if (Status s = active_->append(data); !s.is_ok()) return fail(s);
  bytes_written_ += data.size();
  if (sync) {
    if (Status s = active_->sync(); !s.is_ok()) return fail(s);
  }
  return Status::ok();
}

Status Wal::fail(Status status) {
  if (failure_.is_ok()) failure_ = status;
  return status;
}

// A removed group pins no segment and is not checkpointed into new ones.
void Wal::forget_group(GroupId group) {
  hard_states_.erase(group);
  for (Segment& segment : segments_) segment.max_index.erase(group);
}

Status Wal::append(const WriteBatch& batch) {
  if (!failure_.is_ok()) return {StatusCode::kStopped, failure_.to_string()};
  // In fsync mode always each group is its own batch, synced before the
  // next one is written: the rule recovery relies on (wal.h).
  const bool per_group_sync = options_.fsync_mode == FsyncMode::kAlways;
  auto record_bytes = [](const GroupWrite& w) {
    size_t bytes = w.hard_state ? kRecordHeaderBytes + 28 : 0;
    if (w.removed) bytes += kRecordHeaderBytes + 36;
    for (const raft::Entry& e : w.entries) bytes += entry_record_bytes(e);
    return bytes;
  };
  size_t total_bytes = 0;
  size_t batches = 0;
  for (const GroupWrite& w : batch) {
    const size_t bytes = record_bytes(w);
    total_bytes += bytes;
    if (per_group_sync && bytes != 0) ++batches;
  }
  if (total_bytes == 0) return Status::ok();
  if (total_bytes > kBatchRecordBytesMax) {
    return {StatusCode::kInvalidArgument, "a write of " + std::to_string(total_bytes) +
                                              " bytes is larger than one WAL batch can hold"};
  }
  total_bytes += kBatchHeaderBytes * (per_group_sync ? batches : 1);
  if (active_->size_bytes() > active_header_bytes_ &&
      active_->size_bytes() + total_bytes > options_.segment_size_bytes_max) {
    if (Status s = roll(); !s.is_ok()) return s;
  }
  Segment& segment = segments_.back();
  auto add_records = [&](const GroupWrite& w) {
    for (const raft::Entry& e : w.entries) append_entry(&buffer_, w.group, e);
    if (w.hard_state) {
      append_hard_state(&buffer_, w.group, *w.hard_state);
      hard_states_[w.group] = *w.hard_state;
    }
    if (!w.entries.empty()) {
      uint64_t& max_index = segment.max_index[w.group];
      max_index = std::max(max_index, w.entries.back().index);
    }
    if (w.removed) {
      append_group_removed(&buffer_, w.group, w.tombstone);
      forget_group(w.group);
      removed_[w.group] = w.tombstone;
    }
  };
  if (per_group_sync) {
    for (const GroupWrite& w : batch) {
      if (record_bytes(w) == 0) continue;
      buffer_.clear();
      const size_t start = begin_batch(&buffer_);
      add_records(w);
      seal_batch(&buffer_, start, next_batch_seq_++);
      if (Status s = write_and_sync(buffer_, true); !s.is_ok()) return s;
    }
    return Status::ok();
  }
  buffer_.clear();
  buffer_.reserve(total_bytes);
  const size_t start = begin_batch(&buffer_);
  for (const GroupWrite& w : batch) add_records(w);
  seal_batch(&buffer_, start, next_batch_seq_++);
  return write_and_sync(buffer_, options_.fsync_mode == FsyncMode::kBatch);
}

Status Wal::release(const std::map<GroupId, uint64_t>& compacted_through) {
  size_t releasable = 0;
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    bool all_compacted = true;
    for (const auto& [group, max_index] : segments_[i].max_index) {
      auto it = compacted_through.find(group);
      if (it == compacted_through.end() || it->second < max_index) {
        all_compacted = false;
        break;
      }
    }
    if (!all_compacted) break;
    releasable = i + 1;
  }
  // Oldest first, so a crash midway leaves a gapless run of segments.
  for (size_t i = 0; i < releasable; ++i) {
    if (Status s = fs_->remove(join_path(dir_, segment_file_name(segments_[i].seq))); !s.is_ok()) {
      segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(i));
      return s;
    }
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(releasable));
  return Status::ok();
}

std::vector<std::string> Wal::segment_names() const {
  std::vector<std::string> names;
  for (const Segment& s : segments_) names.push_back(segment_file_name(s.seq));
  return names;
}

}  // namespace mq::storage
