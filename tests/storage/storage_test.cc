#include "node/storage/storage.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "node/storage/identity.h"
#include "node/storage/memory_file_system.h"
#include "node/storage/record.h"
#include "node/storage/snapshot_file.h"
#include "node/storage/wal_batch.h"
#include "tests/storage/test_util.h"

namespace mq::storage {
namespace {

using testing::make_entries;
using testing::memory_options;
using testing::payload;

std::unique_ptr<Storage> open_ok(const StorageOptions& o, RecoveredState* rec) {
  auto st = Storage::open(o, rec);
  INFO(st.status().to_string());
  REQUIRE(st.is_ok());
  return std::move(st.value());
}

Status append_entries(Storage& st, GroupId group, const std::vector<raft::Entry>& entries,
                      std::optional<raft::HardState> hs = std::nullopt) {
  WriteBatch batch{GroupWrite{group, hs, entries}};
  return st.append(batch);
}

// Group 1's entries 1..100 of term 1, in ten committed batches.
void append_1_to_100(Storage& st) {
  for (uint64_t i = 1; i <= 100; i += 10) {
    REQUIRE(append_entries(st, 1, make_entries(1, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
  }
}

void check_entries(const RecoveredGroup& g, uint64_t first, uint64_t last, uint64_t term, GroupId group) {
  REQUIRE(g.entries.size() == last - first + 1);
  for (uint64_t i = first; i <= last; ++i) {
    const raft::Entry& e = g.entries[i - first];
    REQUIRE(e.index == i);
    REQUIRE(e.term == term);
    REQUIRE(e.data == payload(group, i, term));
  }
}

std::string last_segment(MemoryFileSystem& fs) {
  auto names = fs.list_dir("/data/wal");
  REQUIRE(names.is_ok());
  std::sort(names.value().begin(), names.value().end());
  return "/data/wal/" + names.value().back();
}

}  // namespace

TEST_CASE("fresh data dir recovers empty, then everything appended", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    CHECK(rec.empty());
    const auto e1 = make_entries(1, 1, 10, 1);
    const auto e2 = make_entries(2, 1, 5, 3);
    WriteBatch batch{GroupWrite{1, raft::HardState{1, 1, 0}, e1}, GroupWrite{2, raft::HardState{3, 2, 4}, e2}};
    REQUIRE(st->append(batch).is_ok());
  }
  fs.crash();
  auto st = open_ok(memory_options(&fs), &rec);
  REQUIRE(rec.size() == 2);
  check_entries(rec[1], 1, 10, 1, 1);
  check_entries(rec[2], 1, 5, 3, 2);
  CHECK(rec[1].hard_state.term == 1);
  CHECK(rec[1].hard_state.vote == 1);
  CHECK(rec[2].hard_state.term == 3);
  CHECK(rec[2].hard_state.vote == 2);
  CHECK(rec[2].hard_state.commit == 4);
  CHECK_FALSE(rec[1].snapshot.has_value());
}

TEST_CASE("hard state alone (a vote) is durable once append returns", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(st->append({GroupWrite{7, raft::HardState{5, 3, 0}, {}}}).is_ok());
    REQUIRE(st->append({GroupWrite{7, raft::HardState{6, 0, 0}, {}}}).is_ok());
  }
  fs.crash();
  open_ok(memory_options(&fs), &rec);
  CHECK(rec[7].hard_state.term == 6);
  CHECK(rec[7].hard_state.vote == 0);
  CHECK(rec[7].entries.empty());
}

TEST_CASE("a later entry replaces the suffix from its index on", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 10, 1)).is_ok());
    REQUIRE(append_entries(*st, 1, make_entries(1, 6, 2, 2)).is_ok());
  }
  fs.crash();
  open_ok(memory_options(&fs), &rec);
  REQUIRE(rec[1].entries.size() == 7);
  CHECK(rec[1].entries[4].term == 1);
  CHECK(rec[1].entries[5].index == 6);
  CHECK(rec[1].entries[5].term == 2);
  CHECK(rec[1].entries[6].data == payload(1, 7, 2));
}

TEST_CASE("fsync batch syncs once per append, always once per group, none never", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  const auto e = make_entries(1, 1, 3, 1);
  WriteBatch batch{GroupWrite{1, std::nullopt, e}, GroupWrite{2, std::nullopt, e}, GroupWrite{3, std::nullopt, e}};

  auto syncs_for = [&](FsyncMode mode, const std::string& dir) {
    auto o = memory_options(&fs, mode);
    o.data_dir = dir;
    auto st = open_ok(o, &rec);
    const uint64_t before = fs.syncs();
    REQUIRE(st->append(batch).is_ok());
    return fs.syncs() - before;
  };
  CHECK(syncs_for(FsyncMode::kBatch, "/b") == 1);
  CHECK(syncs_for(FsyncMode::kAlways, "/a") == 3);
  CHECK(syncs_for(FsyncMode::kNone, "/n") == 0);
}

TEST_CASE("the WAL counts the bytes it writes, not the zeros it preallocates", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  uint64_t written = 0;
  std::string first_segment;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    first_segment = last_segment(fs);
    const uint64_t header = st->wal_bytes_written();
    CHECK(header > 0);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 10, 1)).is_ok());
    REQUIRE(append_entries(*st, 2, make_entries(2, 1, 3, 1), raft::HardState{1, 1, 0}).is_ok());
    written = st->wal_bytes_written();
    CHECK(written > header + 13 * payload(1, 1, 1).size());
  }
  // Reopening cuts the finished segment's unused zeros: what is left is
  // exactly what was counted.
  auto st = open_ok(memory_options(&fs), &rec);
  std::string contents;
  REQUIRE(fs.read_file(first_segment, &contents).is_ok());
  CHECK(contents.size() == written);
}

TEST_CASE("fsync none warns loudly and loses unsynced writes on a crash", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  std::vector<std::string> lines;
  auto o = memory_options(&fs, FsyncMode::kNone);
  o.log = [&](const std::string& l) { lines.push_back(l); };
  {
    auto st = open_ok(o, &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 5, 1)).is_ok());
  }
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0].find("WARNING") != std::string::npos);
  CHECK(lines[0].find("benchmarks only") != std::string::npos);
  fs.crash();
  auto reopened = Storage::open(memory_options(&fs), &rec);
  if (reopened.is_ok()) CHECK(rec[1].entries.empty());
}

TEST_CASE("segments roll at the size limit and all replay", "[storage][wal]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  {
    auto st = open_ok(o, &rec);
    for (uint64_t i = 1; i <= 200; i += 10) {
      REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
    }
    CHECK(st->wal_segment_count() >= 5);
  }
  auto names = fs.list_dir("/data/wal");
  REQUIRE(names.is_ok());
  for (const std::string& n : names.value()) {
    std::string data;
    REQUIRE(fs.read_file("/data/wal/" + n, &data).is_ok());
    CHECK(data.size() <= 4096);
  }
  fs.crash();
  open_ok(o, &rec);
  check_entries(rec[1], 1, 200, 1, 1);
  CHECK(rec[1].hard_state.commit == 200);
}

TEST_CASE("a torn last batch, cut at every byte, is truncated and the rest survives", "[storage][wal]") {
  // Find the size of the last batch once, then cut inside it at every byte.
  auto build = [](MemoryFileSystem& fs) {
    RecoveredState rec;
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 20, 1)).is_ok());
    REQUIRE(append_entries(*st, 1, make_entries(1, 21, 1, 1)).is_ok());
  };
  // The bytes written: the segment's preallocated zeros follow them, and
  // stay after every cut below, as they would on a disk.
  size_t full_size = 0;
  {
    MemoryFileSystem fs;
    build(fs);
    full_size = fs.mutable_contents(last_segment(fs))->size();
  }
  const size_t last_batch = kBatchHeaderBytes + entry_record_bytes(make_entries(1, 21, 1, 1)[0]);
  for (size_t cut = full_size - last_batch; cut < full_size; ++cut) {
    INFO("cut at " << cut);
    MemoryFileSystem fs;
    build(fs);
    const std::string seg = last_segment(fs);
    fs.mutable_contents(seg)->resize(cut);
    std::vector<std::string> lines;
    auto o = memory_options(&fs);
    o.log = [&](const std::string& l) { lines.push_back(l); };
    RecoveredState rec;
    auto st = open_ok(o, &rec);
    check_entries(rec[1], 1, 20, 1, 1);
    if (cut > full_size - last_batch) {
      REQUIRE(lines.size() == 1);
      CHECK(lines[0].find("torn tail") != std::string::npos);
      CHECK(lines[0].find(std::to_string(full_size - last_batch)) != std::string::npos);
    } else {
      CHECK(lines.empty());  // only zeros after a whole batch: the log's normal end
    }
    std::string data;
    REQUIRE(fs.read_file(seg, &data).is_ok());
    CHECK(data.size() == full_size - last_batch);
    // The node carries on: new writes land and recover.
    REQUIRE(append_entries(*st, 1, make_entries(1, 21, 1, 1)).is_ok());
    st.reset();
    open_ok(memory_options(&fs), &rec);
    check_entries(rec[1], 1, 21, 1, 1);
  }
}

TEST_CASE("a bit flip before the tail is a corruption error naming file and offset", "[storage][wal]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    for (uint64_t i = 1; i <= 30; i += 10) REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1)).is_ok());
  }
  auto names = fs.list_dir("/data/wal");
  REQUIRE(names.is_ok());
  std::sort(names.value().begin(), names.value().end());
  const std::string seg = "/data/wal/" + names.value().front();
  std::string* data = fs.mutable_contents(seg);
  const size_t middle = data->size() / 2;
  (*data)[middle] ^= 0x04;
  auto st = Storage::open(memory_options(&fs), &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().code() == StatusCode::kCorrupt);
  CHECK(exit_code_for(st.status()) == kExitCorruptDataDir);
  CHECK(st.status().message().find(seg) != std::string::npos);
  CHECK(st.status().message().find("offset ") != std::string::npos);
  // The damaged file is left as it was for the operator to inspect.
  CHECK((*fs.mutable_contents(seg))[middle] == static_cast<char>((*data)[middle]));
}

TEST_CASE("a bit flip in a segment that is not the last is corruption even at its end", "[storage][wal]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 3, 1)).is_ok());
  }
  { open_ok(memory_options(&fs), &rec); }  // a second, empty segment follows
  auto names = fs.list_dir("/data/wal");
  REQUIRE(names.is_ok());
  const std::string first = "/data/wal/" + segment_file_name(1);
  fs.mutable_contents(first)->back() ^= 0x01;
  auto st = Storage::open(memory_options(&fs), &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().code() == StatusCode::kCorrupt);
  CHECK(st.status().message().find(first + " offset ") != std::string::npos);
}

TEST_CASE("a missing segment is a corruption error", "[storage][wal]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  {
    auto st = open_ok(o, &rec);
    append_1_to_100(*st);
  }
  auto names = fs.list_dir("/data/wal");
  std::sort(names.value().begin(), names.value().end());
  REQUIRE(names.value().size() >= 4);

  SECTION("in the middle") {
    REQUIRE(fs.remove("/data/wal/" + names.value()[1]).is_ok());
    auto st = Storage::open(o, &rec);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.status().code() == StatusCode::kCorrupt);
    CHECK(st.status().message().find("missing WAL segment") != std::string::npos);
  }
  SECTION("the first") {
    REQUIRE(fs.remove("/data/wal/" + names.value()[0]).is_ok());
    auto st = Storage::open(o, &rec);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.status().code() == StatusCode::kCorrupt);
    CHECK(st.status().message().find("missing") != std::string::npos);
  }
  SECTION("the last ones, caught by the commit index") {
    // The newest segment holds no entries (opened at shutdown); drop the
    // two before it too.
    for (size_t i = names.value().size() - 3; i < names.value().size(); ++i) {
      REQUIRE(fs.remove("/data/wal/" + names.value()[i]).is_ok());
    }
    auto st = Storage::open(o, &rec);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.status().code() == StatusCode::kCorrupt);
    CHECK(st.status().message().find("newest segments are missing") != std::string::npos);
  }
  SECTION("the head file that names the newest") {
    REQUIRE(fs.remove("/data/WAL_HEAD").is_ok());
    CHECK(Storage::open(o, &rec).status().code() == StatusCode::kCorrupt);
  }
  SECTION("the whole WAL directory") {
    for (const std::string& n : names.value()) REQUIRE(fs.remove("/data/wal/" + n).is_ok());
    CHECK(Storage::open(o, &rec).status().code() == StatusCode::kCorrupt);
  }
}

TEST_CASE("committed entries missing behind a surviving hard state is corruption", "[storage][wal]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 10, 1), raft::HardState{1, 1, 10}).is_ok());
  }
  {
    auto st = open_ok(memory_options(&fs), &rec);  // checkpoint: commit 10 is in segment 2
  }
  // Segment 1 loses its entries but keeps a valid header and its batches
  // keep their numbers (1, its header; 2, now empty): a hand-edited log.
  std::string* first = fs.mutable_contents("/data/wal/" + segment_file_name(1));
  std::string header_only;
  size_t start = begin_batch(&header_only);
  append_segment_header(&header_only, 1);
  seal_batch(&header_only, start, 1);
  start = begin_batch(&header_only);
  seal_batch(&header_only, start, 2);
  *first = header_only;
  auto st = Storage::open(memory_options(&fs), &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().message().find("committed index 10") != std::string::npos);
}

TEST_CASE("a full disk stops writes with a clear error and loses nothing acknowledged", "[storage][faults]") {
  // Without fallocate the disk fills up in the middle of a write. With it,
  // writes land in space reserved when their segment was created, so the
  // disk fills up when a later segment is preallocated (small segments make
  // that happen within the test).
  for (const bool preallocating : {false, true}) {
    for (uint64_t space : {0ull, 1ull, 50ull, 333ull, 1000ull, 5000ull}) {
      INFO("space left " << space << (preallocating ? ", preallocating segments" : ", no fallocate"));
      MemoryFileSystem fs;
      fs.set_preallocate_unsupported(!preallocating);
      auto o = memory_options(&fs);
      if (preallocating) o.segment_size_bytes_max = 4096;
      RecoveredState rec;
      uint64_t acked = 0;
      {
        auto st = open_ok(o, &rec);
        fs.set_space_left_bytes(space);
        Status failed;
        for (uint64_t i = 1; i <= 500; i += 5) {
          Status s = append_entries(*st, 1, make_entries(1, i, 5, 1), raft::HardState{1, 1, i + 4});
          if (!s.is_ok()) {
            failed = s;
            break;
          }
          acked = i + 4;
        }
        REQUIRE(failed.code() == StatusCode::kNoSpace);
        CHECK(failed.message().find("No space") != std::string::npos);
        fs.set_space_left_bytes(std::nullopt);
        // Space came back, but the node must not resume on a log with a hole.
        Status again = append_entries(*st, 1, make_entries(1, acked + 1, 1, 1));
        CHECK(again.code() == StatusCode::kStopped);
        CHECK(again.message().find("No space") != std::string::npos);
        CHECK(st->failure().code() == StatusCode::kNoSpace);
        CHECK(st->save_snapshot(1, raft::Snapshot{}).code() == StatusCode::kStopped);
      }
      fs.crash(space);
      open_ok(o, &rec);
      REQUIRE(rec[1].entries.size() >= acked);
      for (uint64_t i = 1; i <= acked; ++i) REQUIRE(rec[1].entries[i - 1].data == payload(1, i, 1));
      CHECK(rec[1].hard_state.commit >= acked);
    }
  }
}

TEST_CASE("a short write or failed sync stops writes; acknowledged data survives", "[storage][faults]") {
  for (int variant = 0; variant < 2; ++variant) {
    MemoryFileSystem fs;
    RecoveredState rec;
    {
      auto st = open_ok(memory_options(&fs), &rec);
      REQUIRE(append_entries(*st, 1, make_entries(1, 1, 10, 1)).is_ok());
      if (variant == 0) {
        fs.cut_next_write(37);
      } else {
        fs.set_sync_fails(true);
      }
      CHECK_FALSE(append_entries(*st, 1, make_entries(1, 11, 10, 1)).is_ok());
      fs.set_sync_fails(false);
      CHECK(append_entries(*st, 1, make_entries(1, 11, 10, 1)).code() == StatusCode::kStopped);
    }
    fs.crash(static_cast<uint64_t>(variant) + 11);
    open_ok(memory_options(&fs), &rec);
    REQUIRE(rec[1].entries.size() >= 10);
    for (uint64_t i = 1; i <= 10; ++i) CHECK(rec[1].entries[i - 1].data == payload(1, i, 1));
  }
}

TEST_CASE("random crashes never lose an acknowledged batch", "[storage][faults]") {
  constexpr int kTrials = 40;
  for (int trial = 0; trial < kTrials; ++trial) {
    INFO("seed " << trial);
    std::mt19937_64 rng(static_cast<uint64_t>(trial));
    MemoryFileSystem fs;
    auto o = memory_options(&fs, trial % 2 == 0 ? FsyncMode::kBatch : FsyncMode::kAlways);
    o.segment_size_bytes_max = 4096 + rng() % 8192;
    std::map<GroupId, uint64_t> acked;
    for (int life = 0; life < 4; ++life) {
      RecoveredState rec;
      auto st = open_ok(o, &rec);
      for (const auto& [group, last] : acked) {
        REQUIRE(rec[group].entries.size() >= last);
        for (uint64_t i = 1; i <= last; ++i) REQUIRE(rec[group].entries[i - 1].data == payload(group, i, 1));
      }
      std::map<GroupId, uint64_t> next;
      for (auto& [group, g] : rec) next[group] = g.entries.size() + 1;
      const int batches = static_cast<int>(rng() % 30);
      for (int b = 0; b < batches; ++b) {
        std::vector<std::pair<GroupId, std::vector<raft::Entry>>> writes;
        for (GroupId group = 1; group <= 3; ++group) {
          if (rng() % 2) continue;
          uint64_t& n = next[group];
          if (n == 0) n = 1;
          writes.emplace_back(group, make_entries(group, n, 1 + rng() % 8, 1));
          n += writes.back().second.size();
        }
        WriteBatch batch;
        for (const auto& [group, entries] : writes) batch.push_back(GroupWrite{group, std::nullopt, entries});
        REQUIRE(st->append(batch).is_ok());
        for (const auto& w : batch) acked[w.group] = w.entries.back().index;
      }
      st.reset();
      fs.crash(rng());
    }
  }
}

TEST_CASE("snapshots: saved, verified, newest wins, old removed, WAL after it replayed", "[storage][snapshot]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  raft::Snapshot snap;
  snap.meta = raft::SnapshotMeta{50, 1, {1, 2, 3}, {4}};
  snap.data = std::string(100000, 'x') + "end";
  {
    auto st = open_ok(o, &rec);
    append_1_to_100(*st);
    raft::Snapshot older = snap;
    older.meta.index = 30;
    REQUIRE(st->save_snapshot(1, older).is_ok());
    REQUIRE(st->save_snapshot(1, snap).is_ok());
    const size_t before = st->wal_segment_count();
    CHECK(st->compact(1, 60).code() == StatusCode::kInvalidArgument);
    REQUIRE(st->compact(1, 50).is_ok());
    CHECK(st->wal_segment_count() < before);
    CHECK(st->save_snapshot(1, older).code() == StatusCode::kInvalidArgument);
  }
  auto snaps = fs.list_dir("/data/snap");
  REQUIRE(snaps.is_ok());
  REQUIRE(snaps.value().size() == 1);
  CHECK(snaps.value()[0] == snapshot_file_name(1, 50));
  fs.crash();
  open_ok(o, &rec);
  REQUIRE(rec[1].snapshot.has_value());
  CHECK(rec[1].snapshot->meta.index == 50);
  CHECK(rec[1].snapshot->meta.term == 1);
  CHECK(rec[1].snapshot->meta.voters == std::vector<raft::NodeId>{1, 2, 3});
  CHECK(rec[1].snapshot->meta.learners == std::vector<raft::NodeId>{4});
  CHECK(rec[1].snapshot->data == snap.data);
  check_entries(rec[1], 51, 100, 1, 1);
  CHECK(rec[1].hard_state.commit == 100);
}

TEST_CASE("an idle group pins old segments; the WAL says which and when it is over budget",
          "[storage][wal][snapshot]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  auto st = open_ok(o, &rec);
  // Group 2 writes a little and goes quiet; group 1 keeps writing.
  REQUIRE(append_entries(*st, 2, make_entries(2, 1, 5, 1), raft::HardState{1, 1, 5}).is_ok());
  for (uint64_t i = 1; i <= 300; i += 10) {
    REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
  }
  REQUIRE(st->wal_segment_count() > 4);
  REQUIRE(st->save_snapshot(1, raft::Snapshot{{300, 1, {1}, {}}, "small"}).is_ok());
  REQUIRE(st->compact(1, 300).is_ok());
  // Group 1 is covered everywhere, yet nothing goes: group 2's five entries
  // sit in the oldest segment.
  CHECK(st->wal_segment_count() > 4);
  CHECK(st->oldest_segment_pins() == std::map<GroupId, uint64_t>{{2, 5}});
  // The segments before the active one hold far more than the snapshots.
  CHECK(st->wal_over_budget());

  REQUIRE(st->save_snapshot(2, raft::Snapshot{{5, 1, {1}, {}}, "tiny"}).is_ok());
  REQUIRE(st->compact(2, 5).is_ok());
  CHECK(st->wal_segment_count() == 1);
  CHECK(st->oldest_segment_pins().empty());
  CHECK_FALSE(st->wal_over_budget());

  SECTION("snapshots as large as the segments keep the WAL within budget") {
    for (uint64_t i = 301; i <= 600; i += 10) {
      REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
    }
    REQUIRE(st->wal_segment_count() > 4);
    REQUIRE(st->wal_over_budget());
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{300, 1, {1}, {}}, std::string(64 * 4096, 's')}).is_ok());
    CHECK_FALSE(st->wal_over_budget());
  }
}

// The memory file system, except that syncing a directory fails on demand
// (a snapshot renamed into place whose name is not durable yet), and that
// it records the names it creates and the directories it syncs, in order.
class DirSyncFails final : public FileSystem {
 public:
  explicit DirSyncFails(MemoryFileSystem* fs) : fs_(fs) {}
  bool fail = false;
  std::vector<std::string> calls;
  Result<std::unique_ptr<WritableFile>> open_append(const std::string& p) override {
    calls.push_back("open " + p);
    return fs_->open_append(p);
  }
  Status read_file(const std::string& p, std::string* c) override { return fs_->read_file(p, c); }
  Status read_range(const std::string& p, uint64_t o, uint64_t n, std::string* c) override {
    return fs_->read_range(p, o, n, c);
  }
  Status read_file_without_zero_tail(const std::string& p, std::string* c, uint64_t* z) override {
    return fs_->read_file_without_zero_tail(p, c, z);
  }
  Result<std::vector<std::string>> list_dir(const std::string& d) override { return fs_->list_dir(d); }
  Status create_dir(const std::string& d) override {
    calls.push_back("mkdir " + d);
    return fs_->create_dir(d);
  }
  bool exists(const std::string& p) override { return fs_->exists(p); }
  Status rename(const std::string& f, const std::string& t) override {
    calls.push_back("rename " + t);
    return fs_->rename(f, t);
  }
  Status remove(const std::string& p) override { return fs_->remove(p); }
  Status truncate(const std::string& p, uint64_t n) override { return fs_->truncate(p, n); }
  Status sync_dir(const std::string& d) override {
    calls.push_back("sync " + d);
    if (fail) return {StatusCode::kIoError, "simulated directory sync failure"};
    return fs_->sync_dir(d);
  }

 private:
  MemoryFileSystem* fs_;
};

TEST_CASE("a first start makes wal/ durable before it names the data dir's owner", "[storage][identity]") {
  MemoryFileSystem memory;
  DirSyncFails fs(&memory);
  RecoveredState rec;
  auto o = memory_options(&fs);
  open_ok(o, &rec);
  auto at = [&](const std::string& call) {
    return std::find(fs.calls.begin(), fs.calls.end(), call) - fs.calls.begin();
  };
  REQUIRE(at("mkdir /data/wal") < static_cast<long>(fs.calls.size()));
  REQUIRE(at("rename /data/IDENTITY") < static_cast<long>(fs.calls.size()));
  CHECK(at("mkdir /data/wal") < at("sync /data"));
  CHECK(at("sync /data") < at("rename /data/IDENTITY"));

  SECTION("killed after the directories, before the identity: the next start goes on") {
    MemoryFileSystem fresh;
    REQUIRE(fresh.create_dir("/data").is_ok());
    REQUIRE(fresh.create_dir("/data/wal").is_ok());
    REQUIRE(fresh.create_dir("/data/snap").is_ok());
    REQUIRE(fresh.sync_dir("/data").is_ok());
    auto o2 = memory_options(&fresh);
    open_ok(o2, &rec);
  }
}

TEST_CASE("a snapshot recovered before its name was durable is made durable before it is relied on",
          "[storage][snapshot][faults]") {
  MemoryFileSystem memory;
  DirSyncFails fs(&memory);
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  {
    auto st = open_ok(o, &rec);
    append_1_to_100(*st);
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{40, 1, {1}, {}}, "at 40"}).is_ok());
    REQUIRE(st->compact(1, 40).is_ok());
    // The next snapshot is renamed into place, then its directory's sync fails.
    fs.fail = true;
    REQUIRE_FALSE(st->save_snapshot(1, raft::Snapshot{{80, 1, {1}, {}}, "at 80"}).is_ok());
    fs.fail = false;
  }
  {
    // Restarted without losing power: the snapshot at 80 is there, and the
    // WAL up to it may go.
    auto st = open_ok(o, &rec);
    REQUIRE(rec[1].snapshot);
    REQUIRE(rec[1].snapshot->meta.index == 80);
    REQUIRE(st->compact(1, 80).is_ok());
  }
  // Power lost now must not take the snapshot at 80 away from under the
  // released segments.
  memory.crash();
  auto st = open_ok(o, &rec);
  REQUIRE(rec[1].snapshot);
  CHECK(rec[1].snapshot->meta.index == 80);
  check_entries(rec[1], 81, 100, 1, 1);
}

TEST_CASE("a WAL tail whose sync failed is synced when the log is opened again", "[storage][wal][faults]") {
  MemoryFileSystem fs;
  // No preallocated zeros to cut at replay: that cut would sync the tail
  // by itself, as would a segment filled to its end.
  fs.set_preallocate_unsupported(true);
  RecoveredState rec;
  auto o = memory_options(&fs);
  {
    auto st = open_ok(o, &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 5, 1), raft::HardState{1, 1, 5}).is_ok());
    fs.set_sync_fails(true);
    REQUIRE_FALSE(append_entries(*st, 1, make_entries(1, 6, 5, 1), raft::HardState{1, 1, 10}).is_ok());
    fs.set_sync_fails(false);
  }
  {
    // Restarted without losing power: the unsynced batch reads back, and
    // the node builds on it (later writes go to a new segment).
    auto st = open_ok(o, &rec);
    check_entries(rec[1], 1, 10, 1, 1);
    REQUIRE(append_entries(*st, 1, make_entries(1, 11, 5, 1), raft::HardState{1, 1, 15}).is_ok());
  }
  fs.crash();
  auto st = Storage::open(o, &rec);
  INFO(st.status().to_string());
  REQUIRE(st.is_ok());
  check_entries(rec[1], 1, 15, 1, 1);
}

TEST_CASE("a damaged newest snapshot falls back, or fails when the WAL no longer covers it", "[storage][snapshot]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  {
    auto st = open_ok(o, &rec);
    append_1_to_100(*st);
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{80, 1, {1}, {}}, "state at 80"}).is_ok());
  }
  const std::string path = "/data/snap/" + snapshot_file_name(1, 80);
  (*fs.mutable_contents(path))[fs.mutable_contents(path)->size() - 6] ^= 0x20;

  SECTION("WAL still complete: replay from the start, with a log line") {
    std::vector<std::string> lines;
    auto o2 = o;
    o2.log = [&](const std::string& l) { lines.push_back(l); };
    open_ok(o2, &rec);
    CHECK_FALSE(rec[1].snapshot.has_value());
    check_entries(rec[1], 1, 100, 1, 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("checksum") != std::string::npos);
  }
  SECTION("WAL compacted: the gap is an error") {
    (*fs.mutable_contents(path))[fs.mutable_contents(path)->size() - 6] ^= 0x20;
    {
      auto st = open_ok(o, &rec);
      REQUIRE(st->compact(1, 80).is_ok());
    }
    (*fs.mutable_contents(path))[fs.mutable_contents(path)->size() - 6] ^= 0x20;
    auto st = Storage::open(o, &rec);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.status().code() == StatusCode::kCorrupt);
  }
}

TEST_CASE("a snapshot interrupted before its rename leaves the previous one", "[storage][snapshot]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 20, 1)).is_ok());
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{10, 1, {1}, {}}, "ten"}).is_ok());
    fs.set_space_left_bytes(5);
    CHECK(st->save_snapshot(1, raft::Snapshot{{20, 1, {1}, {}}, "twenty"}).code() == StatusCode::kNoSpace);
    fs.set_space_left_bytes(std::nullopt);
    CHECK(fs.exists("/data/snap/" + snapshot_file_name(1, 20) + ".tmp"));
  }
  REQUIRE(fs.sync_dir("/data/snap").is_ok());  // the .tmp name even survives
  fs.crash();
  open_ok(memory_options(&fs), &rec);
  REQUIRE(rec[1].snapshot.has_value());
  CHECK(rec[1].snapshot->data == "ten");
  CHECK_FALSE(fs.exists("/data/snap/" + snapshot_file_name(1, 20) + ".tmp"));
  check_entries(rec[1], 11, 20, 1, 1);
}

TEST_CASE("an entry rewritten at or below the snapshot index drops what followed it", "[storage][snapshot]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  {
    auto st = open_ok(memory_options(&fs), &rec);
    REQUIRE(append_entries(*st, 1, make_entries(1, 1, 20, 1)).is_ok());
    REQUIRE(append_entries(*st, 1, make_entries(1, 8, 5, 2)).is_ok());  // overwrite 8.. with term 2
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{10, 2, {1}, {}}, "s"}).is_ok());
  }
  open_ok(memory_options(&fs), &rec);
  REQUIRE(rec[1].entries.size() == 2);
  CHECK(rec[1].entries[0].index == 11);
  CHECK(rec[1].entries[0].term == 2);
  CHECK(rec[1].entries[1].index == 12);
}

TEST_CASE("a data dir of another node or cluster is refused", "[storage][identity]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  { open_ok(memory_options(&fs), &rec); }
  auto other_node = memory_options(&fs);
  other_node.node_id = "n2";
  auto st = Storage::open(other_node, &rec);
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.status().code() == StatusCode::kForeignDataDir);
  CHECK(exit_code_for(st.status()) == kExitForeignDataDir);
  CHECK(st.status().message().find("node n1 of cluster c1") != std::string::npos);

  auto other_cluster = memory_options(&fs);
  other_cluster.cluster_id = "c2";
  CHECK(Storage::open(other_cluster, &rec).status().code() == StatusCode::kForeignDataDir);

  SECTION("a damaged identity is corruption") {
    (*fs.mutable_contents("/data/IDENTITY"))[15] ^= 1;
    CHECK(Storage::open(memory_options(&fs), &rec).status().code() == StatusCode::kCorrupt);
  }
  SECTION("a missing identity beside a log is corruption") {
    REQUIRE(fs.remove("/data/IDENTITY").is_ok());
    CHECK(Storage::open(memory_options(&fs), &rec).status().code() == StatusCode::kCorrupt);
  }
}

TEST_CASE("invalid batches are rejected without writing", "[storage]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto st = open_ok(memory_options(&fs), &rec);
  auto gap = make_entries(1, 1, 3, 1);
  gap[2].index = 5;
  CHECK(append_entries(*st, 1, gap).code() == StatusCode::kInvalidArgument);
  CHECK(st->failure().is_ok());
  CHECK(append_entries(*st, 1, make_entries(1, 1, 3, 1)).is_ok());
}

// The image, as a follower receives it: chunks of at most `chunk` bytes
// read from the leader's snapshot file, in order.
std::string read_in_chunks(Storage& st, GroupId group, uint64_t index, uint64_t size, uint64_t chunk) {
  std::string image;
  while (image.size() < size) {
    std::string part;
    const Status s = st.read_snapshot_data(group, index, image.size(), chunk, &part);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    REQUIRE(!part.empty());
    REQUIRE(part.size() <= chunk);
    image += part;
  }
  return image;
}

TEST_CASE("a snapshot is read back from its file in chunks", "[storage][snapshot]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto st = open_ok(memory_options(&fs), &rec);
  std::string data;
  for (int i = 0; i < 5000; ++i) data += static_cast<char>(i * 7 % 251);
  REQUIRE(append_entries(*st, 3, make_entries(3, 1, 20, 1), raft::HardState{1, 1, 20}).is_ok());
  REQUIRE(st->save_snapshot(3, raft::Snapshot{{20, 1, {1, 2, 3}, {4}}, data}).is_ok());

  CHECK(read_in_chunks(*st, 3, 20, data.size(), 1024) == data);
  CHECK(read_in_chunks(*st, 3, 20, data.size(), 1) .substr(0, 10) == data.substr(0, 10));
  std::string rest;
  REQUIRE(st->read_snapshot_data(3, 20, data.size(), 1024, &rest).is_ok());
  CHECK(rest.empty());  // the end of the image: nothing more
  CHECK(st->read_snapshot_data(3, 20, data.size() + 1, 1024, &rest).code() == StatusCode::kCorrupt);
  CHECK(st->read_snapshot_data(3, 19, 0, 1024, &rest).code() == StatusCode::kNotFound);

  const std::string path = "/data/snap/" + snapshot_file_name(3, 20);
  SECTION("a damaged image is refused at the first chunk, before anything is sent") {
    (*fs.mutable_contents(path))[2000] ^= 0x01;
    std::string chunk;
    const Status s = st->read_snapshot_data(3, 20, 0, 1024, &chunk);
    CHECK(s.code() == StatusCode::kCorrupt);
    CHECK_THAT(s.message(), Catch::Matchers::Contains("checksum"));
  }
  SECTION("a damaged header is refused at any chunk") {
    (*fs.mutable_contents(path))[14] ^= 0x01;
    std::string chunk;
    CHECK(st->read_snapshot_data(3, 20, 1024, 1024, &chunk).code() == StatusCode::kCorrupt);
  }
  SECTION("a damaged header length is refused, not used to size a read") {
    for (int i = 8; i < 12; ++i) (*fs.mutable_contents(path))[i] = '\xFF';
    std::string chunk;
    CHECK(st->read_snapshot_data(3, 20, 1024, 1024, &chunk).code() == StatusCode::kCorrupt);
  }
  SECTION("a file cut short is refused where the data ends early") {
    fs.mutable_contents(path)->resize(fs.mutable_contents(path)->size() - 100);
    std::string chunk;
    CHECK(st->read_snapshot_data(3, 20, 4096, 1024, &chunk).code() == StatusCode::kCorrupt);
  }
}

TEST_CASE("the real disk: write, reopen, recover", "[storage][posix]") {
  namespace fsys = std::filesystem;
  const fsys::path dir = fsys::temp_directory_path() / ("mq-storage-test-" + std::to_string(::getpid()));
  fsys::remove_all(dir);
  StorageOptions o;
  o.data_dir = dir.string();
  o.node_id = "n1";
  o.cluster_id = "c1";
  o.segment_size_bytes_max = 8192;
  o.log = [](const std::string&) {};
  RecoveredState rec;
  {
    auto st = open_ok(o, &rec);
    for (uint64_t i = 1; i <= 300; i += 20) {
      REQUIRE(append_entries(*st, 4, make_entries(4, i, 20, 2), raft::HardState{2, 1, i}).is_ok());
    }
    REQUIRE(st->save_snapshot(4, raft::Snapshot{{100, 2, {1, 2}, {}}, std::string(5000, 's')}).is_ok());
    REQUIRE(st->compact(4, 100).is_ok());
  }
  {
    auto st = open_ok(o, &rec);
    REQUIRE(rec[4].snapshot.has_value());
    CHECK(rec[4].snapshot->data == std::string(5000, 's'));
    CHECK(read_in_chunks(*st, 4, 100, 5000, 4096) == std::string(5000, 's'));
    check_entries(rec[4], 101, 300, 2, 4);
    CHECK(rec[4].hard_state.commit == 281);
  }
  o.node_id = "n9";
  CHECK(Storage::open(o, &rec).status().code() == StatusCode::kForeignDataDir);
  fsys::remove_all(dir);
}

TEST_CASE("a removed group is forgotten: its records, its snapshot and its pins", "[storage][membership]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  {
    auto st = open_ok(o, &rec);
    // Group 2 writes first, so its entries sit in the oldest segment.
    REQUIRE(append_entries(*st, 2, make_entries(2, 1, 20, 1), raft::HardState{1, 1, 20}).is_ok());
    REQUIRE(st->save_snapshot(2, raft::Snapshot{{10, 1, {1, 2}, {}}, "group two"}).is_ok());
    append_1_to_100(*st);
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{100, 1, {1}, {}}, "group one"}).is_ok());
    REQUIRE(st->compact(1, 100).is_ok());
    REQUIRE(st->oldest_segment_pins() == std::map<GroupId, uint64_t>{{2, 20}});
    const size_t before = st->wal_segment_count();
    REQUIRE(before > 2);

    REQUIRE(st->remove_group(2, GroupTombstone{3, 1, 20, 2}).is_ok());
    // Nothing pins the old segments any more: the next release lets them go.
    CHECK(st->oldest_segment_pins().empty());
    REQUIRE(st->compact(1, 100).is_ok());
    CHECK(st->wal_segment_count() < before);
    CHECK(st->snapshot_index(2) == 0);
    auto snaps = fs.list_dir("/data/snap");
    REQUIRE(snaps.is_ok());
    CHECK(snaps.value() == std::vector<std::string>{snapshot_file_name(1, 100)});
    // Group 1 keeps writing; segments roll and their checkpoints leave
    // group 2 out.
    for (uint64_t i = 101; i <= 200; i += 10) {
      REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
    }
  }
  fs.crash();
  auto st = open_ok(o, &rec);
  CHECK(rec.count(2) == 0);
  REQUIRE(rec.count(1) == 1);
  check_entries(rec[1], 101, 200, 1, 1);
  REQUIRE(st->removed_groups().size() == 1);
  // The tombstone outlives the segment that first recorded it.
  CHECK(st->removed_groups().at(2).term == 3);
  CHECK(st->removed_groups().at(2).vote == 1);
  CHECK(st->removed_groups().at(2).last_index == 20);
  CHECK(st->removed_groups().at(2).last_term == 2);

  SECTION("records of the group after its removal are corruption, not a new replica") {
    REQUIRE(append_entries(*st, 2, make_entries(2, 1, 1, 1)).is_ok());
    st.reset();
    auto reopened = Storage::open(o, &rec);
    REQUIRE(reopened.status().code() == StatusCode::kCorrupt);
    CHECK(reopened.status().message().find("after its removal") != std::string::npos);
  }
}

TEST_CASE("a removed group's entries may start anywhere once older segments are released",
          "[storage][membership]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  o.segment_size_bytes_max = 4096;
  {
    auto st = open_ok(o, &rec);
    // Both groups write throughout, so group 2's entries span segments.
    for (uint64_t i = 1; i <= 200; i += 10) {
      REQUIRE(append_entries(*st, 1, make_entries(1, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
      REQUIRE(append_entries(*st, 2, make_entries(2, i, 10, 1), raft::HardState{1, 1, i + 9}).is_ok());
    }
    REQUIRE(st->remove_group(2, GroupTombstone{3, 1, 20, 2}).is_ok());
    REQUIRE(st->save_snapshot(1, raft::Snapshot{{150, 1, {1}, {}}, "group one"}).is_ok());
    const size_t before = st->wal_segment_count();
    REQUIRE(st->compact(1, 150).is_ok());
    // Segments holding group 2's first entries went; later ones still hold
    // some of its entries, then its removal.
    REQUIRE(st->wal_segment_count() < before);
  }
  auto st = open_ok(o, &rec);
  CHECK(rec.count(2) == 0);
  REQUIRE(rec.count(1) == 1);
  check_entries(rec[1], 151, 200, 1, 1);
}

TEST_CASE("snapshot files left by a crash during a group's removal are deleted at open",
          "[storage][membership]") {
  MemoryFileSystem fs;
  RecoveredState rec;
  auto o = memory_options(&fs);
  raft::Snapshot snap{{10, 1, {1, 2}, {}}, "group two"};
  {
    auto st = open_ok(o, &rec);
    REQUIRE(append_entries(*st, 2, make_entries(2, 1, 20, 1), raft::HardState{1, 1, 20}).is_ok());
    REQUIRE(st->save_snapshot(2, snap).is_ok());
    REQUIRE(st->remove_group(2, GroupTombstone{3, 1, 20, 2}).is_ok());
  }
  // As if the process died after the removal was synced and before its
  // files were deleted: the same file, written by another data dir, is put
  // back.
  {
    MemoryFileSystem scratch;
    auto o2 = memory_options(&scratch);
    RecoveredState r2;
    auto other = open_ok(o2, &r2);
    REQUIRE(other->save_snapshot(2, snap).is_ok());
    std::string bytes;
    REQUIRE(scratch.read_file("/data/snap/" + snapshot_file_name(2, 10), &bytes).is_ok());
    auto file = fs.open_append("/data/snap/" + snapshot_file_name(2, 10));
    REQUIRE(file.is_ok());
    REQUIRE(file.value()->append(bytes).is_ok());
    REQUIRE(file.value()->sync().is_ok());
  }
  REQUIRE(fs.sync_dir("/data/snap").is_ok());
  auto st = open_ok(o, &rec);
  CHECK(rec.count(2) == 0);
  auto snaps = fs.list_dir("/data/snap");
  REQUIRE(snaps.is_ok());
  CHECK(snaps.value().empty());
}

TEST_CASE("the identity records the node's member id and refuses another", "[storage][identity]") {
  MemoryFileSystem fs;
  REQUIRE(fs.create_dir("/data").is_ok());
  REQUIRE(check_or_create_identity(&fs, "/data", "n4", "c1", false, 4, 16).is_ok());
  Identity id;
  REQUIRE(read_identity(&fs, "/data", &id).is_ok());
  CHECK(id.shard_count == 16);
  CHECK(id.node_id == "n4");
  CHECK(id.cluster_id == "c1");
  CHECK(id.member_id == 4);
  CHECK(check_or_create_identity(&fs, "/data", "n4", "c1", true, 4).is_ok());
  CHECK(check_or_create_identity(&fs, "/data", "n4", "c1", true, 0).is_ok());
  const Status other = check_or_create_identity(&fs, "/data", "n4", "c1", true, 7);
  CHECK(other.code() == StatusCode::kForeignDataDir);
  CHECK(other.message().find("member 4") != std::string::npos);

  MemoryFileSystem old;
  REQUIRE(old.create_dir("/data").is_ok());
  REQUIRE(check_or_create_identity(&old, "/data", "n1", "c1", false).is_ok());
  REQUIRE(read_identity(&old, "/data", &id).is_ok());
  CHECK(id.member_id == 0);
  CHECK(read_identity(&fs, "/nowhere", &id).code() == StatusCode::kNotFound);
}

}  // namespace mq::storage
