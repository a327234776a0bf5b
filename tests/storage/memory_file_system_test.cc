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

}  // namespace mq::storage
