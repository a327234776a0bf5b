#include "node/storage/memory_file_system.h"

#include <random>

namespace mq::storage {
namespace {

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

class MemoryFileSystem::File final : public WritableFile {
 public:
  File(MemoryFileSystem* fs, std::shared_ptr<Inode> inode) : fs_(fs), inode_(std::move(inode)) {}
  Status append(std::string_view data) override { return fs_->write_to(inode_.get(), data); }
  Status sync() override {
    if (fs_->sync_fails_) return {StatusCode::kIoError, "fdatasync: injected failure"};
    ++fs_->syncs_;
    inode_->durable_size = inode_->data.size();
    return Status::ok();
  }
  uint64_t size_bytes() const override { return inode_->data.size(); }

 private:
  MemoryFileSystem* fs_;
  std::shared_ptr<Inode> inode_;
};

Status MemoryFileSystem::write_to(Inode* inode, std::string_view data) {
  if (cut_next_write_at_) {
    const uint64_t keep = std::min<uint64_t>(*cut_next_write_at_, data.size());
    cut_next_write_at_.reset();
    inode->data.append(data.substr(0, keep));
    return {StatusCode::kIoError, "write: injected short write"};
  }
  if (space_left_bytes_ && data.size() > *space_left_bytes_) {
    inode->data.append(data.substr(0, *space_left_bytes_));
    *space_left_bytes_ = 0;
    return {StatusCode::kNoSpace, "write: No space left on device (injected)"};
  }
  if (space_left_bytes_) *space_left_bytes_ -= data.size();
  inode->data.append(data);
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
  *contents = it->second->data;
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
  it->second->data.resize(size_bytes);
  it->second->durable_size = it->second->data.size();
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

void MemoryFileSystem::crash(std::optional<uint64_t> seed) {
  std::mt19937_64 rng(seed.value_or(0));
  live_ = durable_;
  for (auto& [path, inode] : live_) {
    size_t keep = inode->durable_size;
    if (seed && inode->data.size() > keep) keep += rng() % (inode->data.size() - keep + 1);
    inode->data.resize(keep);
    inode->durable_size = keep;
  }
  cut_next_write_at_.reset();
  sync_fails_ = false;
}

std::string* MemoryFileSystem::mutable_contents(const std::string& path) {
  auto it = live_.find(path);
  return it == live_.end() ? nullptr : &it->second->data;
}

}  // namespace mq::storage
