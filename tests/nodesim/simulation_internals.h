// The node simulator's internals, shared by its two files: the simulated
// machines, network and faults (node_simulation.cc) and the clients and
// checks (sim_clients.cc). Not an interface: only node_simulation.h is.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "node/kv/shard_hash.h"
#include "node/raft/prng.h"
#include "node/storage/memory_file_system.h"
#include "playground/lincheck.h"
#include "tests/nodesim/node_simulation.h"
#include "tests/nodesim/sim_disk.h"

namespace mq::nodesim::internal {

using server::NodeHost;
using server::NodeTime;
using server::Outcome;
namespace lc = mq::lincheck;

constexpr int kClients = 4;
constexpr int kKeys = 4;
constexpr int kTickMs = 10;
constexpr int kElectionTicks = 20;
constexpr int kSlowElectionTicks = 60;  // a restart "with other flags"
constexpr int64_t kClientDeadlineUs = 400'000;
// Some readers give up much sooner, and so move on to another node while a
// cut-off leader still believes it leads.
constexpr int64_t kImpatientDeadlineUs = 60'000;
constexpr int kRedirectsMax = 8;
// Nodes beyond the first ones, started only when an operator adds them.
constexpr int kSpareNodes = 2;
const char* const kDataDir = "/data";
// unconverged(): a member can never come back, so the cluster cannot settle.
const char* const kUncheckable = "uncheckable";

// Thrown through the host when the node stops: its halt() (storage failed)
// or a power loss in the middle of a sync. The host is then discarded.
struct NodeStopped {
  int exit_code;
  std::string why;
};

struct Event {
  int64_t at_us;
  uint64_t seq;
  std::function<void()> fn;
  bool operator>(const Event& o) const { return std::tie(at_us, seq) > std::tie(o.at_us, o.seq); }
};

class Simulation;

// One simulated machine: its disk outlives the node process on it.
struct SimNode {
  int index = 0;
  raft::NodeId raft_id = raft::kNoNode;  // kNoNode: a spare not admitted yet
  std::string id;
  // A spare admitted by a membership change: it boots into the topology it
  // was admitted with, and restarts from its data dir.
  bool joined = false;
  server::Topology join_topology;
  std::unique_ptr<storage::MemoryFileSystem> fs = std::make_unique<storage::MemoryFileSystem>();
  std::unique_ptr<SimDisk> disk;
  std::unique_ptr<server::PeerSender> peers;
  std::unique_ptr<NodeHost> host;  // null while down
  bool refused_forever = false;    // its data dir was wiped and it was refused
  int incarnation = 0;
  int election_ticks = kElectionTicks;
  // The node's clock: local = local_base + (global - global_base) * rate.
  double rate = 1.0;
  int64_t local_base_us = 0;
  int64_t global_base_us = 0;
  int64_t busy_us = 0;        // time spent inside the current iteration
  int64_t busy_until_us = 0;  // the loop cannot start again before this
  int64_t iteration_at_us = -1;
  std::vector<std::function<void()>> inbox;
  std::map<raft::NodeId, int64_t> last_heard_us;
  bool slow_disk = false;
};

struct Client {
  int id = 0;
  bool busy = false;
  uint64_t op = 0;        // history index of the current operation
  uint64_t attempt = 0;   // replies of older attempts are ignored
  int redirects = 0;
  int64_t deadline_us = 0;
  bool stale_read = false;
  std::map<uint32_t, int> leader_of_shard;  // node index last known to lead
  int target = 0;                           // of the current attempt
  std::map<int, int64_t> avoid_until_us;    // nodes that timed out, as a client rotates endpoints
  bool wrote_after_heal = false;
  bool read_after_heal = false;
};

class Simulation {
 public:
  explicit Simulation(const NodeSimOptions& o) : opt_(o), prng_(o.seed) {}
  NodeSimResult run();

  // Called by the nodes' env and sender (simulation-internal).
  int64_t local_now_us(const SimNode& n) const {
    const int64_t g = now_ + n.busy_us;
    return n.local_base_us + static_cast<int64_t>(static_cast<double>(g - n.global_base_us) * n.rate);
  }
  void send_batch(SimNode& from, raft::NodeId to, peer::PeerBatch&& batch);
  bool recently_heard(const SimNode& n, raft::NodeId peer, int64_t within_ms) const {
    auto it = n.last_heard_us.find(peer);
    return it != n.last_heard_us.end() && now_ - it->second <= within_ms * 1000;
  }
  // Each sync: its cost in time, and the faults armed on this node's disk.
  storage::Status on_sync(SimNode& n);

 private:
  void at(int64_t at_us, std::function<void()> fn) { events_.push({at_us, seq_++, std::move(fn)}); }
  void log(const std::string& line);
  void violation(const std::string& what);

  std::string peers_flag() const;
  void boot(SimNode& n, std::string initial_cluster_state);
  void stop(SimNode& n, const std::string& why, bool power_loss);
  void wake(SimNode& n, int64_t at_us);
  void run_iteration(SimNode& n, int incarnation);
  template <typename Fn>
  bool guarded(SimNode& n, Fn&& fn);
  void after_iteration(SimNode& n);

  void inject_fault();
  void change_membership();
  void admit_spares(const server::ClusterMap& map);
  void admit_after_heal();
  void join(SimNode& s);
  void start_joined(SimNode& s, raft::NodeId id, const server::ClusterMap& map);
  int index_of(raft::NodeId id) const;
  int meta_leader() const;
  void heal();
  void schedule_restart(SimNode& n, bool wipe, bool retime);
  void set_partition();

  void client_start(Client& c);
  void begin(Client& c, lc::Operation o, int64_t deadline_us);
  void client_send(Client& c);
  void client_deliver(int client, uint64_t attempt, int node_index, uint64_t op);
  void client_reply(int client, uint64_t attempt, const Outcome& outcome, bool found,
                    const std::string& value);
  void client_timeout(int client);
  void finish(Client& c, lc::Outcome outcome);
  void final_reads();
  void after_finals();
  void check_convergence();
  std::string unconverged() const;
  void check_end();
  void dump_groups();

  static std::string user_of(const std::string& key) { return "user-" + key; }
  uint32_t shard_of_key(const std::string& key) const {
    return kv::shard_of(user_of(key), opt_.shards);
  }

  NodeSimOptions opt_;
  raft::Prng prng_;
  NodeSimResult result_;
  int64_t now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<Client> clients_;
  std::vector<lc::Operation> history_;
  std::vector<int> history_client_;
  std::set<std::string> written_values_;
  std::map<std::pair<uint32_t, uint64_t>, int> leader_of_term_;  // (shard, term) -> node
  // network
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  uint32_t drop_per_million_ = 0;
  uint32_t dup_per_million_ = 0;
  bool faults_on_ = true;
  bool booting_ = false;
  bool wiped_one_ = false;
  int removals_ = 0;
  bool finals_started_ = false;
  size_t finals_left_ = 0;
  int64_t heal_us_ = 0;
  int64_t convergence_deadline_us_ = 0;
  bool converged_ = false;
  bool convergence_done_ = false;
};

}  // namespace mq::nodesim::internal
