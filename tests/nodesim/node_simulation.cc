#include "tests/nodesim/node_simulation.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>

#include "node/kv/shard_hash.h"
#include "node/raft/prng.h"
#include "node/server/exit_codes.h"
#include "node/storage/memory_file_system.h"
#include "playground/lincheck.h"
#include "tests/nodesim/sim_disk.h"

namespace mq::nodesim {
namespace {

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
// Some callers give up much sooner, and so move on to another node while a
// cut-off leader still believes it leads.
constexpr int64_t kImpatientDeadlineUs = 60'000;
constexpr int kRedirectsMax = 8;
const char* const kDataDir = "/data";

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
  raft::NodeId raft_id = raft::kNoNode;
  std::string id;
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
  void boot(SimNode& n, const std::string& initial_cluster_state);
  void stop(SimNode& n, const std::string& why, bool power_loss);
  void wake(SimNode& n, int64_t at_us);
  void run_iteration(SimNode& n, int incarnation);
  template <typename Fn>
  bool guarded(SimNode& n, Fn&& fn);
  void after_iteration(SimNode& n);

  void inject_fault();
  void heal();
  void schedule_restart(SimNode& n, bool wipe, bool retime);
  void set_partition();

  void client_start(Client& c);
  void begin(Client& c, lc::Operation o, int64_t deadline_us);
  void client_send(Client& c);
  void client_deliver(int client, uint64_t attempt, int node_index, uint64_t op);
  void client_reply(int client, uint64_t attempt, const Outcome& outcome, bool found,
                    const std::string& value);
  void client_timeout(int client, uint64_t attempt);
  void finish(Client& c, lc::Outcome outcome);
  void final_reads();
  void check_end();

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
  bool finals_started_ = false;
  size_t finals_left_ = 0;
  int64_t heal_us_ = 0;
};

// ---- the environment each node sees ----------------------------------------

class SimPeers final : public server::PeerSender {
 public:
  SimPeers(Simulation* sim, SimNode* node) : sim_(sim), node_(node) {}
  void send(raft::NodeId to, peer::PeerBatch&& batch) override {
    sim_->send_batch(*node_, to, std::move(batch));
  }
  bool recently_heard(raft::NodeId peer, int64_t within_ms) const override {
    return sim_->recently_heard(*node_, peer, within_ms);
  }

 private:
  Simulation* sim_;
  SimNode* node_;
};

void Simulation::log(const std::string& line) {
  if (!opt_.trace) return;
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "%9.3f ", static_cast<double>(now_) / 1000.0);
  if (opt_.stream_trace) {
    std::printf("%s%s\n", prefix, line.c_str());
  } else {
    result_.trace.push_back(prefix + line);
  }
}

void Simulation::violation(const std::string& what) {
  result_.ok = false;
  result_.violations.push_back(what);
  log("VIOLATION: " + what);
}

std::string Simulation::peers_flag() const {
  std::string out;
  for (int i = 0; i < opt_.nodes; ++i) {
    if (!out.empty()) out += ",";
    out += "n" + std::to_string(i + 1) + "=127.0.0.1:" + std::to_string(7001 + i);
  }
  return out;
}

storage::Status Simulation::on_sync(SimNode& n) {
  n.busy_us += 50 + static_cast<int64_t>(prng_.uniform(250));
  if (n.slow_disk) n.busy_us += 2'000 + static_cast<int64_t>(prng_.uniform(40'000));
  // Not while a node opens its data dir: a node that cannot start is the
  // storage tests' business, and it would only stay down here.
  if (faults_on_ && !booting_ && prng_.chance(400)) {
    log(n.id + ": power lost during a sync");
    throw NodeStopped{-1, "power loss"};
  }
  if (faults_on_ && !booting_ && prng_.chance(200)) {
    log(n.id + ": a sync fails");
    return storage::Status(storage::StatusCode::kIoError, "simulated fsync failure");
  }
  return storage::Status();
}

// ---- nodes ---------------------------------------------------------------------

void Simulation::boot(SimNode& n, const std::string& initial_cluster_state) {
  ++n.incarnation;
  server::NodeHostOptions ho;
  std::string error, note;
  ho.topology = *server::make_topology(peers_flag(), n.id, "127.0.0.1:" + std::to_string(7001 + n.index),
                                       opt_.shards, 3, &error, &note);
  ho.data_dir = kDataDir;
  ho.initial_cluster_state = initial_cluster_state;
  ho.tick_ms = kTickMs;
  ho.election_ticks = n.election_ticks;
  ho.heartbeat_ticks = 5;
  ho.snapshot_every_entries = 40;
  ho.log_tail_entries = 10;
  ho.mutations = opt_.mutations;
  n.disk = std::make_unique<SimDisk>(n.fs.get(), [this, &n] { return on_sync(n); });
  n.peers = std::make_unique<SimPeers>(this, &n);
  server::NodeEnv env;
  env.now = [this, &n] { return NodeTime(std::chrono::microseconds(local_now_us(n))); };
  env.peers = n.peers.get();
  env.fs = n.disk.get();
  env.log = [this, &n](server::LogLevel, std::string_view m) { log(n.id + ": " + std::string(m)); };
  env.halt = [](int code, const std::string& why) { throw NodeStopped{code, why}; };
  env.sleep = [&n](std::chrono::milliseconds d) { n.busy_us += d.count() * 1000; };
  env.seed = (opt_.seed * 1'000'003 + static_cast<uint64_t>(n.index)) * 7919 +
             static_cast<uint64_t>(n.incarnation) * 0x9E3779B97F4A7C15ULL;
  int exit_code = 0;
  n.busy_us = 0;
  booting_ = true;
  n.host = NodeHost::open(ho, std::move(env), &error, &exit_code);
  booting_ = false;
  if (!n.host) {
    log(n.id + ": refused to start (exit " + std::to_string(exit_code) + "): " + error);
    if (exit_code == server::kNodeExitDataLost) {
      ++result_.wipes_refused;
      n.refused_forever = true;
    } else {
      violation(n.id + " could not start: " + error);
    }
    return;
  }
  log(n.id + ": up (incarnation " + std::to_string(n.incarnation) + ", election ticks " +
      std::to_string(n.election_ticks) + ")");
  n.busy_until_us = now_ + n.busy_us;
  n.busy_us = 0;
  n.iteration_at_us = -1;
  if (guarded(n, [&] { n.host->start(); })) wake(n, now_);
}

void Simulation::stop(SimNode& n, const std::string& why, bool power_loss) {
  if (!n.host) return;
  log(n.id + ": down (" + why + ")");
  ++result_.crashes;
  n.host.reset();
  n.inbox.clear();
  n.iteration_at_us = -1;
  n.busy_us = 0;
  n.last_heard_us.clear();
  // Whatever was not synced may be gone, in any part.
  if (power_loss) n.fs->crash_losing_pages(prng_.next());
}

void Simulation::wake(SimNode& n, int64_t at_us) {
  if (!n.host) return;
  at_us = std::max(at_us, n.busy_until_us);
  if (n.iteration_at_us >= 0 && n.iteration_at_us <= at_us) return;
  n.iteration_at_us = at_us;
  const int incarnation = n.incarnation;
  at(at_us, [this, &n, incarnation, at_us] {
    if (n.incarnation != incarnation || n.iteration_at_us != at_us) return;
    run_iteration(n, incarnation);
  });
}

template <typename Fn>
bool Simulation::guarded(SimNode& n, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const NodeStopped& s) {
    n.busy_us = 0;
    stop(n, s.why, s.exit_code < 0);
    if (faults_on_) schedule_restart(n, false, false);
    return false;
  }
}

void Simulation::run_iteration(SimNode& n, int incarnation) {
  n.iteration_at_us = -1;
  n.busy_us = 0;
  std::vector<std::function<void()>> work;
  work.swap(n.inbox);
  const bool ran = guarded(n, [&] {
    for (auto& fn : work) fn();
    n.host->run_iteration();
  });
  if (!ran || n.incarnation != incarnation) return;
  after_iteration(n);
}

void Simulation::after_iteration(SimNode& n) {
  n.busy_until_us = now_ + n.busy_us;
  n.busy_us = 0;
  // Election safety, from the omniscient view.
  for (uint32_t s = 0; s < opt_.shards; ++s) {
    const server::ShardGroup* g = n.host->group(s);
    if (!g || g->role != raft::Role::kLeader) continue;
    auto [it, inserted] = leader_of_term_.emplace(std::make_pair(s, g->term), n.index);
    if (!inserted && it->second != n.index) {
      violation("two leaders of shard " + std::to_string(s) + " in term " + std::to_string(g->term) +
                ": n" + std::to_string(it->second + 1) + " and " + n.id);
    }
  }
  // Next iteration: the next tick, converted from the node's clock.
  const int64_t local_next =
      std::chrono::duration_cast<std::chrono::microseconds>(n.host->next_tick().time_since_epoch()).count();
  const int64_t global_next =
      n.global_base_us + static_cast<int64_t>(static_cast<double>(local_next - n.local_base_us) / n.rate) + 1;
  wake(n, std::max(global_next, now_));
  if (!n.inbox.empty()) wake(n, now_);
}

// ---- network -------------------------------------------------------------------

void Simulation::send_batch(SimNode& from, raft::NodeId to, peer::PeerBatch&& batch) {
  const int to_index = static_cast<int>(to) - 1;
  const int64_t sent_at = now_ + from.busy_us;
  ++result_.messages;
  if (blocked_[from.index][to_index] || prng_.chance(drop_per_million_)) return;
  const int copies = prng_.chance(dup_per_million_) ? 2 : 1;
  auto shared = std::make_shared<peer::PeerBatch>(std::move(batch));
  for (int i = 0; i < copies; ++i) {
    int64_t delay = 100 + static_cast<int64_t>(prng_.uniform(900));
    if (faults_on_ && prng_.chance(20'000)) delay += static_cast<int64_t>(prng_.uniform(200'000));
    const raft::NodeId from_id = from.raft_id;
    at(sent_at + delay, [this, to_index, from_id, shared] {
      SimNode& n = *nodes_[to_index];
      if (!n.host || blocked_[from_id - 1][to_index]) return;
      n.last_heard_us[from_id] = now_;
      n.inbox.push_back([&n, from_id, shared] { n.host->on_peer_batch(from_id, *shared); });
      wake(n, now_ + static_cast<int64_t>(prng_.uniform(100)));
    });
  }
}

void Simulation::set_partition() {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  const int kind = static_cast<int>(prng_.uniform(4));
  int victim = static_cast<int>(prng_.uniform(opt_.nodes));
  // Half the time, cut off a node that leads something: the case the read
  // lease must survive.
  if (prng_.chance(500'000)) {
    for (auto& np : nodes_) {
      for (uint32_t s = 0; np->host && s < opt_.shards; ++s) {
        const server::ShardGroup* g = np->host->group(s);
        if (g && g->role == raft::Role::kLeader) victim = np->index;
      }
    }
  }
  if (kind == 0) {  // isolate one node
    for (int i = 0; i < opt_.nodes; ++i) {
      if (i != victim) blocked_[victim][i] = blocked_[i][victim] = true;
    }
    log("partition: n" + std::to_string(victim + 1) + " isolated");
  } else if (kind == 1) {  // split into two sides
    std::vector<int> side(opt_.nodes);
    for (int i = 0; i < opt_.nodes; ++i) side[i] = static_cast<int>(prng_.uniform(2));
    for (int i = 0; i < opt_.nodes; ++i) {
      for (int j = 0; j < opt_.nodes; ++j) blocked_[i][j] = side[i] != side[j];
    }
    log("partition: split");
  } else if (kind == 2) {  // one way: the victim hears nobody, everyone hears it
    for (int i = 0; i < opt_.nodes; ++i) {
      if (i != victim) blocked_[i][victim] = true;
    }
    log("partition: n" + std::to_string(victim + 1) + " hears nobody");
  } else {  // one way: nobody hears the victim
    for (int i = 0; i < opt_.nodes; ++i) {
      if (i != victim) blocked_[victim][i] = true;
    }
    log("partition: nobody hears n" + std::to_string(victim + 1));
  }
}

// ---- faults --------------------------------------------------------------------

void Simulation::inject_fault() {
  if (!faults_on_) return;
  const uint64_t r = prng_.uniform(100);
  SimNode& n = *nodes_[prng_.uniform(opt_.nodes)];
  if (r < 25) {
    set_partition();
  } else if (r < 40) {
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    log("partition healed");
  } else if (r < 60) {
    if (n.host) {
      stop(n, "killed", prng_.chance(500'000));
      const bool wipe = !wiped_one_ && prng_.chance(100'000);
      if (wipe) wiped_one_ = true;  // at most one node loses its disk: the others keep a quorum
      schedule_restart(n, wipe, prng_.chance(300'000));
    }
  } else if (r < 70) {
    n.slow_disk = !n.slow_disk;
    log(n.id + (n.slow_disk ? ": disk slow" : ": disk fast again"));
  } else if (r < 80) {
    drop_per_million_ = prng_.chance(500'000) ? static_cast<uint32_t>(prng_.uniform(200'000)) : 0;
    dup_per_million_ = prng_.chance(500'000) ? static_cast<uint32_t>(prng_.uniform(100'000)) : 0;
    log("network: drop " + std::to_string(drop_per_million_ / 10'000) + "%, duplicate " +
        std::to_string(dup_per_million_ / 10'000) + "%");
  } else if (r < 90) {
    // An operator's transfer of some shard's leadership, asked of any node.
    if (n.host) {
      const uint32_t shard = static_cast<uint32_t>(prng_.uniform(opt_.shards));
      int to = static_cast<int>(prng_.uniform(opt_.nodes));
      // Often to a node restarted with other timing: such a node rarely
      // wins an election, yet a leader's lease depends on whose timing it
      // is sized from.
      for (auto& np : nodes_) {
        if (np->host && np->election_ticks != kElectionTicks && prng_.chance(700'000)) to = np->index;
      }
      n.inbox.push_back([&n, shard, to] {
        n.host->transfer_leader(shard, "n" + std::to_string(to + 1), [](const Outcome&) {});
      });
      wake(n, now_);
    }
  } else {
    // Not partitioned, but slow: a long pause of one node's loop, as a
    // stopped process or a stalled VM would have.
    if (n.host) {
      n.busy_until_us = std::max(n.busy_until_us, now_) + 50'000 + static_cast<int64_t>(prng_.uniform(400'000));
      log(n.id + ": paused until " + std::to_string(n.busy_until_us / 1000) + " ms");
    }
  }
  at(now_ + 50'000 + static_cast<int64_t>(prng_.uniform(400'000)), [this] { inject_fault(); });
}

void Simulation::schedule_restart(SimNode& n, bool wipe, bool retime) {
  const int64_t restart_after = 20'000 + static_cast<int64_t>(prng_.uniform(800'000));
  at(now_ + restart_after, [this, &n, wipe, retime] {
    if (n.host || n.refused_forever || !faults_on_) return;
    if (wipe) {
      n.fs = std::make_unique<storage::MemoryFileSystem>();
      log(n.id + ": data dir wiped");
    }
    const int before = n.election_ticks;
    if (retime) n.election_ticks = before == kElectionTicks ? kSlowElectionTicks : kElectionTicks;
    if (n.election_ticks != before) ++result_.retimed_restarts;
    boot(n, "existing");
  });
}

void Simulation::heal() {
  faults_on_ = false;
  heal_us_ = now_;
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  drop_per_million_ = 0;
  dup_per_million_ = 0;
  log("healed: no more faults");
  for (auto& np : nodes_) {
    SimNode& n = *np;
    n.slow_disk = false;
    if (!n.host && !n.refused_forever) boot(n, "existing");
  }
}

// ---- clients -------------------------------------------------------------------

void Simulation::client_start(Client& c) {
  if (c.busy) return;
  if (!faults_on_ && c.wrote_after_heal && c.read_after_heal) {
    bool all_done = true;
    for (int i = 0; i < kClients; ++i) {
      all_done = all_done && clients_[i].wrote_after_heal && clients_[i].read_after_heal;
    }
    if (all_done && !finals_started_) final_reads();
    return;
  }
  lc::Operation o;
  o.client = static_cast<uint64_t>(c.id);
  o.key = "k" + std::to_string(prng_.uniform(kKeys));
  const uint64_t r = prng_.uniform(100);
  o.kind = r < 45 ? lc::OpKind::kSet : r < 90 ? lc::OpKind::kGet : lc::OpKind::kDelete;
  c.stale_read = o.kind == lc::OpKind::kGet && faults_on_ && prng_.chance(150'000);
  if (o.kind == lc::OpKind::kSet) {
    o.value = "v" + std::to_string(history_.size());
    written_values_.insert(o.value);
  }
  begin(c, std::move(o), c.id % 2 == 1 ? kImpatientDeadlineUs : kClientDeadlineUs);
  client_send(c);
}

// Records the operation as invoked now (its outcome unknown until known)
// and makes it the client's current one.
void Simulation::begin(Client& c, lc::Operation o, int64_t deadline_us) {
  o.invoke_time = now_;
  o.outcome = lc::Outcome::kUnknown;
  c.op = history_.size();
  history_.push_back(std::move(o));
  history_client_.push_back(c.id);
  c.busy = true;
  c.redirects = 0;
  c.deadline_us = now_ + deadline_us;
}

void Simulation::client_send(Client& c) {
  const uint32_t shard = shard_of_key(history_[c.op].key);
  auto it = c.leader_of_shard.find(shard);
  int target = it != c.leader_of_shard.end() ? it->second : -1;
  if (target < 0) {
    std::vector<int> candidates;
    for (int i = 0; i < opt_.nodes; ++i) {
      if (c.avoid_until_us[i] <= now_) candidates.push_back(i);
    }
    target = candidates.empty() ? static_cast<int>(prng_.uniform(opt_.nodes))
                                : candidates[prng_.uniform(candidates.size())];
  }
  c.target = target;
  const uint64_t attempt = ++c.attempt;
  const int client = c.id;
  const uint64_t op = c.op;
  at(now_ + 100 + static_cast<int64_t>(prng_.uniform(400)),
     [this, client, attempt, target, op] { client_deliver(client, attempt, target, op); });
  at(c.deadline_us, [this, client, attempt] { client_timeout(client, attempt); });
}

void Simulation::client_deliver(int client, uint64_t attempt, int node_index, uint64_t op) {
  SimNode& n = *nodes_[node_index];
  if (!n.host) return;  // the client's deadline answers for it
  const lc::Operation o = history_[op];
  const std::string user = user_of(o.key);
  const uint32_t shard = shard_of_key(o.key);
  const bool stale = clients_[client].stale_read;
  auto reply_later = [this, &n, client, attempt](const Outcome& outcome, bool found, std::string value) {
    const int64_t at_us = now_ + n.busy_us + 100 + static_cast<int64_t>(prng_.uniform(400));
    at(at_us, [this, client, attempt, outcome, found, value] {
      client_reply(client, attempt, outcome, found, value);
    });
  };
  if (o.kind == lc::OpKind::kGet && !stale) {
    // A gRPC thread first tries the lease, whatever the loop is doing.
    bool found = false;
    std::string value;
    const bool served = n.host->try_lease_read(shard, [&](const server::ShardGroup& g) {
      if (auto v = g.sm.get(user, "k")) {
        found = true;
        value = *v;
      }
    });
    if (served) {
      ++result_.lease_reads;
      reply_later(Outcome::success(), found, value);
      return;
    }
  }
  const std::string value = o.value;
  const lc::OpKind kind = o.kind;
  n.inbox.push_back([this, &n, kind, user, value, shard, stale, reply_later] {
    if (kind == lc::OpKind::kGet) {
      n.host->read(shard, stale, [&n, shard, user, reply_later](const Outcome& outcome) {
        bool found = false;
        std::string v;
        if (outcome.ok()) {
          if (auto got = n.host->group(shard)->sm.get(user, "k")) {
            found = true;
            v = *got;
          }
        }
        reply_later(outcome, found, v);
      });
      return;
    }
    // The command views these strings until it is proposed (this call).
    auto user_copy = std::make_shared<std::string>(user);
    auto value_copy = std::make_shared<std::string>(value);
    const kv::CommandView command{kind == lc::OpKind::kSet ? kv::Op::kSet : kv::Op::kDelete, *user_copy, "k",
                                  *value_copy};
    n.host->propose_write(shard, command,
                          [reply_later, user_copy, value_copy](const Outcome& outcome, const kv::ApplyResult& r) {
                            reply_later(outcome, r.existed, "");
                          });
  });
  wake(n, now_ + static_cast<int64_t>(prng_.uniform(100)));
}

void Simulation::client_reply(int client, uint64_t attempt, const Outcome& outcome, bool found,
                              const std::string& value) {
  Client& c = clients_[client];
  if (!c.busy || c.attempt != attempt) return;
  lc::Operation& o = history_[c.op];
  const uint32_t shard = shard_of_key(o.key);
  switch (outcome.code) {
    case Outcome::Code::kOk:
      if (o.kind == lc::OpKind::kGet) {
        o.found = found;
        o.value = found ? value : "";
        if (c.stale_read) {
          if (found && !written_values_.count(value)) violation("a stale read returned " + value + ", never written");
          // Stale reads promise no recency: they stay out of the history.
          o.outcome = lc::Outcome::kFail;
          o.complete_time = now_;
          c.busy = false;
          at(now_ + static_cast<int64_t>(prng_.uniform(20'000)), [this, client] { client_start(clients_[client]); });
          return;
        }
      } else if (o.kind == lc::OpKind::kDelete) {
        o.found = found;
      }
      finish(c, lc::Outcome::kOk);
      return;
    case Outcome::Code::kNotLeader: {
      c.leader_of_shard.erase(shard);
      if (!outcome.hint.leader.empty()) c.leader_of_shard[shard] = std::stoi(outcome.hint.leader.substr(1)) - 1;
      if (++c.redirects > kRedirectsMax || outcome.hint.leader.empty()) {
        // No leader known: try again a little later, somewhere.
        const uint64_t a = ++c.attempt;
        at(now_ + 20'000, [this, client, a] {
          Client& cc = clients_[client];
          if (cc.busy && cc.attempt == a && now_ < cc.deadline_us) client_send(cc);
        });
        return;
      }
      client_send(c);
      return;
    }
    case Outcome::Code::kUnavailable:
    case Outcome::Code::kOverloaded: {
      c.leader_of_shard.erase(shard);
      const uint64_t a = ++c.attempt;
      at(now_ + 20'000, [this, client, a] {
        Client& cc = clients_[client];
        if (cc.busy && cc.attempt == a && now_ < cc.deadline_us) client_send(cc);
      });
      return;
    }
    case Outcome::Code::kOutcomeUnknown:
      c.leader_of_shard.erase(shard);
      finish(c, o.kind == lc::OpKind::kGet ? lc::Outcome::kFail : lc::Outcome::kUnknown);
      return;
    case Outcome::Code::kInvalidArgument:
    case Outcome::Code::kInternal:
      violation("unexpected answer to " + lc::describe(o) + ": " + outcome.message);
      finish(c, lc::Outcome::kFail);
      return;
  }
}

void Simulation::client_timeout(int client, uint64_t attempt) {
  Client& c = clients_[client];
  if (!c.busy || now_ < c.deadline_us) return;
  (void)attempt;
  const lc::Operation& o = history_[c.op];
  c.leader_of_shard.clear();
  c.avoid_until_us[c.target] = now_ + 2 * kClientDeadlineUs;
  finish(c, o.kind == lc::OpKind::kGet ? lc::Outcome::kFail : lc::Outcome::kUnknown);
}

void Simulation::finish(Client& c, lc::Outcome outcome) {
  lc::Operation& o = history_[c.op];
  o.outcome = outcome;
  o.complete_time = now_;
  c.busy = false;
  ++c.attempt;
  if (outcome == lc::Outcome::kOk) ++result_.ops_ok;
  if (outcome == lc::Outcome::kFail) ++result_.ops_fail;
  if (outcome == lc::Outcome::kUnknown) ++result_.ops_unknown;
  log("client " + std::to_string(c.id) + ": " + lc::describe(o));
  if (!faults_on_ && outcome == lc::Outcome::kOk && o.invoke_time >= heal_us_) {
    if (o.kind == lc::OpKind::kGet) c.read_after_heal = true; else c.wrote_after_heal = true;
  }
  if (c.id >= kClients) {  // a final reader
    if (outcome == lc::Outcome::kOk) {
      if (--finals_left_ == 0) result_.liveness_ms = (now_ - heal_us_) / 1000;
      return;
    }
    // Retry the same key until it reads.
    begin(c, o, kClientDeadlineUs);
    const int client = c.id;
    at(now_ + 20'000, [this, client] { client_send(clients_[client]); });
    return;
  }
  const int client = c.id;
  at(now_ + static_cast<int64_t>(prng_.uniform(faults_on_ ? 20'000 : 5'000)),
     [this, client] { client_start(clients_[client]); });
}

// Once every client has written and read after the heal: one linearizable
// read of every key, retried until it succeeds, so that every acknowledged
// write is checked against what the cluster finally holds.
void Simulation::final_reads() {
  finals_started_ = true;
  finals_left_ = kKeys;
  for (int k = 0; k < kKeys; ++k) {
    Client c;
    c.id = static_cast<int>(clients_.size());
    clients_.push_back(c);
    Client& reader = clients_.back();
    lc::Operation o;
    o.client = static_cast<uint64_t>(reader.id);
    o.kind = lc::OpKind::kGet;
    o.key = "k" + std::to_string(k);
    begin(reader, std::move(o), kClientDeadlineUs);
    client_send(reader);
  }
}

void Simulation::check_end() {
  if (finals_left_ != 0 || !finals_started_) {
    violation("liveness: the cluster did not serve every client within " +
              std::to_string(opt_.liveness_ms_max) + " ms of the heal");
  }
  const lc::Result r = lc::check(history_);
  if (r.verdict == lc::Result::kNotLinearizable) violation("history not linearizable: " + r.explanation);
  // Replicas that applied the same index hold the same state.
  for (uint32_t s = 0; s < opt_.shards; ++s) {
    std::map<uint64_t, std::pair<std::string, std::string>> by_index;  // applied -> (node, image)
    for (auto& np : nodes_) {
      if (!np->host) continue;
      const server::ShardGroup* g = np->host->group(s);
      if (!g) continue;
      std::string image = g->sm.snapshot();
      auto [it, inserted] = by_index.emplace(g->sm.applied_index(), std::make_pair(np->id, image));
      if (!inserted && it->second.second != image) {
        violation("shard " + std::to_string(s) + ": " + it->second.first + " and " + np->id +
                  " applied index " + std::to_string(g->sm.applied_index()) + " to different states");
      }
    }
  }
}

NodeSimResult Simulation::run() {
  blocked_.assign(opt_.nodes, std::vector<bool>(opt_.nodes, false));
  for (int i = 0; i < opt_.nodes; ++i) {
    auto n = std::make_unique<SimNode>();
    n->index = i;
    n->raft_id = static_cast<raft::NodeId>(i + 1);
    n->id = "n" + std::to_string(i + 1);
    n->rate = 0.97 + static_cast<double>(prng_.uniform(6001)) / 100'000.0;
    n->local_base_us = 1'000'000'000 + static_cast<int64_t>(prng_.uniform(1'000'000'000));
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) boot(*n, "new");
  clients_.reserve(kClients + kKeys);
  clients_.resize(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients_[i].id = i;
    at(static_cast<int64_t>(prng_.uniform(300'000)), [this, i] { client_start(clients_[i]); });
  }
  at(200'000 + static_cast<int64_t>(prng_.uniform(300'000)), [this] { inject_fault(); });
  const int64_t heal_at = opt_.safety_ms * 1000;
  at(heal_at, [this] {
    heal();
    for (auto& c : clients_) {
      const int id = c.id;
      at(now_ + 1, [this, id] { client_start(clients_[id]); });
    }
  });
  const int64_t end_at = heal_at + opt_.liveness_ms_max * 1000;
  while (!events_.empty()) {
    Event e = events_.top();
    if (e.at_us > end_at) break;
    events_.pop();
    now_ = e.at_us;
    e.fn();
    if (finals_started_ && finals_left_ == 0) break;
    if (result_.violations.size() > 5) break;
  }
  check_end();
  return result_;
}

}  // namespace

NodeSimResult run_node_simulation(const NodeSimOptions& options) {
  Simulation sim(options);
  return sim.run();
}

}  // namespace mq::nodesim
