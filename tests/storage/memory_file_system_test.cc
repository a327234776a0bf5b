#include "node/storage/memory_file_system.h"

#include <catch2/catch.hpp>

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

}  // namespace mq::storage
