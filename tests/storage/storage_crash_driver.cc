// Appends batches through the real WAL as fast as it can and prints
// "ack <group> <index>" on stdout after each batch is durable, so a test can
// kill -9 it at any moment and then demand every printed index back.
//
//   storage_crash_driver --data-dir DIR --seed N [--fsync batch|always] [--batches-max N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "node/storage/storage.h"
#include "tests/storage/test_util.h"

namespace {

constexpr mq::storage::GroupId kGroups = 4;
constexpr uint64_t kEntriesPerWriteMax = 16;

int usage() {
  std::fprintf(stderr, "usage: storage_crash_driver --data-dir DIR --seed N [--fsync batch|always] [--batches-max N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mq::storage;
  StorageOptions options;
  options.node_id = "crash-driver";
  options.cluster_id = "crash-test";
  options.segment_size_bytes_max = 256 * 1024;  // small, so kills also land near segment rolls
  uint64_t seed = 0;
  uint64_t batches_max = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--data-dir") {
      options.data_dir = value;
    } else if (flag == "--seed") {
      seed = std::strtoull(value, nullptr, 10);
    } else if (flag == "--batches-max") {
      batches_max = std::strtoull(value, nullptr, 10);
    } else if (flag == "--fsync") {
      if (!parse_fsync_mode(value, &options.fsync_mode)) return usage();
    } else {
      return usage();
    }
  }
  if (options.data_dir.empty() || argc % 2 == 0) return usage();

  RecoveredState recovered;
  auto storage = Storage::open(options, &recovered);
  if (!storage.is_ok()) {
    std::fprintf(stderr, "storage_crash_driver: %s\n", storage.status().to_string().c_str());
    return exit_code_for(storage.status());
  }
  uint64_t next[kGroups + 1] = {};
  for (GroupId g = 1; g <= kGroups; ++g) {
    const auto& entries = recovered[g].entries;
    next[g] = entries.empty() ? 1 : entries.back().index + 1;
  }

  std::mt19937_64 rng(seed);
  for (uint64_t b = 0; b < batches_max; ++b) {
    std::vector<std::pair<GroupId, std::vector<mq::raft::Entry>>> writes;
    for (GroupId g = 1; g <= kGroups; ++g) {
      if (rng() % 3 == 0) continue;
      writes.emplace_back(g, testing::make_entries(g, next[g], 1 + rng() % kEntriesPerWriteMax, 1));
    }
    WriteBatch batch;
    for (const auto& [g, entries] : writes) {
      const uint64_t last = entries.back().index;
      batch.push_back(GroupWrite{g, mq::raft::HardState{1, 1, last}, entries});
    }
    if (Status s = storage.value()->append(batch); !s.is_ok()) {
      std::fprintf(stderr, "storage_crash_driver: %s\n", s.to_string().c_str());
      return 1;
    }
    std::string acks;
    for (const auto& [g, entries] : writes) {
      next[g] = entries.back().index + 1;
      acks += "ack " + std::to_string(g) + " " + std::to_string(entries.back().index) + "\n";
    }
    std::fputs(acks.c_str(), stdout);
    std::fflush(stdout);
  }
  return 0;
}
