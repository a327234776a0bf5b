// Storage benchmarks (not tests): how close group commit gets to the disk's
// own fsync rate, and how long a node holding a million keys takes to start.
//
//   mq-wal-bench [--dir DIR] [--duration-ms N] [--recovery-entries N]
//
// DIR must be on the disk under test (default: the system temp directory);
// the benchmark creates and removes its own subdirectory there.
#include <fcntl.h>
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

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "mq-wal-bench: %s\n", what.c_str());
  std::exit(1);
}

// The disk's ceiling: one 100-byte write and one fdatasync per operation.
double raw_fsync_per_s(const std::string& dir, int duration_ms) {
  const std::string path = dir + "/raw-fsync";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + path);
  const std::string record(kEntryBytes, 'r');
  uint64_t ops = 0;
  const auto start = Clock::now();
  while (seconds_since(start) * 1000 < duration_ms) {
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size())) die("write failed");
    if (::fdatasync(fd) != 0) die("fdatasync failed");
    ++ops;
  }
  const double rate = static_cast<double>(ops) / seconds_since(start);
  ::close(fd);
  std::filesystem::remove(path);
  return rate;
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
};

AppendRate wal_append_rate(const std::string& dir, size_t batch_entries, int duration_ms) {
  std::filesystem::remove_all(dir);
  RecoveredState rec;
  auto st = open_or_die(options_for(dir, FsyncMode::kBatch), &rec);
  std::vector<uint64_t> next(kGroups, 1);
  std::vector<std::vector<mq::raft::Entry>> per_group;
  WriteBatch batch;
  uint64_t appends = 0;
  const auto start = Clock::now();
  while (seconds_since(start) * 1000 < duration_ms) {
    make_batch(batch_entries, &next, &per_group, &batch);
    if (auto s = st->append(batch); !s.is_ok()) die(s.to_string());
    ++appends;
  }
  const double elapsed = seconds_since(start);
  st.reset();
  std::filesystem::remove_all(dir);
  return {static_cast<double>(appends) / elapsed, static_cast<double>(appends * batch_entries) / elapsed};
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

  const double raw = raw_fsync_per_s(dir, duration_ms);
  std::printf("raw write(100 B)+fdatasync: %.0f /s\n", raw);
  for (size_t batch : {size_t{1}, size_t{16}, size_t{256}}) {
    const AppendRate r = wal_append_rate(dir + "/wal", batch, duration_ms);
    std::printf("WAL append+sync, batch of %3zu x %zu B over %u groups: %7.0f appends/s = %.2f x raw fsync, "
                "%9.0f entries/s\n",
                batch, kEntryBytes, std::min<unsigned>(static_cast<unsigned>(batch), kGroups), r.appends_per_s,
                r.appends_per_s / raw, r.entries_per_s);
  }
  recovery_time(dir + "/recovery", recovery_entries);
  std::filesystem::remove_all(dir);
  return 0;
}
