#include "tests/sim/simulation.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <queue>
#include <set>

#include "node/raft/conf_change.h"
#include "node/raft/memory_storage.h"
#include "node/raft/prng.h"
#include "node/raft/raw_node.h"
#include "playground/lincheck.h"
#include "tests/sim/cluster_checker.h"
#include "tests/sim/kv_machine.h"

namespace mq::sim {
namespace {

using namespace mq::raft;
namespace lc = mq::lincheck;

constexpr int64_t kTickMs = 10;
constexpr size_t kKeys = 4;

enum class NetMode { kHealthy, kSplit, kOneWay, kBridge, kIsolate };

const char* to_string(NetMode m) {
  switch (m) {
    case NetMode::kHealthy: return "healthy";
    case NetMode::kSplit: return "split";
    case NetMode::kOneWay: return "one-way";
    case NetMode::kBridge: return "bridge";
    case NetMode::kIsolate: return "isolate";
  }
  return "?";
}

struct InFlight {
  int64_t at_ms;
  uint64_t seq;
  Message m;
  bool operator>(const InFlight& o) const { return std::tie(at_ms, seq) > std::tie(o.at_ms, o.seq); }
};

struct WaitingRead {
  ReadState state;
  uint64_t op;  // index into the history
};

struct SimNode {
  NodeId id = kNoNode;
  std::unique_ptr<MemoryStorage> disk = std::make_unique<MemoryStorage>();
  std::unique_ptr<RawNode> raw;  // null while crashed
  KvMachine kv;
  int64_t next_tick_ms = 0;
  int64_t persist_at_ms = -1;
  int64_t restart_at_ms = -1;
  std::map<uint64_t, uint64_t> pending_writes;  // op index -> op index (proposed here)
  std::map<std::string, uint64_t> pending_reads;  // context -> op index
  std::vector<WaitingRead> waiting_reads;
  // Role, term and leader as the node's Readies reported them.
  SoftState reported;
  // The hard state as of the last sync: a write without one (a commit-only
  // hard state, when the Ready said no sync is needed) may be lost in a crash.
  HardState synced;
};

struct Client {
  uint64_t id = 0;
  bool busy = false;
  uint64_t op = 0;  // history index of the current operation
  int64_t deadline_ms = 0;
  int64_t next_start_ms = 0;
  NodeId target = kNoNode;
  bool wrote_after_heal = false;
  bool read_after_heal = false;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), prng_(o.seed) {}

  SimResult run();

 private:
  // setup
  void choose_parameters();
  void start_node(SimNode& n);
  // events
  void deliver_due();
  void tick_due();
  void persist_due();
  void process_ready(SimNode& n);
  void note_soft_state(SimNode& n, const SoftState& ss);
  // Writes a Ready to the simulated disk, syncing only when it must.
  void write(SimNode& n, const Ready& rd);
  // Crashes the node after its early messages left and before its Ready is
  // written, by a seed-chosen chance; true when it did.
  bool maybe_crash_before_write(SimNode& n, const Ready& rd);
  void send_from(SimNode& n, const Message& m, bool before_persist);
  void send(const Message& m);
  void observe(SimNode& n);
  void schedule_persist(SimNode& n);
  // faults and admin
  void change_faults();
  void heal();
  void crash(SimNode& n);
  size_t nodes_down() const;
  bool blocked(NodeId from, NodeId to) const;
  void admin();
  void maybe_snapshot(SimNode& n);
  // clients
  void run_clients();
  void start_op(Client& c);
  void finish_op(uint64_t op, lc::Outcome outcome);
  void serve_reads(SimNode& n);
  SimNode* leader();

  void log(const std::string& line) {
    if (!opt_.trace) return;
    std::string out = "t=" + std::to_string(now_ms_) + " " + line;
    if (opt_.stream_trace) {
      std::printf("%s\n", out.c_str());
      std::fflush(stdout);
    } else {
      result_.trace.push_back(std::move(out));
    }
  }
  int64_t uniform(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(prng_.uniform(hi - lo + 1)); }

  SimOptions opt_;
  Prng prng_;
  SimResult result_;
  ClusterChecker checker_;
  int64_t now_ms_ = 0;
  uint64_t msg_seq_ = 0;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> net_;
  std::map<NodeId, SimNode> nodes_;
  std::vector<NodeId> initial_voters_;
  std::vector<Client> clients_;
  std::vector<lc::Operation> history_;
  std::vector<bool> finished_;
  std::vector<uint64_t> history_client_;
  int64_t history_clock_ = 0;
  int64_t heal_clock_ = 0;  // history time of the heal: later operations prove liveness

  // Per-run parameters, drawn from the seed.
  Config base_;
  bool faults_on_ = true;
  int64_t heal_ms_ = 0;
  int64_t next_fault_ms_ = 0;
  int64_t next_admin_ms_ = 0;
  uint32_t drop_ppm_ = 0;
  uint32_t dup_ppm_ = 0;
  int64_t delay_max_ms_ = 2;
  uint64_t snapshot_every_ = 20;
  uint64_t snapshot_keep_ = 4;
  int64_t client_timeout_ms_ = 400;
  uint32_t admin_ppm_ = 0;
  // Per Ready that needs a sync: a crash after its early messages left and
  // before it was written.
  uint32_t crash_before_write_ppm_ = 0;
  // Per crash: whether a write not yet synced (a commit index) is lost.
  uint32_t lose_unsynced_ppm_ = 0;
  NetMode mode_ = NetMode::kHealthy;
  std::set<NodeId> side_a_;  // split / one-way senders / bridge side
  std::set<NodeId> side_b_;
  NodeId special_ = kNoNode;  // bridge or isolated node
};

void Simulation::choose_parameters() {
  base_.election_tick = 10;
  base_.heartbeat_tick = 1 + static_cast<int>(prng_.uniform(3));
  base_.pre_vote = !prng_.chance(150'000);
  base_.check_quorum = !prng_.chance(150'000);
  static constexpr uint64_t kEntriesPerMsg[] = {1, 1, 2, 3, 16};
  base_.max_entries_per_msg = kEntriesPerMsg[prng_.uniform(5)];
  base_.max_inflight_msgs = 1 + prng_.uniform(8);
  base_.max_size_per_msg_bytes = 256 + prng_.uniform(2048);
  base_.max_uncommitted_bytes = 512 + prng_.uniform(8192);
  base_.snapshot_chunk_bytes = 8 + prng_.uniform(256);
  base_.max_pending_reads = 64;
  snapshot_every_ = 5 + prng_.uniform(40);
  snapshot_keep_ = prng_.uniform(8);
  client_timeout_ms_ = 200 + uniform(0, 600);
  admin_ppm_ = static_cast<uint32_t>(prng_.uniform(3) * 250'000);
  // Most runs send a leader's traffic ahead of its write; the rest send
  // everything after it, as callers that do not split do.
  base_.split_messages_before_persist = !prng_.chance(250'000);
  static constexpr uint32_t kCrashBeforeWrite[] = {0, 1'000, 5'000};
  crash_before_write_ppm_ = kCrashBeforeWrite[prng_.uniform(3)];
  lose_unsynced_ppm_ = static_cast<uint32_t>(prng_.uniform(3) * 500'000);
}

void Simulation::start_node(SimNode& n) {
  Config c = base_;
  c.id = n.id;
  c.random_seed = prng_.next();
  const Snapshot& snap = n.disk->snapshot();
  // The state machine restarts from the durable snapshot and replays the log.
  n.kv = KvMachine();
  if (!n.kv.restore(snap.data)) {
    result_.violations.push_back("node " + std::to_string(n.id) + " cannot restore its snapshot");
  }
  c.applied = snap.meta.index;
  n.raw = std::make_unique<RawNode>(c, *n.disk);
  n.reported = SoftState{Role::kFollower, n.disk->hard_state().term, kNoNode};
  n.synced = n.disk->hard_state();
  n.pending_writes.clear();
  n.pending_reads.clear();
  n.waiting_reads.clear();
  n.restart_at_ms = -1;
  n.next_tick_ms = now_ms_ + uniform(1, kTickMs);
  schedule_persist(n);
  log("start node " + std::to_string(n.id) + " at applied " + std::to_string(c.applied));
}

void Simulation::schedule_persist(SimNode& n) {
  if (n.persist_at_ms < 0) n.persist_at_ms = now_ms_ + uniform(0, 2);
}

void Simulation::observe(SimNode& n) {
  // After every event, not only at Ready time: two leaders of one term
  // could otherwise both come and go between two Readies.
  checker_.on_status(n.raw->status());
  schedule_persist(n);
}

void Simulation::note_soft_state(SimNode& n, const SoftState& ss) {
  if (ss.role == Role::kLeader && (n.reported.role != Role::kLeader || n.reported.term != ss.term)) {
    ++result_.elections;
  }
  n.reported = ss;
  log("node " + std::to_string(n.id) + " is " + std::string(to_string(ss.role)) + " of term " +
      std::to_string(ss.term) + (ss.lead != kNoNode ? " led by " + std::to_string(ss.lead) : ""));
}

bool Simulation::blocked(NodeId from, NodeId to) const {
  switch (mode_) {
    case NetMode::kHealthy: return false;
    case NetMode::kSplit: return side_a_.count(from) != side_a_.count(to);
    case NetMode::kOneWay: return side_a_.count(from) && !side_a_.count(to);
    case NetMode::kBridge:
      if (from == special_ || to == special_) return false;
      return side_a_.count(from) != side_a_.count(to);
    case NetMode::kIsolate: return from == special_ || to == special_;
  }
  return false;
}

void Simulation::send_from(SimNode& n, const Message& m, bool before_persist) {
  checker_.on_sent(n.id, m, *n.disk, before_persist);
  if (before_persist) ++result_.messages_before_persist;
  send(m);
}

void Simulation::send(const Message& m) {
  ++result_.messages;
  if (blocked(m.from, m.to)) {
    log("blocked " + describe(m));
    return;
  }
  if (prng_.chance(drop_ppm_)) {
    log("lost " + describe(m));
    return;
  }
  const int copies = prng_.chance(dup_ppm_) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    net_.push(InFlight{now_ms_ + uniform(1, delay_max_ms_), ++msg_seq_, m});
  }
}

void Simulation::deliver_due() {
  while (!net_.empty() && net_.top().at_ms <= now_ms_) {
    InFlight f = net_.top();
    net_.pop();
    auto it = nodes_.find(f.m.to);
    if (it == nodes_.end() || !it->second.raw) continue;
    log("deliver " + describe(f.m));
    it->second.raw->step(f.m);
    observe(it->second);
  }
}

void Simulation::tick_due() {
  for (auto& [id, n] : nodes_) {
    if (!n.raw && n.restart_at_ms >= 0 && n.restart_at_ms <= now_ms_) start_node(n);
    if (!n.raw || n.next_tick_ms > now_ms_) continue;
    n.next_tick_ms += kTickMs;
    n.raw->tick();
    observe(n);
  }
}

void Simulation::persist_due() {
  for (auto& [id, n] : nodes_) {
    if (n.raw && n.persist_at_ms >= 0 && n.persist_at_ms <= now_ms_) {
      n.persist_at_ms = -1;
      process_ready(n);
    }
  }
}

void Simulation::process_ready(SimNode& n) {
  // Bounded: applying a membership change can produce one more Ready.
  for (int round = 0; round < 4 && n.raw->has_ready(); ++round) {
    Ready rd = n.raw->ready();
    const HardState durable = n.disk->hard_state();
    if (rd.soft_state) note_soft_state(n, *rd.soft_state);
    checker_.on_ready(n.id, rd, durable);
    // A leader's traffic of a durable term leaves first: the followers
    // write while this node does.
    for (const Message& m : rd.messages_before_persist) send_from(n, m, true);
    if (maybe_crash_before_write(n, rd)) return;
    write(n, rd);
    checker_.on_persisted(n.id, rd.entries, *n.disk, durable.commit);
    // Only now, with everything durable, may the rest leave.
    for (const Message& m : rd.messages) send_from(n, m, false);
    if (rd.snapshot) {
      if (!n.kv.restore(rd.snapshot->data)) {
        result_.violations.push_back("node " + std::to_string(n.id) + " got a corrupt snapshot");
      }
      ++result_.snapshots_installed;
      log("node " + std::to_string(n.id) + " installed snapshot at " +
          std::to_string(rd.snapshot->meta.index));
    }
    for (const Entry& e : rd.committed_entries) {
      checker_.on_applied(n.id, e);
      if (e.type != EntryType::kNormal || e.data.empty()) continue;
      auto cmd = decode_command(e.data);
      if (!cmd) {
        result_.violations.push_back("undecodable command at index " + std::to_string(e.index));
        continue;
      }
      const bool existed = n.kv.apply(*cmd);
      auto p = n.pending_writes.find(cmd->op_id);
      if (p != n.pending_writes.end()) {
        history_[p->second].found = existed;
        finish_op(p->second, lc::Outcome::kOk);
        n.pending_writes.erase(p);
      }
    }
    for (const ReadState& rs : rd.read_states) {
      auto p = n.pending_reads.find(rs.context);
      if (p == n.pending_reads.end()) continue;
      n.waiting_reads.push_back(WaitingRead{rs, p->second});
      n.pending_reads.erase(p);
    }
    n.raw->advance(rd);
    const Status s = n.raw->status();
    checker_.on_status(s);
    if (s.role == Role::kLeader) checker_.check_leader_log(n.id, s.term, *n.disk);
    serve_reads(n);
    maybe_snapshot(n);
  }
  if (!n.raw) return;
  if (n.raw->has_ready()) {
    schedule_persist(n);
  } else {
    // Nothing left to report: any change of role, term or leader must have
    // been in a Ready by now (process_ready runs after every event).
    checker_.on_soft_state(n.id, n.reported, SoftState{n.raw->role(), n.raw->term(), n.raw->lead()});
  }
}

void Simulation::write(SimNode& n, const Ready& rd) {
  if (rd.snapshot) n.disk->apply_snapshot(*rd.snapshot);
  n.disk->append(rd.entries);
  if (rd.hard_state) n.disk->set_hard_state(*rd.hard_state);
  // A sync makes everything written so far durable, earlier unsynced
  // writes included; without one, the write is at the mercy of a crash.
  if (rd.must_sync) n.synced = n.disk->hard_state();
}

bool Simulation::maybe_crash_before_write(SimNode& n, const Ready& rd) {
  if (!faults_on_ || !rd.must_sync || nodes_down() >= 2 || !prng_.chance(crash_before_write_ppm_)) {
    return false;
  }
  ++result_.crashes_before_write;
  log("node " + std::to_string(n.id) + " crashes before writing its Ready (" +
      std::to_string(rd.messages_before_persist.size()) + " messages already sent, " +
      std::to_string(rd.entries.size()) + " entries lost)");
  crash(n);
  n.restart_at_ms = now_ms_ + uniform(20, 1000);
  return true;
}

void Simulation::serve_reads(SimNode& n) {
  const uint64_t applied = n.raw->status().applied;
  auto it = n.waiting_reads.begin();
  while (it != n.waiting_reads.end()) {
    if (it->state.index > applied) {
      ++it;
      continue;
    }
    lc::Operation& op = history_[it->op];
    auto v = n.kv.get(op.key);
    op.found = v.has_value();
    op.value = v.value_or("");
    finish_op(it->op, lc::Outcome::kOk);
    it = n.waiting_reads.erase(it);
  }
}

void Simulation::maybe_snapshot(SimNode& n) {
  const uint64_t applied = n.raw->status().applied;
  const uint64_t snap_index = n.disk->snapshot().meta.index;
  if (applied < snap_index + snapshot_every_) return;
  if (!n.disk->create_snapshot(applied, n.raw->voters(), n.raw->learners(), n.kv.snapshot())) return;
  if (applied > snapshot_keep_) n.disk->compact(std::max(applied - snapshot_keep_, n.disk->first_index()));
  log("node " + std::to_string(n.id) + " snapshot at " + std::to_string(applied));
}

void Simulation::crash(SimNode& n) {
  n.raw.reset();
  n.persist_at_ms = -1;
  n.pending_writes.clear();
  n.pending_reads.clear();
  n.waiting_reads.clear();
  ++result_.crashes;
  log("crash node " + std::to_string(n.id));
  // Only a commit index is ever written without a sync (the checker holds
  // every Ready to that); it may not survive. Recovery raises it to the
  // snapshot index, which is committed by definition, as the server's does.
  HardState hs = n.disk->hard_state();
  if (hs.commit != n.synced.commit && prng_.chance(lose_unsynced_ppm_)) {
    hs.commit = std::max(n.synced.commit, n.disk->snapshot().meta.index);
    log("node " + std::to_string(n.id) + " lost its unsynced commit index " +
        std::to_string(n.disk->hard_state().commit) + ", back to " + std::to_string(hs.commit));
    n.disk->set_hard_state(hs);
    ++result_.commits_lost;
  }
}

size_t Simulation::nodes_down() const {
  size_t down = 0;
  for (const auto& [id, n] : nodes_) down += n.raw ? 0 : 1;
  return down;
}

void Simulation::change_faults() {
  // Short fault periods, often aimed at the leader: the dangerous schedules
  // (figure 8 of the Raft paper) need leaders to fail right after they
  // replicated part of their log.
  next_fault_ms_ = now_ms_ + uniform(30, 700);
  static constexpr uint32_t kDrops[] = {0, 10'000, 50'000, 200'000};
  static constexpr uint32_t kDups[] = {0, 10'000, 50'000};
  static constexpr int64_t kDelays[] = {2, 10, 50};
  drop_ppm_ = kDrops[prng_.uniform(4)];
  dup_ppm_ = kDups[prng_.uniform(3)];
  delay_max_ms_ = kDelays[prng_.uniform(3)];

  std::vector<NodeId> ids;
  for (auto& [id, n] : nodes_) ids.push_back(id);
  side_a_.clear();
  side_b_.clear();
  const uint64_t r = prng_.uniform(100);
  mode_ = r < 35 ? NetMode::kHealthy : r < 55 ? NetMode::kSplit : r < 70 ? NetMode::kOneWay
        : r < 85 ? NetMode::kBridge : NetMode::kIsolate;
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[prng_.uniform(i)]);
  SimNode* l = leader();
  if (l != nullptr && prng_.chance(400'000)) {
    std::iter_swap(ids.begin(), std::find(ids.begin(), ids.end(), l->id));
  }
  special_ = ids[0];
  const size_t cut = 1 + prng_.uniform(ids.size() - 1);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (mode_ == NetMode::kBridge && i == 0) continue;
    (i < cut ? side_a_ : side_b_).insert(ids[i]);
  }
  std::string desc = std::string("faults: net ") + to_string(mode_) + " drop_ppm " +
                     std::to_string(drop_ppm_) + " dup_ppm " + std::to_string(dup_ppm_) +
                     " delay_max_ms " + std::to_string(delay_max_ms_) + " side_a";
  for (NodeId id : side_a_) desc += " " + std::to_string(id);
  if (mode_ == NetMode::kBridge || mode_ == NetMode::kIsolate) desc += " special " + std::to_string(special_);
  log(desc);

  // Crashes, the leader first in line: at most two nodes down at once.
  if (nodes_down() < 2 && prng_.chance(350'000)) {
    SimNode& n = nodes_.at(prng_.chance(500'000) ? ids[0] : ids[prng_.uniform(ids.size())]);
    if (n.raw) {
      crash(n);
      n.restart_at_ms = now_ms_ + uniform(20, 1000);
    }
  }
}

void Simulation::heal() {
  faults_on_ = false;
  heal_ms_ = now_ms_;
  heal_clock_ = history_clock_;
  mode_ = NetMode::kHealthy;
  drop_ppm_ = 0;
  dup_ppm_ = 0;
  delay_max_ms_ = 5;
  for (auto& [id, n] : nodes_) {
    if (!n.raw) start_node(n);
  }
  for (Client& c : clients_) {
    c.wrote_after_heal = false;
    c.read_after_heal = false;
  }
  log("heal: all faults off, every node up");
}

SimNode* Simulation::leader() {
  SimNode* best = nullptr;
  uint64_t best_term = 0;
  for (auto& [id, n] : nodes_) {
    if (!n.raw) continue;
    const Status s = n.raw->status();
    if (s.role == Role::kLeader && s.term >= best_term) {
      best = &n;
      best_term = s.term;
    }
  }
  return best;
}

void Simulation::admin() {
  next_admin_ms_ = now_ms_ + uniform(100, 600);
  if (!prng_.chance(admin_ppm_)) return;
  SimNode* l = leader();
  if (l == nullptr) return;
  const Status s = l->raw->status();
  const std::set<NodeId> voters(s.voters.begin(), s.voters.end());
  const std::set<NodeId> learners(s.learners.begin(), s.learners.end());
  std::vector<NodeId> outside;
  for (auto& [id, n] : nodes_) {
    if (!voters.count(id) && !learners.count(id)) outside.push_back(id);
  }
  const uint64_t r = prng_.uniform(4);
  ConfChange cc;
  if (r == 0) {
    std::vector<NodeId> v(voters.begin(), voters.end());
    const NodeId to = v[prng_.uniform(v.size())];
    if (l->raw->transfer_leader(to) == ProposeError::kOk) {
      ++result_.transfers;
      log("transfer leadership " + std::to_string(l->id) + " -> " + std::to_string(to));
    }
    observe(*l);
    return;
  }
  if (!learners.empty()) {
    // Promote a learner once it has caught up with the commit index.
    const NodeId id = *learners.begin();
    auto p = s.progress.find(id);
    if (p == s.progress.end() || p->second.match < s.commit) return;
    cc = {ConfChangeType::kAddVoter, id};
  } else if (voters.size() > initial_voters_.size()) {
    std::vector<NodeId> v(voters.begin(), voters.end());
    cc = {ConfChangeType::kRemoveNode, v[prng_.uniform(v.size())]};
  } else if (!outside.empty()) {
    cc = {ConfChangeType::kAddLearner, outside[prng_.uniform(outside.size())]};
  } else {
    return;
  }
  const ProposeError err = l->raw->propose_conf_change(cc);
  if (err == ProposeError::kOk) {
    ++result_.conf_changes;
    log("propose " + describe(cc) + " at leader " + std::to_string(l->id));
  }
  observe(*l);
}

void Simulation::finish_op(uint64_t op, lc::Outcome outcome) {
  if (finished_[op]) return;
  finished_[op] = true;
  lc::Operation& o = history_[op];
  o.outcome = outcome;
  o.complete_time = ++history_clock_;
  Client& c = clients_[history_client_[op]];
  if (c.busy && c.op == op) {
    c.busy = false;
    c.next_start_ms = now_ms_ + uniform(0, 20);
    if (outcome == lc::Outcome::kOk && !faults_on_ && o.invoke_time > heal_clock_) {
      if (o.kind == lc::OpKind::kGet) {
        c.read_after_heal = true;
      } else {
        c.wrote_after_heal = true;
      }
    }
  }
  if (outcome == lc::Outcome::kOk) ++result_.ops_ok;
  if (outcome == lc::Outcome::kFail) ++result_.ops_fail;
  log(lc::describe(o));
}

void Simulation::start_op(Client& c) {
  lc::Operation o;
  o.client = c.id;
  const uint64_t r = prng_.uniform(100);
  o.kind = r < 50 ? lc::OpKind::kSet : r < 85 ? lc::OpKind::kGet : lc::OpKind::kDelete;
  o.key = "k" + std::to_string(prng_.uniform(kKeys));
  const uint64_t op = history_.size();
  if (o.kind == lc::OpKind::kSet) o.value = "v" + std::to_string(op);
  o.invoke_time = ++history_clock_;
  o.outcome = lc::Outcome::kUnknown;
  history_.push_back(o);
  finished_.push_back(false);
  history_client_.push_back(c.id);
  c.busy = true;
  c.op = op;
  c.deadline_ms = now_ms_ + client_timeout_ms_;
  if (c.target == kNoNode) c.target = nodes_.begin()->first + prng_.uniform(nodes_.size());

  SimNode& n = nodes_.at(c.target);
  if (!n.raw) return;  // the request is lost; the client times out
  ProposeError err;
  if (o.kind == lc::OpKind::kGet) {
    err = n.raw->read_index(std::to_string(op));
    if (err == ProposeError::kOk) n.pending_reads[std::to_string(op)] = op;
  } else {
    KvCommand cmd{o.kind == lc::OpKind::kSet ? KvOp::kSet : KvOp::kDelete, op, o.key, o.value};
    err = n.raw->propose(encode(cmd));
    if (err == ProposeError::kOk) n.pending_writes[op] = op;
  }
  observe(n);
  if (err != ProposeError::kOk) {
    // Refused before entering the log: certainly without effect.
    const NodeId lead = n.raw->status().lead;
    finish_op(op, lc::Outcome::kFail);
    c.target = lead != kNoNode ? lead : kNoNode;
  }
}

void Simulation::run_clients() {
  for (Client& c : clients_) {
    if (c.busy && now_ms_ >= c.deadline_ms) {
      // No answer in time: the operation may or may not take effect.
      finished_[c.op] = true;
      ++result_.ops_unknown;
      log("timed out: " + lc::describe(history_[c.op]));
      c.busy = false;
      c.target = kNoNode;
      c.next_start_ms = now_ms_ + uniform(0, 20);
    }
    if (!c.busy && now_ms_ >= c.next_start_ms) start_op(c);
  }
}

SimResult Simulation::run() {
  choose_parameters();
  const size_t n_total = static_cast<size_t>(opt_.nodes) + 1;  // one spare joins and leaves
  for (NodeId id = 1; id <= static_cast<NodeId>(opt_.nodes); ++id) initial_voters_.push_back(id);
  for (NodeId id = 1; id <= n_total; ++id) {
    SimNode& n = nodes_[id];
    n.id = id;
    if (id <= static_cast<NodeId>(opt_.nodes)) bootstrap(*n.disk, initial_voters_);
    start_node(n);
  }
  for (uint64_t i = 0; i < 3; ++i) {
    Client c;
    c.id = i;
    c.next_start_ms = uniform(0, 200);
    clients_.push_back(c);
  }
  log("parameters: heartbeat_tick " + std::to_string(base_.heartbeat_tick) + " pre_vote " +
      std::to_string(base_.pre_vote) + " check_quorum " + std::to_string(base_.check_quorum) +
      " split_before_persist " + std::to_string(base_.split_messages_before_persist) +
      " crash_before_write_ppm " + std::to_string(crash_before_write_ppm_) + " lose_unsynced_ppm " +
      std::to_string(lose_unsynced_ppm_) +
      " entries/msg " + std::to_string(base_.max_entries_per_msg) + " inflight " +
      std::to_string(base_.max_inflight_msgs) + " uncommitted_bytes " +
      std::to_string(base_.max_uncommitted_bytes) + " chunk " +
      std::to_string(base_.snapshot_chunk_bytes) + " snapshot_every " + std::to_string(snapshot_every_));

  const int64_t end_ms = opt_.safety_ms + opt_.liveness_ms_max;
  bool live = false;
  for (now_ms_ = 0; now_ms_ < end_ms; ++now_ms_) {
    if (faults_on_ && now_ms_ >= opt_.safety_ms) heal();
    if (faults_on_ && now_ms_ >= next_fault_ms_) change_faults();
    if (faults_on_ && now_ms_ >= next_admin_ms_) admin();
    deliver_due();
    tick_due();
    persist_due();
    run_clients();
    if (!checker_.violations().empty()) break;
    if (!faults_on_ && leader() != nullptr &&
        std::all_of(clients_.begin(), clients_.end(),
                    [](const Client& c) { return c.wrote_after_heal && c.read_after_heal; })) {
      live = true;
      result_.liveness_ms = now_ms_ - heal_ms_;
      break;
    }
  }
  for (const std::string& v : checker_.violations()) result_.violations.push_back(v);
  if (checker_.violations().empty() && !live) {
    result_.violations.push_back("liveness: no leader or client progress within " +
                                 std::to_string(opt_.liveness_ms_max) + " ms after healing");
  }
  for (size_t i = 0; i < history_.size(); ++i) {
    if (!finished_[i]) ++result_.ops_unknown;
  }
  const lc::Result lin = lc::check(history_, 2'000'000);
  if (lin.verdict == lc::Result::kNotLinearizable) {
    result_.violations.push_back("not linearizable: " + lin.explanation);
  } else if (lin.verdict == lc::Result::kUnknown) {
    result_.violations.push_back("linearizability undecided within the search budget: " + lin.explanation);
  }
  result_.ok = result_.violations.empty();
  return result_;
}

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.run();
}

}  // namespace mq::sim
