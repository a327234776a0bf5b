// Record framing inside the batches of every WAL segment (wal.h).
//
//   offset 0  u32  crc32c of bytes [4, 9 + length)  (length, type, payload)
//   offset 4  u32  length of the payload in bytes
//   offset 8  u8   RecordType
//   offset 9       payload
//
// All integers little-endian. The checksum covers the length, so a damaged
// length field is caught rather than followed. Payloads:
//   kSegmentHeader  u64 magic (bytes "MQWALSEG"), u32 format version, u64 segment sequence
//   kHardState      u32 group, u64 term, u64 vote, u64 commit
//   kEntry          u32 group, u64 term, u64 index, u8 entry type, data (rest)
//   kGroupRemoved   u32 group, then (optional) u64 term, u64 vote, u64 last
//                   index, u64 last term: every earlier record of the
//                   group is void; the rest is its tombstone (wal.h)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "node/raft/types.h"

namespace mq::storage {

enum class RecordType : uint8_t {
  kSegmentHeader = 1,
  kHardState = 2,
  kEntry = 3,
  kGroupRemoved = 4,
};

constexpr size_t kRecordHeaderBytes = 9;
// Larger lengths are damage, not data: no entry is allowed to be this big.
constexpr uint32_t kRecordPayloadBytesMax = 64u << 20;
constexpr uint64_t kSegmentMagic = 0x4745534C4157514Dull;  // "MQWALSEG" in file byte order
// 2: records inside checksummed batches (wal.h); 1 had bare records.
constexpr uint32_t kSegmentFormatVersion = 2;

void append_segment_header(std::string* out, uint64_t segment_seq);
void append_hard_state(std::string* out, uint32_t group, const raft::HardState& hs);
void append_entry(std::string* out, uint32_t group, const raft::Entry& entry);
struct GroupTombstone;
void append_group_removed(std::string* out, uint32_t group, const GroupTombstone& tombstone);
size_t entry_record_bytes(const raft::Entry& entry);

struct SegmentHeader {
  uint64_t magic = 0;
  uint32_t version = 0;
  uint64_t seq = 0;
};

bool decode_segment_header(std::string_view payload, SegmentHeader* out);
bool decode_hard_state(std::string_view payload, uint32_t* group, raft::HardState* out);
bool decode_entry(std::string_view payload, uint32_t* group, raft::Entry* out);
bool decode_group_removed(std::string_view payload, uint32_t* group, GroupTombstone* tombstone);

// Reads consecutive records of one segment image.
class RecordReader {
 public:
  enum class Next {
    kRecord,      // type() and payload() hold the record at offset()
    kEnd,         // clean end of data exactly at offset()
    kIncomplete,  // the record at offset() runs past the end of the data
    kBadChecksum, // the record at offset() fails its checksum or length limit
  };

  explicit RecordReader(std::string_view data) : data_(data) {}
  Next next();
  uint64_t offset() const { return offset_; }
  RecordType type() const { return type_; }
  std::string_view payload() const { return payload_; }

 private:
  std::string_view data_;
  uint64_t offset_ = 0;
  uint64_t next_offset_ = 0;
  RecordType type_ = RecordType::kEntry;
  std::string_view payload_;
};

// The offset just past the last non-zero byte of data: the bytes from there
// on are all zero (a preallocated segment's unwritten space), or there are
// none. No batch starts in them: every batch starts with a non-zero magic.
uint64_t zero_fill_start(std::string_view data);

}  // namespace mq::storage
