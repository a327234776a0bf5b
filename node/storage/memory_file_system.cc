#include "node/storage/memory_file_system.h"

#include <algorithm>

namespace mq::storage {
namespace {

// The units a disk writes back: the kernel's dirty pages, made of sectors.
constexpr uint64_t kPageBytes = 4096;
constexpr uint64_t kSectorBytes = 512;

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// SplitMix64: a crash's choices from its seed alone, the same sequence on
// every platform and standard library, and no state worth the name.
class CrashRandom {
 public:
  explicit CrashRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t bound) { return next() % bound; }
  bool coin() { return (next() & 1) == 1; }

 private:
  uint64_t state_;
};

}  // namespace

class MemoryFileSystem::File final : public WritableFile {
 public:
  File(MemoryFileSystem* fs, std::shared_ptr<Inode> inode)
      : fs_(fs), inode_(std::move(inode)), size_(inode_->size_bytes()) {}
  Status append(std::string_view data) override {
    uint64_t written = 0;
    Status s = fs_->write_to(inode_.get(), size_, data, &written);
    size_ += written;
    return s;
  }
  Status sync() override {
    if (fs_->sync_fails_) return {StatusCode::kIoError, "fdatasync: injected failure"};
    ++fs_->syncs_;
    inode_->durable_size = inode_->data.size();
    inode_->durable_zero_filled_to = inode_->zero_filled_to;
    return Status::ok();
  }
  uint64_t size_bytes() const override { return size_; }
  Status preallocate(uint64_t file_size_bytes) override { return fs_->preallocate(inode_.get(), file_size_bytes); }

 private:
  MemoryFileSystem* fs_;
  std::shared_ptr<Inode> inode_;
  uint64_t size_;  // logical end, where the next append lands
};

Status MemoryFileSystem::write_to(Inode* inode, uint64_t offset, std::string_view data, uint64_t* written_bytes) {
  *written_bytes = 0;
  if (offset < inode->data.size()) {
    return {StatusCode::kIoError, "write: overwriting written bytes is not modelled by MemoryFileSystem"};
  }
  // Bytes past what was written but inside the file are preallocated zeros:
  // writing there spends no space, it was reserved by the preallocation.
  const uint64_t reserved_bytes = inode->size_bytes() > offset ? inode->size_bytes() - offset : 0;
  Status status;
  if (cut_next_write_at_) {
    data = data.substr(0, std::min<uint64_t>(*cut_next_write_at_, data.size()));
    cut_next_write_at_.reset();
    status = {StatusCode::kIoError, "write: injected short write"};
  } else if (space_left_bytes_ && data.size() > reserved_bytes + *space_left_bytes_) {
    data = data.substr(0, reserved_bytes + *space_left_bytes_);
    *space_left_bytes_ = 0;
    status = {StatusCode::kNoSpace, "write: No space left on device (injected)"};
  } else if (space_left_bytes_ && data.size() > reserved_bytes) {
    *space_left_bytes_ -= data.size() - reserved_bytes;
  }
  inode->data.resize(offset, '\0');  // a writer past the written bytes writes over zeros
  inode->data.append(data);
  *written_bytes = data.size();
  return status;
}

Status MemoryFileSystem::preallocate(Inode* inode, uint64_t file_size_bytes) {
  if (preallocate_unsupported_ || file_size_bytes <= inode->size_bytes()) return Status::ok();
  const uint64_t grow_bytes = file_size_bytes - inode->size_bytes();
  if (space_left_bytes_ && grow_bytes > *space_left_bytes_) {
    // As fallocate may on a full disk, it keeps what it reserved before failing.
    inode->zero_filled_to = inode->size_bytes() + *space_left_bytes_;
    *space_left_bytes_ = 0;
    return {StatusCode::kNoSpace, "fallocate: No space left on device (injected)"};
  }
  if (space_left_bytes_) *space_left_bytes_ -= grow_bytes;
  inode->zero_filled_to = file_size_bytes;
  return Status::ok();
}

Result<std::unique_ptr<WritableFile>> MemoryFileSystem::open_append(const std::string& path) {
  if (!dirs_.count(parent_of(path))) return Status(StatusCode::kIoError, "open " + path + ": no such directory");
  auto& inode = live_[path];
  if (!inode) inode = std::make_shared<Inode>();
  return std::unique_ptr<WritableFile>(std::make_unique<File>(this, inode));
}

Status MemoryFileSystem::read_file(const std::string& path, std::string* contents) {
  auto it = live_.find(path);
  if (it == live_.end()) return {StatusCode::kNotFound, path + " does not exist"};
  const Inode& inode = *it->second;
  *contents = inode.data;
  contents->resize(inode.size_bytes(), '\0');
  return Status::ok();
}

Status MemoryFileSystem::read_range(const std::string& path, uint64_t offset, uint64_t bytes,
                                    std::string* contents) {
  auto it = live_.find(path);
  if (it == live_.end()) return {StatusCode::kNotFound, path + " does not exist"};
  const Inode& inode = *it->second;
  const uint64_t size = inode.size_bytes();
  const uint64_t from = std::min(offset, size);
  const uint64_t n = std::min(bytes, size - from);
  // Bytes past the written data are the preallocated zeros.
  contents->assign(static_cast<size_t>(n), '\0');
  if (from < inode.data.size()) {
    const uint64_t held = std::min<uint64_t>(n, inode.data.size() - from);
    inode.data.copy(contents->data(), static_cast<size_t>(held), static_cast<size_t>(from));
  }
  return Status::ok();
}

Status MemoryFileSystem::read_file_without_zero_tail(const std::string& path, std::string* contents,
                                                     uint64_t* zero_tail_bytes) {
  auto it = live_.find(path);
  if (it == live_.end()) return {StatusCode::kNotFound, path + " does not exist"};
  const Inode& inode = *it->second;
  *contents = inode.data;
  *zero_tail_bytes = inode.size_bytes() - inode.data.size();
  return Status::ok();
}

Result<std::vector<std::string>> MemoryFileSystem::list_dir(const std::string& dir) {
  if (!dirs_.count(dir)) return Status(StatusCode::kIoError, "opendir " + dir + ": no such directory");
  std::vector<std::string> names;
  for (const auto& [path, inode] : live_) {
    if (parent_of(path) == dir) names.push_back(path.substr(dir.size() + 1));
  }
  return names;
}

Status MemoryFileSystem::create_dir(const std::string& dir) {
  if (live_.count(dir)) return {StatusCode::kIoError, dir + " is not a directory"};
  // Directories are durable at once: only files matter to the crash model.
  dirs_.insert(dir);
  return Status::ok();
}

bool MemoryFileSystem::exists(const std::string& path) { return live_.count(path) || dirs_.count(path); }

Status MemoryFileSystem::rename(const std::string& from, const std::string& to) {
  auto it = live_.find(from);
  if (it == live_.end()) return {StatusCode::kIoError, "rename " + from + ": does not exist"};
  live_[to] = it->second;
  live_.erase(from);
  return Status::ok();
}

Status MemoryFileSystem::remove(const std::string& path) {
  if (!live_.erase(path)) return {StatusCode::kIoError, "unlink " + path + ": does not exist"};
  return Status::ok();
}

Status MemoryFileSystem::truncate(const std::string& path, uint64_t size_bytes) {
  auto it = live_.find(path);
  if (it == live_.end()) return {StatusCode::kIoError, "truncate " + path + ": does not exist"};
  Inode& inode = *it->second;
  if (size_bytes < inode.data.size()) inode.data.resize(size_bytes);
  // Cut short, the file keeps no zeros beyond its bytes; extended, it gains them.
  inode.zero_filled_to = size_bytes > inode.data.size() ? size_bytes : 0;
  inode.durable_size = inode.data.size();
  inode.durable_zero_filled_to = inode.zero_filled_to;
  return Status::ok();
}

Status MemoryFileSystem::sync_dir(const std::string& dir) {
  if (sync_fails_) return {StatusCode::kIoError, "fsync " + dir + ": injected failure"};
  ++syncs_;
  for (auto it = durable_.begin(); it != durable_.end();) {
    if (parent_of(it->first) == dir && !live_.count(it->first)) {
      it = durable_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [path, inode] : live_) {
    if (parent_of(path) == dir) durable_[path] = inode;
  }
  return Status::ok();
}

void MemoryFileSystem::crash_files(const std::function<void(Inode*)>& settle_contents) {
  live_ = durable_;
  for (auto& [path, inode] : live_) {
    // An inode under two durable names (renamed, both directories not yet
    // synced) is settled twice; the second time finds nothing unsynced.
    settle_contents(inode.get());
    inode->durable_size = inode->data.size();
    inode->durable_zero_filled_to = inode->zero_filled_to;
  }
  cut_next_write_at_.reset();
  sync_fails_ = false;
}

namespace {

// An unsynced preallocation may have reached the journal anyway.
template <typename Inode>
void settle_preallocation(Inode* inode, CrashRandom* random) {
  if (random != nullptr && inode->zero_filled_to > inode->durable_zero_filled_to && random->coin()) {
    inode->durable_zero_filled_to = inode->zero_filled_to;
  }
  inode->zero_filled_to = inode->durable_zero_filled_to;
}

}  // namespace

void MemoryFileSystem::crash(std::optional<uint64_t> seed) {
  CrashRandom random(seed.value_or(0));
  crash_files([&](Inode* inode) {
    size_t keep = std::min(inode->durable_size, inode->data.size());
    if (seed && inode->data.size() > keep) keep += random.below(inode->data.size() - keep + 1);
    inode->data.resize(keep);
    settle_preallocation(inode, seed ? &random : nullptr);
  });
}

MemoryFileSystem::PageLoss MemoryFileSystem::crash_losing_pages(uint64_t seed) {
  CrashRandom random(seed);
  const uint64_t keep_percent = 10 + random.below(81);
  const bool stale_junk = random.coin();
  PageLoss loss;
  crash_files([&](Inode* inode) {
    settle_preallocation(inode, &random);
    std::string& data = inode->data;
    const uint64_t durable_end = std::min(inode->durable_size, data.size());
    const uint64_t written_end = data.size();
    if (written_end == durable_end) return;
    // Before the crash the file durably held zeros up to here; past it, nothing.
    const uint64_t old_file_end = std::max(durable_end, inode->zero_filled_to);
    auto old_byte = [&](uint64_t offset) {
      return offset < old_file_end || !stale_junk ? '\0' : static_cast<char>(random.next());
    };
    const std::string written = data.substr(durable_end);
    auto new_byte = [&](uint64_t offset) { return written[offset - durable_end]; };

    uint64_t surviving_end = durable_end;
    bool lost_one = false;
    for (uint64_t page = durable_end / kPageBytes; page * kPageBytes < written_end; ++page) {
      const uint64_t lo = std::max(page * kPageBytes, durable_end);
      const uint64_t hi = std::min((page + 1) * kPageBytes, written_end);
      ++loss.unsynced_pages;
      if (random.below(100) < keep_percent) {
        if (lost_one) ++loss.pages_kept_after_a_lost_one;
        surviving_end = hi;
      } else {
        ++loss.lost_pages;
        lost_one = true;
        for (uint64_t i = lo; i < hi; ++i) data[i] = old_byte(i);
      }
    }
    if (random.coin()) {
      // Power went while the disk wrote this sector: it split at a byte.
      const uint64_t at = durable_end + random.below(written_end - durable_end);
      const uint64_t sector = at / kSectorBytes * kSectorBytes;
      const uint64_t lo = std::max(sector, durable_end);
      const uint64_t hi = std::min(sector + kSectorBytes, written_end);
      if (hi - lo >= 2) {
        const uint64_t split = lo + 1 + random.below(hi - lo - 1);
        const bool new_first = random.coin();
        for (uint64_t i = lo; i < hi; ++i) data[i] = (i < split) == new_first ? new_byte(i) : old_byte(i);
        surviving_end = std::max(surviving_end, new_first ? split : hi);
        ++loss.torn_sectors;
      }
    }
    data.resize(surviving_end);
  });
  return loss;
}

std::string* MemoryFileSystem::mutable_contents(const std::string& path) {
  auto it = live_.find(path);
  return it == live_.end() ? nullptr : &it->second->data;
}

}  // namespace mq::storage
