// kill -9 a process that writes through the real WAL, at seeded random
// moments, and require every index it acknowledged after the restart.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "node/storage/storage.h"
#include "tests/storage/test_util.h"

namespace mq::storage {
namespace {

struct Run {
  std::map<GroupId, uint64_t> acked;  // highest acknowledged index per group
  int exit_status = 0;
};

// Runs the driver for run_ms, then SIGKILLs it; collects every complete ack line.
Run run_and_kill(const std::string& data_dir, uint64_t seed, const char* fsync, int run_ms) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    const std::string seed_text = std::to_string(seed);
    ::execl(MQ_CRASH_DRIVER_PATH, "storage_crash_driver", "--data-dir", data_dir.c_str(), "--seed",
            seed_text.c_str(), "--fsync", fsync, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
  bool killed = false;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    const int wait_ms =
        killed ? 1000 : static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    pollfd p{out[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, std::max(wait_ms, 0));
    if (ready <= 0) {
      if (killed) break;  // a killed child's pipe closes at once; this is a bound
      continue;
    }
    const ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;  // EOF: the child is gone and everything it printed is read
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  if (!killed) ::kill(pid, SIGKILL);
  Run run;
  ::waitpid(pid, &run.exit_status, 0);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: the line was cut by the kill
    std::istringstream fields(line);
    std::string word;
    GroupId group = 0;
    uint64_t index = 0;
    fields >> word >> group >> index;
    REQUIRE(word == "ack");
    run.acked[group] = std::max(run.acked[group], index);
  }
  return run;
}

}  // namespace

TEST_CASE("kill -9 at random moments never loses an acknowledged write", "[storage][process]") {
  namespace fsys = std::filesystem;
  const fsys::path dir = fsys::temp_directory_path() / ("mq-crash-test-" + std::to_string(::getpid()));
  fsys::remove_all(dir);
  constexpr int kTrials = 8;
  std::mt19937_64 rng(20240601);
  std::map<GroupId, uint64_t> acked_ever;
  uint64_t total_acks = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const int run_ms = 30 + static_cast<int>(rng() % 300);
    const char* fsync = trial % 3 == 2 ? "always" : "batch";
    INFO("trial " << trial << " ran " << run_ms << " ms, fsync " << fsync);
    Run run = run_and_kill(dir.string(), rng(), fsync, run_ms);
    REQUIRE(WIFSIGNALED(run.exit_status));
    CHECK(WTERMSIG(run.exit_status) == SIGKILL);
    for (const auto& [g, index] : run.acked) {
      total_acks += index > acked_ever[g] ? index - acked_ever[g] : 0;
      acked_ever[g] = std::max(acked_ever[g], index);
    }

    StorageOptions o;
    o.data_dir = dir.string();
    o.node_id = "crash-driver";
    o.cluster_id = "crash-test";
    o.log = [](const std::string&) {};
    RecoveredState rec;
    auto st = Storage::open(o, &rec);
    INFO(st.status().to_string());
    REQUIRE(st.is_ok());
    for (const auto& [g, last] : acked_ever) {
      INFO("group " << g << " acknowledged through " << last);
      const auto& entries = rec[g].entries;
      REQUIRE(entries.size() >= last);
      for (uint64_t i = 1; i <= last; ++i) {
        REQUIRE(entries[i - 1].index == i);
        REQUIRE(entries[i - 1].data == testing::payload(g, i, 1));
      }
      CHECK(rec[g].hard_state.commit >= last);
    }
  }
  CHECK(total_acks > 0);
  WARN("acknowledged entries across all runs: " << total_acks);
  fsys::remove_all(dir);
}

}  // namespace mq::storage
