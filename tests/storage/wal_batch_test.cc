// The WAL batch frame (wal.h): its checks, the scan for an intact batch, and
// what recovery makes of batch sequence numbers and the old format.
#include "node/storage/wal_batch.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "node/storage/coding.h"
#include "node/storage/crc32c.h"
#include "node/storage/memory_file_system.h"
#include "node/storage/record.h"
#include "node/storage/storage.h"
#include "tests/storage/test_util.h"

namespace mq::storage {
namespace {

using testing::make_entries;
using testing::memory_options;

std::string batch_of(uint64_t seq, const std::vector<raft::Entry>& entries) {
  std::string out;
  const size_t start = begin_batch(&out);
  for (const raft::Entry& e : entries) append_entry(&out, 1, e);
  seal_batch(&out, start, seq);
  return out;
}

}  // namespace

TEST_CASE("a sealed batch reads back intact with its sequence number and records", "[wal][batch]") {
  const auto entries = make_entries(1, 1, 3, 1);
  const std::string image = "junk" + batch_of(7, entries);
  CHECK(image.compare(4, 4, "MQWB") == 0);
  WalBatch batch;
  REQUIRE(check_batch(image, 4, &batch) == BatchCheck::kIntact);
  CHECK(batch.seq == 7);
  CHECK(batch.size_bytes == image.size() - 4);
  RecordReader reader(batch.records);
  int records = 0;
  while (reader.next() == RecordReader::Next::kRecord) ++records;
  CHECK(records == 3);

  SECTION("an empty batch is a header alone") {
    std::string empty;
    seal_batch(&empty, begin_batch(&empty), 1);
    CHECK(empty.size() == kBatchHeaderBytes);
    REQUIRE(check_batch(empty, 0, &batch) == BatchCheck::kIntact);
    CHECK(batch.records.empty());
  }
}

TEST_CASE("every bit flip and every cut of a batch is caught", "[wal][batch]") {
  const std::string image = batch_of(3, make_entries(1, 1, 2, 1, 50));
  WalBatch batch;
  for (size_t byte = 0; byte < image.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = image;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      const BatchCheck check = check_batch(damaged, 0, &batch);
      INFO("byte " << byte << " bit " << bit);
      CHECK(check != BatchCheck::kIntact);
      if (byte >= kBatchHeaderBytes) CHECK(check == BatchCheck::kBadRecords);
    }
  }
  for (size_t cut = 0; cut < image.size(); ++cut) {
    INFO("cut at " << cut);
    const BatchCheck check = check_batch(std::string_view(image).substr(0, cut), 0, &batch);
    CHECK(check == (cut < kBatchHeaderBytes ? BatchCheck::kBadHeader : BatchCheck::kIncomplete));
    if (check == BatchCheck::kIncomplete) CHECK(batch.size_bytes == image.size());
  }
}

TEST_CASE("the scan finds the first intact batch at or above a sequence number", "[wal][batch]") {
  const std::string first = batch_of(4, make_entries(1, 1, 1, 1));
  const std::string second = batch_of(5, make_entries(1, 2, 1, 1));
  std::string image = first + second + batch_of(6, make_entries(1, 3, 1, 1));
  image[10] ^= 1;  // the first batch is damaged
  CHECK(find_intact_batch(image, 0, 5) == first.size());
  CHECK(find_intact_batch(image, 0, 6) == first.size() + second.size());
  CHECK_FALSE(find_intact_batch(image, 0, 7).has_value());
  CHECK_FALSE(find_intact_batch(std::string(10000, '\0'), 0, 0).has_value());
  // A batch copied into an entry of a later one is found too: only its
  // sequence number tells it apart (wal.h).
  raft::Entry holder{1, 9, raft::EntryType::kNormal, second};
  const std::string nested = batch_of(9, {holder});
  CHECK(find_intact_batch(nested, 0, 1).has_value());
  CHECK_FALSE(find_intact_batch(nested, 0, 10).has_value());
}

namespace {

std::unique_ptr<Storage> open_ok(const StorageOptions& o, RecoveredState* rec) {
  auto st = Storage::open(o, rec);
  INFO(st.status().to_string());
  REQUIRE(st.is_ok());
  return std::move(st.value());
}

// Segment 1 with two batches of entries, then segment 2 (opened at restart).
void write_two_segments(MemoryFileSystem& fs, size_t* first_segment_batch_2) {
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(st->append({GroupWrite{1, std::nullopt, make_entries(1, 1, 5, 1)}}).is_ok());
    *first_segment_batch_2 = fs.mutable_contents("/data/wal/" + segment_file_name(1))->size();
    REQUIRE(st->append({GroupWrite{1, std::nullopt, make_entries(1, 6, 5, 1)}}).is_ok());
  }
  open_ok(memory_options(&fs), &rec);
}

}  // namespace

TEST_CASE("batches missing from the end of an older segment are caught by their numbers", "[storage][wal][batch]") {
  MemoryFileSystem fs;
  size_t batch_2_end = 0;
  write_two_segments(fs, &batch_2_end);
  // Cut segment 1 cleanly after its second batch (entries 1-5): what a lost
  // tail that ended on a batch boundary would look like.
  fs.mutable_contents("/data/wal/" + segment_file_name(1))->resize(batch_2_end);
  RecoveredState rec;
  auto st = Storage::open(memory_options(&fs), &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().code() == StatusCode::kCorrupt);
  CHECK(st.status().message().find("/data/wal/" + segment_file_name(2) + " offset 0: batch 4 where batch 3") !=
        std::string::npos);
}

TEST_CASE("a segment of format version 1 (bare records) is refused, never taken for a torn one",
          "[storage][wal][batch]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  { open_ok(memory_options(&fs), &rec); }
  // What version 1 wrote: a bare segment header record, then bare records.
  std::string payload;
  put_u64(&payload, kSegmentMagic);
  put_u32(&payload, 1);
  put_u64(&payload, 1);
  std::string v1;
  put_u32(&v1, 0);
  put_u32(&v1, static_cast<uint32_t>(payload.size()));
  v1.push_back(static_cast<char>(RecordType::kSegmentHeader));
  v1 += payload;
  const uint32_t crc = crc32c(std::string_view(v1).substr(4));
  for (int i = 0; i < 4; ++i) v1[i] = static_cast<char>(crc >> (8 * i));
  append_entry(&v1, 1, make_entries(1, 1, 1, 1)[0]);
  const std::string path = "/data/wal/" + segment_file_name(1);
  *fs.mutable_contents(path) = v1;

  auto st = Storage::open(memory_options(&fs), &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().code() == StatusCode::kCorrupt);
  CHECK(st.status().message().find(path + " offset 0: unsupported WAL format version 1") != std::string::npos);
  CHECK(*fs.mutable_contents(path) == v1);
}

}  // namespace mq::storage
