// A data dir whose wal/ or snap/ is not a directory cannot be used: open
// fails with the "cannot start" exit code (5) and one line naming the path,
// whether or not the data dir was initialised before.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "node/storage/identity.h"
#include "node/storage/memory_file_system.h"
#include "node/storage/storage.h"
#include "tests/storage/test_util.h"

namespace mq::storage {
namespace {

void check_refused(const Result<std::unique_ptr<Storage>>& st, const std::string& path) {
  REQUIRE_FALSE(st.is_ok());
  INFO(st.status().to_string());
  CHECK(exit_code_for(st.status()) == kExitCannotStart);
  CHECK(st.status().message().find(path + " is not a directory") != std::string::npos);
  CHECK(st.status().to_string().find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("a regular file where snap/ or wal/ belongs: exit 5 naming the path", "[storage][datadir]") {
  for (const char* sub : {"snap", "wal"}) {
    for (const bool initialised : {true, false}) {
      INFO(sub << (initialised ? " in an initialised data dir" : " in a fresh data dir"));
      MemoryFileSystem fs;
      const StorageOptions o = testing::memory_options(&fs);
      const std::string path = o.data_dir + "/" + sub;
      REQUIRE(fs.create_dir(o.data_dir).is_ok());
      if (initialised) {
        REQUIRE(check_or_create_identity(&fs, o.data_dir, o.node_id, o.cluster_id, false).is_ok());
        const std::string other = o.data_dir + (std::string(sub) == "snap" ? "/wal" : "/snap");
        REQUIRE(fs.create_dir(other).is_ok());
      }
      auto file = fs.open_append(path);
      REQUIRE(file.is_ok());
      REQUIRE(file.value()->append("not a directory").is_ok());
      RecoveredState rec;
      check_refused(Storage::open(o, &rec), path);
    }
  }
}

TEST_CASE("the real disk: a regular file where snap/ belongs: exit 5 naming the path", "[storage][datadir][posix]") {
  namespace fsys = std::filesystem;
  const fsys::path dir = fsys::temp_directory_path() / ("mq-snap-file-test-" + std::to_string(::getpid()));
  fsys::remove_all(dir);
  StorageOptions o;
  o.data_dir = dir.string();
  o.node_id = "n1";
  o.cluster_id = "c1";
  o.segment_size_bytes_max = 8192;
  o.log = [](const std::string&) {};
  RecoveredState rec;
  const fsys::path snap = dir / "snap";
  SECTION("initialised before") {
    REQUIRE(Storage::open(o, &rec).is_ok());
    fsys::remove_all(snap);
  }
  SECTION("fresh") { fsys::create_directories(dir); }
  std::ofstream(snap) << "not a directory";
  check_refused(Storage::open(o, &rec), snap.string());
  fsys::remove_all(dir);
}

TEST_CASE("every failure to open other than corruption or a foreign data dir means cannot start",
          "[storage][datadir]") {
  CHECK(exit_code_for(Status(StatusCode::kCorrupt, "x")) == 10);
  CHECK(exit_code_for(Status(StatusCode::kForeignDataDir, "x")) == 11);
  for (StatusCode code : {StatusCode::kIoError, StatusCode::kNoSpace, StatusCode::kInvalidArgument,
                          StatusCode::kStopped, StatusCode::kNotFound}) {
    CHECK(exit_code_for(Status(code, "x")) == 5);
  }
}

}  // namespace mq::storage
