#include "node/storage/record.h"

#include "node/storage/wal.h"

#include <cstring>

#include "node/storage/coding.h"
#include "node/storage/crc32c.h"

namespace mq::storage {
namespace {

// Reserves the header, lets fill() append the payload, then seals the frame.
template <typename Fill>
void frame(std::string* out, RecordType type, Fill fill) {
  const size_t start = out->size();
  out->append(kRecordHeaderBytes, '\0');
  fill();
  const uint32_t length = static_cast<uint32_t>(out->size() - start - kRecordHeaderBytes);
  char* h = out->data() + start;
  for (int i = 0; i < 4; ++i) h[4 + i] = static_cast<char>(length >> (8 * i));
  h[8] = static_cast<char>(type);
  const uint32_t crc = crc32c_extend(0, h + 4, kRecordHeaderBytes - 4 + length);
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(crc >> (8 * i));
}

}  // namespace

void append_segment_header(std::string* out, uint64_t segment_seq) {
  frame(out, RecordType::kSegmentHeader, [&] {
    put_u64(out, kSegmentMagic);
    put_u32(out, kSegmentFormatVersion);
    put_u64(out, segment_seq);
  });
}

void append_hard_state(std::string* out, uint32_t group, const raft::HardState& hs) {
  frame(out, RecordType::kHardState, [&] {
    put_u32(out, group);
    put_u64(out, hs.term);
    put_u64(out, hs.vote);
    put_u64(out, hs.commit);
  });
}

void append_entry(std::string* out, uint32_t group, const raft::Entry& entry) {
  frame(out, RecordType::kEntry, [&] {
    put_u32(out, group);
    put_u64(out, entry.term);
    put_u64(out, entry.index);
    put_u8(out, static_cast<uint8_t>(entry.type));
    out->append(entry.data);
  });
}

void append_group_removed(std::string* out, uint32_t group, const GroupTombstone& t) {
  frame(out, RecordType::kGroupRemoved, [&] {
    put_u32(out, group);
    put_u64(out, t.term);
    put_u64(out, t.vote);
    put_u64(out, t.last_index);
    put_u64(out, t.last_term);
  });
}

size_t entry_record_bytes(const raft::Entry& entry) { return kRecordHeaderBytes + 4 + 8 + 8 + 1 + entry.data.size(); }

bool decode_segment_header(std::string_view payload, SegmentHeader* out) {
  Decoder d(payload);
  d.u64(&out->magic);
  d.u32(&out->version);
  d.u64(&out->seq);
  return d.ok() && d.rest().empty();
}

bool decode_hard_state(std::string_view payload, uint32_t* group, raft::HardState* out) {
  Decoder d(payload);
  d.u32(group);
  d.u64(&out->term);
  d.u64(&out->vote);
  d.u64(&out->commit);
  return d.ok() && d.rest().empty();
}

bool decode_entry(std::string_view payload, uint32_t* group, raft::Entry* out) {
  Decoder d(payload);
  uint8_t type = 0;
  d.u32(group);
  d.u64(&out->term);
  d.u64(&out->index);
  d.u8(&type);
  if (!d.ok() || type > static_cast<uint8_t>(raft::EntryType::kConfChange)) return false;
  out->type = static_cast<raft::EntryType>(type);
  out->data.assign(d.rest());
  return true;
}

bool decode_group_removed(std::string_view payload, uint32_t* group, GroupTombstone* t) {
  Decoder d(payload);
  d.u32(group);
  *t = GroupTombstone{};
  if (d.ok() && !d.rest().empty()) {
    d.u64(&t->term);
    d.u64(&t->vote);
    d.u64(&t->last_index);
    d.u64(&t->last_term);
  }
  return d.ok() && d.rest().empty();
}

RecordReader::Next RecordReader::next() {
  offset_ = next_offset_;
  const uint64_t left = data_.size() - offset_;
  if (left == 0) return Next::kEnd;
  if (left < kRecordHeaderBytes) return Next::kIncomplete;
  const char* h = data_.data() + offset_;
  const uint32_t length = load_u32(h + 4);
  if (length > kRecordPayloadBytesMax) return Next::kBadChecksum;
  if (left < kRecordHeaderBytes + length) return Next::kIncomplete;
  if (crc32c_extend(0, h + 4, kRecordHeaderBytes - 4 + length) != load_u32(h)) return Next::kBadChecksum;
  type_ = static_cast<RecordType>(static_cast<uint8_t>(h[8]));
  payload_ = std::string_view(h + kRecordHeaderBytes, length);
  next_offset_ = offset_ + kRecordHeaderBytes + length;
  return Next::kRecord;
}

uint64_t zero_fill_start(std::string_view data) {
  size_t end = data.size();
  // Eight bytes at a time: the zero fill of a fresh segment is most of it.
  while (end >= sizeof(uint64_t)) {
    uint64_t word;
    std::memcpy(&word, data.data() + end - sizeof(word), sizeof(word));
    if (word != 0) break;
    end -= sizeof(word);
  }
  while (end > 0 && data[end - 1] == '\0') --end;
  return end;
}

}  // namespace mq::storage
