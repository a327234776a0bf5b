// The operations of `mq cluster` on a state directory: bring a cluster up,
// start, stop, signal and restart its nodes, inject and heal faults, tear
// it down. The command line (cli/cmd_cluster*.cc) parses and renders; the
// demo and the tests call these directly.
//
// Every operation that changes the state holds the directory's StateLock
// for its read-modify-write, and every signal goes through signal_node(),
// which checks that the pid is still our node.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "playground/cluster_state.h"
#include "playground/cluster_view.h"

namespace mq::playground {

// Exit codes of `mq cluster` and `mq demo`, documented in their --help.
enum ClusterExit : int {
  kClusterOk = 0,
  kClusterNotFound = 1,     // no cluster in the directory, or no such node
  kClusterUsage = 2,        // bad arguments
  kClusterUnavailable = 3,  // a node did not answer, or shards stayed without a leader
  kClusterCannotStart = 5,  // a port is in use, or a node exited at start
};

struct Outcome {
  int exit_code = kClusterOk;
  std::string message;  // one line for stderr when not ok; a note when ok
  bool ok() const { return exit_code == kClusterOk; }
};

struct UpOptions {
  std::string name = "local";
  std::string dir;  // "" = default_cluster_dir(name)
  int nodes = 3;
  uint32_t shards = 16;
  uint32_t replication = 3;
  // Given on the command line (or by MQ_*): an existing cluster with other
  // settings is then refused instead of reused.
  bool nodes_given = false;
  bool shards_given = false;
  bool replication_given = false;
  uint16_t base_port = 7001;
  int wait_ms = 10'000;  // for every shard to have a leader
  std::vector<std::string> node_flags;
  // TLS everywhere: a CA of the cluster's own and a certificate per node
  // and for the client, in DIR/tls (local_ca.h); mutual, for clients too.
  bool tls = false;
  // Authorization: DIR/auth/auth.json with one admin principal; its token
  // in DIR/auth/admin.token.
  bool auth = false;
};

// Called while waiting: shards with a leader so far, shards in all.
using ProgressFn = std::function<void(uint32_t led, uint32_t total)>;

struct UpResult {
  bool already_running = false;      // every node was up before the call
  std::vector<std::string> started;  // ids of the nodes this call spawned
  int64_t all_led_ms = 0;            // from the first spawn to every shard led
  ClusterView view;
};

// Creates the state directory (or reuses it: a state already there wins
// over options, with the recorded ports, so restarted nodes keep them),
// checks every port it is about to use, spawns what is not running and
// waits until every shard has a leader.
Outcome cluster_up(const UpOptions& options, const ProgressFn& progress, ClusterState* state,
                   UpResult* result);

// Loads the state of DIR; kClusterNotFound when there is none.
Outcome open_cluster(const std::string& dir, ClusterState* state);

// Waits (bounded) until every shard has a leader; view gets the last look.
bool wait_all_led(const ClusterState& state, int timeout_ms, const ProgressFn& progress,
                  ClusterView* view);

// Resolves "leader" (of shard) or a node id to a node id.
Outcome resolve_node(const ClusterState& state, const std::string& name, uint32_t shard,
                     std::string* id);

// Each of these locks DIR, acts on one node and saves the state.
Outcome start_node(const std::string& dir, const std::string& id, int ready_timeout_ms);
Outcome stop_one(const std::string& dir, const std::string& id);
Outcome kill_node(const std::string& dir, const std::string& id, int sig);
Outcome restart_node(const std::string& dir, const std::string& id, int ready_timeout_ms);
Outcome pause_node(const std::string& dir, const std::string& id);
Outcome resume_node(const std::string& dir, const std::string& id);

// Faults: the plan is recorded in the state, then installed on every
// running node with SetFaults (nodes down get theirs when started).
Outcome partition(const std::string& dir, const std::string& side_a, const std::string& side_b);
Outcome cut_link(const std::string& dir, const std::string& from, const std::string& to);
Outcome isolate(const std::string& dir, const std::string& id);
Outcome heal(const std::string& dir);
Outcome transfer_leader(const std::string& dir, uint32_t shard, const std::string& to_node);

// Membership of a local cluster. add spawns `count` new nodes (n4, n5, ...
// on the next ports) that join the running cluster, then waits until the
// replicas have moved to match the new placement. remove takes a member
// out of the cluster, waits until it holds no replica, then stops it and
// deletes its data dir (its log stays). Both wait at most wait_ms.
struct MembershipResult {
  std::vector<std::string> nodes;  // added, or the one removed
  int64_t balanced_ms = 0;         // from the change to no move in flight
  ClusterView view;
};
Outcome cluster_add(const std::string& dir, int count, int wait_ms, MembershipResult* result);
Outcome cluster_remove(const std::string& dir, const std::string& id, bool force, int wait_ms,
                       MembershipResult* result);
// Until every running node answers with the same cluster map, every shard
// has a leader and no replica is moving; false at the deadline.
bool wait_balanced(const ClusterState& state, int wait_ms, std::string* why);

// TERM every node, KILL what still runs after term_timeout_ms, wait for
// every one to be gone; purge deletes the directory afterwards. stopped
// gets the ids of nodes that were running; found says whether a cluster was
// there at all (none is not an error: there is nothing to stop).
Outcome cluster_down(const std::string& dir, bool purge, int term_timeout_ms,
                     std::vector<std::string>* stopped, bool* found);

}  // namespace mq::playground
