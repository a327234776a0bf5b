// A local cluster of real `mq node` processes for one test, in a fresh
// temporary state directory on free loopback ports. The destructor runs
// `mq cluster down --purge` and then, whatever that did, SIGKILLs every
// recorded pid that is still one of this cluster's nodes, so a failed
// assertion never leaves a process behind.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mq::test {

struct Run {
  int exit_code = -1;  // -1: did not finish within the timeout (killed)
  std::string out, err;
  nlohmann::json json() const;  // stdout parsed; null when it is not JSON
};

// Runs `mq ARGS...` to completion, bounded by timeout_ms.
Run mq(const std::vector<std::string>& args, int timeout_ms = 30'000);
// The same with `input` as its stdin (a file, so not a terminal).
Run mq_with_stdin(const std::vector<std::string>& args, const std::string& input,
                  int timeout_ms = 30'000);

// n consecutive ports on 127.0.0.1 that nobody listens on now, and the n
// ports 1000 above them (the nodes' HTTP ports), all within
// [kPortRunFirst, kPortRunLast]: below the kernel's ephemeral ports.
constexpr int kPortRunFirst = 20000;
constexpr int kPortRunLast = 32000;
uint16_t free_port_run(int n);

class TestCluster {
 public:
  explicit TestCluster(int nodes = 3, uint32_t shards = 8);
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // `mq cluster VERB ARGS... --dir DIR`.
  Run cluster(const std::string& verb, std::vector<std::string> args = {}, int timeout_ms = 30'000);
  // `mq cluster status -o json`, parsed.
  nlohmann::json status();
  // Polls status until pred holds (bounded); the last status either way.
  template <typename Pred>
  nlohmann::json status_until(Pred pred, int timeout_ms = 10'000);

  const std::string& dir() const { return dir_; }
  uint16_t base_port() const { return base_port_; }
  int nodes() const { return nodes_; }
  uint32_t shards() const { return shards_; }
  // The pids recorded in the state file.
  std::vector<int> recorded_pids() const;

 private:
  void kill_leftovers();
  std::string root_;
  std::string dir_;
  uint16_t base_port_ = 0;
  int nodes_;
  uint32_t shards_;
};

// True when pid runs (not a zombie) and its command line holds needle.
bool process_runs_with(int pid, const std::string& needle);

bool wait_ms_until(const std::function<bool()>& pred, int timeout_ms);

template <typename Pred>
nlohmann::json TestCluster::status_until(Pred pred, int timeout_ms) {
  nlohmann::json s;
  wait_ms_until([&] {
    s = status();
    return !s.is_null() && pred(s);
  }, timeout_ms);
  return s;
}

}  // namespace mq::test
