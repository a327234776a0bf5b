// WAL segments are preallocated with zeros (wal.h): the zeros ending the last
// segment are the log's clean end, a torn batch before them is still a torn
// tail, no other segment may end in zeros, and a disk too full to preallocate
// stops writes.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "node/storage/memory_file_system.h"
#include "node/storage/record.h"
#include "node/storage/storage.h"
#include "node/storage/wal_batch.h"
#include "tests/storage/test_util.h"

namespace mq::storage {
namespace {

using testing::make_entries;
using testing::memory_options;
using testing::payload;

constexpr uint64_t kSegmentBytes = 64 * 1024;

std::unique_ptr<Storage> open_ok(const StorageOptions& o, RecoveredState* rec) {
  auto st = Storage::open(o, rec);
  INFO(st.status().to_string());
  REQUIRE(st.is_ok());
  return std::move(st.value());
}

Status append_entries(Storage& st, GroupId group, const std::vector<raft::Entry>& entries) {
  return st.append({GroupWrite{group, std::nullopt, entries}});
}

void check_entries(const RecoveredGroup& g, uint64_t last, GroupId group) {
  REQUIRE(g.entries.size() >= last);
  for (uint64_t i = 1; i <= last; ++i) {
    REQUIRE(g.entries[i - 1].index == i);
    REQUIRE(g.entries[i - 1].data == payload(group, i, 1));
  }
}

std::vector<std::string> segment_paths(MemoryFileSystem& fs) {
  auto names = fs.list_dir("/data/wal");
  REQUIRE(names.is_ok());
  std::sort(names.value().begin(), names.value().end());
  std::vector<std::string> paths;
  for (const std::string& name : names.value()) paths.push_back("/data/wal/" + name);
  return paths;
}

std::string contents(FileSystem& fs, const std::string& path) {
  std::string data;
  REQUIRE(fs.read_file(path, &data).is_ok());
  return data;
}

bool all_zero_from(const std::string& data, size_t offset) {
  return data.find_first_not_of('\0', offset) == std::string::npos;
}

StorageOptions logging_options(MemoryFileSystem* fs, std::vector<std::string>* lines) {
  StorageOptions o = memory_options(fs);
  o.segment_size_bytes_max = kSegmentBytes;
  o.log = [lines](const std::string& line) { lines->push_back(line); };
  return o;
}

}  // namespace

TEST_CASE("a preallocated last segment ending in zeros recovers every record without a torn-tail line",
          "[storage][wal][prealloc]") {
  MemoryFileSystem fs;
  std::vector<std::string> lines;
  const StorageOptions o = logging_options(&fs, &lines);
  RecoveredState rec;
  {
    auto st = open_ok(o, &rec);
    for (uint64_t i = 1; i <= 50; i += 10) REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1)).is_ok());
  }
  const std::string segment = segment_paths(fs).back();
  const size_t written_bytes = fs.mutable_contents(segment)->size();
  fs.crash();  // the zeros were synced with the segment's header: they survive
  const std::string before = contents(fs, segment);
  REQUIRE(before.size() == kSegmentBytes);
  REQUIRE(written_bytes < kSegmentBytes);
  CHECK(all_zero_from(before, written_bytes));

  open_ok(o, &rec);
  check_entries(rec[1], 50, 1);
  CHECK(rec[1].entries.size() == 50);
  CHECK(lines.empty());
  // No longer the last segment, so cut to its records.
  CHECK(contents(fs, segment) == before.substr(0, written_bytes));
}

TEST_CASE("a crash in the middle of a batch in a preallocated segment still truncates the torn tail",
          "[storage][wal][prealloc][faults]") {
  const size_t batch_bytes = kBatchHeaderBytes + 20 * entry_record_bytes(make_entries(1, 1, 1, 1)[0]);
  int torn_tails = 0;
  for (uint64_t seed = 1; seed <= 32; ++seed) {
    INFO("seed " << seed);
    MemoryFileSystem fs;
    std::vector<std::string> lines;
    const StorageOptions o = logging_options(&fs, &lines);
    RecoveredState rec;
    size_t acked_bytes = 0;
    {
      auto st = open_ok(o, &rec);
      REQUIRE(append_entries(*st, 1, make_entries(1, 1, 10, 1)).is_ok());
      acked_bytes = fs.mutable_contents(segment_paths(fs).back())->size();
      fs.set_sync_fails(true);  // the batch is written but never made durable
      REQUIRE_FALSE(append_entries(*st, 1, make_entries(1, 11, 20, 1)).is_ok());
    }
    fs.crash(seed);  // keeps a seed-chosen prefix of the unsynced batch, zeros after it
    const std::string segment = segment_paths(fs).back();
    REQUIRE(contents(fs, segment).size() == kSegmentBytes);

    open_ok(o, &rec);
    const size_t recovered = rec[1].entries.size();
    REQUIRE((recovered == 10 || recovered == 30));  // the unsynced batch whole, or none of it
    check_entries(rec[1], recovered, 1);
    // Cut after the last whole batch, whether or not a torn one followed.
    CHECK(contents(fs, segment).size() == acked_bytes + (recovered == 30 ? batch_bytes : 0));
    if (!lines.empty()) {
      REQUIRE(lines.size() == 1);
      CHECK(lines[0].find("torn tail") != std::string::npos);
      CHECK(lines[0].find("preallocated zero bytes") != std::string::npos);
      ++torn_tails;
    }
  }
  CHECK(torn_tails > 0);
}

TEST_CASE("rolling to a new segment cuts the finished one to the bytes written", "[storage][wal][prealloc]") {
  MemoryFileSystem fs;
  std::vector<std::string> lines;
  StorageOptions o = logging_options(&fs, &lines);
  o.segment_size_bytes_max = 4096;
  RecoveredState rec;
  auto st = open_ok(o, &rec);
  for (uint64_t i = 1; i <= 100; i += 10) REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1)).is_ok());
  REQUIRE(st->wal_segment_count() >= 3);
  fs.crash();  // mid-log: the cuts must already be durable

  const std::vector<std::string> paths = segment_paths(fs);
  for (size_t i = 0; i + 1 < paths.size(); ++i) {
    INFO(paths[i]);
    const std::string data = contents(fs, paths[i]);
    CHECK(data.size() < 4096);
    size_t offset = 0;
    WalBatch batch;
    while (offset < data.size() && check_batch(data, offset, &batch) == BatchCheck::kIntact) {
      offset += batch.size_bytes;
    }
    CHECK(offset == data.size());  // the last batch ends the file: no zeros follow it
  }
  CHECK(contents(fs, paths.back()).size() == 4096);  // the segment being written keeps its zeros

  st.reset();
  open_ok(o, &rec);
  check_entries(rec[1], 100, 1);
  CHECK(lines.empty());
}

TEST_CASE("a zero tail in a segment that is not the last is a corruption error", "[storage][wal][prealloc]") {
  MemoryFileSystem fs;
  std::vector<std::string> lines;
  const StorageOptions o = logging_options(&fs, &lines);
  RecoveredState rec;
  {
    auto st = open_ok(o, &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 10, 1)).is_ok());
  }
  { open_ok(o, &rec); }  // segment 1 is cut to its records; segment 2 follows
  const std::string first = "/data/wal/" + segment_file_name(1);
  const std::string records = contents(fs, first);
  // What a preallocation left behind would look like, had the roll not cut it.
  REQUIRE(fs.truncate(first, kSegmentBytes).is_ok());

  auto st = Storage::open(o, &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().code() == StatusCode::kCorrupt);
  CHECK(exit_code_for(st.status()) == kExitCorruptDataDir);
  CHECK(st.status().message().find(first + " offset " + std::to_string(records.size())) != std::string::npos);
  CHECK(contents(fs, first).size() == kSegmentBytes);  // left for the operator to inspect
}

TEST_CASE("running out of space while preallocating a segment stops writes", "[storage][wal][prealloc][faults]") {
  MemoryFileSystem fs;
  std::vector<std::string> lines;
  StorageOptions o = logging_options(&fs, &lines);
  o.segment_size_bytes_max = 4096;
  RecoveredState rec;

  SECTION("when the node starts") {
    fs.set_space_left_bytes(4000);  // room for IDENTITY and the head file, not a segment
    auto st = Storage::open(o, &rec);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.status().code() == StatusCode::kNoSpace);
    CHECK(st.status().message().find("fallocate") != std::string::npos);
  }
  SECTION("when the WAL rolls to a new segment") {
    uint64_t acked = 0;
    {
      auto st = open_ok(o, &rec);
      fs.set_space_left_bytes(100);  // the open segment's space is already reserved
      Status failed;
      for (uint64_t i = 1; i <= 200 && failed.is_ok(); i += 5) {
        failed = append_entries(*st, 1, make_entries(1, i, 5, 1));
        if (failed.is_ok()) acked = i + 4;
      }
      CHECK(acked >= 5);  // the first segment took writes without spending space
      REQUIRE(failed.code() == StatusCode::kNoSpace);
      CHECK(failed.message().find("fallocate") != std::string::npos);
      fs.set_space_left_bytes(std::nullopt);
      const Status again = append_entries(*st, 1, make_entries(1, acked + 1, 1, 1));
      CHECK(again.code() == StatusCode::kStopped);
      CHECK(again.message().find("No space") != std::string::npos);
    }
    fs.crash(7);
    open_ok(o, &rec);
    check_entries(rec[1], acked, 1);
    CHECK(rec[1].entries.size() == acked);  // the batch that found no segment was never written
  }
}

TEST_CASE("the real disk: a preallocated file's unwritten zeros are left unread", "[storage][prealloc][posix]") {
  namespace fsys = std::filesystem;
  const fsys::path dir = fsys::temp_directory_path() / ("mq-zero-tail-test-" + std::to_string(::getpid()));
  fsys::remove_all(dir);
  fsys::create_directories(dir);
  const std::string path = (dir / "f").string();
  auto fs = make_posix_file_system();
  // Large enough that ext4 keeps the unwritten rest as such: it zeroes and
  // converts small unwritten remainders (extent_max_zeroout_kb, 32 KiB).
  // Appends also write real zeros up to 1 MiB ahead of the records (see
  // PosixWritableFile::zero_fill_ahead); beyond that the zeros are unwritten.
  constexpr uint64_t kFileBytes = 8 << 20;
  constexpr uint64_t kZeroFillAheadBytes = 1 << 20;
  const std::string written(5000, 'w');
  {
    auto file = fs->open_append(path);
    REQUIRE(file.is_ok());
    REQUIRE(file.value()->preallocate(kFileBytes).is_ok());
    REQUIRE(file.value()->append(written).is_ok());
    CHECK(file.value()->size_bytes() == written.size());
    REQUIRE(file.value()->sync().is_ok());
  }
  // First: once the zeros have been read, the page cache holds them and
  // ext4 counts them as data.
  std::string data;
  uint64_t zero_tail_bytes = 0;
  REQUIRE(fs->read_file_without_zero_tail(path, &data, &zero_tail_bytes).is_ok());
  CHECK(data.size() + zero_tail_bytes == kFileBytes);
  // ext4 and xfs report unwritten extents as holes, to the block.
  CHECK(data.size() < written.size() + kZeroFillAheadBytes + 4096);
  // ...and the zeros written ahead of the records are data: the first sync
  // of the next records then has no unwritten extent to convert.
  CHECK(data.size() >= written.size() + kZeroFillAheadBytes);

  std::string whole;
  REQUIRE(fs->read_file(path, &whole).is_ok());
  REQUIRE(whole.size() == kFileBytes);
  CHECK(whole.compare(0, written.size(), written) == 0);
  CHECK(all_zero_from(whole, written.size()));
  CHECK(data == whole.substr(0, data.size()));
  fsys::remove_all(dir);
}

TEST_CASE("the real disk: segments are preallocated and their zero tail ends the log silently",
          "[storage][wal][prealloc][posix]") {
  namespace fsys = std::filesystem;
  const fsys::path dir = fsys::temp_directory_path() / ("mq-prealloc-test-" + std::to_string(::getpid()));
  fsys::remove_all(dir);
  std::vector<std::string> lines;
  StorageOptions o;
  o.data_dir = dir.string();
  o.node_id = "n1";
  o.cluster_id = "c1";
  o.segment_size_bytes_max = kSegmentBytes;
  o.log = [&lines](const std::string& line) { lines.push_back(line); };
  const fsys::path first = dir / "wal" / segment_file_name(1);
  RecoveredState rec;
  {
    auto st = open_ok(o, &rec);
    for (uint64_t i = 1; i <= 100; i += 10) REQUIRE(append_entries(*st, 3, make_entries(3, i, 10, 1)).is_ok());
  }
  CHECK(fsys::file_size(first) == kSegmentBytes);
  {
    auto st = open_ok(o, &rec);
    check_entries(rec[3], 100, 3);
    CHECK(rec[3].entries.size() == 100);
    CHECK(lines.empty());
    CHECK(fsys::file_size(first) < kSegmentBytes);
    CHECK(fsys::file_size(dir / "wal" / segment_file_name(2)) == kSegmentBytes);
    REQUIRE(append_entries(*st, 3, make_entries(3, 101, 10, 1)).is_ok());
  }
  open_ok(o, &rec);
  check_entries(rec[3], 110, 3);
  CHECK(lines.empty());
  fsys::remove_all(dir);
}

}  // namespace mq::storage
