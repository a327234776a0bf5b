// Leadership: publishing the core's role to lease readers, what a lost
// leadership fails, and the policy that places leaders (fresh clusters
// campaign where placement prefers; leaders hand back to the preferred
// node once it is alive and caught up; operators transfer by hand).
#include <algorithm>
#include <mutex>

#include "node/server/node_host.h"

namespace mq::server {

namespace {

// How often a leader checks whether the shard's preferred leader is back
// and caught up, to hand leadership back and spread write load.
constexpr int kRebalanceEveryTicks = 50;
// A shard hands leadership back only after it has been stable this long
// under its current leader, so transfers never chase each other.
constexpr uint64_t kRebalanceStableTicks = 200;
constexpr uint64_t kEagerCampaignTicks = 100;

}  // namespace

// Copies the core's role, term and leader to the published fields. Called
// before any message of the iteration leaves: a leader that stepped down
// (and may vote for another candidate in the messages about to go) has its
// lease voided first.
void NodeHost::publish_role(ShardGroup& g, const raft::SoftState& soft) {
  const raft::Role role = soft.role;
  const uint64_t term = soft.term;
  const raft::NodeId lead = soft.lead;
  if (role == g.role && term == g.term && lead == g.lead) return;
  // The feed is of shards (status, mq cluster watch); the metadata group's
  // leader shows in the log.
  if (!is_meta(g)) role_changes_.record(env_.now(), g.shard, term, role, lead);
  if (lead != g.lead && lead != raft::kNoNode) {
    ++g.counters.leader_changes_seen;
    log(LogLevel::kInfo, group_name(g.shard) + ": leader is " + node_name(lead) +
                             " (term " + std::to_string(term) + ")");
  }
  const bool was_leader = g.role == raft::Role::kLeader;
  if (role == raft::Role::kLeader && (!was_leader || term != g.term)) g.leader_since_tick = ticks_;
  std::unique_lock lock(g.shared_state);
  if (was_leader && (role != raft::Role::kLeader || term != g.term) &&
      !options_.mutations.lease_kept_on_step_down) {
    g.lease.reset();
  }
  g.role = role;
  g.term = term;
  g.lead = lead;
}

// A leadership transfer is about to start: the target's forced vote passes
// the followers' refusal, so no lease may stand for the rest of the term.
void NodeHost::forbid_lease(ShardGroup& g) {
  if (options_.mutations.lease_kept_on_step_down) return;
  std::unique_lock lock(g.shared_state);
  g.lease.forbid(g.term);
}

// Answers what waits on the group's leadership: writes as unknown (a
// proposed write may still commit under another leader), reads not yet
// confirmed with `retry`. Reads already confirmed (reads_ready) are left:
// their index was confirmed while this node led, so serving them once
// applied is still linearizable.
void NodeHost::fail_pending(ShardGroup& g, const Outcome& unknown, const Outcome& retry) {
  auto writes = std::move(g.writes);
  g.writes.clear();
  g.counters.proposals_failed += writes.size();
  for (auto& [id, done] : writes) done(unknown, {});
  auto to_issue = std::move(g.reads_to_issue);
  g.reads_to_issue.clear();
  for (auto& r : to_issue) r(retry);
  auto in_flight = std::move(g.reads_in_flight);
  g.reads_in_flight.clear();
  g.lease_renewal_in_flight = false;
  for (auto& [ctx, round] : in_flight) {
    for (auto& r : round.reads) r(retry);
  }
}

// A leader that lost its role (or term): its reads go to the new leader.
void NodeHost::fail_group(ShardGroup& g, const std::string& why) {
  fail_pending(g,
               Outcome::with(Outcome::Code::kOutcomeUnknown,
                             why + " before the write committed; its outcome is unknown"),
               not_leader(g.shard, &g));
}

void NodeHost::tick() {
  ++ticks_;
  if (ticks_ % kMemoryCheckEveryTicks == 0) check_memory();
  if (ticks_ % kWalCheckEveryTicks == 0) release_wal();
  if (ticks_ % kSnapshotSyncEveryTicks == 0) sync_snapshots();
  for (auto& g : groups_) {
    // A follower told it left the group (removal_notice.cc) does not stand
    // for election: nobody counts it.
    if (g && !(g->told_removed && g->role != raft::Role::kLeader)) g->node->tick();
  }
  if (ticks_ % kRebalanceEveryTicks == 0) rebalance();
  if (ticks_ % kReconcileEveryTicks == 0) {
    reconcile();
    drop_removed_groups();
    stop_if_removed();
  }
  if (ticks_ % kAskWhenQuietEveryTicks == 0) ask_when_quiet();
  if (ticks_ % kSnapshotSyncEveryTicks == 0) drop_stray_replicas();
  if (ticks_ <= kEagerCampaignTicks && ticks_ % 5 == 0) campaign_where_preferred();
}

// Early in a node's life its peers may not have been up when it first
// stood; standing again where it is the preferred leader and no leader is
// known gets a fresh cluster fully led sooner than election timeouts. The
// core's own view of the leader counts, not the published one: a heartbeat
// stepped in this very iteration may have named a leader, and this node
// must not campaign against the round it just acknowledged.
void NodeHost::campaign_where_preferred() {
  if (env_.now() < votes_quiet_until_) return;
  for (auto& g : groups_) {
    if (g && g->node->lead() == raft::kNoNode && g->node->role() != raft::Role::kLeader &&
        preferred_leader(g->shard) == topology().self) {
      g->node->campaign();
    }
  }
}

// Hands leadership back to the shard's preferred leader once it is alive and
// has the whole log, so write load spreads over the nodes.
void NodeHost::rebalance() {
  for (auto& gp : groups_) {
    if (!gp || gp->role != raft::Role::kLeader) continue;
    ShardGroup& g = *gp;
    const raft::NodeId preferred = preferred_leader(g.shard);
    if (preferred == topology().self || preferred == raft::kNoNode) continue;
    if (std::find(g.replicas.begin(), g.replicas.end(), preferred) == g.replicas.end()) continue;
    if (ticks_ < g.leader_since_tick + kRebalanceStableTicks) continue;
    if (!env_.peers->recently_heard(preferred, kPeerAliveWindowMs)) continue;
    const raft::Status st = g.node->status();
    auto it = st.progress.find(preferred);
    if (it == st.progress.end() || it->second.match < st.last_index) continue;
    forbid_lease(g);
    if (g.node->transfer_leader(preferred) == raft::ProposeError::kOk) {
      log(LogLevel::kInfo, group_name(g.shard) +
                               ": handing leadership back to preferred leader " + node_name(preferred));
    }
  }
}

void NodeHost::transfer_leader(uint32_t shard, const std::string& to_node,
                               std::function<void(const Outcome&)> done) {
  if (shard >= topology().shard_count) {
    done(Outcome::with(Outcome::Code::kInvalidArgument,
                       "shard " + std::to_string(shard) + " does not exist (the cluster has " +
                           std::to_string(topology().shard_count) + ")"));
    return;
  }
  ShardGroup* g = group(shard);
  const PeerInfo* to = topology().find(to_node);
  // A replica knows the group's members; elsewhere the map says.
  const bool member = to && (g ? std::find(g->replicas.begin(), g->replicas.end(), to->raft_id) !=
                                     g->replicas.end()
                               : topology().hosts(to->raft_id, shard));
  if (!member) {
    done(Outcome::with(Outcome::Code::kInvalidArgument,
                       "node " + to_node + " holds no replica of shard " + std::to_string(shard)));
    return;
  }
  if (!g || g->role != raft::Role::kLeader) {
    done(not_leader(shard, g));
    return;
  }
  if (to->raft_id == topology().self) {
    done(Outcome::success());
    return;
  }
  forbid_lease(*g);
  const raft::ProposeError e = g->node->transfer_leader(to->raft_id);
  done(e == raft::ProposeError::kOk ? Outcome::success() : propose_error(e, *g));
}

}  // namespace mq::server
