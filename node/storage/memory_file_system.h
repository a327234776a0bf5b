// An in-memory FileSystem for tests and the simulator, modelling what a crash
// can do to a real disk: file contents survive only up to their last sync(),
// and names (creations, renames, removals) only after sync_dir() of their
// directory. Faults are armed explicitly: a disk that fills up after N more
// bytes (the failing write lands partially, as on a real disk), a single write
// cut short, failing syncs. Deterministic: nothing here reads a clock or a
// global random source.
//
// Preallocation is modelled as fallocate mode 0 is on ext4: the file's size
// grows to take the zeros, which use up disk space when reserved (appends
// over them use none), and survive a crash once a sync() follows. A crash
// forgets the unsynced bytes appended over them, which read as zeros again.
// Zeros are kept as a size, not as bytes, so a 64 MiB segment costs nothing
// until it is read. Appends only ever extend what was written: a writer that
// would overwrite written bytes gets kIoError, since no caller does that and
// the crash model (a durable prefix) could not represent it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "node/storage/file_system.h"

namespace mq::storage {

class MemoryFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> open_append(const std::string& path) override;
  Status read_file(const std::string& path, std::string* contents) override;
  Status read_file_without_zero_tail(const std::string& path, std::string* contents,
                                     uint64_t* zero_tail_bytes) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status truncate(const std::string& path, uint64_t size_bytes) override;
  Status sync_dir(const std::string& dir) override;

  // Every write past this many more bytes fails with kNoSpace after writing
  // what still fits. nullopt: unlimited.
  void set_space_left_bytes(std::optional<uint64_t> bytes) { space_left_bytes_ = bytes; }
  // The next append writes only its first keep_bytes, then fails with kIoError.
  void cut_next_write(uint64_t keep_bytes) { cut_next_write_at_ = keep_bytes; }
  void set_sync_fails(bool fails) { sync_fails_ = fails; }
  // A file system without fallocate: preallocate() does nothing.
  void set_preallocate_unsupported(bool unsupported) { preallocate_unsupported_ = unsupported; }

  // Forgets everything not made durable. When seed is given, each file keeps
  // a seed-chosen prefix of its unsynced tail, as a disk may have written
  // some of it before power was lost.
  void crash(std::optional<uint64_t> seed = std::nullopt);

  // Direct access for tests that damage files on purpose: the bytes written
  // to the file. A preallocated file's zeros follow them up to its
  // preallocated size, whatever is done to them here.
  std::string* mutable_contents(const std::string& path);
  uint64_t syncs() const { return syncs_; }

 private:
  struct Inode {
    std::string data;                 // written bytes, from offset 0
    uint64_t zero_filled_to = 0;      // preallocated: zeros after data up to here
    size_t durable_size = 0;          // data[0, durable_size) survives a crash
    uint64_t durable_zero_filled_to = 0;
    uint64_t size_bytes() const { return std::max<uint64_t>(data.size(), zero_filled_to); }
  };
  class File;

  // Writes data at offset (a writer's logical end), spending disk space only
  // on bytes beyond the file's current size.
  Status write_to(Inode* inode, uint64_t offset, std::string_view data, uint64_t* written_bytes);
  Status preallocate(Inode* inode, uint64_t file_size_bytes);

  std::map<std::string, std::shared_ptr<Inode>> live_;
  std::map<std::string, std::shared_ptr<Inode>> durable_;
  std::set<std::string> dirs_;
  std::optional<uint64_t> space_left_bytes_;
  std::optional<uint64_t> cut_next_write_at_;
  bool sync_fails_ = false;
  bool preallocate_unsupported_ = false;
  uint64_t syncs_ = 0;
};

}  // namespace mq::storage
