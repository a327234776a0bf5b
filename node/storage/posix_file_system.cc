#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "node/storage/file_system.h"

namespace mq::storage {
namespace {

Status errno_status(const std::string& what, const std::string& path, int err) {
  const StatusCode code = (err == ENOSPC || err == EDQUOT) ? StatusCode::kNoSpace : StatusCode::kIoError;
  return {code, what + " " + path + ": " + std::strerror(err)};
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override { ::close(fd_); }

  // pwrite at the tracked logical end rather than O_APPEND, which would write
  // after the preallocated zeros instead of over them.
  Status append(std::string_view data) override {
    if (Status s = zero_fill_ahead(size_ + data.size()); !s.is_ok()) return s;
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("write", path_, errno);
      }
      size_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::ok();
  }

  void start_writeback() override { (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE); }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return errno_status("fdatasync", path_, errno);
    return Status::ok();
  }

  uint64_t size_bytes() const override { return size_; }

  Status preallocate(uint64_t file_size_bytes) override {
    // Mode 0 extends the file's size (FALLOC_FL_KEEP_SIZE would leave a size
    // change for every fdatasync to journal, which is the cost this avoids).
    while (::fallocate(fd_, 0, 0, static_cast<off_t>(file_size_bytes)) != 0) {
      if (errno == EINTR) continue;
      // A file system without fallocate: the file grows as it is written.
      if (errno == EOPNOTSUPP || errno == ENOSYS) return Status::ok();
      return errno_status("fallocate", path_, errno);
    }
    preallocated_end_ = std::max(preallocated_end_, file_size_bytes);
    zeroed_end_ = std::max(zeroed_end_, size_);
    return Status::ok();
  }

 private:
  // fallocate leaves "unwritten" extents: the first write into each one
  // converts it, a metadata change that the next fdatasync must journal.
  // With records of a few KiB per sync that was every sync, as slow as a
  // growing file (measured: 16 KiB per sync, 161 us of CPU and 0.8 ms per
  // fdatasync over fallocated space, 88 us and 0.4 ms over written zeros).
  // So real zeros are written a chunk ahead of the records, and one sync in
  // a chunk's worth of log pays for the conversion.
  static constexpr uint64_t kZeroFillAheadBytes = 1 << 20;

  Status zero_fill_ahead(uint64_t end_of_write) {
    if (end_of_write <= zeroed_end_ || zeroed_end_ >= preallocated_end_) return Status::ok();
    static const std::string zeros(64 << 10, '\0');
    uint64_t at = std::max(zeroed_end_, end_of_write);
    const uint64_t to = std::min(preallocated_end_, end_of_write + kZeroFillAheadBytes);
    while (at < to) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), to - at));
      const ssize_t written = ::pwrite(fd_, zeros.data(), n, static_cast<off_t>(at));
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno_status("write", path_, errno);
      }
      at += static_cast<uint64_t>(written);
    }
    zeroed_end_ = to;
    return Status::ok();
  }

  std::string path_;
  int fd_;
  uint64_t size_;  // logical: preallocated zeros beyond it are not counted
  uint64_t preallocated_end_ = 0;  // the file's size after preallocate(); 0: none
  uint64_t zeroed_end_ = 0;        // zeros are written up to here
};

// Reads up to bytes from offset into *contents (fewer where the file ends),
// in as many preads as it takes.
Status pread_all(int fd, const std::string& path, uint64_t offset, uint64_t bytes, std::string* contents) {
  contents->resize(static_cast<size_t>(bytes));
  size_t done = 0;
  while (done < contents->size()) {
    const ssize_t n = ::pread(fd, contents->data() + done, contents->size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  contents->resize(done);
  return Status::ok();
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> open_append(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno_status("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return errno_status("stat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Status read_file(const std::string& path, std::string* contents) override {
    return read(path, contents, nullptr);
  }

  Status read_file_without_zero_tail(const std::string& path, std::string* contents,
                                     uint64_t* zero_tail_bytes) override {
    return read(path, contents, zero_tail_bytes);
  }

  Status read_range(const std::string& path, uint64_t offset, uint64_t bytes,
                    std::string* contents) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return {StatusCode::kNotFound, path + " does not exist"};
      return errno_status("open", path, errno);
    }
    const Status s = pread_all(fd, path, offset, bytes, contents);
    ::close(fd);
    return s;
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno_status("opendir", dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st;
      if (::stat(join_path(dir, name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(name);
    }
    ::closedir(d);
    return names;
  }

  Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::ok();
    if (errno != EEXIST) return errno_status("mkdir", dir, errno);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return errno_status("stat", dir, errno);
    if (!S_ISDIR(st.st_mode)) return {StatusCode::kIoError, dir + " is not a directory"};
    return Status::ok();
  }

  bool exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }


  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_status("rename", from + " -> " + to, errno);
    return Status::ok();
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_status("unlink", path, errno);
    return Status::ok();
  }

  Status truncate(const std::string& path, uint64_t size_bytes) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno_status("open", path, errno);
    Status s;
    if (::ftruncate(fd, static_cast<off_t>(size_bytes)) != 0) {
      s = errno_status("ftruncate", path, errno);
    } else if (::fdatasync(fd) != 0) {
      s = errno_status("fdatasync", path, errno);
    }
    ::close(fd);
    return s;
  }

  Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status("open", dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = errno_status("fsync", dir, errno);
    ::close(fd);
    return s;
  }

 private:
  // Reads the whole file, or, given zero_tail_bytes, all but a tail the file
  // system reports as holes: ext4 reports unwritten preallocated extents as
  // holes unless the page cache holds data for them, and holes read as zeros.
  Status read(const std::string& path, std::string* contents, uint64_t* zero_tail_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return {StatusCode::kNotFound, path + " does not exist"};
      return errno_status("open", path, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return errno_status("stat", path, err);
    }
    const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
    uint64_t read_bytes = file_bytes;
    if (zero_tail_bytes != nullptr) {
      // Only a hole with no data anywhere after it ends the file; when the
      // file system cannot tell (lseek fails), everything is read.
      const off_t hole = ::lseek(fd, 0, SEEK_HOLE);
      if (hole >= 0 && static_cast<uint64_t>(hole) < file_bytes && ::lseek(fd, hole, SEEK_DATA) < 0 &&
          errno == ENXIO) {
        read_bytes = static_cast<uint64_t>(hole);
      }
    }
    // One allocation and large reads: snapshots can be hundreds of MB.
    const Status read = pread_all(fd, path, 0, read_bytes, contents);
    ::close(fd);
    if (!read.is_ok()) return read;
    const uint64_t done = contents->size();
    // A file cut short while being read has no zero tail to speak of.
    if (zero_tail_bytes != nullptr) *zero_tail_bytes = done == read_bytes ? file_bytes - read_bytes : 0;
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<FileSystem> make_posix_file_system() { return std::make_unique<PosixFileSystem>(); }

}  // namespace mq::storage
