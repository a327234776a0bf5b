// The metadata group: the cluster map (cluster_map.h) as replicated state.
// Its state machine is a KV map like a shard's, holding one record, the
// encoded cluster map; every entry writes the whole map. Only the group's
// leader proposes, one change at a time, computed from a map it has fully
// applied, so each entry is the next map and applying it needs no checks:
// the checks ran on the leader (ClusterMap::apply) before it proposed.
#include <algorithm>
#include <mutex>

#include "node/raft/conf_change.h"
#include "node/server/exit_codes.h"
#include "node/server/node_host.h"
#include "node/server/write_envelope.h"

namespace mq::server {

namespace {

constexpr std::string_view kMapUser = "mq";
constexpr std::string_view kMapKey = "cluster_map";

std::string describe_members(const ClusterMap& map) {
  std::string out;
  for (const Member& m : map.members()) {
    if (m.state == MemberState::kRemoved) continue;
    if (!out.empty()) out += ", ";
    out += m.name + "=" + m.address;
  }
  return out;
}

}  // namespace

std::string NodeHost::map_entry(const ClusterMap& map, uint64_t request_id) {
  const std::string bytes = map.encode();
  return wrap(request_id, kv::CommandView{kv::Op::kSet, kMapUser, kMapKey, bytes});
}

// A group's first entries, as every bootstrapping replica writes them: the
// configuration, then (for the metadata group) the first map; all
// committed in term 1, so no election is needed to make them stand.
void NodeHost::bootstrap_log(raft::MemoryStorage& log, const std::vector<raft::NodeId>& voters,
                             const std::vector<raft::NodeId>& learners, const std::string& data) {
  std::vector<raft::Entry> entries;
  auto add = [&](raft::EntryType type, std::string bytes) {
    raft::Entry e;
    e.term = 1;
    e.index = entries.size() + 1;
    e.type = type;
    e.data = std::move(bytes);
    entries.push_back(std::move(e));
  };
  for (raft::NodeId id : voters) {
    add(raft::EntryType::kConfChange,
        raft::encode(raft::ConfChange{raft::ConfChangeType::kAddVoter, id}));
  }
  for (raft::NodeId id : learners) {
    add(raft::EntryType::kConfChange,
        raft::encode(raft::ConfChange{raft::ConfChangeType::kAddLearner, id}));
  }
  if (!data.empty()) add(raft::EntryType::kNormal, data);
  log.append(entries);
  log.set_hard_state(raft::HardState{1, raft::kNoNode, entries.size()});
}

std::string NodeHost::group_name(uint32_t slot) const {
  return slot == topology().meta_shard() ? "the metadata group" : "shard " + std::to_string(slot);
}

void NodeHost::publish_topology() {
  auto copy = std::make_shared<const Topology>(options_.topology);
  std::lock_guard lock(published_mutex_);
  published_topology_ = std::move(copy);
}

void NodeHost::size_peer_tables() {
  const size_t n = topology().nodes.size() + 1;
  if (peer_vote_refusal_us_.size() < n) peer_vote_refusal_us_.resize(n, 0);
  if (peer_memory_full_.size() < n) peer_memory_full_.resize(n);
  if (metrics_.peers.size() < n) metrics_.peers.resize(n);
}

raft::NodeId NodeHost::preferred_leader(uint32_t slot) const {
  if (slot != topology().meta_shard()) return topology().preferred_leader(slot);
  // The metadata group prefers its lowest voter, as bootstrap made it.
  const std::vector<raft::NodeId> voters = map_.empty() ? std::vector<raft::NodeId>{1}
                                                        : map_.meta_voters();
  return voters.empty() ? raft::kNoNode : voters.front();
}

// After the metadata group applied entries (or restored a snapshot): the
// node now acts on the newest map, its members and placement.
void NodeHost::refresh_map() {
  ShardGroup* g = group(topology().meta_shard());
  if (!g) return;
  std::optional<std::string> bytes = g->sm.get(std::string(kMapUser), std::string(kMapKey));
  if (!bytes) return;
  std::string error;
  std::optional<ClusterMap> next = ClusterMap::decode(*bytes, &error);
  if (!next) {
    env_.halt(kNodeExitCorruptData, "the cluster map cannot be read: " + error);
    return;
  }
  if (!map_.empty() && next->version() <= map_.version()) return;
  if (next->cluster_id() != topology().cluster_id || next->shard_count() != topology().shard_count) {
    env_.halt(kNodeExitForeignData, "the cluster map names cluster " + next->cluster_id() + " with " +
                                        std::to_string(next->shard_count()) +
                                        " shards; this node is of cluster " + topology().cluster_id);
    return;
  }
  const bool first = map_.empty();
  map_ = std::move(*next);
  const PeerInfo self = topology().self_info();
  options_.topology = topology_from_map(map_, self.raft_id, self);
  publish_topology();
  size_peer_tables();
  if (env_.peers) env_.peers->set_members(topology().nodes);
  if (!first) {
    log(LogLevel::kInfo, "cluster map version " + std::to_string(map_.version()) + ": " +
                             describe_members(map_));
  }
  const Member* m = map_.find(self.raft_id);
  if (m && m->state == MemberState::kRemoved) {
    log(LogLevel::kWarn, "this node was removed from the cluster: its replicas move to other "
                         "nodes, then it stops");
  } else if (first && m && m->address != self.address) {
    // The member list keeps the address a member joined with (there is no
    // command to change it), and the other nodes dial that one, whatever
    // this node's flags now say.
    log(LogLevel::kWarn, "the cluster knows this node (" + self.id + ") at " + m->address + ", not at " +
                             self.address + " (--advertise, else --listen): the other nodes dial " +
                             m->address + "; start it with --advertise " + m->address +
                             " or replace the member (mq member replace)");
  }
}

std::optional<Outcome> NodeHost::meta_not_leader() const {
  const uint32_t meta = topology().meta_shard();
  const ShardGroup* g = group(meta);
  if (g && g->role == raft::Role::kLeader) return std::nullopt;
  return not_leader(meta, g);
}

void NodeHost::change_members(const MapCommand& command, MemberChangeDone done) {
  const uint32_t meta = topology().meta_shard();
  ShardGroup* g = group(meta);
  if (!g || g->role != raft::Role::kLeader) {
    done(not_leader(meta, g), {}, map_);
    return;
  }
  if (!g->writes.empty() || !g->writes_to_issue.empty()) {
    done(Outcome::with(Outcome::Code::kOverloaded,
                       "another membership change is in progress; retry once it is done"),
         {}, map_);
    return;
  }
  // The next map is computed from the last: every entry of the log must be
  // applied first (a new leader's no-op included).
  if (g->sm.applied_index() < g->log.last_index()) {
    done(Outcome::with(Outcome::Code::kUnavailable,
                       "the metadata group's leader is still applying its log; retry"),
         {}, map_);
    return;
  }
  ClusterMap next = map_;
  MapChange change;
  if (std::string e = next.apply(command, &change); !e.empty()) {
    done(Outcome::with(Outcome::Code::kInvalidArgument, e), {}, map_);
    return;
  }
  const uint64_t id = next_request_id_++;
  g->writes_to_issue.push_back(map_entry(next, id));
  g->write_ids_to_issue.push_back(id);
  g->writes.emplace(id, [done = std::move(done), change, next = std::move(next)](
                           const Outcome& o, const kv::ApplyResult&) { done(o, change, next); });
}

}  // namespace mq::server
