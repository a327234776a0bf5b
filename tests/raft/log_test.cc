#include <catch2/catch.hpp>

#include "node/raft/memory_storage.h"
#include "node/raft/raft_log.h"

using namespace mq::raft;

namespace {

std::vector<Entry> terms(uint64_t first_index, std::initializer_list<uint64_t> ts) {
  std::vector<Entry> out;
  for (uint64_t t : ts) {
    Entry e;
    e.term = t;
    e.index = first_index + out.size();
    e.data = "d" + std::to_string(e.index);
    out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("memory storage appends, truncates, snapshots and compacts", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 1, 2, 2, 3}));
  REQUIRE(s.first_index() == 1);
  REQUIRE(s.last_index() == 5);
  s.append(terms(4, {4}));  // overwrites 4 and drops 5
  REQUIRE(s.last_index() == 4);
  uint64_t t = 0;
  REQUIRE(s.term(4, &t) == StorageError::kOk);
  REQUIRE(t == 4);
  REQUIRE(s.term(5, &t) == StorageError::kUnavailable);

  REQUIRE(s.create_snapshot(3, {1, 2}, {}, "state"));
  REQUIRE_FALSE(s.create_snapshot(2, {1, 2}, {}, "older"));
  REQUIRE(s.snapshot().meta.term == 2);
  REQUIRE(s.first_index() == 1);  // creating a snapshot does not drop entries
  REQUIRE(s.compact(3));
  REQUIRE(s.first_index() == 4);
  REQUIRE(s.term(2, &t) == StorageError::kCompacted);
  REQUIRE(s.term(3, &t) == StorageError::kOk);
  REQUIRE(t == 2);
  std::vector<Entry> out;
  REQUIRE(s.entries(3, 5, UINT64_MAX, &out) == StorageError::kCompacted);
  REQUIRE(s.entries(4, 5, UINT64_MAX, &out) == StorageError::kOk);
  REQUIRE(out.size() == 1);
}

TEST_CASE("storage entries respect the byte limit but return at least one", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 1, 1, 1}));  // 2 bytes each
  std::vector<Entry> out;
  REQUIRE(s.entries(1, 5, 0, &out) == StorageError::kOk);
  REQUIRE(out.size() == 1);
  out.clear();
  REQUIRE(s.entries(1, 5, 5, &out) == StorageError::kOk);
  REQUIRE(out.size() == 2);
}

TEST_CASE("raft log reads across stable and unstable parts", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 1, 2}));
  RaftLog log(s);
  REQUIRE(log.last_index() == 3);
  log.append(terms(3, {3, 3}));  // replaces stable entry 3
  REQUIRE(log.last_index() == 4);
  REQUIRE(log.term(3) == 3u);
  REQUIRE(log.term(2) == 1u);
  std::vector<Entry> out;
  REQUIRE(log.slice(1, 5, UINT64_MAX, &out));
  REQUIRE(out.size() == 4);
  REQUIRE(out[2].term == 3);
  out.clear();
  REQUIRE(log.entries_from(2, UINT64_MAX, 2, &out));
  REQUIRE(out.size() == 2);
}

TEST_CASE("maybe_append truncates conflicts and commits only what it proved", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 1, 1, 1}));
  RaftLog log(s);
  // Mismatch at the probe point: refused.
  REQUIRE_FALSE(log.maybe_append(2, 5, 4, terms(3, {5})).has_value());
  // Leader of term 2 holds 1..2 then its own entry at 3; commit 10 is clamped
  // to the last new entry.
  auto last = log.maybe_append(2, 1, 10, terms(3, {2}));
  REQUIRE(last == 3u);
  REQUIRE(log.last_index() == 3);
  REQUIRE(log.committed() == 3);
  // An older, shorter append that matches changes nothing.
  last = log.maybe_append(1, 1, 0, terms(2, {1}));
  REQUIRE(last == 2u);
  REQUIRE(log.last_index() == 3);
}

TEST_CASE("find_conflict_by_term skips whole terms", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 1, 4, 4, 5, 5, 6, 6, 6}));
  RaftLog log(s);
  REQUIRE(log.find_conflict_by_term(9, 3) == 2);
  REQUIRE(log.find_conflict_by_term(9, 5) == 6);
  REQUIRE(log.find_conflict_by_term(20, 8) == 9);
  REQUIRE(log.find_conflict_by_term(9, 0) == 0);
}

TEST_CASE("up-to-date compares last term first, then length", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 2, 2}));
  RaftLog log(s);
  REQUIRE(log.is_up_to_date(3, 2));
  REQUIRE(log.is_up_to_date(1, 3));
  REQUIRE_FALSE(log.is_up_to_date(2, 2));
  REQUIRE_FALSE(log.is_up_to_date(10, 1));
}

TEST_CASE("memory storage reads images kept elsewhere through its reader", "[log]") {
  MemoryStorage s;
  std::vector<std::pair<uint64_t, uint64_t>> reads;
  const std::string file = "0123456789abcdef";  // the image, as a file would hold it
  s.keep_images_elsewhere([&](const SnapshotMeta& meta, uint64_t offset, uint64_t max_bytes) {
    reads.emplace_back(meta.index, offset);
    return file.substr(offset, max_bytes);
  });
  s.append(terms(1, {1, 1, 2, 2}));
  REQUIRE(s.create_snapshot(3, {1, 2}, {}, file));
  // Only the size is held: the image itself is gone from memory.
  CHECK(s.snapshot().data.empty());
  CHECK(s.snapshot_bytes() == file.size());
  CHECK(s.snapshot_meta().index == 3);
  CHECK(s.snapshot_meta().term == 2);
  CHECK(s.snapshot_chunk(4, 5) == "45678");
  CHECK(reads == std::vector<std::pair<uint64_t, uint64_t>>{{3, 4}});

  Snapshot installed{{9, 3, {1, 2}, {}}, std::string(100, 'x')};
  s.apply_snapshot(installed);
  CHECK(s.snapshot().data.empty());
  CHECK(s.snapshot_bytes() == 100);
  CHECK(s.first_index() == 10);
}

TEST_CASE("memory storage without a reader holds and chunks the image itself", "[log]") {
  MemoryStorage s;
  s.append(terms(1, {1, 1}));
  REQUIRE(s.create_snapshot(2, {1}, {}, "image"));
  CHECK(s.snapshot().data == "image");
  CHECK(s.snapshot_chunk(1, 3) == "mag");
  CHECK(s.snapshot_chunk(5, 3).empty());
}

TEST_CASE("memory storage finds the cut that keeps a tail within a byte budget", "[log]") {
  MemoryStorage s;
  std::vector<Entry> entries = terms(1, {1, 1, 1, 1, 1});
  for (Entry& e : entries) e.data = std::string(10 * e.index, 'x');  // 10, 20, 30, 40, 50 bytes
  s.append(entries);
  CHECK(s.cut_keeping_bytes(5, 150) == 0);  // all 150 bytes fit
  CHECK(s.cut_keeping_bytes(5, 0) == 5);
  CHECK(s.cut_keeping_bytes(5, 49) == 5);
  CHECK(s.cut_keeping_bytes(5, 50) == 4);
  CHECK(s.cut_keeping_bytes(5, 90) == 3);
  CHECK(s.cut_keeping_bytes(4, 70) == 2);
  CHECK(s.cut_keeping_bytes(5, 1000) == 0);
  REQUIRE(s.create_snapshot(3, {1}, {}, "img"));
  REQUIRE(s.compact(2));
  CHECK(s.cut_keeping_bytes(5, 120) == 2);  // what is held: 30 + 40 + 50
  CHECK(s.cut_keeping_bytes(5, 1000) == 2);  // never below what is held
  s.append(terms(4, {2}));                    // replaces 4 and 5
  CHECK(s.cut_keeping_bytes(4, 32) == 2);   // 30 + the new entry's 2
  CHECK(s.cut_keeping_bytes(4, 31) == 3);
}
