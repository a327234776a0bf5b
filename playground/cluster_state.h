// The state directory of a local cluster: what `mq cluster up` spawned and
// where, so that every later command (and a restarted node) finds the same
// ports, data dirs and logs.
//
// Layout of DIR:
//   cluster.json   this state (written whole to a temp file, then renamed)
//   lock           flock()ed while a command changes the state
//   n1/            data dir of node n1 (one per node)
//   n1.log         stdout and stderr of node n1 (appended across restarts)
//   prometheus_targets.json  the nodes' HTTP ports as a Prometheus file_sd
//                  target list (prometheus_targets.h)
//
// A pid alone does not identify a node: the kernel reuses pids. Each node
// record keeps the pid's start time (field 22 of /proc/PID/stat), and the
// process must also still run our binary with `node --id ID` (see
// node_process.h) before any signal is sent to it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/tls/tls_files.h"

namespace mq::playground {

struct NodeFaults {
  std::vector<std::string> drop_to;    // node ids this node does not send to
  std::vector<std::string> drop_from;  // node ids whose traffic it ignores
  bool empty() const { return drop_to.empty() && drop_from.empty(); }
};

// A node's HTTP port (REST API, health, /metrics) is its gRPC port plus
// this: 7001 serves gRPC, 8001 HTTP. One rule a person can apply in their
// head, and a second cluster on --base-port 7011 gets 8011.. without
// colliding.
constexpr uint16_t kHttpPortOffset = 1000;

struct NodeRecord {
  std::string id;        // "n1"
  uint16_t port = 0;     // listens on 127.0.0.1:port
  // HTTP listener on 127.0.0.1:http_port; 0 = none. A state written before
  // nodes had one loads with 0, and the launcher gives the node its port
  // (port + kHttpPortOffset) the next time it starts it.
  uint16_t http_port = 0;
  int pid = 0;           // 0 = never started or known to be stopped
  uint64_t start_time_ticks = 0;  // /proc/PID/stat starttime of pid
  std::string data_dir;
  std::string log_path;
  bool paused = false;   // SIGSTOP sent by `mq cluster pause`
  // Started once already: its data dir holds its state, and a restart tells
  // the node it belongs to an existing cluster, so that a data dir emptied
  // meanwhile is refused instead of bootstrapping the cluster again.
  bool bootstrapped = true;
  // Added to the running cluster (mq cluster add): it starts with --join
  // instead of --peers, and is not part of the bootstrap list.
  bool joined = false;
  NodeFaults faults;     // injected with SetFaults, re-applied after a restart

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  std::string http_address() const { return "127.0.0.1:" + std::to_string(http_port); }
};

struct ClusterState {
  std::string name = "local";
  std::string binary;  // absolute path of the mq binary the nodes run
  uint32_t shard_count = 16;
  uint32_t replication = 3;
  std::vector<std::string> node_flags;  // extra `mq node` flags, e.g. --fsync always
  std::vector<NodeRecord> nodes;        // bootstrap nodes in --peers order, then joined ones
  // The --peers list the cluster was bootstrapped with, kept as it was when
  // members leave: it names the cluster (its id) and each bootstrap node's
  // member id by position. Empty in states written before membership
  // changes: then the nodes make it.
  std::string initial_peers;
  // --initial-cluster-token of the bootstrap nodes: random, drawn by up.
  // Empty in states written before: the nodes' cluster id then comes from
  // the flags alone, as it did.
  std::string initial_cluster_token;
  // Started with --tls: the nodes serve and dial TLS only, with the
  // certificates of tls_dir() (local_ca.h), and clients use client.pem.
  bool tls = false;
  // Started with --auth: the nodes run with DIR/auth/auth.json, whose one
  // principal is an admin with every right; its token is DIR/auth/admin.token
  // (0600), which the launcher and the cluster's clients present.
  bool auth = false;
  // Where the state was loaded from or saved to (not in the file).
  std::string dir;

  // DIR/tls: the CA, one certificate per node, and the client's.
  std::string tls_dir() const { return dir + "/tls"; }
  // The files a client of this cluster uses; none when it runs plaintext.
  tls::TlsFiles client_tls_files() const;
  // Their contents, checked; empty when plaintext or unreadable (a client
  // then fails its handshake and says so).
  tls::TlsMaterial client_tls() const;
  std::string auth_dir() const { return dir + "/auth"; }
  // The admin token of a cluster started with --auth; "" otherwise.
  std::string client_token() const;

  NodeRecord* find(const std::string& id);
  const NodeRecord* find(const std::string& id) const;
  // "n1=127.0.0.1:7001,n2=..." in node order: the same list for every node.
  std::string peers() const;
  // Where a joining node asks to be admitted: every other node.
  std::string join_endpoints(const std::string& except_id) const;
  std::vector<std::string> endpoints() const;
  // Replica node ids of a shard under the default placement (DESIGN.md):
  // nodes (s+i) mod N, i = 0..RF-1, RF clamped to N.
  std::vector<std::string> placement(uint32_t shard) const;
};

constexpr const char* kStateFileName = "cluster.json";

// The state directory of cluster `name`: $MQ_HOME/clusters/NAME when MQ_HOME
// is set, else ~/.mq/clusters/NAME.
std::string default_cluster_dir(const std::string& name);

// Cluster names and node ids: letters, digits, '-', '_', '.'; 1..64 bytes.
bool valid_name(const std::string& name);

bool state_exists(const std::string& dir);
// "" on success, else a one-line reason.
std::string load_state(const std::string& dir, ClusterState* out);
std::string save_state(const std::string& dir, const ClusterState& state);

std::string state_to_json(const ClusterState& state);
std::string state_from_json(const std::string& text, ClusterState* out);

// An exclusive lock on DIR/lock held for the object's lifetime, so two
// commands never interleave their read-modify-write of the state file.
class StateLock {
 public:
  // Waits up to timeout_ms; ok() says whether the lock was taken.
  StateLock(const std::string& dir, int timeout_ms);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace mq::playground
