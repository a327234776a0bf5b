// Power loss during the last WAL batch (wal.h): one fdatasync orders nothing
// between the pages of a batch, so the last, unacknowledged batch can lose an
// earlier page and keep a later one. Recovery truncates that batch. Damage to
// a batch that an intact later batch follows was synced before the later
// one was written, so it is acknowledged data: refused as corruption.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "node/storage/memory_file_system.h"
#include "node/storage/storage.h"
#include "tests/storage/test_util.h"

namespace mq::storage {
namespace {

using testing::make_entries;
using testing::memory_options;
using testing::payload;

constexpr size_t kPage = 4096;

std::unique_ptr<Storage> open_ok(const StorageOptions& o, RecoveredState* rec) {
  auto st = Storage::open(o, rec);
  INFO(st.status().to_string());
  REQUIRE(st.is_ok());
  return std::move(st.value());
}

Status append_entries(Storage& st, GroupId group, const std::vector<raft::Entry>& entries) {
  return st.append({GroupWrite{group, raft::HardState{1, 1, entries.back().index}, entries}});
}

void check_entries(const RecoveredGroup& g, uint64_t last, GroupId group, size_t size_bytes = 100) {
  REQUIRE(g.entries.size() == last);
  for (uint64_t i = 1; i <= last; ++i) {
    REQUIRE(g.entries[i - 1].index == i);
    REQUIRE(g.entries[i - 1].data == payload(group, i, 1, size_bytes));
  }
}

std::string newest_segment(MemoryFileSystem& fs) {
  auto names = fs.list_dir("/data/wal");
  REQUIRE(names.is_ok());
  REQUIRE_FALSE(names.value().empty());
  std::sort(names.value().begin(), names.value().end());
  return "/data/wal/" + names.value().back();
}

// A log of acknowledged batches of 10 entries each (group 1, indexes 1..), in
// one segment. offsets[k] is where batch k starts; offsets.back() is the end.
struct Log {
  std::string segment;
  std::vector<size_t> offsets;
};

Log write_log(MemoryFileSystem& fs, int batches, size_t entry_bytes = 100) {
  RecoveredState rec;
  auto st = open_ok(memory_options(&fs), &rec);
  Log log;
  log.segment = newest_segment(fs);
  for (int b = 0; b < batches; ++b) {
    log.offsets.push_back(fs.mutable_contents(log.segment)->size());
    REQUIRE(append_entries(*st, 1, make_entries(1, 1 + 10 * static_cast<uint64_t>(b), 10, 1, entry_bytes)).is_ok());
  }
  log.offsets.push_back(fs.mutable_contents(log.segment)->size());
  return log;
}

// What a power loss leaves of the unsynced bytes [from, to) when it loses
// them: zeros (inside a preallocated segment) or whatever the blocks held.
void lose(MemoryFileSystem& fs, const std::string& path, size_t from, size_t to, bool junk) {
  std::string& data = *fs.mutable_contents(path);
  REQUIRE(to <= data.size());
  for (size_t i = from; i < to; ++i) data[i] = junk ? static_cast<char>(0x5A ^ (i * 131)) : '\0';
}

StorageOptions logging(MemoryFileSystem* fs, std::vector<std::string>* lines) {
  StorageOptions o = memory_options(fs);
  o.log = [lines](const std::string& line) { lines->push_back(line); };
  return o;
}

}  // namespace

TEST_CASE("power loss keeps a later page of the last batch and loses an earlier one: the batch is truncated",
          "[storage][wal][torn]") {
  // Three acknowledged batches, a restart, one more, then a last batch of
  // about four pages: the disk image is built afresh for each damage.
  struct Image {
    std::string segment;
    size_t last = 0, end = 0;  // the last batch's bytes
  };
  auto build = [](MemoryFileSystem& fs) {
    write_log(fs, 3);
    RecoveredState rec;
    auto st = open_ok(memory_options(&fs), &rec);
    Image image;
    image.segment = newest_segment(fs);
    REQUIRE(append_entries(*st, 1, make_entries(1, 31, 1, 1)).is_ok());
    image.last = fs.mutable_contents(image.segment)->size();
    REQUIRE(append_entries(*st, 1, make_entries(1, 32, 4, 1, 4000)).is_ok());
    image.end = fs.mutable_contents(image.segment)->size();
    return image;
  };
  struct Damage {
    const char* what;
    size_t from_page, to_page;  // pages counted from the one the last batch starts in
    bool junk;
    size_t sector_bytes;  // nonzero: only this much of the first page's first unsynced sector
  };
  for (const Damage& d : {
           Damage{"its first page lost (zeros), the rest kept", 0, 1, false, 0},
           Damage{"its second page lost (zeros), the rest kept", 1, 2, false, 0},
           Damage{"its first two pages lost (stale junk), the rest kept", 0, 2, true, 0},
           Damage{"a sector of its first page torn, the rest kept", 0, 1, false, 200},
       }) {
    INFO(d.what);
    MemoryFileSystem fs;
    const Image image = build(fs);
    REQUIRE(image.end - image.last > 3 * kPage);
    const size_t first_page = image.last / kPage * kPage;
    const size_t from = std::max(image.last, first_page + d.from_page * kPage);
    const size_t to = d.sector_bytes != 0 ? from + d.sector_bytes : first_page + d.to_page * kPage;
    lose(fs, image.segment, from, to, d.junk);
    fs.crash();
    std::vector<std::string> lines;
    RecoveredState rec;
    auto st = open_ok(logging(&fs, &lines), &rec);
    check_entries(rec[1], 31, 1);  // every acknowledged batch, none of the last
    CHECK(rec[1].hard_state.commit == 31);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find(image.segment + ": truncating torn tail at offset " + std::to_string(image.last)) !=
          std::string::npos);
    std::string data;
    REQUIRE(fs.read_file(image.segment, &data).is_ok());
    CHECK(data.size() == image.last);
    // The node carries on: the same indexes are written again and recover.
    REQUIRE(append_entries(*st, 1, make_entries(1, 32, 2, 1)).is_ok());
    st.reset();
    open_ok(memory_options(&fs), &rec);
    REQUIRE(rec[1].entries.size() == 33);
    CHECK(rec[1].entries[32].data == payload(1, 33, 1));
  }
}

TEST_CASE("damage inside an acknowledged batch that an intact batch follows is refused", "[storage][wal][torn]") {
  Log log;
  {
    MemoryFileSystem fs;
    log = write_log(fs, 6, 1500);  // batches of about four pages
  }
  struct Damage {
    const char* what;
    size_t batch;   // the damaged batch; offsets[batch] must be named
    size_t from, to;
  };
  const std::vector<Damage> damages = {
      {"a zeroed page inside batch 2", 2, log.offsets[2] + 500, log.offsets[2] + 500 + kPage},
      {"batch 3's header zeroed", 3, log.offsets[3], log.offsets[3] + 24},
      {"one bit of batch 1's records", 1, log.offsets[1] + 1000, log.offsets[1] + 1001},
      {"from inside batch 3 to inside batch 4, batch 5 intact", 3, log.offsets[4] - 100, log.offsets[4] + 100},
      {"the last half of batch 4, batch 5 intact", 4, (log.offsets[4] + log.offsets[5]) / 2, log.offsets[5]},
  };
  for (const Damage& d : damages) {
    INFO(d.what);
    MemoryFileSystem disk;
    write_log(disk, 6, 1500);
    std::string& data = *disk.mutable_contents(log.segment);
    for (size_t i = d.from; i < d.to; ++i) data[i] = static_cast<char>(d.to - d.from == 1 ? data[i] ^ 0x10 : 0);
    const std::string damaged = data;
    RecoveredState rec;
    auto st = Storage::open(memory_options(&disk), &rec);
    REQUIRE_FALSE(st.is_ok());
    INFO(st.status().to_string());
    CHECK(st.status().code() == StatusCode::kCorrupt);
    CHECK(exit_code_for(st.status()) == kExitCorruptDataDir);
    CHECK(st.status().message().find(log.segment + " offset " + std::to_string(log.offsets[d.batch])) !=
          std::string::npos);
    CHECK(*disk.mutable_contents(log.segment) == damaged);  // left for the operator to inspect
  }

  SECTION("the same damage in the last batch, with nothing after it, is a torn tail") {
    MemoryFileSystem disk;
    write_log(disk, 6, 1500);
    lose(disk, log.segment, log.offsets[5] + 200, log.offsets[5] + 200 + kPage, false);
    RecoveredState rec;
    open_ok(memory_options(&disk), &rec);
    check_entries(rec[1], 50, 1, 1500);
  }
}

TEST_CASE("a page lost in a segment that is not the newest is corruption", "[storage][wal][torn]") {
  for (const size_t batch : {1, 2}) {
    INFO("batch " << batch);
    MemoryFileSystem disk;
    const Log log = write_log(disk, 3, 1500);
    {
      RecoveredState rec;
      open_ok(memory_options(&disk), &rec);  // segment 2 follows
    }
    REQUIRE(newest_segment(disk) != log.segment);
    lose(disk, log.segment, log.offsets[batch] + 300, log.offsets[batch] + 300 + kPage, false);
    RecoveredState rec;
    auto st = Storage::open(memory_options(&disk), &rec);
    CHECK(st.status().code() == StatusCode::kCorrupt);
    CHECK(st.status().message().find(log.segment + " offset " + std::to_string(log.offsets[batch])) !=
          std::string::npos);
  }
}

namespace {

// Sizes vary per entry, some spanning several pages; a function of the seed,
// group and index so recovered entries can be checked.
size_t entry_bytes(uint64_t seed, GroupId group, uint64_t index) {
  const uint64_t h = (seed * 0x9E3779B97F4A7C15ull) ^ (group * 0xC2B2AE3D27D4EB4Full) ^ (index * 0x165667B19E3779F9ull);
  const uint64_t mixed = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull;
  return (mixed >> 40) % 8 == 0 ? 4000 + (mixed >> 8) % 9000 : 1 + (mixed >> 8) % 700;
}

std::vector<raft::Entry> entries_for(uint64_t seed, GroupId group, uint64_t first, uint64_t count) {
  std::vector<raft::Entry> out;
  for (uint64_t i = first; i < first + count; ++i) {
    raft::Entry e;
    e.term = 1;
    e.index = i;
    e.data = payload(group, i, 1, entry_bytes(seed, group, i));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

// The last WriteBatch is atomic in fsync mode batch (one WAL batch): all of
// its groups' records survive or none. In mode always each group is its own
// WAL batch, so a prefix of its groups may survive.
TEST_CASE("power loss during the last batch, thousands of seeds: synced batches intact, the last whole or absent",
          "[storage][wal][torn][faults]") {
  constexpr uint64_t kSeeds = 3000;
  constexpr GroupId kGroups = 3;
  uint64_t last_kept = 0, last_lost = 0, torn_lines = 0, kept_after_lost = 0, torn_sectors = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    MemoryFileSystem fs;
    // Without fallocate, segments grow as written, and a lost page past
    // their durable end may read as stale junk rather than zeros.
    fs.set_preallocate_unsupported(seed % 3 == 0);
    std::vector<std::string> lines;
    StorageOptions o = memory_options(&fs, seed % 4 == 0 ? FsyncMode::kAlways : FsyncMode::kBatch);
    o.segment_size_bytes_max = 16 * 1024 + rng() % (48 * 1024);  // rolls now and then
    o.log = [&lines](const std::string& line) { lines.push_back(line); };
    std::map<GroupId, uint64_t> acked;  // last index per group, all synced
    // The last batch, never synced: group -> its last index.
    std::vector<std::pair<GroupId, uint64_t>> unsynced;
    for (int life = 0; life < 3; ++life) {
      INFO("life " << life);
      lines.clear();
      RecoveredState rec;
      auto st = open_ok(o, &rec);
      // How many of the unsynced batch's groups survived: a prefix, in mode
      // batch none or all.
      size_t survived = 0;
      while (survived < unsynced.size() &&
             rec[unsynced[survived].first].entries.size() == unsynced[survived].second) {
        ++survived;
      }
      if (o.fsync_mode == FsyncMode::kBatch) REQUIRE((survived == 0 || survived == unsynced.size()));
      if (!unsynced.empty()) ++(survived == 0 ? last_lost : last_kept);
      for (size_t i = 0; i < survived; ++i) acked[unsynced[i].first] = unsynced[i].second;
      for (const std::string& line : lines) torn_lines += line.find("torn tail") != std::string::npos;
      for (GroupId g = 1; g <= kGroups; ++g) {
        INFO("group " << g);
        const RecoveredGroup& got = rec[g];
        REQUIRE(got.entries.size() == acked[g]);
        for (uint64_t i = 1; i <= acked[g]; ++i) {
          REQUIRE(got.entries[i - 1].index == i);
          REQUIRE(got.entries[i - 1].data == payload(g, i, 1, entry_bytes(seed, g, i)));
        }
        CHECK(got.hard_state.commit == acked[g]);
      }
      if (life == 2) break;

      // Each group's entries, kept alive while the WriteBatch points at them.
      using Writes = std::vector<std::pair<GroupId, std::vector<raft::Entry>>>;
      auto random_writes = [&] {
        Writes writes;
        for (GroupId g = 1; g <= kGroups; ++g) {
          if (rng() % 2 == 0) writes.emplace_back(g, entries_for(seed, g, acked[g] + 1, 1 + rng() % 5));
        }
        if (writes.empty()) writes.emplace_back(1, entries_for(seed, 1, acked[1] + 1, 3));
        return writes;
      };
      auto as_batch = [](const Writes& writes) {
        WriteBatch batch;
        for (const auto& [g, entries] : writes) {
          batch.push_back(GroupWrite{g, raft::HardState{1, 1, entries.back().index}, entries});
        }
        return batch;
      };
      const int synced_batches = static_cast<int>(rng() % 6);
      for (int b = 0; b < synced_batches; ++b) {
        const Writes writes = random_writes();
        REQUIRE(st->append(as_batch(writes)).is_ok());
        for (const auto& [g, entries] : writes) acked[g] = entries.back().index;
      }
      const Writes last = random_writes();
      fs.set_sync_fails(true);  // written, never made durable
      REQUIRE_FALSE(st->append(as_batch(last)).is_ok());
      unsynced.clear();
      for (const auto& [g, entries] : last) unsynced.emplace_back(g, entries.back().index);
      st.reset();
      const MemoryFileSystem::PageLoss loss = fs.crash_losing_pages(rng());
      kept_after_lost += loss.pages_kept_after_a_lost_one;
      torn_sectors += loss.torn_sectors;
    }
  }
  // The seeds did what the test is about.
  CHECK(last_kept > kSeeds / 10);
  CHECK(last_lost > kSeeds / 10);
  CHECK(torn_lines > kSeeds / 10);
  CHECK(kept_after_lost > kSeeds / 10);
  CHECK(torn_sectors > kSeeds / 10);
  WARN("last batches kept " << last_kept << ", lost " << last_lost << ", torn-tail lines " << torn_lines
                            << ", pages kept after a lost one " << kept_after_lost << ", torn sectors "
                            << torn_sectors);
}

}  // namespace mq::storage
