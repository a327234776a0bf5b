// The cluster map: who the members are and where each shard's replicas
// live. It is the state machine of the metadata Raft group, so every node
// holds the same map at the same index and acts on it; flags only bootstrap
// the first one.
//
// A member keeps its Raft id for life; a removed member stays in the map as
// a tombstone (state removed), so a node coming back with the data dir of a
// removed member is recognised and refused, and its id is never reused.
//
// Placement (placement.h) is recomputed by every change, deterministically,
// so every replica of the map computes the same one. The node host moves
// each shard's Raft group toward it one replica at a time (reconcile.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/raft/types.h"
#include "node/server/placement.h"

namespace mq::server {

// An operator adds a member (mq member add, replace) before its node
// runs: it is joining, and placement already counts it, until its node
// starts with --join and claims it (MapCommand::kJoin), once. A node that
// joins without being added first is active at once.
enum class MemberState : uint8_t {
  kActive = 1,
  kRemoved = 2,
  kJoining = 3,
};
const char* member_state_name(MemberState s);  // "active", "removed", "joining"

struct Member {
  raft::NodeId id = raft::kNoNode;
  std::string name;     // "n4": unique among members that are not removed
  std::string address;  // "host:port" of its gRPC listener: unique likewise
  MemberState state = MemberState::kActive;
  bool operator==(const Member&) const = default;
};

// One change to the map, as the metadata group's log carries it.
struct MapCommand {
  enum class Type : uint8_t {
    kAddMember = 1,      // name, address
    kRemoveMember = 2,   // id, force
    kReplaceMember = 3,  // id (the old member), name, address (the new one)
    // name, address: a node starting with --join. It claims the joining
    // member of that name and address, or is added as a new active one. A
    // name already active is refused: a node never becomes a member twice
    // (one whose data dir was lost forgot its votes and its log).
    kJoin = 4,
  };
  Type type = Type::kAddMember;
  raft::NodeId id = raft::kNoNode;
  std::string name;
  std::string address;
  bool force = false;
};
std::string encode(const MapCommand& c);
std::optional<MapCommand> decode_map_command(std::string_view data);

// What an applied command did: the member it added or a node claimed
// (kAddMember, kReplaceMember, kJoin), for the caller that proposed it.
struct MapChange {
  raft::NodeId added = raft::kNoNode;
};

// The metadata group's voters: at most this many, the active members with
// the lowest ids; every other member that is not removed (a joining one
// included) is a learner, so every node holds the map.
constexpr size_t kMetaVotersMax = 5;

class ClusterMap {
 public:
  ClusterMap() = default;

  // The first map of a cluster: members get ids 1..N in the given order
  // and the placement of DESIGN.md (shard s on nodes (s+i) mod N, i <
  // replication, preferred leader s mod N). replication is clamped to N.
  static ClusterMap bootstrap(std::string cluster_id, const std::vector<Member>& members,
                              uint32_t shard_count, uint32_t replication);

  // Applies a command, or returns why it cannot apply (and changes
  // nothing): an unknown or removed member, a name or address in use,
  // removing the last active member, or (without force) leaving fewer
  // active members than the replication factor.
  std::string apply(const MapCommand& c, MapChange* change);

  const std::string& cluster_id() const { return cluster_id_; }
  uint32_t shard_count() const { return shard_count_; }
  uint32_t replication() const { return replication_; }
  // Bumped by every applied command; 0 only for an empty map.
  uint64_t version() const { return version_; }
  bool empty() const { return version_ == 0; }

  const std::vector<Member>& members() const { return members_; }  // by id, removed included
  const Member* find(raft::NodeId id) const;
  const Member* find_name(std::string_view name) const;  // not removed
  const Member* find_address(std::string_view address) const;  // not removed
  size_t active_count() const;  // members not removed (joining ones count)

  const ShardPlacement& placement(uint32_t shard) const { return shards_[shard]; }
  bool hosts(raft::NodeId node, uint32_t shard) const;
  // The target configuration of the metadata group.
  std::vector<raft::NodeId> meta_voters() const;
  std::vector<raft::NodeId> meta_learners() const;

  // The map as the metadata group snapshots it (protobuf
  // mq.peer.ClusterMapState, proto/mq/peer/membership.proto).
  std::string encode() const;
  static std::optional<ClusterMap> decode(std::string_view data, std::string* error);

  bool operator==(const ClusterMap&) const = default;

 private:
  void replace_placement();  // placement.h over the active members

  std::string cluster_id_;
  uint32_t shard_count_ = 0;
  uint32_t replication_ = 0;
  uint64_t version_ = 0;
  raft::NodeId next_id_ = 1;
  std::vector<Member> members_;
  std::vector<ShardPlacement> shards_;
};

}  // namespace mq::server
