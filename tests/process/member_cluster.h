// Real `mq node` processes for the membership tests: a cluster bootstrapped
// from --peers, nodes that --join it later, and addresses nothing serves.
//
// A member's address is given before its node runs (mq member add), so its
// port is chosen up front: from a block of 15000-15999, which no other test
// uses (they take ports the kernel picks, 32768 and up, or 20000-32000),
// checked free when the block is picked. Every node is a NodeProcess: it is
// stopped by its PID (SIGTERM, then SIGKILL and a reap) when the cluster
// goes away, whatever the test did; when the test case failed, the last
// lines of each node's log are printed first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "node_process.h"

namespace mq::test {

struct MemberClusterOptions {
  size_t nodes = 3;
  uint32_t shards = 8;
  bool member_changes = true;  // --enable-member-changes on every node
  size_t spare_ports = 2;      // for nodes that join later, or addresses nobody serves
};

class MemberCluster {
 public:
  // Picks the ports and starts the bootstrap nodes n1..nN (without waiting).
  explicit MemberCluster(MemberClusterOptions options = {});
  ~MemberCluster();
  MemberCluster(const MemberCluster&) = delete;
  MemberCluster& operator=(const MemberCluster&) = delete;

  size_t size() const { return nodes_.size(); }
  std::string endpoint(size_t node) const;  // of n<node+1>
  std::string spare_address(size_t k) const;
  NodeProcess& node(size_t i) { return *nodes_.at(i); }
  // Stops n<i+1> if it runs, then starts it again with the same flags and
  // data dir (without waiting).
  NodeProcess& restart(size_t i);

  // Every node answers and every shard it holds has a leader; false after
  // timeout_ms (bounded polling).
  bool wait_ready(int timeout_ms = 20'000);

  // Starts `mq node --id NAME --listen <spare k> --join <n1> ...` with the
  // cluster's member-change flag; does not wait.
  NodeProcess& start_joiner(const std::string& name, size_t spare,
                            const std::vector<std::string>& extra_flags = {});
  // Stops the joiner `name` and starts it again on its data dir with the
  // same flags and `extra_flags` (without waiting).
  NodeProcess& restart_joiner(const std::string& name, size_t spare,
                              const std::vector<std::string>& extra_flags);

  // `mq ARGS... --endpoints <n1>`.
  RunResult mq(std::vector<std::string> args) const { return mq_at(0, std::move(args)); }
  // `mq ARGS... --endpoints <node's>`.
  RunResult mq_at(size_t node, std::vector<std::string> args) const;

  // The last lines of every node's log.
  std::string logs() const;

 private:
  MemberClusterOptions options_;
  TempDir dir_;
  uint16_t base_port_ = 0;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::vector<std::vector<std::string>> flags_;  // of each of nodes_
  std::vector<std::unique_ptr<NodeProcess>> joiners_;
  std::vector<std::string> joiner_names_;  // of each of joiners_
};

// The first port of `count` consecutive free loopback ports in the block
// the membership tests use.
uint16_t reserve_member_ports(size_t count);

}  // namespace mq::test
