// A node's disk in the node-level simulator: a MemoryFileSystem (what a
// crash keeps is its business) seen through a hook on every sync, where the
// simulation charges the sync's time to the node and injects its faults (a
// failed sync, or power lost half way through one).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/storage/memory_file_system.h"

namespace mq::nodesim {

class SimDisk final : public storage::FileSystem {
 public:
  using SyncHook = std::function<storage::Status()>;
  SimDisk(storage::MemoryFileSystem* fs, SyncHook on_sync) : fs_(fs), on_sync_(std::move(on_sync)) {}

  storage::Result<std::unique_ptr<storage::WritableFile>> open_append(const std::string& path) override {
    auto r = fs_->open_append(path);
    if (!r.is_ok()) return r.status();
    return std::unique_ptr<storage::WritableFile>(new File(std::move(r.value()), &on_sync_));
  }
  storage::Status read_file(const std::string& path, std::string* contents) override {
    return fs_->read_file(path, contents);
  }
  storage::Status read_range(const std::string& path, uint64_t offset, uint64_t bytes,
                             std::string* contents) override {
    return fs_->read_range(path, offset, bytes, contents);
  }
  storage::Status read_file_without_zero_tail(const std::string& path, std::string* contents,
                                              uint64_t* zero_tail_bytes) override {
    return fs_->read_file_without_zero_tail(path, contents, zero_tail_bytes);
  }
  storage::Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return fs_->list_dir(dir);
  }
  storage::Status create_dir(const std::string& dir) override { return fs_->create_dir(dir); }
  bool exists(const std::string& path) override { return fs_->exists(path); }
  storage::Status rename(const std::string& from, const std::string& to) override {
    return fs_->rename(from, to);
  }
  storage::Status remove(const std::string& path) override { return fs_->remove(path); }
  storage::Status truncate(const std::string& path, uint64_t size_bytes) override {
    return fs_->truncate(path, size_bytes);
  }
  storage::Status sync_dir(const std::string& dir) override {
    if (storage::Status s = on_sync_(); !s.is_ok()) return s;
    return fs_->sync_dir(dir);
  }

 private:
  class File final : public storage::WritableFile {
   public:
    File(std::unique_ptr<storage::WritableFile> inner, SyncHook* on_sync)
        : inner_(std::move(inner)), on_sync_(on_sync) {}
    storage::Status append(std::string_view data) override { return inner_->append(data); }
    storage::Status sync() override {
      if (storage::Status s = (*on_sync_)(); !s.is_ok()) return s;
      return inner_->sync();
    }
    uint64_t size_bytes() const override { return inner_->size_bytes(); }
    storage::Status preallocate(uint64_t file_size_bytes) override {
      return inner_->preallocate(file_size_bytes);
    }

   private:
    std::unique_ptr<storage::WritableFile> inner_;
    SyncHook* on_sync_;
  };

  storage::MemoryFileSystem* fs_;
  SyncHook on_sync_;
};

}  // namespace mq::nodesim
