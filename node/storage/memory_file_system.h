// An in-memory FileSystem for tests and the simulator, modelling what a crash
// can do to a real disk: file contents survive only up to their last sync(),
// and names (creations, renames, removals) only after sync_dir() of their
// directory. Faults are armed explicitly: a disk that fills up after N more
// bytes (the failing write lands partially, as on a real disk), a single write
// cut short, failing syncs. Deterministic: nothing here reads a clock or a
// global random source; a crash's choices come from a small PRNG seeded by
// its caller.
//
// Three crashes, from gentle to harsh, for unsynced bytes:
//   crash()                  none of them survive;
//   crash(seed)              each file keeps a seed-chosen prefix of them;
//   crash_losing_pages(seed) each 4 KiB page of them reaches the disk or not,
//                            independently (a later page can survive an
//                            earlier one, as the kernel writes dirty pages
//                            back in any order and one fdatasync orders
//                            nothing between them), and a 512-byte sector
//                            may tear: part new bytes, part old.
// Synced bytes survive every crash.
//
// Preallocation is modelled as fallocate mode 0 is on ext4: the file's size
// grows to take the zeros, which use up disk space when reserved (appends
// over them use none), and survive a crash once a sync() follows. A crash
// forgets the unsynced bytes appended over them, which read as zeros again.
// Zeros are kept as a size, not as bytes, so a 64 MiB segment costs nothing
// until it is read. Appends only ever extend what was written: a writer that
// would overwrite written bytes gets kIoError, since no caller does that.
// That is also why a file's durable bytes are always a prefix of its written
// bytes (a sync makes everything written so far durable, and nothing durable
// is ever rewritten), so durable_size is the whole durable snapshot of a
// file; a crash that loses pages leaves holes only in the bytes after it,
// and everything a crash leaves is durable from then on.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
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
  Status read_range(const std::string& path, uint64_t offset, uint64_t bytes,
                    std::string* contents) override;
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

  // What crash_losing_pages() did to the unsynced bytes, summed over files.
  struct PageLoss {
    uint64_t unsynced_pages = 0;  // 4 KiB pages (file offsets / 4096) holding unsynced bytes
    uint64_t lost_pages = 0;      // of those, pages whose unsynced bytes never reached the disk
    uint64_t pages_kept_after_a_lost_one = 0;  // kept pages with a lost page before them in their file
    uint64_t torn_sectors = 0;    // 512-byte sectors left part new, part old
  };
  // A power loss on a disk that writes dirty pages back in any order. Names
  // and preallocations fare as in crash(seed). Then, per file, each page
  // holding unsynced bytes survives or is lost independently (the seed also
  // picks how likely survival is, so runs range from mostly kept to mostly
  // lost), and with even odds one sector holding unsynced bytes tears at a
  // byte: new bytes on one side of it, old on the other. Lost bytes read as
  // they did before they were written: zeros inside the file's durable
  // preallocation; past the file's durable end, zeros or, in some runs,
  // junk, as a file system that grew the file before writing its data may
  // show stale blocks. The file ends at its last surviving new byte (or at
  // its durable size or preallocation, when those reach further).
  // Deterministic in seed.
  PageLoss crash_losing_pages(uint64_t seed);

  // Direct access for tests that damage files on purpose: the bytes written
  // to the file. A preallocated file's zeros follow them up to its
  // preallocated size, whatever is done to them here.
  std::string* mutable_contents(const std::string& path);
  uint64_t syncs() const { return syncs_; }

 private:
  struct Inode {
    std::string data;                 // written bytes, from offset 0
    uint64_t zero_filled_to = 0;      // preallocated: zeros after data up to here
    size_t durable_size = 0;          // data[0, durable_size) survives a crash (see the top)
    uint64_t durable_zero_filled_to = 0;
    uint64_t size_bytes() const { return std::max<uint64_t>(data.size(), zero_filled_to); }
  };
  class File;

  // Writes data at offset (a writer's logical end), spending disk space only
  // on bytes beyond the file's current size.
  Status write_to(Inode* inode, uint64_t offset, std::string_view data, uint64_t* written_bytes);
  Status preallocate(Inode* inode, uint64_t file_size_bytes);
  // What every crash does: only synced names survive, armed faults are
  // disarmed, and settle_contents decides what each surviving file holds,
  // all of which is durable afterwards.
  void crash_files(const std::function<void(Inode*)>& settle_contents);

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
