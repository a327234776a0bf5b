#include "tests/nodesim/node_simulation.h"

#include <algorithm>
#include <cstdio>

#include "node/server/exit_codes.h"
#include "tests/nodesim/simulation_internals.h"

namespace mq::nodesim {
namespace internal {

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

int Simulation::index_of(raft::NodeId id) const {
  for (const auto& n : nodes_) {
    if (n->raft_id == id) return n->index;
  }
  return -1;
}

// The node that leads the metadata group, as the omniscient view sees it.
int Simulation::meta_leader() const {
  for (const auto& n : nodes_) {
    if (!n->host) continue;
    const server::ShardGroup* g = n->host->group(opt_.shards);
    if (g && g->role == raft::Role::kLeader) return n->index;
  }
  return -1;
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

void Simulation::boot(SimNode& n, std::string initial_cluster_state) {
  ++n.incarnation;
  server::NodeHostOptions ho;
  std::string error, note;
  if (n.joined) {
    ho.topology = n.join_topology;
    initial_cluster_state = "join";
  } else {
    ho.topology = *server::make_topology(peers_flag(), n.id, "127.0.0.1:" + std::to_string(7001 + n.index),
                                         opt_.shards, 3, &error, &note);
  }
  ho.data_dir = kDataDir;
  ho.initial_cluster_state = initial_cluster_state;
  ho.tick_ms = kTickMs;
  ho.election_ticks = n.election_ticks;
  ho.heartbeat_ticks = 5;
  // Both triggers and both tail bounds are reached: by count with the
  // small commands most seeds write, by bytes when values are larger.
  ho.snapshot_every_entries = 40;
  ho.snapshot_log_bytes = 3000;
  ho.log_tail_entries = 10;
  ho.log_tail_bytes = 700;
  // Small segments: many roll, and the WAL's budget (a few segments beyond
  // the snapshots' size) is passed often, so groups are snapshotted early
  // to release them, under crashes and the checker's eye.
  ho.wal_segment_bytes = 4096;
  ho.mutations = opt_.mutations;
  // One seed in four caps one node's memory, counted as the bytes of the
  // keys and values it holds, low enough that a few keys fill it: its
  // shards' leaders must refuse writes for it (definitely: the checker sees
  // any refused write that took effect), never lose an acknowledged one,
  // and deletes must let writes through again.
  const bool capped = opt_.seed % 4 == 1 && n.index == static_cast<int>(opt_.seed / 4 % opt_.nodes);
  if (capped) ho.max_memory_bytes = 8 + opt_.seed % 13;
  n.disk = std::make_unique<SimDisk>(n.fs.get(), [this, &n] { return on_sync(n); });
  n.peers = std::make_unique<SimPeers>(this, &n);
  server::NodeEnv env;
  env.now = [this, &n] { return NodeTime(std::chrono::microseconds(local_now_us(n))); };
  env.peers = n.peers.get();
  env.fs = n.disk.get();
  env.log = [this, &n](server::LogLevel, std::string_view m) { log(n.id + ": " + std::string(m)); };
  env.halt = [](int code, const std::string& why) { throw NodeStopped{code, why}; };
  env.sleep = [&n](std::chrono::milliseconds d) { n.busy_us += d.count() * 1000; };
  if (capped) {
    env.memory_in_use = [&n] {
      uint64_t bytes = 0;
      for (uint32_t shard = 0; n.host && shard < n.host->topology().shard_count; ++shard) {
        if (const auto* g = n.host->group(shard)) bytes += g->sm.key_value_bytes();
      }
      return bytes;
    };
  }
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
    } else if (exit_code == server::kNodeExitRemoved) {
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
  const int to_index = index_of(to);
  const int64_t sent_at = now_ + from.busy_us;
  ++result_.messages;
  if (to_index < 0) return;
  if (blocked_[from.index][to_index] || prng_.chance(drop_per_million_)) return;
  const int copies = prng_.chance(dup_per_million_) ? 2 : 1;
  auto shared = std::make_shared<peer::PeerBatch>(std::move(batch));
  for (int i = 0; i < copies; ++i) {
    int64_t delay = 100 + static_cast<int64_t>(prng_.uniform(900));
    if (faults_on_ && prng_.chance(20'000)) delay += static_cast<int64_t>(prng_.uniform(200'000));
    const raft::NodeId from_id = from.raft_id;
    const int from_index = from.index;
    at(sent_at + delay, [this, to_index, from_id, from_index, shared] {
      SimNode& n = *nodes_[to_index];
      if (!n.host || blocked_[from_index][to_index]) return;
      n.last_heard_us[from_id] = now_;
      n.inbox.push_back([&n, from_id, shared] { n.host->on_peer_batch(from_id, *shared); });
      wake(n, now_ + static_cast<int64_t>(prng_.uniform(100)));
    });
  }
}

void Simulation::set_partition() {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  const int kind = static_cast<int>(prng_.uniform(4));
  const int count = static_cast<int>(nodes_.size());
  int victim = static_cast<int>(prng_.uniform(count));
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
    for (int i = 0; i < count; ++i) {
      if (i != victim) blocked_[victim][i] = blocked_[i][victim] = true;
    }
    log("partition: n" + std::to_string(victim + 1) + " isolated");
  } else if (kind == 1) {  // split into two sides
    std::vector<int> side(count);
    for (int i = 0; i < count; ++i) side[i] = static_cast<int>(prng_.uniform(2));
    for (int i = 0; i < count; ++i) {
      for (int j = 0; j < count; ++j) blocked_[i][j] = side[i] != side[j];
    }
    log("partition: split");
  } else if (kind == 2) {  // one way: the victim hears nobody, everyone hears it
    for (int i = 0; i < count; ++i) {
      if (i != victim) blocked_[i][victim] = true;
    }
    log("partition: n" + std::to_string(victim + 1) + " hears nobody");
  } else {  // one way: nobody hears the victim
    for (int i = 0; i < count; ++i) {
      if (i != victim) blocked_[victim][i] = true;
    }
    log("partition: nobody hears n" + std::to_string(victim + 1));
  }
}

// ---- faults --------------------------------------------------------------------

void Simulation::inject_fault() {
  if (!faults_on_) return;
  const uint64_t r = prng_.uniform(100);
  SimNode& n = *nodes_[prng_.uniform(nodes_.size())];
  if (opt_.membership && prng_.chance(80'000)) {
    change_membership();
  } else if (r < 25) {
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
      int to = static_cast<int>(prng_.uniform(nodes_.size()));
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
      if (n.joined) {
        // Its identity went with it: the node would ask to join again, and
        // be refused, since a member of its name still exists.
        log(n.id + ": cannot join again while it is a member");
        ++result_.wipes_refused;
        n.refused_forever = true;
        return;
      }
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
  admit_after_heal();
  for (auto& np : nodes_) {
    SimNode& n = *np;
    n.slow_disk = false;
    if (!n.host && !n.refused_forever && n.raft_id != raft::kNoNode) boot(n, "existing");
  }
}

// After the heal, spares an operator added keep being started until they
// have joined (bounded by the run's end).
void Simulation::admit_after_heal() {
  for (auto& np : nodes_) {
    if (np->host && np->host->group(opt_.shards) && !np->host->cluster_map().empty()) {
      admit_spares(np->host->cluster_map());
      break;
    }
  }
  at(now_ + 300'000, [this] { admit_after_heal(); });
}

// Spares the map names: one an operator added (joining) starts and claims
// its member (as mq node --join does); one whose own join answered
// "unknown" is a member all the same, and the node that asked is started.
void Simulation::admit_spares(const server::ClusterMap& map) {
  for (auto& np : nodes_) {
    SimNode& s = *np;
    if (s.raft_id != raft::kNoNode) continue;
    const server::Member* m = map.find_name(s.id);
    if (!m) continue;
    if (m->state == server::MemberState::kJoining) {
      join(s);
    } else if (m->state == server::MemberState::kActive) {
      start_joined(s, m->id, map);
    }
  }
}

// The spare asks the metadata group's leader to admit it.
void Simulation::join(SimNode& s) {
  const int leader = meta_leader();
  if (leader < 0) return;
  SimNode& l = *nodes_[leader];
  server::MapCommand cmd;
  cmd.type = server::MapCommand::Type::kJoin;
  cmd.name = s.id;
  cmd.address = "127.0.0.1:" + std::to_string(7001 + s.index);
  const int incarnation = l.incarnation;
  l.inbox.push_back([this, &l, &s, cmd, incarnation] {
    if (l.incarnation != incarnation || !l.host) return;
    l.host->change_members(cmd, [this, &s](const Outcome& o, const server::MapChange& change,
                                           const server::ClusterMap& next) {
      log(s.id + ": join: " + (o.ok() ? "admitted as member " + std::to_string(change.added) : o.message));
      if (o.ok() && change.added != raft::kNoNode) start_joined(s, change.added, next);
    });
  });
  wake(l, now_);
}

void Simulation::start_joined(SimNode& s, raft::NodeId id, const server::ClusterMap& map) {
  if (s.raft_id != raft::kNoNode) return;
  s.raft_id = id;
  s.joined = true;
  const server::PeerInfo self{s.id, "127.0.0.1:" + std::to_string(7001 + s.index), id, false};
  s.join_topology = server::topology_from_map(map, id, self);
  ++result_.joins;
  if (faults_on_) {
    at(now_ + 10'000 + static_cast<int64_t>(prng_.uniform(200'000)), [this, &s] {
      if (!s.host && !s.refused_forever) boot(s, "join");
    });
  } else {
    boot(s, "join");
  }
}

// An operator's membership change, asked of the metadata group's leader:
// add a spare (which then joins), remove a member, or replace one with a
// spare. The cluster keeps three active members, so a quorum of every
// shard's target stays possible; a change the map refuses is fine.
void Simulation::change_membership() {
  const int leader = meta_leader();
  if (leader < 0) return;
  SimNode& l = *nodes_[leader];
  const server::ClusterMap& map = l.host->cluster_map();
  admit_spares(map);
  std::vector<int> spares, active;
  for (auto& np : nodes_) {
    if (np->raft_id == raft::kNoNode) spares.push_back(np->index);
  }
  for (const server::Member& m : map.members()) {
    if (m.state != server::MemberState::kRemoved && index_of(m.id) >= 0) active.push_back(index_of(m.id));
  }
  server::MapCommand cmd;
  int spare = -1;
  const uint64_t r = prng_.uniform(3);
  if (!spares.empty() && (r == 0 || active.size() <= 3)) {
    spare = spares[prng_.uniform(spares.size())];
    if (map.find_name(nodes_[spare]->id)) return;  // added already: it claims itself
    // Half the time the node joins by itself (mq cluster add); else an
    // operator adds it first (mq member add) and it claims that later.
    if (prng_.chance(500'000)) {
      join(*nodes_[spare]);
      return;
    }
    cmd.type = server::MapCommand::Type::kAddMember;
  } else if (active.size() > 3 && removals_ < 2 && r == 1) {
    cmd.type = server::MapCommand::Type::kRemoveMember;
    cmd.id = nodes_[active[prng_.uniform(active.size())]]->raft_id;
  } else if (!spares.empty() && removals_ < 2) {
    spare = spares[prng_.uniform(spares.size())];
    cmd.type = server::MapCommand::Type::kReplaceMember;
    cmd.id = nodes_[active[prng_.uniform(active.size())]]->raft_id;
  } else {
    return;
  }
  if (spare >= 0) {
    cmd.name = nodes_[spare]->id;
    cmd.address = "127.0.0.1:" + std::to_string(7001 + spare);
  }
  const std::string what = cmd.type == server::MapCommand::Type::kAddMember ? "add " + cmd.name
                           : cmd.type == server::MapCommand::Type::kRemoveMember
                               ? "remove n" + std::to_string(index_of(cmd.id) + 1)
                               : "replace n" + std::to_string(index_of(cmd.id) + 1) + " with " + cmd.name;
  log("operator: " + what + " (asked of " + l.id + ")");
  const int incarnation = l.incarnation;
  l.inbox.push_back([this, &l, cmd, spare, what, incarnation] {
    if (l.incarnation != incarnation || !l.host) return;
    l.host->change_members(cmd, [this, cmd, spare, what](const Outcome& o, const server::MapChange& change,
                                                         const server::ClusterMap&) {
      log("operator: " + what + ": " + (o.ok() ? "done" : o.message));
      if (!o.ok()) return;
      ++result_.member_changes;
      if (cmd.type != server::MapCommand::Type::kAddMember) ++removals_;
      // The operator then starts the added node, which claims its member.
      if (spare >= 0 && change.added != raft::kNoNode) {
        SimNode& s = *nodes_[spare];
        at(now_ + 10'000 + static_cast<int64_t>(prng_.uniform(200'000)), [this, &s] {
          if (s.raft_id == raft::kNoNode) join(s);
        });
      }
    });
  });
  wake(l, now_);
}

NodeSimResult Simulation::run() {
  const int total = opt_.nodes + (opt_.membership ? kSpareNodes : 0);
  blocked_.assign(total, std::vector<bool>(total, false));
  for (int i = 0; i < total; ++i) {
    auto n = std::make_unique<SimNode>();
    n->index = i;
    n->raft_id = i < opt_.nodes ? static_cast<raft::NodeId>(i + 1) : raft::kNoNode;
    n->id = "n" + std::to_string(i + 1);
    n->rate = 0.97 + static_cast<double>(prng_.uniform(6001)) / 100'000.0;
    n->local_base_us = 1'000'000'000 + static_cast<int64_t>(prng_.uniform(1'000'000'000));
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) {
    if (n->raft_id != raft::kNoNode) boot(*n, "new");
  }
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
    if (e.at_us > (finals_left_ == 0 && finals_started_ ? convergence_deadline_us_ : end_at)) break;
    events_.pop();
    now_ = e.at_us;
    e.fn();
    if (finals_started_ && finals_left_ == 0 && (!opt_.membership || convergence_done_)) break;
    if (result_.violations.size() > 5) break;
  }
  check_end();
  return result_;
}

}  // namespace internal

NodeSimResult run_node_simulation(const NodeSimOptions& options) {
  internal::Simulation sim(options);
  return sim.run();
}

}  // namespace mq::nodesim