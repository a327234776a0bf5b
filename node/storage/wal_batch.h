// The frame around one WAL batch: the records one append() writes and syncs
// as a unit. The byte layout and what recovery makes of damage are in wal.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mq::storage {

constexpr size_t kBatchHeaderBytes = 24;
constexpr uint32_t kBatchMagic = 0x4257514Du;  // "MQWB" in file byte order
// The records length is a u32 field.
constexpr uint64_t kBatchRecordBytesMax = UINT32_MAX;

// Appends a blank header to *out and returns where the batch starts; the
// records appended after it belong to the batch until seal_batch().
size_t begin_batch(std::string* out);
// Fills in the header of the batch starting at out[start], covering every
// byte appended after that header.
void seal_batch(std::string* out, size_t start, uint64_t seq);

struct WalBatch {
  uint64_t seq = 0;
  // Header and records; known whenever the header is intact, even when the
  // records are not all there.
  uint64_t size_bytes = 0;
  std::string_view records;  // set only for an intact batch
};

enum class BatchCheck {
  kIntact,      // header and records pass their checksums
  kIncomplete,  // the header is intact, the records run past the end of the data
  kBadHeader,   // no magic, a header checksum mismatch, or too few bytes for a header
  kBadRecords,  // the header is intact, the records fail their checksum
};
const char* batch_check_name(BatchCheck check);

// Checks the batch that starts at offset in a segment image.
BatchCheck check_batch(std::string_view data, uint64_t offset, WalBatch* out);

// The offset of the first intact batch that starts after `from` and has a
// sequence number of at least seq_min. Scans for the magic, so it costs a
// pass over the data after `from`.
std::optional<uint64_t> find_intact_batch(std::string_view data, uint64_t from, uint64_t seq_min);

}  // namespace mq::storage
