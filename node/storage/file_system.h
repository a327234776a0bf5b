// The seam between storage and the disk. Storage does all its I/O through
// FileSystem, so tests and the simulator substitute MemoryFileSystem, which
// can run out of space, cut a write short and forget unsynced data on a
// simulated crash. Paths are plain strings joined with '/'.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/storage/status.h"

namespace mq::storage {

// A file opened for appending. Data is durable only after sync() returns ok.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of data or fails; after a failure a prefix may have landed.
  virtual Status append(std::string_view data) = 0;
  // fdatasync: contents and the size needed to read them back.
  virtual Status sync() = 0;
  virtual uint64_t size_bytes() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens path for appending, creating it empty if missing. A new name is
  // durable only after sync_dir() of its directory.
  virtual Result<std::unique_ptr<WritableFile>> open_append(const std::string& path) = 0;
  virtual Status read_file(const std::string& path, std::string* contents) = 0;
  // Names (not paths) of the regular files in dir, in no particular order.
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  virtual Status create_dir(const std::string& dir) = 0;  // ok if it exists
  virtual bool exists(const std::string& path) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Cuts the file to size_bytes and syncs it.
  virtual Status truncate(const std::string& path, uint64_t size_bytes) = 0;
  // Makes creations, renames and removals in dir durable.
  virtual Status sync_dir(const std::string& dir) = 0;
};

// The real disk, through POSIX calls.
std::unique_ptr<FileSystem> make_posix_file_system();

inline std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace mq::storage
