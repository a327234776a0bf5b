// Storage benchmarks (not tests): how close group commit gets to the disk's
// own fsync rate, what each durable append costs in CPU (user + system: on a
// VM most of an fdatasync is the kernel's journal work, charged to the
// caller), and how long a node holding a million keys takes to start.
//
//   mq-wal-bench [--dir DIR] [--duration-ms N] [--recovery-entries N]
//
// DIR must be on the disk under test (default: the system temp directory);
// the benchmark creates and removes its own subdirectory there.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "node/storage/storage.h"

namespace {

using Clock = std::chrono::steady_clock;
using mq::storage::FsyncMode;
using mq::storage::GroupId;
using mq::storage::GroupWrite;
using mq::storage::RecoveredState;
using mq::storage::Storage;
using mq::storage::StorageOptions;
using mq::storage::WriteBatch;

constexpr size_t kEntryBytes = 100;
constexpr GroupId kGroups = 16;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of this process (user + system), in microseconds.
double cpu_us() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

struct Rate {
  double ops_per_s;
  double cpu_us_per_op;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "mq-wal-bench: %s\n", what.c_str());
  std::exit(1);
}

// The disk's ceiling: one 100-byte write and one fdatasync per operation,
// on a file that grows (as a WAL did before preallocating its segments) or
// on one already extended with fallocate and overwritten in place (as the
// WAL does now: fdatasync then has no size change to journal).
Rate raw_fsync_rate(const std::string& dir, int duration_ms, bool preallocated) {
  const std::string path = dir + "/raw-fsync";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + path);
  constexpr off_t kPreallocatedBytes = 64 << 20;
  if (preallocated && ::fallocate(fd, 0, 0, kPreallocatedBytes) != 0) die("fallocate failed");
  if (::fdatasync(fd) != 0) die("fdatasync failed");
  const std::string record(kEntryBytes, 'r');
  uint64_t ops = 0;
  off_t offset = 0;
  const double cpu_start = cpu_us();
  const auto start = Clock::now();
  while (seconds_since(start) * 1000 < duration_ms) {
    if (preallocated && offset + static_cast<off_t>(record.size()) > kPreallocatedBytes) offset = 0;
    if (::pwrite(fd, record.data(), record.size(), offset) != static_cast<ssize_t>(record.size())) {
      die("write failed");
    }
    offset += static_cast<off_t>(record.size());
    if (::fdatasync(fd) != 0) die("fdatasync failed");
    ++ops;
  }
  const double elapsed = seconds_since(start);
  const double cpu = cpu_us() - cpu_start;
  ::close(fd);
  std::filesystem::remove(path);
  return {static_cast<double>(ops) / elapsed, cpu / static_cast<double>(ops)};
}

StorageOptions options_for(const std::string& dir, FsyncMode mode) {
  StorageOptions o;
  o.data_dir = dir;
  o.node_id = "bench";
  o.cluster_id = "bench";
  o.fsync_mode = mode;
  o.log = [](const std::string&) {};
  return o;
}

std::unique_ptr<Storage> open_or_die(const StorageOptions& o, RecoveredState* rec) {
  auto st = Storage::open(o, rec);
  if (!st.is_ok()) die(st.status().to_string());
  return std::move(st.value());
}

// Fills `entries` with `count` entries spread over the groups, and `batch`
// with one write per group, continuing each group's index sequence.
void make_batch(size_t count, std::vector<uint64_t>* next_index, std::vector<std::vector<mq::raft::Entry>>* per_group,
                WriteBatch* batch) {
  per_group->assign(kGroups, {});
  for (size_t i = 0; i < count; ++i) {
    const GroupId g = static_cast<GroupId>(i % kGroups);
    mq::raft::Entry e;
    e.term = 1;
    e.index = (*next_index)[g]++;
    e.data.assign(kEntryBytes, static_cast<char>('a' + g));
    (*per_group)[g].push_back(std::move(e));
  }
  batch->clear();
  for (GroupId g = 0; g < kGroups; ++g) {
    if (!(*per_group)[g].empty()) batch->push_back(GroupWrite{g, std::nullopt, (*per_group)[g]});
  }
}

struct AppendRate {
  double appends_per_s;
  double entries_per_s;
  double cpu_us_per_append;
};

AppendRate wal_append_rate(const std::string& dir, size_t batch_entries, int duration_ms) {
  std::filesystem::remove_all(dir);
  RecoveredState rec;
  auto st = open_or_die(options_for(dir, FsyncMode::kBatch), &rec);
  std::vector<uint64_t> next(kGroups, 1);
  std::vector<std::vector<mq::raft::Entry>> per_group;
  WriteBatch batch;
  uint64_t appends = 0;
  const double cpu_start = cpu_us();
  const auto start = Clock::now();
  while (seconds_since(start) * 1000 < duration_ms) {
    make_batch(batch_entries, &next, &per_group, &batch);
    if (auto s = st->append(batch); !s.is_ok()) die(s.to_string());
    ++appends;
  }
  const double elapsed = seconds_since(start);
  const double cpu = cpu_us() - cpu_start;
  st.reset();
  std::filesystem::remove_all(dir);
  return {static_cast<double>(appends) / elapsed, static_cast<double>(appends * batch_entries) / elapsed,
          cpu / static_cast<double>(appends)};
}

void recovery_time(const std::string& dir, uint64_t entries_total) {
  std::filesystem::remove_all(dir);
  const size_t batch_entries = 1024;
  {
    RecoveredState rec;
    // Filling is not what is measured; batch mode keeps it honest about the
    // files it leaves (synced, as a real node's would be).
    auto st = open_or_die(options_for(dir, FsyncMode::kBatch), &rec);
    std::vector<uint64_t> next(kGroups, 1);
    std::vector<std::vector<mq::raft::Entry>> per_group;
    WriteBatch batch;
    for (uint64_t written = 0; written < entries_total; written += batch_entries) {
      make_batch(batch_entries, &next, &per_group, &batch);
      if (auto s = st->append(batch); !s.is_ok()) die(s.to_string());
    }
  }
  {
    RecoveredState rec;
    const auto start = Clock::now();
    auto st = open_or_die(options_for(dir, FsyncMode::kBatch), &rec);
    const double elapsed = seconds_since(start);
    uint64_t recovered = 0;
    for (const auto& [g, group] : rec) recovered += group.entries.size();
    std::printf("recovery, WAL replay: %llu entries of %zu bytes in %.3f s (%.0f entries/s)\n",
                static_cast<unsigned long long>(recovered), kEntryBytes, elapsed, recovered / elapsed);

    // The usual start-up: each group's state in a snapshot, the WAL compacted.
    for (GroupId g = 0; g < kGroups; ++g) {
      const auto& entries = rec[g].entries;
      mq::raft::Snapshot snap;
      snap.meta.index = entries.back().index;
      snap.meta.term = 1;
      snap.meta.voters = {1, 2, 3};
      // The state machine's bytes for its share of keys: key, value, framing.
      snap.data.assign(entries.size() * (kEntryBytes + 24), 's');
      if (auto s = st->save_snapshot(g, snap); !s.is_ok()) die(s.to_string());
      if (auto s = st->compact(g, snap.meta.index); !s.is_ok()) die(s.to_string());
    }
  }
  {
    RecoveredState rec;
    const auto start = Clock::now();
    auto st = open_or_die(options_for(dir, FsyncMode::kBatch), &rec);
    const double elapsed = seconds_since(start);
    uint64_t snapshot_bytes = 0;
    for (const auto& [g, group] : rec) snapshot_bytes += group.snapshot ? group.snapshot->data.size() : 0;
    std::printf("recovery, snapshots:  %llu bytes (%.0f MB) over %u groups in %.3f s\n",
                static_cast<unsigned long long>(snapshot_bytes), snapshot_bytes / 1e6, kGroups, elapsed);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = std::filesystem::temp_directory_path().string();
  int duration_ms = 2000;
  uint64_t recovery_entries = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir") {
      base = argv[i + 1];
    } else if (flag == "--duration-ms") {
      duration_ms = std::atoi(argv[i + 1]);
    } else if (flag == "--recovery-entries") {
      recovery_entries = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      die("unknown flag " + flag + " (flags: --dir DIR --duration-ms N --recovery-entries N)");
    }
  }
  const std::string dir = base + "/mq-wal-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);

  const Rate growing = raw_fsync_rate(dir, duration_ms, false);
  const Rate preallocated = raw_fsync_rate(dir, duration_ms, true);
  std::printf("raw write(100 B)+fdatasync, growing file:      %7.0f /s, %5.0f us CPU each\n", growing.ops_per_s,
              growing.cpu_us_per_op);
  std::printf("raw write(100 B)+fdatasync, preallocated file: %7.0f /s, %5.0f us CPU each\n",
              preallocated.ops_per_s, preallocated.cpu_us_per_op);
  for (size_t batch : {size_t{1}, size_t{16}, size_t{256}}) {
    const AppendRate r = wal_append_rate(dir + "/wal", batch, duration_ms);
    std::printf("WAL append+sync, batch of %3zu x %zu B over %u groups: %7.0f appends/s = %.2f x raw growing fsync, "
                "%5.0f us CPU each, %9.0f entries/s\n",
                batch, kEntryBytes, std::min<unsigned>(static_cast<unsigned>(batch), kGroups), r.appends_per_s,
                r.appends_per_s / growing.ops_per_s, r.cpu_us_per_append, r.entries_per_s);
  }
  recovery_time(dir + "/recovery", recovery_entries);
  std::filesystem::remove_all(dir);
  return 0;
}
