#include "node/server/cluster_map.h"

#include <algorithm>
#include <climits>
#include <set>

#include "mq/peer/membership.pb.h"
#include "node/raft/invariant.h"
#include "node/server/placement.h"

namespace mq::server {

namespace {

// The snapshot format this code writes and reads. A map from a newer
// format is refused rather than half understood.
constexpr uint32_t kFormat = 1;

std::string describe(const Member& m) {
  return "node " + m.name + " (id " + std::to_string(m.id) + ")";
}

// The checks a new member passes whether it is added or replaces another:
// its name and address must not be held by any member that is not removed.
// A replacement may not take over the old member's name or address either:
// until the change applies, the old member holds them, and a stale process
// of the old member must never pass for the new one.
std::string check_new_member(const ClusterMap& map, const std::string& name,
                             const std::string& address) {
  if (name.empty()) return "a new member needs a name";
  if (address.empty()) return "node " + name + " needs an address";
  if (map.find_name(name)) return "name " + name + " is in use";
  if (const Member* m = map.find_address(address)) {
    return "address " + address + " is in use by " + m->name;
  }
  return "";
}

// The member a remove or replace names: it must exist and be active.
std::string check_leaving_member(const ClusterMap& map, raft::NodeId id) {
  const Member* m = map.find(id);
  if (!m) return "no member with id " + std::to_string(id);
  if (m->state == MemberState::kRemoved) return describe(*m) + " is already removed";
  return "";
}

}  // namespace

const char* member_state_name(MemberState s) {
  switch (s) {
    case MemberState::kActive:
      return "active";
    case MemberState::kRemoved:
      return "removed";
    case MemberState::kJoining:
      return "joining";
  }
  return "unknown";
}

ClusterMap ClusterMap::bootstrap(std::string cluster_id, const std::vector<Member>& members,
                                 uint32_t shard_count, uint32_t replication) {
  // The flags that name the first members are checked before this; a map
  // with no member could place nothing.
  MQ_INVARIANT(!members.empty());
  const auto n = static_cast<uint32_t>(members.size());
  ClusterMap m;
  m.cluster_id_ = std::move(cluster_id);
  m.shard_count_ = shard_count;
  m.replication_ = std::clamp<uint32_t>(replication, 1, n);
  m.version_ = 1;
  for (uint32_t i = 0; i < n; ++i) {
    Member member = members[i];
    member.id = i + 1;
    member.state = MemberState::kActive;
    m.members_.push_back(std::move(member));
  }
  m.next_id_ = n + 1;
  // DESIGN.md's placement, the one nodes of a static topology computed, so
  // a cluster's first map agrees with it shard for shard.
  m.shards_.resize(shard_count);
  for (uint32_t s = 0; s < shard_count; ++s) {
    ShardPlacement& p = m.shards_[s];
    for (uint32_t i = 0; i < m.replication_; ++i) p.replicas.push_back((s + i) % n + 1);
    std::sort(p.replicas.begin(), p.replicas.end());
    p.preferred_leader = s % n + 1;
  }
  return m;
}

std::string ClusterMap::apply(const MapCommand& c, MapChange* change) {
  if (change) *change = MapChange{};
  if (empty()) return "the cluster map has not been bootstrapped";

  // Every check runs before anything changes, so a refused command leaves
  // the map exactly as it was on every node.
  std::string error;
  switch (c.type) {
    case MapCommand::Type::kAddMember:
      error = check_new_member(*this, c.name, c.address);
      break;
    case MapCommand::Type::kRemoveMember: {
      error = check_leaving_member(*this, c.id);
      if (!error.empty()) break;
      const Member& m = *find(c.id);
      const size_t active = active_count();
      if (active == 1) {
        error = "cannot remove " + m.name + ": it is the last active member";
      } else if (!c.force && active - 1 < replication_) {
        error = "removing " + m.name + " would leave " + std::to_string(active - 1) +
                " active nodes for replication " + std::to_string(replication_) +
                "; pass --force to accept fewer replicas";
      }
      break;
    }
    case MapCommand::Type::kReplaceMember:
      error = check_leaving_member(*this, c.id);
      if (error.empty()) error = check_new_member(*this, c.name, c.address);
      break;
    case MapCommand::Type::kJoin: {
      const Member* m = find_name(c.name);
      if (m && m->state == MemberState::kJoining && m->address == c.address) break;
      if (m && m->state == MemberState::kActive) {
        error = describe(*m) + " has already joined; a node joins once (if its data dir was lost, "
                "remove it and join again)";
        break;
      }
      error = check_new_member(*this, c.name, c.address);
      break;
    }
    default:
      return "unknown map command type " + std::to_string(static_cast<int>(c.type));
  }
  if (!error.empty()) return error;

  auto add = [&](MemberState state) {
    // next_id_ only grows, so members_ stays sorted by id and no id is
    // ever handed out twice.
    members_.push_back({next_id_++, c.name, c.address, state});
    if (change) change->added = members_.back().id;
    return members_.back().id;
  };
  auto remove = [&](raft::NodeId id) {
    auto it = std::lower_bound(members_.begin(), members_.end(), id,
                               [](const Member& m, raft::NodeId v) { return m.id < v; });
    it->state = MemberState::kRemoved;
  };
  switch (c.type) {
    case MapCommand::Type::kAddMember:
      add(MemberState::kJoining);
      break;
    case MapCommand::Type::kJoin: {
      auto it = std::find_if(members_.begin(), members_.end(), [&](const Member& m) {
        return m.state == MemberState::kJoining && m.name == c.name;
      });
      if (it == members_.end()) {
        add(MemberState::kActive);
      } else {
        it->state = MemberState::kActive;
        if (change) change->added = it->id;
      }
      break;
    }
    case MapCommand::Type::kRemoveMember:
      remove(c.id);
      break;
    case MapCommand::Type::kReplaceMember: {
      const raft::NodeId added = add(MemberState::kJoining);
      remove(c.id);
      // The new member takes the old one's place shard for shard: the
      // counts do not change, so a balanced placement stays balanced and
      // nothing else moves.
      for (ShardPlacement& p : shards_) {
        std::replace(p.replicas.begin(), p.replicas.end(), c.id, added);
        std::sort(p.replicas.begin(), p.replicas.end());
        if (p.preferred_leader == c.id) p.preferred_leader = added;
      }
      break;
    }
  }
  ++version_;
  replace_placement();
  return "";
}

const Member* ClusterMap::find(raft::NodeId id) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const Member& m, raft::NodeId v) { return m.id < v; });
  return it != members_.end() && it->id == id ? &*it : nullptr;
}

const Member* ClusterMap::find_name(std::string_view name) const {
  for (const Member& m : members_) {
    if (m.state != MemberState::kRemoved && m.name == name) return &m;
  }
  return nullptr;
}

const Member* ClusterMap::find_address(std::string_view address) const {
  for (const Member& m : members_) {
    if (m.state != MemberState::kRemoved && m.address == address) return &m;
  }
  return nullptr;
}

size_t ClusterMap::active_count() const {
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(), [](const Member& m) {
    return m.state != MemberState::kRemoved;
  }));
}

bool ClusterMap::hosts(raft::NodeId node, uint32_t shard) const {
  if (shard >= shards_.size()) return false;
  const auto& r = shards_[shard].replicas;
  return std::binary_search(r.begin(), r.end(), node);
}

std::vector<raft::NodeId> ClusterMap::meta_voters() const {
  std::vector<raft::NodeId> out;
  for (const Member& m : members_) {
    if (out.size() == kMetaVotersMax) break;
    if (m.state == MemberState::kActive) out.push_back(m.id);
  }
  return out;
}

std::vector<raft::NodeId> ClusterMap::meta_learners() const {
  std::vector<raft::NodeId> out;
  size_t voters = 0;
  for (const Member& m : members_) {
    if (m.state == MemberState::kRemoved) continue;
    if (m.state == MemberState::kActive && voters < kMetaVotersMax) {
      ++voters;
      continue;
    }
    out.push_back(m.id);
  }
  return out;
}

void ClusterMap::replace_placement() {
  std::vector<raft::NodeId> active;
  for (const Member& m : members_) {
    if (m.state != MemberState::kRemoved) active.push_back(m.id);
  }
  shards_ = compute_placement(shards_, active, shard_count_, replication_);
}

std::string ClusterMap::encode() const {
  peer::ClusterMapState st;
  st.set_format(kFormat);
  st.set_cluster_id(cluster_id_);
  st.set_shard_count(shard_count_);
  st.set_replication(replication_);
  st.set_version(version_);
  st.set_next_id(next_id_);
  for (const Member& m : members_) {
    peer::MemberRecord* r = st.add_members();
    r->set_id(m.id);
    r->set_name(m.name);
    r->set_address(m.address);
    r->set_state(static_cast<uint32_t>(m.state));
  }
  for (const ShardPlacement& p : shards_) {
    peer::ShardReplicas* r = st.add_shards();
    for (raft::NodeId id : p.replicas) r->add_replicas(id);
    r->set_preferred_leader(p.preferred_leader);
  }
  return st.SerializeAsString();
}

std::optional<ClusterMap> ClusterMap::decode(std::string_view data, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<ClusterMap> {
    *error = "cluster map: " + why;
    return std::nullopt;
  };
  peer::ClusterMapState st;
  if (data.size() > static_cast<size_t>(INT_MAX) ||
      !st.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return fail("not a ClusterMapState message (damaged or truncated)");
  }
  if (st.format() != kFormat) {
    return fail("format " + std::to_string(st.format()) + ", but this version reads format " +
                std::to_string(kFormat));
  }
  if (st.shard_count() != static_cast<uint32_t>(st.shards_size())) {
    return fail("shard count " + std::to_string(st.shard_count()) + " but " +
                std::to_string(st.shards_size()) + " shards placed");
  }

  // Ids start at 1, so even an empty map names the next one; a snapshot
  // cut short before that field is caught here.
  if (st.next_id() == raft::kNoNode) return fail("next member id 0");
  if (st.version() == 0 && (!st.cluster_id().empty() || st.shard_count() != 0 ||
                            st.replication() != 0 || st.members_size() != 0)) {
    return fail("version 0 (an empty map) with members or shards");
  }

  ClusterMap m;
  m.cluster_id_ = st.cluster_id();
  m.shard_count_ = st.shard_count();
  m.replication_ = st.replication();
  m.version_ = st.version();
  m.next_id_ = st.next_id();
  std::set<std::string> names, addresses;
  for (const peer::MemberRecord& r : st.members()) {
    const std::string who = "member " + r.name() + " (id " + std::to_string(r.id()) + ")";
    if (r.id() == raft::kNoNode || r.id() >= m.next_id_) {
      return fail(who + " has an id outside 1.." + std::to_string(m.next_id_ - 1));
    }
    if (!m.members_.empty() && r.id() <= m.members_.back().id) {
      return fail(who + " is out of id order");
    }
    if (r.state() != static_cast<uint32_t>(MemberState::kActive) &&
        r.state() != static_cast<uint32_t>(MemberState::kRemoved) &&
        r.state() != static_cast<uint32_t>(MemberState::kJoining)) {
      return fail(who + " has unknown state " + std::to_string(r.state()));
    }
    const auto state = static_cast<MemberState>(r.state());
    if (state != MemberState::kRemoved && !names.insert(r.name()).second) {
      return fail(who + ": name " + r.name() + " is held twice");
    }
    if (state != MemberState::kRemoved && !addresses.insert(r.address()).second) {
      return fail(who + ": address " + r.address() + " is held twice");
    }
    m.members_.push_back({r.id(), r.name(), r.address(), state});
  }
  if (!m.empty() && (m.replication_ == 0 || m.active_count() == 0)) {
    return fail("version " + std::to_string(m.version_) + " has no active member or replication 0");
  }
  for (int s = 0; s < st.shards_size(); ++s) {
    const peer::ShardReplicas& r = st.shards(s);
    const std::string where = "shard " + std::to_string(s);
    ShardPlacement p;
    for (uint64_t id : r.replicas()) {
      const Member* member = m.find(id);
      if (!member || member->state == MemberState::kRemoved) {
        return fail(where + " names replica " + std::to_string(id) +
                    ", which is not a member");
      }
      if (!p.replicas.empty() && id <= p.replicas.back()) {
        return fail(where + " lists its replicas out of order or twice");
      }
      p.replicas.push_back(id);
    }
    p.preferred_leader = r.preferred_leader();
    if (!std::binary_search(p.replicas.begin(), p.replicas.end(), p.preferred_leader)) {
      return fail(where + " prefers leader " + std::to_string(p.preferred_leader) +
                  ", which is not one of its replicas");
    }
    m.shards_.push_back(std::move(p));
  }
  return m;
}

std::string encode(const MapCommand& c) {
  peer::MapCommandRecord r;
  r.set_type(static_cast<uint32_t>(c.type));
  r.set_id(c.id);
  r.set_name(c.name);
  r.set_address(c.address);
  r.set_force(c.force);
  return r.SerializeAsString();
}

std::optional<MapCommand> decode_map_command(std::string_view data) {
  peer::MapCommandRecord r;
  if (data.size() > static_cast<size_t>(INT_MAX) ||
      !r.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return std::nullopt;
  }
  if (r.type() < static_cast<uint32_t>(MapCommand::Type::kAddMember) ||
      r.type() > static_cast<uint32_t>(MapCommand::Type::kJoin)) {
    return std::nullopt;
  }
  MapCommand c;
  c.type = static_cast<MapCommand::Type>(r.type());
  c.id = r.id();
  c.name = r.name();
  c.address = r.address();
  c.force = r.force();
  return c;
}

}  // namespace mq::server
