#include "node/server/raft_backend.h"

#include <grpcpp/support/status.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <random>
#include <shared_mutex>
#include <unordered_map>

#include "node/kv/command.h"
#include "node/kv/kv_state_machine.h"
#include "node/kv/page_token.h"
#include "node/kv/shard_hash.h"
#include "node/raft/codec.h"
#include "node/raft/memory_storage.h"
#include "node/raft/raw_node.h"
#include "node/server/log.h"
#include "node/server/node.h"
#include "node/server/peer_transport.h"
#include "node/server/read_lease.h"
#include "node/storage/storage.h"

namespace mq::server {

namespace {

using Clock = std::chrono::steady_clock;

// How often a leader checks whether the shard's preferred leader is back
// and caught up, to hand leadership back and spread write load.
constexpr int kRebalanceEveryTicks = 50;
// A shard hands leadership back only after it has been stable this long
// under its current leader, so transfers never chase each other.
constexpr uint64_t kRebalanceStableTicks = 200;
constexpr uint64_t kEagerCampaignTicks = 100;
constexpr int64_t kPeerAliveWindowMs = 1000;
// Below the node's gRPC receive limit (the value ceiling plus overhead).
constexpr size_t kPeerBatchBytesMax = 16 << 20;

grpc::Status unavailable(const std::string& message) {
  return {grpc::StatusCode::UNAVAILABLE, message};
}

// Log entries carry an envelope: the proposing node's request id (so the
// proposer can complete the waiting call when the entry applies) and the
// KV command. Empty data is a leader's no-op.
std::string wrap(uint64_t request_id, const kv::CommandView& command) {
  std::string out;
  kv::put_varint(out, request_id);
  kv::append_command(out, command);
  return out;
}

bool unwrap(std::string_view data, uint64_t* request_id, std::string_view* command) {
  if (!kv::get_varint(data, request_id)) return false;
  *command = data;
  return true;
}

}  // namespace

struct RaftBackend::Impl {
  using ReadFn = std::function<void(const grpc::Status&)>;

  struct PendingWrite {
    std::function<void(const kv::ApplyResult&, const grpc::Status&)> done;
  };

  // One ReadIndex round: the reads waiting for it (none for a round that
  // only renews the lease), and when and in which term it was issued.
  struct ReadRound {
    std::vector<ReadFn> reads;
    Clock::time_point issued;
    uint64_t term = 0;
  };

  struct Group {
    explicit Group(Clock::duration lease_length) : lease(lease_length) {}
    uint32_t shard = 0;
    raft::MemoryStorage log;
    std::unique_ptr<raft::RawNode> node;
    kv::KvStateMachine sm;
    raft::Role role = raft::Role::kFollower;
    uint64_t term = 0;
    raft::NodeId lead = raft::kNoNode;
    uint64_t commit = 0;
    raft::HardState persisted;  // last hard state written to the WAL
    uint64_t leader_since_tick = 0;  // when this node last became leader
    std::unordered_map<uint64_t, PendingWrite> writes;
    std::vector<std::string> writes_to_issue;  // envelopes, proposed after the inbox drains
    std::vector<uint64_t> write_ids_to_issue;
    std::vector<ReadFn> reads_to_issue;
    std::unordered_map<std::string, ReadRound> reads_in_flight;
    // Lease reads are answered on the gRPC thread that received them, with
    // no hop to the loop. The loop is the only writer of the state machine,
    // the lease and role/term/lead; it changes them under this mutex held
    // exclusively and reads them freely, gRPC threads read them under it
    // held shared.
    mutable std::shared_mutex shared_state;
    ReadLease lease;
    bool lease_renewal_in_flight = false;
    // A read was served under the lease since the last renewal: only then
    // is it worth renewing, so an idle shard sends no extra rounds.
    mutable std::atomic<bool> lease_used{false};
    std::deque<std::pair<uint64_t, std::vector<ReadFn>>> reads_ready;  // by read index
  };

  RaftBackendOptions options;
  const Topology& topology() const { return options.topology; }
  std::unique_ptr<storage::Storage> disk;
  std::vector<std::unique_ptr<Group>> groups;  // indexed by shard; null when not hosted
  std::unique_ptr<PeerTransport> transport;
  const Clock::time_point started = Clock::now();
  // A node restarted from its data dir remembers no follower lease it may
  // have granted before the restart, so for one election timeout it neither
  // votes nor campaigns (see read_lease.h); a leader's transfer still goes.
  Clock::time_point votes_quiet_until{};

  std::mutex inbox_mutex;
  std::condition_variable inbox_wake;
  std::vector<std::function<void()>> inbox;
  bool stopped = false;  // guarded by inbox_mutex
  std::thread loop_thread;

  std::atomic<uint32_t> fsync_delay_ms{0};  // injected slow disk (admin RPC)
  bool campaign_on_start = false;  // a fresh cluster: preferred leaders stand at once
  uint64_t next_request_id = 0;
  uint64_t next_read_context = 0;
  uint64_t ticks = 0;

  // ---- posting work to the loop -------------------------------------------

  // False when the loop has stopped: the caller completes its call itself.
  bool post(std::function<void()> fn) {
    std::lock_guard lock(inbox_mutex);
    if (stopped) return false;
    inbox.push_back(std::move(fn));
    if (inbox.size() == 1) inbox_wake.notify_one();
    return true;
  }

  // ---- helpers used on the loop thread ------------------------------------

  Group* group(uint32_t shard) { return shard < groups.size() ? groups[shard].get() : nullptr; }

  std::string node_name(raft::NodeId id) const {
    const PeerInfo* p = topology().find(id);
    return p ? p->id : "";
  }

  void fill_header(const Group& g, v1::ResponseHeader* h) const {
    h->set_shard(g.shard);
    h->set_node(topology().self_info().id);
    h->set_leader(node_name(g.lead));
    if (const PeerInfo* p = topology().find(g.lead)) h->set_leader_address(p->address);
    h->set_term(g.term);
    h->set_index(g.sm.applied_index());
    h->set_shard_count(topology().shard_count);
  }

  grpc::Status not_leader(uint32_t shard, const Group* g) const {
    v1::NotLeader nl;
    nl.set_shard(shard);
    std::string message;
    const std::string self = topology().self_info().id;
    if (!g) {
      // Not a replica here: point at the shard's preferred leader, which is
      // a replica and knows the current leader if it is not it.
      const PeerInfo* p = topology().find(topology().preferred_leader(shard));
      nl.set_leader_address(p->address);
      message = "node " + self + " holds no replica of shard " + std::to_string(shard) +
                "; try " + p->id + " at " + p->address;
    } else if (const PeerInfo* p = topology().find(g->lead); p && g->lead != topology().self) {
      nl.set_leader(p->id);
      nl.set_leader_address(p->address);
      nl.set_term(g->term);
      message = "node " + self + " is not the leader of shard " + std::to_string(shard) +
                "; the leader is " + p->id + " at " + p->address;
    } else {
      nl.set_term(g->term);
      message = "shard " + std::to_string(shard) + " has no leader at the moment (term " +
                std::to_string(g->term) + ")";
    }
    return {grpc::StatusCode::FAILED_PRECONDITION, message, nl.SerializeAsString()};
  }

  grpc::Status propose_error(raft::ProposeError e, const Group& g) const {
    switch (e) {
      case raft::ProposeError::kNotLeader:
      case raft::ProposeError::kTransferInProgress:
        return not_leader(g.shard, &g);
      case raft::ProposeError::kTooMuchUncommitted:
      case raft::ProposeError::kTooManyPendingReads:
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                "shard " + std::to_string(g.shard) + " is overloaded (" +
                    std::string(raft::to_string(e)) + "); retry later"};
      case raft::ProposeError::kTooLarge:
        return {grpc::StatusCode::INVALID_ARGUMENT, "request too large for one Raft message"};
      default:
        return {grpc::StatusCode::INTERNAL, std::string(raft::to_string(e))};
    }
  }

  // ---- requests (run on the loop thread) ----------------------------------

  void propose_write(uint32_t shard, const kv::CommandView& command,
                     std::function<void(const kv::ApplyResult&, const grpc::Status&)> done) {
    Group* g = group(shard);
    if (!g || g->role != raft::Role::kLeader) {
      done({}, not_leader(shard, g));
      return;
    }
    const uint64_t id = next_request_id++;
    g->writes_to_issue.push_back(wrap(id, command));
    g->write_ids_to_issue.push_back(id);
    g->writes.emplace(id, PendingWrite{std::move(done)});
  }

  // All writes that arrived together go to Raft as one batch per group:
  // one AppendEntries per follower instead of one per write.
  void issue_writes() {
    for (auto& gp : groups) {
      if (!gp || gp->writes_to_issue.empty()) continue;
      Group& g = *gp;
      size_t accepted = 0;
      const raft::ProposeError e = g.node->propose_batch(g.writes_to_issue, &accepted);
      if (e != raft::ProposeError::kOk) {
        const grpc::Status s = propose_error(e, g);
        for (size_t i = accepted; i < g.write_ids_to_issue.size(); ++i) {
          auto it = g.writes.find(g.write_ids_to_issue[i]);
          auto done = std::move(it->second.done);
          g.writes.erase(it);
          done({}, s);
        }
      }
      g.writes_to_issue.clear();
      g.write_ids_to_issue.clear();
    }
  }

  // serve runs once the read may be answered (or with the error why not).
  void read(uint32_t shard, v1::Consistency consistency, ReadFn serve) {
    Group* g = group(shard);
    if (!g) {
      serve(not_leader(shard, g));
      return;
    }
    if (consistency == v1::STALE) {
      serve(grpc::Status::OK);
      return;
    }
    if (g->role != raft::Role::kLeader) {
      serve(not_leader(shard, g));
      return;
    }
    // Also the core's own role and term, not only the loop's copy from the
    // last Ready: a message stepped earlier in this iteration may have ended
    // the leadership.
    if (g->node->role() == raft::Role::kLeader && g->node->term() == g->term && lease_covers_read(*g)) {
      serve(grpc::Status::OK);
      return;
    }
    g->reads_to_issue.push_back(std::move(serve));
  }

  // True when the group leads under a lease whose confirmed index is
  // applied: a linearizable read may be answered from the applied state now.
  // Marks the lease as used, so the loop keeps renewing it. On the loop, or
  // under shared_state held shared.
  static bool lease_covers_read(const Group& g) {
    if (g.role != raft::Role::kLeader) return false;
    const auto index = g.lease.read_index(g.term, Clock::now());
    if (!index || *index > g.sm.applied_index()) return false;
    g.lease_used.store(true, std::memory_order_relaxed);
    return true;
  }

  // On the calling (gRPC) thread: answers a linearizable get from the
  // leader's applied state when its lease holds; false when the loop must
  // take the read (no lease, not applied far enough, not the leader).
  bool try_lease_read(uint32_t shard, const v1::GetRequest& req, v1::GetResponse* resp) const {
    const Group* g = shard < groups.size() ? groups[shard].get() : nullptr;
    if (!g) return false;
    std::shared_lock lock(g->shared_state);
    if (!lease_covers_read(*g)) return false;
    if (auto v = g->sm.get(req.user(), req.key())) {
      resp->set_found(true);
      resp->set_value(std::move(*v));
    }
    fill_header(*g, resp->mutable_header());
    return true;
  }

  // One ReadIndex round per group for all reads that arrived together, and
  // one for a lease past half its life, so a steady read load never waits
  // for a round.
  void issue_reads() {
    const Clock::time_point now = Clock::now();
    for (auto& gp : groups) {
      if (!gp) continue;
      Group& g = *gp;
      const bool renew = g.reads_to_issue.empty() && !g.lease_renewal_in_flight &&
                         g.role == raft::Role::kLeader && g.lease.wants_renewal(g.term, now) &&
                         g.lease_used.exchange(false, std::memory_order_relaxed);
      if (g.reads_to_issue.empty() && !renew) continue;
      std::string context = std::to_string(next_read_context++);
      const raft::ProposeError e = g.node->read_index(context);
      if (e != raft::ProposeError::kOk) {
        const grpc::Status s = propose_error(e, g);
        for (auto& r : g.reads_to_issue) r(s);
      } else {
        if (renew) g.lease_renewal_in_flight = true;
        g.reads_in_flight.emplace(std::move(context), ReadRound{std::move(g.reads_to_issue), now, g.term});
      }
      g.reads_to_issue.clear();
    }
  }

  // ---- the loop -----------------------------------------------------------

  void run() {
    if (campaign_on_start) {
      // The preferred leader of each shard stands at once, so a fresh
      // cluster has its leaders where placement wants them without waiting
      // for a timeout. The core must first apply the bootstrap membership,
      // which is what the first Ready cycle does.
      process_ready();
      for (auto& g : groups) {
        if (g && topology().preferred_leader(g->shard) == topology().self) g->node->campaign();
      }
    }
    const auto tick = std::chrono::milliseconds(options.tick_ms);
    auto next_tick = Clock::now() + tick;
    std::vector<std::function<void()>> work;
    while (true) {
      {
        std::unique_lock lock(inbox_mutex);
        inbox_wake.wait_until(lock, next_tick, [&] { return stopped || !inbox.empty(); });
        if (stopped) break;
        work.swap(inbox);
      }
      for (auto& fn : work) fn();
      work.clear();
      issue_writes();
      issue_reads();
      const auto now = Clock::now();
      if (now >= next_tick) {
        // At most one tick per iteration, and no catching up after a stall
        // (a slow fsync, a paused process): a node that was stuck must not
        // see its election timeout expire all at once when it resumes.
        next_tick = std::max(next_tick + tick, now);
        ++ticks;
        for (auto& g : groups) {
          if (g) g->node->tick();
        }
        if (ticks % kRebalanceEveryTicks == 0) rebalance();
        if (ticks <= kEagerCampaignTicks && ticks % 5 == 0) campaign_where_preferred();
      }
      process_ready();
    }
    fail_everything("node " + topology().self_info().id + " is shutting down");
  }

  void process_ready() {
    std::vector<std::pair<Group*, raft::Ready>> readies;
    for (auto& g : groups) {
      if (g && g->node->has_ready()) readies.emplace_back(g.get(), g->node->ready());
    }
    if (readies.empty()) return;

    // 1. A leader's appends and heartbeats leave before its own fsync, so
    //    the followers' disks work in parallel with the leader's (Raft
    //    dissertation 10.2.1): the leader counts its own copy towards a
    //    commit only in a later iteration, once this one's fsync is done,
    //    and followers acknowledge only what they persisted. Only messages
    //    of a term already durable go early; whatever answers a peer (votes,
    //    acknowledgements) waits for the fsync.
    send_messages(readies, /*early=*/true);

    // 2. Persist: snapshots received from leaders, then one batch with every
    //    group's entries and hard state, one sync for all of them.
    storage::WriteBatch batch;
    for (auto& [g, rd] : readies) {
      if (rd.snapshot) check_storage(disk->save_snapshot(g->shard, *rd.snapshot));
      // Term and vote must be durable before any vote or append is
      // acknowledged; the commit index is volatile in Raft (a restarted node
      // learns it again), so a change of commit alone costs no fsync: it
      // rides along with the next write of the group.
      std::optional<raft::HardState> hs;
      if (rd.hard_state) {
        const bool must = !rd.entries.empty() || rd.hard_state->term != g->persisted.term ||
                          rd.hard_state->vote != g->persisted.vote;
        if (must) hs = rd.hard_state;
      }
      if (hs || !rd.entries.empty()) {
        storage::GroupWrite w;
        w.group = g->shard;
        w.hard_state = hs;
        w.entries = rd.entries;
        batch.push_back(w);
        if (hs) g->persisted = *hs;
      }
    }
    if (!batch.empty()) {
      if (const uint32_t delay = fsync_delay_ms.load(); delay > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      }
      check_storage(disk->append(batch));
    }
    for (auto& [g, rd] : readies) {
      if (rd.snapshot) {
        log_info("shard " + std::to_string(g->shard) + ": installed a snapshot at index " +
                 std::to_string(rd.snapshot->meta.index) + " from the leader");
        g->log.apply_snapshot(*rd.snapshot);
        check_storage(disk->compact(g->shard, rd.snapshot->meta.index));
      }
      if (rd.hard_state) g->log.set_hard_state(*rd.hard_state);
      if (!rd.entries.empty()) g->log.append(rd.entries);
    }

    // 3. Send the rest.
    send_messages(readies, /*early=*/false);

    // 4. Apply, then answer reads whose index is applied.
    for (auto& [g, rd] : readies) {
      if (rd.snapshot) restore(*g, *rd.snapshot);
      apply(*g, rd.committed_entries);
      for (raft::ReadState& rs : rd.read_states) {
        auto it = g->reads_in_flight.find(rs.context);
        if (it == g->reads_in_flight.end()) continue;
        ReadRound& round = it->second;
        if (options.read_lease) {
          std::unique_lock lock(g->shared_state);
          g->lease.confirmed(round.term, round.issued, rs.index);
        }
        if (round.reads.empty()) g->lease_renewal_in_flight = false;
        g->reads_ready.emplace_back(rs.index, std::move(round.reads));
        g->reads_in_flight.erase(it);
      }
      serve_ready_reads(*g);
      g->node->advance(rd);
      maybe_snapshot(*g);
      observe_role(*g);
    }
  }

  static bool may_precede_fsync(const raft::Message& m, const Group& g) {
    const bool from_leader = m.type == raft::MessageType::kApp || m.type == raft::MessageType::kHeartbeat ||
                             m.type == raft::MessageType::kSnap ||
                             m.type == raft::MessageType::kTimeoutNow;
    return from_leader && m.term == g.persisted.term;
  }

  // Sends the early (or the remaining) messages of every Ready, coalesced:
  // one batch per destination for all groups, split only when it would
  // outgrow what a peer accepts in one message. Early messages are decided
  // before the fsync, against the term durable until then.
  void send_messages(std::vector<std::pair<Group*, raft::Ready>>& readies, bool early) {
    std::map<raft::NodeId, std::pair<peer::PeerBatch, size_t>> out;
    for (auto& [g, rd] : readies) {
      size_t kept = 0;
      for (size_t i = 0; i < rd.messages.size(); ++i) {
        raft::Message& m = rd.messages[i];
        if (early && !may_precede_fsync(m, *g)) {
          if (kept != i) rd.messages[kept] = std::move(m);
          ++kept;
          continue;
        }
        auto& [batch, bytes] = out[m.to];
        std::string encoded = raft::encode(m);
        if (bytes > 0 && bytes + encoded.size() > kPeerBatchBytesMax) {
          transport->send(m.to, std::move(batch));
          batch = peer::PeerBatch();
          bytes = 0;
        }
        bytes += encoded.size();
        auto* gm = batch.add_messages();
        gm->set_shard(g->shard);
        gm->set_message(std::move(encoded));
      }
      rd.messages.resize(early ? kept : 0);
    }
    for (auto& [to, b] : out) transport->send(to, std::move(b.first));
  }

  void check_storage(const storage::Status& s) {
    if (s.is_ok()) return;
    // Nothing past this point was acknowledged. Stopping is the only way to
    // keep that promise: a node that cannot persist must not vote or ack.
    log_error("storage failed: " + s.to_string() + "; stopping so that nothing unpersisted is acknowledged");
    std::fflush(stderr);
    std::_Exit(kNodeExitStorageFailed);
  }

  void restore(Group& g, const raft::Snapshot& snap) {
    std::string error;
    std::unique_lock lock(g.shared_state);
    if (!g.sm.restore(snap.data, &error)) {
      log_error("shard " + std::to_string(g.shard) + ": snapshot at index " +
                std::to_string(snap.meta.index) + " cannot be restored: " + error);
      std::fflush(stderr);
      std::_Exit(kNodeExitCorruptData);
    }
  }

  // Applies committed entries under one exclusive hold of the group's
  // shared state, then completes the writes this node proposed (which
  // sends their responses) after releasing it.
  void apply(Group& g, const std::vector<raft::Entry>& entries) {
    std::vector<std::pair<PendingWrite, kv::ApplyResult>> completed;
    {
      std::unique_lock lock(g.shared_state);
      for (const raft::Entry& e : entries) {
        if (e.index <= g.sm.applied_index()) continue;  // covered by a restored snapshot
        uint64_t id = 0;
        std::string_view command;
        if (e.type != raft::EntryType::kNormal || e.data.empty() || !unwrap(e.data, &id, &command)) {
          g.sm.apply(e.index, "");
          continue;
        }
        const kv::ApplyResult r = g.sm.apply(e.index, command);
        auto it = g.writes.find(id);
        if (it == g.writes.end()) continue;  // proposed by another node, or before a restart
        completed.emplace_back(std::move(it->second), r);
        g.writes.erase(it);
      }
    }
    for (auto& [write, r] : completed) {
      write.done(r, r.ok ? grpc::Status::OK
                         : grpc::Status(grpc::StatusCode::INTERNAL, "entry is not a valid command"));
    }
  }

  void serve_ready_reads(Group& g) {
    while (!g.reads_ready.empty() && g.reads_ready.front().first <= g.sm.applied_index()) {
      for (auto& r : g.reads_ready.front().second) r(grpc::Status::OK);
      g.reads_ready.pop_front();
    }
  }

  void maybe_snapshot(Group& g) {
    const uint64_t applied = g.sm.applied_index();
    if (applied < g.log.snapshot().meta.index + options.snapshot_every_entries) return;
    if (!g.log.create_snapshot(applied, g.node->voters(), g.node->learners(), g.sm.snapshot())) return;
    check_storage(disk->save_snapshot(g.shard, g.log.snapshot()));
    const uint64_t first_kept = g.log.first_index();
    if (applied > options.log_tail_entries + first_kept) {
      const uint64_t through = applied - options.log_tail_entries;
      if (g.log.compact(through)) check_storage(disk->compact(g.shard, through));
    }
  }

  // Tracks leadership; a leader that lost its role (or term) can no longer
  // answer what it had pending.
  void observe_role(Group& g) {
    // The node's role, term, leader and commit; status() would also copy
    // every follower's progress, once per group per Ready.
    struct {
      raft::Role role;
      uint64_t term;
      raft::NodeId lead;
      uint64_t commit;
    } const st{g.node->role(), g.node->term(), g.node->lead(), g.node->committed()};
    const bool was_leader = g.role == raft::Role::kLeader;
    if (st.lead != g.lead && st.lead != raft::kNoNode) {
      log_info("shard " + std::to_string(g.shard) + ": leader is " + node_name(st.lead) +
               " (term " + std::to_string(st.term) + ")");
    }
    const bool lost = was_leader && (st.role != raft::Role::kLeader || st.term != g.term);
    if (st.role == raft::Role::kLeader && (!was_leader || st.term != g.term)) g.leader_since_tick = ticks;
    if (g.role != st.role || g.term != st.term || g.lead != st.lead) {
      std::unique_lock lock(g.shared_state);
      g.role = st.role;
      g.term = st.term;
      g.lead = st.lead;
    }
    g.commit = st.commit;
    if (lost) fail_group(g, "leadership of shard " + std::to_string(g.shard) + " moved");
  }

  void fail_group(Group& g, const std::string& why) {
    const grpc::Status unknown(grpc::StatusCode::ABORTED,
                               why + " before the write committed; its outcome is unknown");
    auto writes = std::move(g.writes);
    g.writes.clear();
    for (auto& [id, w] : writes) w.done({}, unknown);
    const grpc::Status retry = not_leader(g.shard, &g);
    auto to_issue = std::move(g.reads_to_issue);
    g.reads_to_issue.clear();
    for (auto& r : to_issue) r(retry);
    auto in_flight = std::move(g.reads_in_flight);
    g.reads_in_flight.clear();
    g.lease_renewal_in_flight = false;
    {
      std::unique_lock lock(g.shared_state);
      g.lease.reset();
    }
    for (auto& [ctx, round] : in_flight) {
      for (auto& r : round.reads) r(retry);
    }
    // reads_ready stay: their index was confirmed while this node led, so
    // serving them once applied is still linearizable.
  }

  // At shutdown: work posted before the stop runs first (so every call it
  // carries is accounted for), then everything pending is answered. A write
  // may already be on a peer's disk, so its outcome is unknown, not failed.
  void fail_everything(const std::string& why) {
    std::vector<std::function<void()>> rest;
    {
      std::lock_guard lock(inbox_mutex);
      rest.swap(inbox);
    }
    for (auto& fn : rest) fn();
    issue_writes();
    issue_reads();
    const grpc::Status unknown(grpc::StatusCode::ABORTED, why + "; the write's outcome is unknown");
    const grpc::Status retry = unavailable(why);
    for (auto& gp : groups) {
      if (!gp) continue;
      Group& g = *gp;
      for (auto& [id, w] : g.writes) w.done({}, unknown);
      g.writes.clear();
      for (auto& [ctx, round] : g.reads_in_flight) {
        for (auto& r : round.reads) r(retry);
      }
      g.reads_in_flight.clear();
      for (auto& [index, reads] : g.reads_ready) {
        for (auto& r : reads) r(retry);
      }
      g.reads_ready.clear();
    }
  }

  // Early in a node's life its peers may not have been up when it first
  // stood; standing again where it is the preferred leader and no leader is
  // known gets a fresh cluster fully led sooner than election timeouts.
  void campaign_where_preferred() {
    if (Clock::now() < votes_quiet_until) return;
    for (auto& g : groups) {
      if (g && g->lead == raft::kNoNode && g->role != raft::Role::kLeader &&
          topology().preferred_leader(g->shard) == topology().self) {
        g->node->campaign();
      }
    }
  }

  // Hands leadership back to the shard's preferred leader once it is alive
  // and has the whole log, so write load spreads over the nodes.
  void rebalance() {
    for (auto& gp : groups) {
      if (!gp || gp->role != raft::Role::kLeader) continue;
      Group& g = *gp;
      const raft::NodeId preferred = topology().preferred_leader(g.shard);
      if (preferred == topology().self) continue;
      if (ticks < g.leader_since_tick + kRebalanceStableTicks) continue;
      if (!transport->recently_heard(preferred, kPeerAliveWindowMs)) continue;
      const raft::Status st = g.node->status();
      auto it = st.progress.find(preferred);
      if (it == st.progress.end() || it->second.match < st.last_index) continue;
      {
        std::unique_lock lock(g.shared_state);
        g.lease.forbid(g.term);
      }
      if (g.node->transfer_leader(preferred) == raft::ProposeError::kOk) {
        log_info("shard " + std::to_string(g.shard) + ": handing leadership back to preferred leader " +
                 node_name(preferred));
      }
    }
  }

  void on_peer_batch(raft::NodeId from, peer::PeerBatch& batch) {
    const bool votes_quiet = Clock::now() < votes_quiet_until;
    for (const auto& gm : batch.messages()) {
      Group* g = group(gm.shard());
      if (!g) continue;
      raft::Message m;
      std::string error;
      if (!raft::decode(gm.message(), &m, &error)) {
        log_warn("dropped a malformed Raft message from " + node_name(from) + ": " + error);
        continue;
      }
      if (votes_quiet && (m.type == raft::MessageType::kPreVote ||
                          (m.type == raft::MessageType::kVote && m.context != raft::kTransferContext))) {
        continue;
      }
      g->node->step(m);
    }
  }

  void fill_status(v1::StatusResponse* resp) {
    resp->set_node(topology().self_info().id);
    resp->set_cluster_id(topology().cluster_id);
    resp->set_version(MQ_VERSION_STRING);
    resp->set_shard_count(topology().shard_count);
    resp->set_replication(topology().replication);
    resp->set_uptime_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    for (const auto& p : topology().nodes) {
      auto* n = resp->add_nodes();
      n->set_id(p.id);
      n->set_address(p.address);
      n->set_reachable(transport->recently_heard(p.raft_id, kPeerAliveWindowMs));
    }
    for (auto& gp : groups) {
      if (!gp) continue;
      const raft::Status st = gp->node->status();
      auto* s = resp->add_shards();
      s->set_id(gp->shard);
      s->set_leader(node_name(st.lead));
      s->set_term(st.term);
      s->set_commit(st.commit);
      s->set_applied(gp->sm.applied_index());
      s->set_role(std::string(raft::to_string(st.role)));
      s->set_keys(gp->sm.key_count());
      for (raft::NodeId r : topology().replicas(gp->shard)) {
        auto* ri = s->add_replicas();
        ri->set_node(node_name(r));
        if (st.role == raft::Role::kLeader) {
          auto it = st.progress.find(r);
          const uint64_t match = r == topology().self ? st.last_index
                                 : it != st.progress.end() ? it->second.match
                                                           : 0;
          ri->set_role(r == topology().self ? "leader" : "follower");
          ri->set_match(match);
          ri->set_lag(st.commit > match ? st.commit - match : 0);
        } else if (r == st.lead) {
          ri->set_role("leader");
        } else if (r == topology().self) {
          ri->set_role(std::string(raft::to_string(st.role)));
        }
      }
    }
  }
};

RaftBackend::RaftBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RaftBackend::~RaftBackend() { stop(); }

std::unique_ptr<RaftBackend> RaftBackend::open(const RaftBackendOptions& options,
                                               std::string* error, int* exit_code) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const Topology& t = impl->options.topology;

  storage::StorageOptions so;
  so.data_dir = options.data_dir;
  so.node_id = t.self_info().id;
  so.cluster_id = t.cluster_id;
  so.fsync_mode = options.fsync_mode;
  so.log = [](const std::string& line) { log_info(line); };
  storage::RecoveredState recovered;
  auto opened = storage::Storage::open(so, &recovered);
  if (!opened.is_ok()) {
    *error = opened.status().to_string();
    *exit_code = storage::exit_code_for(opened.status());
    return nullptr;
  }
  impl->disk = std::move(opened.value());

  std::random_device entropy;
  const uint64_t seed_base = (static_cast<uint64_t>(entropy()) << 32) | entropy();
  impl->next_request_id = seed_base;
  impl->groups.resize(t.shard_count);
  const bool fresh = recovered.empty();
  storage::WriteBatch bootstrap_batch;
  std::vector<std::vector<raft::Entry>> bootstrap_entries(t.shard_count);
  for (uint32_t shard = 0; shard < t.shard_count; ++shard) {
    if (!t.hosts(t.self, shard)) continue;
    auto g = std::make_unique<Impl::Group>(
        options.read_lease ? ReadLease::length_for(options.election_ticks, options.tick_ms)
                           : ReadLease::Clock::duration::zero());
    g->shard = shard;
    uint64_t applied = 0;
    auto it = recovered.find(shard);
    if (it != recovered.end()) {
      auto& rg = it->second;
      if (rg.snapshot) {
        g->log.apply_snapshot(*rg.snapshot);
        std::string restore_error;
        if (!g->sm.restore(rg.snapshot->data, &restore_error)) {
          *error = "shard " + std::to_string(shard) + " snapshot: " + restore_error;
          *exit_code = kNodeExitCorruptData;
          return nullptr;
        }
        applied = rg.snapshot->meta.index;
      }
      // The commit index is written lazily (see process_ready), so it may
      // trail the snapshot; a snapshot only ever covers committed entries.
      if (rg.snapshot && rg.hard_state.commit < rg.snapshot->meta.index) {
        rg.hard_state.commit = rg.snapshot->meta.index;
      }
      g->log.set_hard_state(rg.hard_state);
      g->persisted = rg.hard_state;
      if (!rg.entries.empty()) g->log.append(rg.entries);
    } else if (fresh) {
      raft::bootstrap(g->log, t.replicas(shard));
      auto& entries = bootstrap_entries[shard];
      (void)g->log.entries(1, g->log.last_index() + 1, UINT64_MAX, &entries);
      storage::GroupWrite w;
      w.group = shard;
      w.hard_state = g->log.hard_state();
      g->persisted = g->log.hard_state();
      w.entries = entries;
      bootstrap_batch.push_back(w);
    } else {
      *error = "data dir has no state for shard " + std::to_string(shard) +
               " although this node hosts it: it was written by another configuration";
      *exit_code = kNodeExitForeignData;
      return nullptr;
    }
    raft::Config c;
    c.id = t.self;
    c.election_tick = options.election_ticks;
    c.heartbeat_tick = options.heartbeat_ticks;
    c.applied = applied;
    // One entry must always fit in one Raft message: a command carries the
    // value plus the user, the key and a few bytes of framing.
    constexpr uint64_t kCommandOverheadBytes = 4096;
    c.max_size_per_msg_bytes =
        std::max<uint64_t>(c.max_size_per_msg_bytes, options.value_bytes_max + kCommandOverheadBytes);
    c.max_uncommitted_bytes = std::max<uint64_t>(c.max_uncommitted_bytes, 4 * c.max_size_per_msg_bytes);
    c.random_seed = seed_base ^ (static_cast<uint64_t>(shard) * 0x9E3779B97F4A7C15ULL);
    if (auto e = c.validate(); !e.empty()) {
      *error = "raft configuration: " + e;
      *exit_code = kNodeExitUsage;
      return nullptr;
    }
    g->node = std::make_unique<raft::RawNode>(c, g->log);
    impl->groups[shard] = std::move(g);
  }
  if (!bootstrap_batch.empty()) {
    const storage::Status s = impl->disk->append(bootstrap_batch);
    if (!s.is_ok()) {
      *error = "cannot write the initial state: " + s.to_string();
      *exit_code = kNodeExitCannotStart;
      return nullptr;
    }
    log_info("bootstrapped a new cluster " + t.cluster_id + " with " + std::to_string(t.nodes.size()) +
             " nodes, " + std::to_string(t.shard_count) + " shards, replication " +
             std::to_string(t.replication));
    impl->campaign_on_start = true;
  } else {
    log_info("recovered " + std::to_string(recovered.size()) + " shard groups from " + options.data_dir);
    // Alone, a node has no peer whose lease it could break: it may lead at once.
    if (t.nodes.size() > 1) {
      impl->votes_quiet_until =
          impl->started + std::chrono::milliseconds(options.election_ticks * options.tick_ms);
    }
  }

  Impl* raw = impl.get();
  impl->transport = std::make_unique<PeerTransport>(t, [raw](raft::NodeId from, peer::PeerBatch&& b) {
    auto batch = std::make_shared<peer::PeerBatch>(std::move(b));
    raw->post([raw, from, batch] { raw->on_peer_batch(from, *batch); });
  });
  return std::unique_ptr<RaftBackend>(new RaftBackend(std::move(impl)));
}

void RaftBackend::start() {
  Impl* raw = impl_.get();
  impl_->loop_thread = std::thread([raw] { raw->run(); });
}

void RaftBackend::stop() {
  {
    std::lock_guard lock(impl_->inbox_mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->inbox_wake.notify_all();
  }
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  impl_->transport->stop();
}

grpc::Service* RaftBackend::peer_service() { return impl_->transport->service(); }

namespace {
grpc::Status stopped_status() { return unavailable("node is shutting down"); }
}  // namespace

void RaftBackend::set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) {
  Impl* im = impl_.get();
  const uint32_t shard = kv::shard_of(req.user(), im->topology().shard_count);
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool posted = im->post([im, &req, resp, shard, shared_done] {
    im->propose_write(shard, kv::CommandView{kv::Op::kSet, req.user(), req.key(), req.value()},
                      [im, resp, shard, shared_done](const kv::ApplyResult&, const grpc::Status& s) {
                        if (s.ok()) im->fill_header(*im->group(shard), resp->mutable_header());
                        (*shared_done)(s);
                      });
  });
  if (!posted) (*shared_done)(stopped_status());
}

void RaftBackend::del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) {
  Impl* im = impl_.get();
  const uint32_t shard = kv::shard_of(req.user(), im->topology().shard_count);
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool posted = im->post([im, &req, resp, shard, shared_done] {
    im->propose_write(shard, kv::CommandView{kv::Op::kDelete, req.user(), req.key(), {}},
                      [im, resp, shard, shared_done](const kv::ApplyResult& r, const grpc::Status& s) {
                        if (s.ok()) {
                          resp->set_deleted(r.existed);
                          im->fill_header(*im->group(shard), resp->mutable_header());
                        }
                        (*shared_done)(s);
                      });
  });
  if (!posted) (*shared_done)(stopped_status());
}

void RaftBackend::get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) {
  Impl* im = impl_.get();
  const uint32_t shard = kv::shard_of(req.user(), im->topology().shard_count);
  if (req.consistency() != v1::STALE && im->try_lease_read(shard, req, resp)) {
    done(grpc::Status::OK);
    return;
  }
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool posted = im->post([im, &req, resp, shard, shared_done] {
    im->read(shard, req.consistency(), [im, &req, resp, shard, shared_done](const grpc::Status& s) {
      if (s.ok()) {
        Impl::Group& g = *im->group(shard);
        if (auto v = g.sm.get(req.user(), req.key())) {
          resp->set_found(true);
          resp->set_value(std::move(*v));
        }
        im->fill_header(g, resp->mutable_header());
      }
      (*shared_done)(s);
    });
  });
  if (!posted) (*shared_done)(stopped_status());
}

void RaftBackend::list(const v1::ListRequest& req, const kv::Glob& glob, const std::string& after,
                       uint32_t limit, v1::ListResponse* resp, Done done) {
  Impl* im = impl_.get();
  const uint32_t shard = kv::shard_of(req.user(), im->topology().shard_count);
  auto shared_done = std::make_shared<Done>(std::move(done));
  // The glob and the page start live only during this call: the read runs later.
  auto g_copy = std::make_shared<kv::Glob>(glob);
  auto after_copy = std::make_shared<std::string>(after);
  const bool posted = im->post([=, &req] {
    im->read(shard, req.consistency(), [=, &req](const grpc::Status& s) {
      if (s.ok()) {
        Impl::Group& g = *im->group(shard);
        auto page = g.sm.list(req.user(), *g_copy, *after_copy, limit);
        for (auto& k : page.keys) resp->add_keys(std::move(k));
        if (page.more) resp->set_next_page_token(kv::encode_page_token(resp->keys(resp->keys_size() - 1)));
        im->fill_header(g, resp->mutable_header());
      }
      (*shared_done)(s);
    });
  });
  if (!posted) (*shared_done)(stopped_status());
}

void RaftBackend::status(v1::StatusResponse* resp, Done done) {
  Impl* im = impl_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool posted = im->post([im, resp, shared_done] {
    im->fill_status(resp);
    (*shared_done)(grpc::Status::OK);
  });
  if (!posted) (*shared_done)(stopped_status());
}

void RaftBackend::set_faults(const v1::SetFaultsRequest& req, v1::SetFaultsResponse* resp) {
  impl_->transport->set_blocked({req.drop_to().begin(), req.drop_to().end()},
                                {req.drop_from().begin(), req.drop_from().end()});
  impl_->fsync_delay_ms = req.fsync_delay_ms();
  for (const auto& id : impl_->transport->blocked_outbound()) resp->add_drop_to(id);
  for (const auto& id : impl_->transport->blocked_inbound()) resp->add_drop_from(id);
  resp->set_fsync_delay_ms(impl_->fsync_delay_ms);
  log_info("faults set: drop_to [" + std::to_string(req.drop_to_size()) + " nodes], drop_from [" +
           std::to_string(req.drop_from_size()) + " nodes], fsync delay " +
           std::to_string(req.fsync_delay_ms()) + " ms");
}

void RaftBackend::transfer_leader(uint32_t shard, const std::string& to_node, Done done) {
  Impl* im = impl_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  const bool posted = im->post([im, shard, to_node, shared_done] {
    if (shard >= im->topology().shard_count) {
      (*shared_done)({grpc::StatusCode::INVALID_ARGUMENT,
                      "shard " + std::to_string(shard) + " does not exist (the cluster has " +
                          std::to_string(im->topology().shard_count) + ")"});
      return;
    }
    Impl::Group* g = im->group(shard);
    const PeerInfo* to = im->topology().find(to_node);
    if (!to || !im->topology().hosts(to->raft_id, shard)) {
      (*shared_done)({grpc::StatusCode::INVALID_ARGUMENT,
                      "node " + to_node + " holds no replica of shard " + std::to_string(shard)});
      return;
    }
    if (!g || g->role != raft::Role::kLeader) {
      (*shared_done)(im->not_leader(shard, g));
      return;
    }
    if (to->raft_id == im->topology().self) {
      (*shared_done)(grpc::Status::OK);
      return;
    }
    {
      std::unique_lock lock(g->shared_state);
      g->lease.forbid(g->term);
    }
    const raft::ProposeError e = g->node->transfer_leader(to->raft_id);
    (*shared_done)(e == raft::ProposeError::kOk ? grpc::Status::OK : im->propose_error(e, *g));
  });
  if (!posted) (*shared_done)(stopped_status());
}

}  // namespace mq::server
