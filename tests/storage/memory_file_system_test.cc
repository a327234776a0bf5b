#include "node/storage/memory_file_system.h"

#include <catch2/catch.hpp>
#include <functional>

namespace mq::storage {

TEST_CASE("memory fs keeps only synced data and synced names across a crash", "[memfs]") {
  MemoryFileSystem fs;
  REQUIRE(fs.create_dir("/d").is_ok());
  auto f = fs.open_append("/d/a");
  REQUIRE(f.is_ok());
  REQUIRE(f.value()->append("hello").is_ok());
  REQUIRE(f.value()->sync().is_ok());
  REQUIRE(f.value()->append(" world").is_ok());

  SECTION("name not synced: the file is gone") {
    fs.crash();
    CHECK_FALSE(fs.exists("/d/a"));
  }
  SECTION("name synced: synced contents survive, the rest does not") {
    REQUIRE(fs.sync_dir("/d").is_ok());
    fs.crash();
    std::string s;
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s == "hello");
  }
  SECTION("seeded crash keeps a prefix of the unsynced tail") {
    REQUIRE(fs.sync_dir("/d").is_ok());
    fs.crash(3);
    std::string s;
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s.size() >= 5);
    CHECK(std::string("hello world").substr(0, s.size()) == s);
  }
  SECTION("rename is durable only after sync_dir") {
    REQUIRE(fs.sync_dir("/d").is_ok());
    REQUIRE(fs.rename("/d/a", "/d/b").is_ok());
    fs.crash();
    CHECK(fs.exists("/d/a"));
    CHECK_FALSE(fs.exists("/d/b"));
  }
}

TEST_CASE("memory fs injects a full disk and short writes", "[memfs]") {
  MemoryFileSystem fs;
  REQUIRE(fs.create_dir("/d").is_ok());
  auto f = fs.open_append("/d/a");
  REQUIRE(f.is_ok());
  fs.set_space_left_bytes(4);
  Status s = f.value()->append("abcdef");
  CHECK(s.code() == StatusCode::kNoSpace);
  CHECK(f.value()->size_bytes() == 4);
  fs.set_space_left_bytes(std::nullopt);
  fs.cut_next_write(2);
  CHECK(f.value()->append("xyz").code() == StatusCode::kIoError);
  CHECK(f.value()->size_bytes() == 6);
  CHECK(f.value()->append("z").is_ok());
}

TEST_CASE("memory fs preallocation: zeros durable after a sync, unsynced appends over them forgotten", "[memfs]") {
  MemoryFileSystem fs;
  REQUIRE(fs.create_dir("/d").is_ok());
  auto f = fs.open_append("/d/a");
  REQUIRE(f.is_ok());
  WritableFile& file = *f.value();
  REQUIRE(file.append("head").is_ok());
  REQUIRE(file.preallocate(16).is_ok());
  CHECK(file.size_bytes() == 4);  // logical: the zeros are not counted
  std::string s;
  REQUIRE(fs.read_file("/d/a", &s).is_ok());
  CHECK(s == std::string("head") + std::string(12, '\0'));
  REQUIRE(fs.sync_dir("/d").is_ok());

  SECTION("not synced: neither bytes nor zeros survive a crash") {
    fs.crash();
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s.empty());
  }
  SECTION("synced: the zeros survive, later appends over them do not") {
    REQUIRE(file.sync().is_ok());
    REQUIRE(file.append("more").is_ok());
    CHECK(file.size_bytes() == 8);
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s == std::string("headmore") + std::string(8, '\0'));
    fs.crash();
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s == std::string("head") + std::string(12, '\0'));
  }
  SECTION("appends past the zeros grow the file") {
    REQUIRE(file.append(std::string(20, 'x')).is_ok());
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s == "head" + std::string(20, 'x'));
  }
  SECTION("the zeros can be left unread") {
    std::string written;
    uint64_t zero_tail_bytes = 0;
    REQUIRE(fs.read_file_without_zero_tail("/d/a", &written, &zero_tail_bytes).is_ok());
    CHECK(written == "head");
    CHECK(zero_tail_bytes == 12);
  }
  SECTION("truncating to the bytes written drops the zeros, durably") {
    REQUIRE(fs.truncate("/d/a", file.size_bytes()).is_ok());
    fs.crash();
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s == "head");
  }
}

TEST_CASE("memory fs preallocation reserves space; writes over it spend none", "[memfs]") {
  MemoryFileSystem fs;
  REQUIRE(fs.create_dir("/d").is_ok());
  auto f = fs.open_append("/d/a");
  REQUIRE(f.is_ok());
  WritableFile& file = *f.value();
  fs.set_space_left_bytes(100);
  REQUIRE(file.preallocate(60).is_ok());
  REQUIRE(file.append(std::string(60, 'a')).is_ok());  // inside the reservation
  REQUIRE(file.append(std::string(40, 'b')).is_ok());  // the last 40 bytes of the disk
  CHECK(file.append("c").code() == StatusCode::kNoSpace);

  SECTION("a preallocation the disk cannot hold fails with kNoSpace") {
    const Status s = file.preallocate(1000);
    CHECK(s.code() == StatusCode::kNoSpace);
    CHECK(s.message().find("fallocate") != std::string::npos);
  }
  SECTION("without fallocate support, preallocating does nothing") {
    fs.set_space_left_bytes(std::nullopt);
    fs.set_preallocate_unsupported(true);
    REQUIRE(file.preallocate(1000).is_ok());
    std::string s;
    REQUIRE(fs.read_file("/d/a", &s).is_ok());
    CHECK(s.size() == 100);
  }
}

namespace {

constexpr size_t kPage = 4096;

// A file with `synced` bytes made durable, then `unsynced` more written;
// every byte is non-zero and tells its offset apart from its neighbours'.
std::string write_file(MemoryFileSystem& fs, size_t synced, size_t unsynced, size_t preallocate = 0) {
  REQUIRE(fs.create_dir("/d").is_ok());
  auto f = fs.open_append("/d/f");
  REQUIRE(f.is_ok());
  std::string all;
  for (size_t i = 0; i < synced + unsynced; ++i) all.push_back(static_cast<char>('A' + (i * 7 + i / kPage) % 50));
  if (preallocate != 0) REQUIRE(f.value()->preallocate(preallocate).is_ok());
  REQUIRE(f.value()->append(std::string_view(all).substr(0, synced)).is_ok());
  REQUIRE(f.value()->sync().is_ok());
  REQUIRE(fs.sync_dir("/d").is_ok());
  REQUIRE(f.value()->append(std::string_view(all).substr(synced)).is_ok());
  return all;
}

}  // namespace

TEST_CASE("memory fs losing pages: synced bytes survive, each unsynced page is new or old as a whole",
          "[memfs][pageloss]") {
  constexpr size_t kSynced = 5000;  // the first unsynced page also holds synced bytes
  constexpr size_t kUnsynced = 9 * kPage;
  uint64_t kept_after_lost = 0, torn = 0, lost = 0, junk_runs = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    for (const size_t preallocate : {size_t{0}, size_t{64 * kPage}}) {
      INFO("preallocated to " << preallocate);
      MemoryFileSystem fs;
      const std::string all = write_file(fs, kSynced, kUnsynced, preallocate);
      const MemoryFileSystem::PageLoss loss = fs.crash_losing_pages(seed);
      CHECK(loss.unsynced_pages == 10);
      kept_after_lost += loss.pages_kept_after_a_lost_one;
      torn += loss.torn_sectors;
      lost += loss.lost_pages;
      std::string s;
      REQUIRE(fs.read_file("/d/f", &s).is_ok());
      REQUIRE(s.size() >= kSynced);
      CHECK(s.compare(0, kSynced, all, 0, kSynced) == 0);
      if (preallocate != 0) CHECK(s.size() == preallocate);
      // Bytes that differ from what was written: whole pages, plus at most
      // one sector torn at a byte. (Junk matches a written byte now and
      // then, so a sector counts as mixed only when it is mostly both.)
      size_t mixed_sectors = 0;
      bool junk = false;
      for (size_t sector = kSynced / 512 * 512; sector < kSynced + kUnsynced; sector += 512) {
        const size_t lo = std::max(sector, kSynced), hi = std::min(sector + 512, kSynced + kUnsynced);
        size_t same = 0;
        for (size_t i = lo; i < hi; ++i) {
          if (i < s.size() && s[i] == all[i]) {
            ++same;
          } else if (i < s.size() && s[i] != '\0') {
            junk = true;
            CHECK(preallocate == 0);  // inside a preallocation a lost byte reads as zero
          }
        }
        if (same > 16 && same < hi - lo) ++mixed_sectors;
      }
      CHECK(mixed_sectors <= loss.torn_sectors);
      CHECK(loss.torn_sectors <= 1);
      junk_runs += junk;
      // The same seed does the same damage.
      MemoryFileSystem again;
      write_file(again, kSynced, kUnsynced, preallocate);
      again.crash_losing_pages(seed);
      std::string t;
      REQUIRE(again.read_file("/d/f", &t).is_ok());
      CHECK(s == t);
    }
  }
  CHECK(kept_after_lost > 100);
  CHECK(torn > 100);
  CHECK(lost > 1000);
  CHECK(junk_runs > 10);
}

TEST_CASE("memory fs losing pages: what the crash left is durable, and nothing more is lost", "[memfs][pageloss]") {
  MemoryFileSystem fs;
  write_file(fs, 100, 3 * kPage);
  fs.crash_losing_pages(5);
  std::string after_first;
  REQUIRE(fs.read_file("/d/f", &after_first).is_ok());
  const MemoryFileSystem::PageLoss second = fs.crash_losing_pages(6);
  CHECK(second.unsynced_pages == 0);
  std::string after_second;
  REQUIRE(fs.read_file("/d/f", &after_second).is_ok());
  CHECK(after_first == after_second);
  // And the file takes appends at its new end.
  auto f = fs.open_append("/d/f");
  REQUIRE(f.is_ok());
  CHECK(f.value()->size_bytes() == after_first.size());
  CHECK(f.value()->append("more").is_ok());
}

TEST_CASE("memory fs losing pages: unsynced names and armed faults go as in any crash", "[memfs][pageloss]") {
  MemoryFileSystem fs;
  REQUIRE(fs.create_dir("/d").is_ok());
  auto f = fs.open_append("/d/unnamed");
  REQUIRE(f.is_ok());
  REQUIRE(f.value()->append("x").is_ok());
  REQUIRE(f.value()->sync().is_ok());
  fs.set_sync_fails(true);
  fs.cut_next_write(1);
  fs.crash_losing_pages(1);
  CHECK_FALSE(fs.exists("/d/unnamed"));
  auto g = fs.open_append("/d/g");
  REQUIRE(g.is_ok());
  CHECK(g.value()->append("abc").is_ok());
  CHECK(g.value()->sync().is_ok());
}

}  // namespace mq::storage
