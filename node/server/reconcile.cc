// Replicas follow the cluster map. The leader of each group compares the
// group's configuration with the map's target for it and takes one step at
// a time (Raft allows one membership change in flight per group):
//   1. a learner the target wants as a voter, once caught up, is promoted;
//   2. a member of the target missing from the group is added as a learner
//      (at most kCatchUpsMax at once on this node: catching up costs the
//      leader a snapshot and the log, and client traffic keeps the rest);
//   3. once every target voter votes, a voter outside the target is
//      removed, so a group never has fewer voters than its target: a
//      leader outside it hands leadership to a caught-up target voter
//      first;
//   4. a learner outside the target is removed.
// And no step is taken until every live voter has applied the last one.
// Membership applies when committed (as in etcd's Raft), so a voter that
// has not learned of the commit acts on the older configuration: had the
// leader gone on, and then failed, the survivors could hold a quorum of the
// new configuration that none of them knows it has (node simulator, seed
// 46: a promoted learner that did not know it, beside a voter that knew
// neither change, after the third voter left the group and dropped it).
// A replica that applies its own removal drops the group and its data. A
// replica appears when a leader first sends to it (group_for_message).
#include <algorithm>
#include <set>
#include <tuple>

#include "node/raft/conf_change.h"
#include "node/server/group_ids.h"
#include "node/server/node_host.h"

namespace mq::server {

namespace {

// A learner within this many entries of the leader's log counts as caught
// up: promoting it then costs no wait for a quorum that includes it.
constexpr uint64_t kCaughtUpSlackEntries = 256;
// Learners this node catches up at once, over all the groups it leads.
constexpr size_t kCatchUpsMax = 2;
// An empty replica that no leader fed within this many ticks, on a node
// the map does not place it on, is dropped (a stray message created it).
constexpr uint64_t kStrayReplicaTicks = 500;
// After this node drops a group it left, messages its leader sent before
// applying the removal still arrive; they must not start a new replica.
constexpr uint64_t kDroppedQuietTicks = 100;
// A group this node left goes after this long without a message for it.
constexpr uint64_t kLeavingQuietTicks = 300;

bool contains(const std::vector<raft::NodeId>& v, raft::NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

const char* step_name(raft::ConfChangeType t) {
  switch (t) {
    case raft::ConfChangeType::kAddVoter: return "promoting";
    case raft::ConfChangeType::kAddLearner: return "adding as a learner";
    case raft::ConfChangeType::kRemoveNode: return "removing";
  }
  return "changing";
}

}  // namespace

bool NodeHost::settled(const ShardGroup& g) const {
  const GroupTarget t = target_of(g);
  const std::vector<raft::NodeId> voters = g.node->voters();
  const std::vector<raft::NodeId> learners = g.node->learners();
  return voters.size() == t.voters.size() && learners.size() == t.learners.size() &&
         std::all_of(t.voters.begin(), t.voters.end(),
                     [&](raft::NodeId v) { return contains(voters, v); }) &&
         std::all_of(t.learners.begin(), t.learners.end(),
                     [&](raft::NodeId l) { return contains(learners, l); });
}

// Counted when asked (status), against the map the node has now: a count
// kept from the last reconcile would say "nothing moves" for the moment
// between a new map and the reconcile that acts on it.
size_t NodeHost::moves_in_flight() const {
  if (map_.empty()) return 0;
  size_t moving = 0;
  for (const auto& gp : groups_) {
    if (gp && gp->role == raft::Role::kLeader && !gp->leaving() && !settled(*gp)) ++moving;
  }
  return moving;
}

NodeHost::GroupTarget NodeHost::target_of(const ShardGroup& g) const {
  GroupTarget t;
  if (g.shard == topology().meta_shard()) {
    t.voters = map_.meta_voters();
    t.learners = map_.meta_learners();
  } else {
    t.voters = map_.placement(g.shard).replicas;
  }
  return t;
}

void NodeHost::reconcile() {
  std::vector<ShardGroup*> led;
  for (auto& gp : groups_) {
    if (gp && gp->role == raft::Role::kLeader && !gp->leaving()) led.push_back(gp.get());
  }
  // Told it was removed from the cluster (removal_notice.cc), this node
  // knows its own map is stale, or gone with its metadata replica: it takes
  // no step, and hands each group it leads to a caught-up voter, whose map
  // is the cluster's.
  if (told_removed_.map_version != 0) {
    for (ShardGroup* g : led) {
      const raft::Status st = g->node->status();
      if (st.lead_transferee != raft::kNoNode) continue;
      std::vector<raft::NodeId> to;
      for (const auto& [id, pr] : st.progress) {
        if (id == topology().self || pr.match < st.last_index || !contains(g->node->voters(), id)) continue;
        // Not to another removed member: two would hand it back and forth
        // (node simulator, seed 7962 on 5 nodes).
        if (const Member* m = map_.find(id); m && m->state == MemberState::kRemoved) continue;
        to.push_back(id);
      }
      if (to.empty()) continue;
      // Another one each time: one that refuses (a removed member whose
      // map did not say so here) does not hold the group for ever.
      const raft::NodeId target = to[handovers_++ % to.size()];
      forbid_lease(*g);
      if (g->node->transfer_leader(target) == raft::ProposeError::kOk) {
        log(LogLevel::kInfo, group_name(g->shard) + ": handing leadership to " + node_name(target) +
                                 ": this node was removed from the cluster");
      }
    }
    return;
  }
  if (map_.empty()) return;
  size_t catching_up = 0;
  for (ShardGroup* g : led) {
    const GroupTarget t = target_of(*g);
    for (raft::NodeId l : g->node->learners()) catching_up += contains(t.voters, l) ? 1 : 0;
  }
  for (ShardGroup* g : led) {
    if (settled(*g)) continue;
    const std::vector<raft::NodeId> voters = g->node->voters();
    const std::vector<raft::NodeId> learners = g->node->learners();
    const GroupTarget t = target_of(*g);
    if (!voters_applied_last_change(*g, voters)) continue;
    const raft::Status st = g->node->status();
    // A learner that never acknowledged anything is not caught up, however
    // short the log: it may not even be running (an operator added a node
    // and never started it), and as a voter it would count toward quorums.
    auto caught_up = [&](raft::NodeId id) {
      if (id == topology().self) return true;
      auto it = st.progress.find(id);
      return it != st.progress.end() && it->second.match > 0 &&
             it->second.match + kCaughtUpSlackEntries >= st.last_index;
    };
    std::optional<raft::ConfChange> step;
    for (raft::NodeId l : learners) {
      if (contains(t.voters, l) && caught_up(l)) {
        step = raft::ConfChange{raft::ConfChangeType::kAddVoter, l};
        break;
      }
    }
    if (!step) {
      for (const auto* want : {&t.voters, &t.learners}) {
        for (raft::NodeId n : *want) {
          if (step || contains(voters, n) || contains(learners, n)) continue;
          if (catching_up >= kCatchUpsMax) break;
          ++catching_up;
          step = raft::ConfChange{raft::ConfChangeType::kAddLearner, n};
        }
      }
    }
    const bool target_votes = std::all_of(t.voters.begin(), t.voters.end(),
                                          [&](raft::NodeId v) { return contains(voters, v); });
    if (!step && target_votes) {
      for (raft::NodeId v : voters) {
        if (contains(t.voters, v)) continue;
        if (v == topology().self) {
          // Hand over first; the next leader removes this node.
          for (raft::NodeId to : t.voters) {
            if (!caught_up(to) || st.lead_transferee != raft::kNoNode) continue;
            forbid_lease(*g);
            if (g->node->transfer_leader(to) == raft::ProposeError::kOk) {
              log(LogLevel::kInfo, group_name(g->shard) + ": handing leadership to " +
                                       node_name(to) + " before leaving the group");
            }
            break;
          }
          break;
        }
        step = raft::ConfChange{raft::ConfChangeType::kRemoveNode, v};
        break;
      }
    }
    if (!step) {
      for (raft::NodeId l : learners) {
        if (!contains(t.voters, l) && !contains(t.learners, l)) {
          step = raft::ConfChange{raft::ConfChangeType::kRemoveNode, l};
          break;
        }
      }
    }
    if (!step) continue;
    if (g->node->propose_conf_change(*step) == raft::ProposeError::kOk) {
      log(LogLevel::kInfo, group_name(g->shard) + ": " + step_name(step->type) + " " +
                               node_name(step->node) + " (cluster map version " +
                               std::to_string(map_.version()) + ")");
    }
  }
}

bool NodeHost::voters_applied_last_change(const ShardGroup& g,
                                          const std::vector<raft::NodeId>& voters) const {
  if (g.last_conf_index == 0) return true;
  for (raft::NodeId v : voters) {
    if (v == topology().self || !env_.peers->recently_heard(v, kPeerAliveWindowMs)) continue;
    auto it = g.peer_applied.find(v);
    if (it == g.peer_applied.end() || it->second < g.last_conf_index) return false;
  }
  return true;
}

void NodeHost::refresh_replicas(ShardGroup& g) {
  std::vector<raft::NodeId> replicas = g.node->voters();
  for (raft::NodeId l : g.node->learners()) replicas.push_back(l);
  std::sort(replicas.begin(), replicas.end());
  g.replicas = std::move(replicas);
}

// Groups this node was removed from go, data and all, once nobody has
// written to them for a while. Not at once: membership applies when
// committed, and the survivors may not know yet that it was; should the
// leader fail now, they still count this replica as a voter, and only its
// vote can elect the next leader, who then tells them (node simulator,
// seed 113). Once the group no longer needs it nobody writes to it. If
// placement brings the group back, its replica starts empty, under
// another id.
void NodeHost::drop_removed_groups() {
  for (auto& gp : groups_) {
    if (!gp || !gp->leaving() || ticks_ < gp->last_heard_tick + kLeavingQuietTicks) continue;
    // A leader is asked nothing, only answered: one that was told it left
    // (removal_notice.cc) waits until it learns it no longer leads.
    if (gp->told_removed && !gp->removed_self && gp->role == raft::Role::kLeader) continue;
    drop_group(gp, "this node was removed from " + group_name(gp->shard));
  }
}

void NodeHost::drop_group(std::unique_ptr<ShardGroup>& gp, const std::string& why) {
  ShardGroup& g = *gp;
  fail_pending(g, Outcome::with(Outcome::Code::kOutcomeUnknown, why + "; the write's outcome is unknown"),
               not_leader(g.shard, nullptr));
  auto ready = std::move(g.reads_ready);
  for (auto& [index, reads] : ready) {
    for (auto& r : reads) r(Outcome::with(Outcome::Code::kUnavailable, why));
  }
  storage::GroupTombstone tombstone;
  tombstone.term = g.log.hard_state().term;
  tombstone.vote = g.log.hard_state().vote;
  tombstone.last_index = g.log.last_index();
  uint64_t last_term = 0;
  if (g.log.term(tombstone.last_index, &last_term) == raft::StorageError::kOk) {
    tombstone.last_term = last_term;
  }
  check_storage(disk_->remove_group(g.storage_id, tombstone));
  note_tombstone(g.shard, tombstone);
  dropped_at_tick_[g.shard] = ticks_ + 1;
  log(LogLevel::kInfo, why + ": its replica is dropped");
  // A lease reader on another thread may still hold the group: it stays
  // allocated (emptied) for the host's life, which sees few such drops.
  lease_view_[g.shard].store(nullptr, std::memory_order_release);
  {
    std::unique_lock lock(g.shared_state);
    g.role = raft::Role::kFollower;
    g.lease.reset();
    g.sm = kv::KvStateMachine();
  }
  retired_groups_.push_back(std::move(gp));
}

// A message from a leader for a group this node does not hold: the leader
// added this node, so the group starts here empty and the leader fills it
// (a snapshot, then the log).
ShardGroup* NodeHost::group_for_message(uint32_t slot, const raft::Message& m) {
  if (slot >= groups_.size()) return nullptr;
  if (groups_[slot]) return groups_[slot].get();
  const bool from_leader = m.type == raft::MessageType::kApp ||
                           m.type == raft::MessageType::kHeartbeat ||
                           m.type == raft::MessageType::kSnap;
  if (!from_leader || m.to != topology().self) return nullptr;
  if (dropped_at_tick_[slot] != 0 && ticks_ + 1 < dropped_at_tick_[slot] + kDroppedQuietTicks) {
    return nullptr;
  }
  if (const Member* me = map_.find(topology().self); me && me->state == MemberState::kRemoved) {
    return nullptr;
  }
  if (told_removed_.map_version != 0) return nullptr;
  auto g = new_group(slot, group_storage_id(slot, next_incarnation_[slot]++));
  // A replica this node had before may still be counted as a voter by
  // members that have not learned of its removal: the new one carries on
  // from its term and vote (storage::GroupTombstone).
  const storage::GroupTombstone& tomb = tombstones_[slot];
  if (tomb.term > 0) g->log.set_hard_state(raft::HardState{tomb.term, tomb.vote, 0});
  std::string error;
  if (!make_raft_node(*g, 0, &error)) {
    log(LogLevel::kError, group_name(slot) + ": cannot start a replica: " + error);
    return nullptr;
  }
  log(LogLevel::kInfo, group_name(slot) + ": new replica, started by " + node_name(m.from) +
                           " (term " + std::to_string(m.term) + ")");
  groups_[slot] = std::move(g);
  lease_view_[slot].store(groups_[slot].get(), std::memory_order_release);
  return groups_[slot].get();
}

// Keeps, per slot, the most a removed replica of it had reached.
void NodeHost::note_tombstone(uint32_t slot, const storage::GroupTombstone& t) {
  storage::GroupTombstone& kept = tombstones_[slot];
  if (t.term > kept.term) {
    kept.term = t.term;
    kept.vote = t.vote;
  }
  if (std::tie(t.last_term, t.last_index) > std::tie(kept.last_term, kept.last_index)) {
    kept.last_term = t.last_term;
    kept.last_index = t.last_index;
  }
}

// A vote this slot's removed replica would have refused (the candidate's
// log is behind the last entry it had) is refused here too.
bool NodeHost::vote_behind_tombstone(uint32_t slot, const raft::Message& m) const {
  if (m.type != raft::MessageType::kVote && m.type != raft::MessageType::kPreVote) return false;
  const storage::GroupTombstone& t = tombstones_[slot];
  return std::tie(m.log_term, m.index) < std::tie(t.last_term, t.last_index);
}

// Empty replicas nobody fed and the map does not place here.
void NodeHost::drop_stray_replicas() {
  // A node told it was removed from the cluster is placed nowhere,
  // whatever its own map (if it has one yet) still says.
  const bool removed = told_removed_.map_version != 0;
  if (map_.empty() && !removed) return;
  for (auto& gp : groups_) {
    if (!gp || gp->log.last_index() > 0 || gp->log.snapshot_meta().index > 0) continue;
    if (ticks_ < gp->created_at_tick + kStrayReplicaTicks) continue;
    const bool placed = !removed && (gp->shard == topology().meta_shard()
                                         ? contains(map_.meta_voters(), topology().self) ||
                                               contains(map_.meta_learners(), topology().self)
                                         : map_.hosts(topology().self, gp->shard));
    if (placed) continue;
    drop_group(gp, group_name(gp->shard) + " was never filled on this node");
  }
}

}  // namespace mq::server
