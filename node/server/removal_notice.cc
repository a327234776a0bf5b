// A replica that missed its own removal from a group (its node was down or
// cut off when the group moved on without it) is never told by the group:
// no leader sends to it any more. It would hold its data and campaign in
// vain for ever; and a member removed from the cluster while away comes
// back not even knowing that, since the metadata group dropped it too.
//
// So a replica no leader has fed for a while asks its peers
// (PeerBatch.quiet_groups), and a node holding nothing a configuration
// counts, or no metadata replica (so its map may stay stale for ever),
// asks whether it was removed (asks_if_removed). A peer whose applied
// configuration of the group omits the asker, and whose cluster map does
// not place it there, answers with a RemovalNotice naming that
// configuration's entry; the asker checks against its own log that it
// missed that configuration (missed_removal). The notice also says whether
// the peer's map removed the asker from the cluster altogether, which is
// final: member ids are never reused.
//
// A told replica leaves like one that applied its own removal: it stops
// campaigning (two such replicas would otherwise keep each other busy with
// vote requests for ever), and it goes once nobody has asked anything of
// it for a while (and it does not lead), so a leader with a newer map that
// adds it back (and feeds it) keeps it, and applying a configuration that
// holds it again clears the notice (ready_pipeline.cc). A removed member
// that holds nothing more stops, as etcd's removed members do, and its
// data dir is refused at the next start (host_recovery.cc).
#include <algorithm>

#include "node/server/exit_codes.h"
#include "node/server/node_host.h"

namespace mq::server {

namespace {

// One notice per peer at most this often.
constexpr uint64_t kRemovalNoticeEveryTicks = 10;
// A replica no leader fed for this long asks its peers whether they still
// count it (healthy followers hear heartbeats far more often).
constexpr uint64_t kQuietTicks = 100;

}  // namespace

bool NodeHost::sender_left_group(raft::NodeId from, const ShardGroup& g) const {
  if (map_.empty() || g.config_from.index == 0) return false;
  auto in = [](const std::vector<raft::NodeId>& v, raft::NodeId id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  if (!in(g.replicas, topology().self) || in(g.replicas, from)) return false;
  const GroupTarget t = target_of(g);
  return !in(t.voters, from) && !in(t.learners, from);
}

void NodeHost::answer_quiet_groups(raft::NodeId from, const peer::PeerBatch& batch) {
  std::vector<uint32_t> left;
  for (uint32_t slot : batch.quiet_groups()) {
    if (slot < groups_.size() && groups_[slot] && sender_left_group(from, *groups_[slot])) {
      left.push_back(slot);
    }
  }
  if (!left.empty() || batch.asks_if_removed()) tell_removed(from, left);
}

// Every replica no leader has fed for a while (and that does not lead)
// says so to every peer; a node without one replica a configuration counts, or
// without a metadata replica, asks every peer whether it was removed.
void NodeHost::ask_when_quiet() {
  if (!env_.peers) return;
  std::unordered_map<raft::NodeId, peer::PeerBatch> out;
  bool counted = false;
  for (const auto& gp : groups_) {
    if (!gp) continue;
    const ShardGroup& g = *gp;
    counted = counted || (!g.replicas.empty() && !g.leaving());
    if (g.role == raft::Role::kLeader || ticks_ < g.last_fed_tick + kQuietTicks) continue;
    // Every peer, not only those its configuration names: they may all
    // have left the group since (node simulator, seed 6508 on 5 nodes).
    for (const PeerInfo& p : topology().nodes) {
      if (p.raft_id != topology().self && !p.removed) out[p.raft_id].add_quiet_groups(g.shard);
    }
  }
  const uint32_t meta = topology().meta_shard();
  const ShardGroup* meta_replica = meta < groups_.size() ? groups_[meta].get() : nullptr;
  const bool map_may_be_stale = !meta_replica || meta_replica->replicas.empty() || meta_replica->leaving();
  if (!counted || map_may_be_stale) {
    for (const PeerInfo& p : topology().nodes) {
      if (p.raft_id != topology().self && !p.removed) out[p.raft_id].set_asks_if_removed(true);
    }
  }
  for (auto& [to, batch] : out) {
    batch.set_vote_refusal_us(static_cast<uint64_t>(own_vote_refusal_us_));
    env_.peers->send(to, std::move(batch));
  }
}

void NodeHost::tell_removed(raft::NodeId to, const std::vector<uint32_t>& slots) {
  const Member* m = map_.find(to);
  const bool member_removed = m && m->state == MemberState::kRemoved;
  if ((slots.empty() && !member_removed) || !env_.peers) return;
  uint64_t& last = removal_told_at_tick_[to];
  if (last != 0 && ticks_ + 1 < last + kRemovalNoticeEveryTicks) return;
  last = ticks_ + 1;
  peer::PeerBatch batch;
  peer::RemovalNotice& notice = *batch.mutable_removal();
  notice.set_map_version(map_.version());
  notice.set_member_removed(member_removed);
  std::string names;
  for (uint32_t slot : slots) {
    peer::GroupLeft& left = *notice.add_groups();
    left.set_slot(slot);
    left.set_config_index(groups_[slot]->config_from.index);
    left.set_config_term(groups_[slot]->config_from.term);
    names += (names.empty() ? "" : ", ") + group_name(slot);
  }
  batch.set_vote_refusal_us(static_cast<uint64_t>(own_vote_refusal_us_));
  log(LogLevel::kInfo, "told " + node_name(to) +
                           (names.empty() ? "" : " that it is no longer a replica of " + names) +
                           (member_removed ? " that it was removed from the cluster" : ""));
  env_.peers->send(to, std::move(batch));
}

// This replica missed the configuration that omits it when either
//   - its log ends before that configuration's entry, or holds another
//     entry (of another term) there: its log agrees with the committed one
//     only before that entry, so it acknowledged nothing committed from
//     there on, and it never applied a configuration from there on; or
//   - its log holds that very entry (same index and term, so the same log
//     up to there) and no membership change after it: every configuration
//     it knows of, committed or not, omits it.
// Either way it holds nothing the group needs. Should a leader with a newer
// map have added it back meanwhile, that leader feeds it, and the first
// configuration it applies that holds it voids the notice.
bool NodeHost::missed_removal(const ShardGroup& g, const peer::GroupLeft& left) const {
  const uint64_t last = g.log.last_index();
  if (last < left.config_index()) return true;
  uint64_t term = 0;
  if (g.log.term(left.config_index(), &term) != raft::StorageError::kOk) return false;
  if (term != left.config_term()) return true;
  std::vector<raft::Entry> after;
  if (last > left.config_index() &&
      g.log.entries(left.config_index() + 1, last + 1, UINT64_MAX, &after) != raft::StorageError::kOk) {
    return false;
  }
  return std::none_of(after.begin(), after.end(),
                      [](const raft::Entry& e) { return e.type == raft::EntryType::kConfChange; });
}

void NodeHost::on_removal_notice(raft::NodeId from, const peer::RemovalNotice& notice) {
  if (notice.member_removed() && told_removed_.map_version == 0) {
    told_removed_ = {node_name(from), notice.map_version()};
    log(LogLevel::kWarn, node_name(from) + " says this node was removed from cluster " +
                             topology().cluster_id + " (its map version " +
                             std::to_string(notice.map_version()) + ")");
  }
  for (const peer::GroupLeft& left : notice.groups()) {
    const uint32_t slot = left.slot();
    if (slot >= groups_.size() || !groups_[slot] || groups_[slot]->leaving()) continue;
    if (!missed_removal(*groups_[slot], left)) continue;
    groups_[slot]->told_removed = true;
    log(LogLevel::kInfo, group_name(slot) + ": " + node_name(from) +
                             " no longer counts this node as a replica; it is dropped once nobody "
                             "asks anything of it");
  }
}

void NodeHost::stop_if_removed() {
  const Member* me = map_.find(topology().self);
  const bool in_map = me && me->state == MemberState::kRemoved;
  if (!in_map && told_removed_.map_version == 0) return;
  for (const auto& gp : groups_) {
    if (gp) return;
  }
  const std::string how =
      in_map ? "" : " (told by " + told_removed_.by + ", map version " +
                        std::to_string(told_removed_.map_version) + ")";
  env_.halt(kNodeExitRemoved, "node " + topology().self_info().id + " (member " +
                                  std::to_string(topology().self) + ") was removed from cluster " +
                                  topology().cluster_id + how +
                                  " and holds no replicas: it stops; its data dir cannot rejoin: "
                                  "start it with an empty data dir and --join");
}

}  // namespace mq::server
