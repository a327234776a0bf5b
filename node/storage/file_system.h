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
//
// Appends land at the file's logical end, size_bytes(): the bytes appended so
// far, after whatever the file held when it was opened. preallocate() can
// extend the file with zeros beyond that end; appends then overwrite those
// zeros in place, so an fdatasync has no size change to journal (measured on
// ext4 in a VM: about 120 -> 80 us of CPU per small write+fdatasync).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of data at size_bytes() or fails; after a failure a prefix
  // may have landed.
  virtual Status append(std::string_view data) = 0;
  // fdatasync: contents and the size needed to read them back.
  virtual Status sync() = 0;
  // Asks the system to start writing what was appended to the disk now,
  // without waiting (Linux: sync_file_range), so that a sync() issued a
  // little later finds little left to do. A hint: durability still needs
  // sync().
  virtual void start_writeback() {}
  // The logical size: where the next append lands. Preallocated zeros after
  // it are not counted.
  virtual uint64_t size_bytes() const = 0;
  // Extends the file to file_size_bytes with zeros (never shrinks it),
  // reserving the disk space: ENOSPC shows here as kNoSpace, and appends
  // inside the zeros cannot run out of space. Durable after the next sync().
  // Where the file system cannot preallocate, does nothing and returns ok:
  // the file grows as it is appended to. Readers see the zeros as part of
  // the file; only its writer knows where they start.
  virtual Status preallocate(uint64_t file_size_bytes) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens path for appending, creating it empty if missing. A new name is
  // durable only after sync_dir() of its directory. The logical end of an
  // existing file is its size: a file left with preallocated zeros is
  // truncate()d to what was written before it is opened again.
  virtual Result<std::unique_ptr<WritableFile>> open_append(const std::string& path) = 0;
  virtual Status read_file(const std::string& path, std::string* contents) = 0;
  // As read_file, except that a tail the file system knows reads as zeros
  // without reading it (preallocated space never written, a hole) may be
  // left out of *contents; *zero_tail_bytes is its length. Spares reading
  // the megabytes of zeros a preallocated WAL segment ends in. Best effort:
  // *contents may itself end in zeros.
  virtual Status read_file_without_zero_tail(const std::string& path, std::string* contents,
                                             uint64_t* zero_tail_bytes) = 0;
  // Up to `bytes` bytes of the file from `offset` (fewer where the file
  // ends first), without reading the rest: a leader streams a snapshot to a
  // follower from its file a chunk at a time instead of holding the image.
  virtual Status read_range(const std::string& path, uint64_t offset, uint64_t bytes,
                            std::string* contents) = 0;
  // Names (not paths) of the regular files in dir, in no particular order.
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Ok if dir exists as a directory; fails, saying "<dir> is not a
  // directory", when something else has its name.
  virtual Status create_dir(const std::string& dir) = 0;
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
