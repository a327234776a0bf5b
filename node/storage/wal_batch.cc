#include "node/storage/wal_batch.h"

#include "node/storage/coding.h"
#include "node/storage/crc32c.h"

namespace mq::storage {
namespace {

// Header fields, by offset (wal.h).
constexpr size_t kMagicAt = 0;
constexpr size_t kHeaderCrcAt = 4;
constexpr size_t kSeqAt = 8;
constexpr size_t kLengthAt = 16;
constexpr size_t kRecordsCrcAt = 20;

void store_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

void store_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

// The header checksum covers the sequence number, the length and the
// records' checksum: every byte of the batch is covered by one or the other.
uint32_t header_crc(const char* header) {
  return crc32c_extend(0, header + kSeqAt, kBatchHeaderBytes - kSeqAt);
}

}  // namespace

size_t begin_batch(std::string* out) {
  const size_t start = out->size();
  out->append(kBatchHeaderBytes, '\0');
  return start;
}

void seal_batch(std::string* out, size_t start, uint64_t seq) {
  char* h = out->data() + start;
  const size_t length = out->size() - start - kBatchHeaderBytes;
  store_u32(h + kMagicAt, kBatchMagic);
  store_u64(h + kSeqAt, seq);
  store_u32(h + kLengthAt, static_cast<uint32_t>(length));
  store_u32(h + kRecordsCrcAt, crc32c_extend(0, h + kBatchHeaderBytes, length));
  store_u32(h + kHeaderCrcAt, header_crc(h));
}

const char* batch_check_name(BatchCheck check) {
  switch (check) {
    case BatchCheck::kIntact:
      return "intact batch";
    case BatchCheck::kIncomplete:
      return "incomplete batch";
    case BatchCheck::kBadHeader:
      return "damaged batch header";
    case BatchCheck::kBadRecords:
      return "batch checksum mismatch";
  }
  return "?";
}

BatchCheck check_batch(std::string_view data, uint64_t offset, WalBatch* out) {
  *out = WalBatch{};
  if (data.size() - offset < kBatchHeaderBytes) return BatchCheck::kBadHeader;
  const char* h = data.data() + offset;
  if (load_u32(h + kMagicAt) != kBatchMagic || load_u32(h + kHeaderCrcAt) != header_crc(h)) {
    return BatchCheck::kBadHeader;
  }
  out->seq = load_u64(h + kSeqAt);
  const uint64_t length = load_u32(h + kLengthAt);
  out->size_bytes = kBatchHeaderBytes + length;
  if (data.size() - offset < out->size_bytes) return BatchCheck::kIncomplete;
  if (crc32c_extend(0, h + kBatchHeaderBytes, length) != load_u32(h + kRecordsCrcAt)) {
    return BatchCheck::kBadRecords;
  }
  out->records = data.substr(offset + kBatchHeaderBytes, length);
  return BatchCheck::kIntact;
}

std::optional<uint64_t> find_intact_batch(std::string_view data, uint64_t from, uint64_t seq_min) {
  char magic[4];
  store_u32(magic, kBatchMagic);
  const std::string_view needle(magic, sizeof(magic));
  for (size_t at = data.find(needle, from + 1); at != std::string_view::npos; at = data.find(needle, at + 1)) {
    WalBatch batch;
    if (check_batch(data, at, &batch) == BatchCheck::kIntact && batch.seq >= seq_min) return at;
  }
  return std::nullopt;
}

}  // namespace mq::storage
