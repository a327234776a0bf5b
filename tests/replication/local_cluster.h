// A cluster of real `mq node` processes on free loopback ports, each with
// its own data dir and its log in a file, for the replication tests.
//
// Every process it starts is stopped by PID when the cluster goes away,
// also when an assertion failed: SIGTERM, a bounded wait, then SIGKILL and
// a reap. When the running test case has failed, the tail of each node's
// log is printed before the data is removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client/client.h"
#include "tests/process/node_process.h"
#include "tests/process/subprocess.h"

namespace mq::test {

struct LocalClusterOptions {
  size_t node_count = 3;
  // False: the single node of the cluster is started without --peers.
  bool with_peers = true;
  std::vector<std::string> node_flags;  // added to every node's command line
  bool http = false;  // every node also serves HTTP (--http-listen) on a port of its own
};

constexpr int kLeadersTimeoutMs = 10'000;
constexpr int kStopTimeoutMs = 5'000;

class LocalCluster {
 public:
  // Picks the ports and starts every node (without waiting for leaders).
  explicit LocalCluster(LocalClusterOptions options = {});
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  size_t size() const { return nodes_.size(); }
  std::string id(size_t node) const { return "n" + std::to_string(node + 1); }
  std::string endpoint(size_t node) const;
  std::vector<std::string> endpoints() const;  // every node's, in order
  uint16_t http_port(size_t node) const { return nodes_.at(node).http_port; }  // 0 without http
  const std::string& data_dir(size_t node) const { return nodes_.at(node).data_dir; }
  // Flags for this node's next starts only (e.g. other timing after a restart).
  void set_node_flags(size_t node, std::vector<std::string> flags) {
    nodes_.at(node).extra_flags = std::move(flags);
  }
  std::string peers_flag() const;  // n1=127.0.0.1:P1,n2=...
  // The node's index for an id such as "n2".
  size_t index_of(const std::string& node_id) const;

  // Starts the node again on its port with its data dir and the cluster's flags.
  void start(size_t node);
  // SIGKILL and reap: a crash.
  void kill(size_t node);
  // SIGSTOP / SIGCONT: a process that stops being scheduled and comes back
  // (a long GC pause, a stalled VM) with its sockets open.
  void pause(size_t node);
  void resume(size_t node);
  // SIGKILL to every node before reaping any: a whole-cluster power cut.
  void kill_all();
  // SIGTERM and a bounded wait (SIGKILL after it); the exit status of the
  // graceful stop, nullopt when it had to be killed.
  std::optional<int> stop(size_t node);
  bool running(size_t node);

  // The node's Status through the client library, nullopt if it did not answer.
  std::optional<cli::ClusterStatus> status(size_t node, int timeout_ms = 1000);

  // Polls until every shard has a leader that every running replica of the
  // shard agrees on; false after timeout_ms.
  bool wait_for_leaders(int timeout_ms = kLeadersTimeoutMs);
  // wait_for_leaders, and then until every shard is led by its preferred
  // node (shard s by node s mod N): after a restart, leadership moves back
  // to the restarted node a few seconds later, changing terms, and a test
  // that watches terms must start after that.
  bool wait_for_preferred_leaders(int timeout_ms = 3 * kLeadersTimeoutMs);
  // Shard -> index of its leader, when every running node agrees right now.
  std::optional<std::map<uint32_t, size_t>> leaders();

  // A client of the given nodes (every node when empty).
  std::unique_ptr<cli::Client> client(std::vector<size_t> nodes = {}, int timeout_ms = 5000) const;

  std::string log_tail(size_t node, size_t lines_max = 80) const;

 private:
  struct Node {
    uint16_t port = 0;
    uint16_t http_port = 0;
    std::string data_dir;
    std::string log_path;
    std::unique_ptr<Subprocess> process;
    bool started_once = false;  // later starts join the existing cluster
    std::vector<std::string> extra_flags;  // this node's own, after the common ones
  };

  LocalClusterOptions options_;
  TempDir dir_;
  std::vector<Node> nodes_;
};

// The n-th user id (n = 0, 1, ...) of the form "<prefix><i>" that maps to shard.
std::string user_in_shard(uint32_t shard, uint32_t shard_count, size_t n,
                          const std::string& prefix = "user");

}  // namespace mq::test
