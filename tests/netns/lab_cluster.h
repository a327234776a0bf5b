// An mq cluster across the lab's namespaces: node nK at 10.213.S.K:7000
// (S: the cluster's subnet, so clusters of successive tests never share an
// address), each started with `ip netns exec` in its namespace, TLS on for
// clients and peers (a CA of the cluster's own; each node's certificate
// names its id, its address and its host name), and its data and log in
// a temporary directory. Nodes are stopped by their PID.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/tls/tls_files.h"
#include "tests/netns/net_lab.h"
#include "tests/process/node_process.h"
#include "tests/process/subprocess.h"

namespace mq::netns {

struct LabClusterOptions {
  int subnet = 1;       // the S of 10.213.S.K
  int nodes = 3;
  uint32_t shards = 8;
  uint32_t replication = 3;
  // Peers named by host name (nK.mq.test, resolved through each node's
  // hosts file) instead of by IP.
  bool peers_by_name = false;
};

class LabCluster {
 public:
  LabCluster(NetLab* lab, LabClusterOptions options);
  ~LabCluster();  // stops every node, removes its namespace and the data
  LabCluster(const LabCluster&) = delete;
  LabCluster& operator=(const LabCluster&) = delete;

  const std::vector<std::string>& ids() const { return ids_; }
  std::string ip(const std::string& id) const { return ips_.at(id); }
  std::string host_name(const std::string& id) const { return id + ".mq.test"; }
  // What clients dial: every node's IP:port.
  std::vector<std::string> endpoints() const;
  const tls::TlsMaterial& client_tls() const { return client_tls_; }

  void start(const std::string& id);
  // SIGTERM, then SIGKILL if it has not exited within 10 s.
  void stop(const std::string& id);
  // Moves the node to a new address and points every hosts file at it
  // (peers_by_name clusters): a host that comes back with a new IP.
  void readdress(const std::string& id, const std::string& new_ip);

  // Polls until every shard has a leader, as seen from the nodes; false
  // after timeout_ms.
  bool wait_all_led(int timeout_ms);
  // The shard's leader as the first answering node that holds it sees it;
  // "" if none.
  std::string leader_of(uint32_t shard);
  // Every shard that has a leader, by the running nodes' reports.
  std::map<uint32_t, std::string> leaders();
  // The last lines of every node's log, for a failure message.
  std::string logs_tail() const;

 private:
  std::vector<std::string> node_args(const std::string& id) const;
  void write_hosts();

  NetLab* lab_;
  LabClusterOptions options_;
  test::TempDir dir_;  // the nodes' data dirs and logs, the TLS files
  std::vector<std::string> ids_;
  std::map<std::string, std::string> ips_;
  std::map<std::string, std::unique_ptr<test::Subprocess>> processes_;
  tls::TlsMaterial client_tls_;
};

}  // namespace mq::netns
