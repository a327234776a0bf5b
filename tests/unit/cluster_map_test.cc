// The cluster map as the metadata group's state machine: the first map,
// every command's checks (a refused command changes nothing), tombstones
// and ids, and the snapshot and log encodings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "mq/peer/membership.pb.h"
#include "node/kv/shard_hash.h"
#include "node/server/cluster_map.h"

using mq::raft::kNoNode;
using mq::raft::NodeId;
using namespace mq::server;

namespace {

std::vector<Member> members(int n) {
  std::vector<Member> out;
  for (int i = 1; i <= n; ++i) {
    out.push_back({kNoNode, "n" + std::to_string(i), "127.0.0.1:" + std::to_string(7000 + i),
                   MemberState::kActive});
  }
  return out;
}

MapCommand add_member(const std::string& name, const std::string& address) {
  MapCommand c;
  c.type = MapCommand::Type::kAddMember;
  c.name = name;
  c.address = address;
  return c;
}

MapCommand remove_member(NodeId id, bool force = false) {
  MapCommand c;
  c.type = MapCommand::Type::kRemoveMember;
  c.id = id;
  c.force = force;
  return c;
}

MapCommand replace_member(NodeId id, const std::string& name, const std::string& address) {
  MapCommand c = add_member(name, address);
  c.type = MapCommand::Type::kReplaceMember;
  c.id = id;
  return c;
}

// Applies a command that must succeed; returns the member it added.
NodeId apply_ok(ClusterMap& map, const MapCommand& c) {
  MapChange change;
  const std::string error = map.apply(c, &change);
  INFO(error);
  REQUIRE(error.empty());
  return change.added;
}

// Applies a command that must fail, and checks that it changed nothing.
std::string apply_refused(ClusterMap& map, const MapCommand& c) {
  const ClusterMap before = map;
  MapChange change;
  change.added = 42;
  const std::string error = map.apply(c, &change);
  CHECK_FALSE(error.empty());
  CHECK(error.find('\n') == std::string::npos);
  CHECK(map == before);
  CHECK(change.added == kNoNode);
  return error;
}

std::vector<uint32_t> shards_of(const ClusterMap& map, NodeId node) {
  std::vector<uint32_t> out;
  for (uint32_t s = 0; s < map.shard_count(); ++s) {
    if (map.hosts(node, s)) out.push_back(s);
  }
  return out;
}

std::vector<uint32_t> shards_led_by(const ClusterMap& map, NodeId node) {
  std::vector<uint32_t> out;
  for (uint32_t s = 0; s < map.shard_count(); ++s) {
    if (map.placement(s).preferred_leader == node) out.push_back(s);
  }
  return out;
}

std::string decode_error(const std::string& bytes) {
  std::string error;
  const auto decoded = ClusterMap::decode(bytes, &error);
  CHECK_FALSE(decoded.has_value());
  CHECK(error.rfind("cluster map: ", 0) == 0);
  CHECK(error.find('\n') == std::string::npos);
  return error;
}

mq::peer::ClusterMapState state_of(const ClusterMap& map) {
  mq::peer::ClusterMapState st;
  REQUIRE(st.ParseFromString(map.encode()));
  return st;
}

}  // namespace

TEST_CASE("bootstrap numbers members 1..N and places shards as DESIGN.md says", "[cluster_map]") {
  const ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  CHECK(map.cluster_id() == "c1");
  CHECK(map.version() == 1);
  CHECK_FALSE(map.empty());
  CHECK(map.shard_count() == 16);
  CHECK(map.replication() == 3);
  REQUIRE(map.members().size() == 3);
  for (NodeId id = 1; id <= 3; ++id) {
    CHECK(map.members()[id - 1].id == id);
    CHECK(map.members()[id - 1].name == "n" + std::to_string(id));
    CHECK(map.members()[id - 1].state == MemberState::kActive);
  }
  CHECK(map.active_count() == 3);
  // user123 routes to shard 7; on 3 nodes its replicas are (7+i) mod 3 + 1
  // = n2, n3, n1 (stored by id) and n2 (7 mod 3 + 1) is its leader.
  const uint32_t shard = mq::kv::shard_of("user123", 16);
  REQUIRE(shard == 7);
  CHECK(map.placement(shard).replicas == std::vector<NodeId>{1, 2, 3});
  CHECK(map.placement(shard).preferred_leader == 2);
  for (uint32_t s = 0; s < 16; ++s) CHECK(map.placement(s).preferred_leader == s % 3 + 1);
}

TEST_CASE("bootstrap on 5 nodes follows the formula shard by shard", "[cluster_map]") {
  const ClusterMap map = ClusterMap::bootstrap("c1", members(5), 16, 3);
  CHECK(map.placement(7).replicas == std::vector<NodeId>{3, 4, 5});
  CHECK(map.placement(7).preferred_leader == 3);
  CHECK(map.placement(4).replicas == std::vector<NodeId>{1, 2, 5});  // 5, 1, 2 by id
  CHECK(map.placement(4).preferred_leader == 5);
  CHECK(shards_of(map, 1).size() == 10);
  CHECK(shards_of(map, 5).size() == 9);
  CHECK_FALSE(map.hosts(1, 7));
  CHECK_FALSE(map.hosts(1, 99));  // no such shard
}

TEST_CASE("bootstrap clamps the replication to 1..N", "[cluster_map]") {
  CHECK(ClusterMap::bootstrap("c", members(2), 4, 3).replication() == 2);
  CHECK(ClusterMap::bootstrap("c", members(2), 4, 3).placement(0).replicas.size() == 2);
  CHECK(ClusterMap::bootstrap("c", members(2), 4, 0).replication() == 1);
  CHECK(ClusterMap::bootstrap("c", members(1), 4, 3).placement(3).replicas ==
        std::vector<NodeId>{1});
}

TEST_CASE("an empty map is version 0 and refuses commands", "[cluster_map]") {
  ClusterMap map;
  CHECK(map.empty());
  CHECK(map.version() == 0);
  CHECK(apply_refused(map, add_member("n1", "127.0.0.1:7001")) ==
        "the cluster map has not been bootstrapped");
}

TEST_CASE("adding a member gives it the next id and a balanced share", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  const ClusterMap before = map;
  CHECK(apply_ok(map, add_member("n4", "127.0.0.1:7004")) == 4);
  CHECK(map.version() == 2);
  CHECK(map.find(4)->name == "n4");
  // Added by an operator: joining until its node starts and claims it.
  CHECK(map.find(4)->state == MemberState::kJoining);
  CHECK(shards_of(map, 4).size() == 12);
  CHECK(shards_led_by(map, 4).size() == 4);
  // Only n4 gained replicas: the others keep a subset of what they had.
  for (NodeId id = 1; id <= 3; ++id) {
    for (uint32_t s : shards_of(map, id)) CHECK(before.hosts(id, s));
    CHECK(shards_of(map, id).size() == 12);
  }
}

TEST_CASE("a refused add names the clash and changes nothing", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(4), 16, 3);
  CHECK(apply_refused(map, add_member("", "127.0.0.1:7009")) == "a new member needs a name");
  CHECK(apply_refused(map, add_member("n9", "")) == "node n9 needs an address");
  CHECK(apply_refused(map, add_member("n2", "127.0.0.1:7009")) == "name n2 is in use");
  CHECK(apply_refused(map, add_member("n9", "127.0.0.1:7004")) ==
        "address 127.0.0.1:7004 is in use by n4");
}

TEST_CASE("a refused remove names the member and changes nothing", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  CHECK(apply_refused(map, remove_member(9)) == "no member with id 9");
  CHECK(apply_refused(map, remove_member(kNoNode)) == "no member with id 0");
  CHECK(apply_refused(map, remove_member(3)) ==
        "removing n3 would leave 2 active nodes for replication 3; pass --force to accept "
        "fewer replicas");
  apply_ok(map, remove_member(3, true));
  CHECK(apply_refused(map, remove_member(3, true)) == "node n3 (id 3) is already removed");
  // Already below the replication: each further removal needs --force too.
  CHECK(apply_refused(map, remove_member(2)) ==
        "removing n2 would leave 1 active nodes for replication 3; pass --force to accept "
        "fewer replicas");
  apply_ok(map, remove_member(2, true));
  CHECK(apply_refused(map, remove_member(1, true)) ==
        "cannot remove n1: it is the last active member");
}

TEST_CASE("an unknown command type is refused", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  MapCommand c = add_member("n4", "127.0.0.1:7004");
  c.type = static_cast<MapCommand::Type>(9);
  CHECK(apply_refused(map, c) == "unknown map command type 9");
}

TEST_CASE("a removed member stays as a tombstone and hosts nothing", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(4), 16, 3);
  const std::vector<uint32_t> had = shards_of(map, 2);
  MapChange change;
  change.added = 42;
  REQUIRE(map.apply(remove_member(2), &change).empty());
  CHECK(change.added == kNoNode);
  CHECK(map.version() == 2);
  REQUIRE(map.find(2) != nullptr);
  CHECK(map.find(2)->state == MemberState::kRemoved);
  CHECK(std::string(member_state_name(map.find(2)->state)) == "removed");
  CHECK(map.find_name("n2") == nullptr);
  CHECK(map.find_address("127.0.0.1:7002") == nullptr);
  CHECK(map.find_name("n3") == map.find(3));
  CHECK(map.active_count() == 3);
  CHECK(shards_of(map, 2).empty());
  // Three nodes for RF 3: every shard on each of them.
  for (NodeId id : {1, 3, 4}) CHECK(shards_of(map, id).size() == 16);
  CHECK(had.size() == 12);
  // apply accepts no change record.
  CHECK(map.apply(add_member("n5", "127.0.0.1:7005"), nullptr).empty());
}

TEST_CASE("ids are never reused, even for a name and address reused", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 8, 2);
  CHECK(apply_ok(map, add_member("n4", "127.0.0.1:7004")) == 4);
  apply_ok(map, remove_member(4));
  // The tombstone frees its name and address, not its id.
  CHECK(apply_ok(map, add_member("n4", "127.0.0.1:7004")) == 5);
  apply_ok(map, remove_member(5));
  apply_ok(map, remove_member(3));
  CHECK(apply_ok(map, add_member("n6", "127.0.0.1:7006")) == 6);
  std::vector<NodeId> ids;
  for (const Member& m : map.members()) ids.push_back(m.id);
  CHECK(ids == std::vector<NodeId>{1, 2, 3, 4, 5, 6});
  CHECK(map.version() == 7);  // the bootstrap, then six commands
}

TEST_CASE("a forced removal leaves every shard on the remaining nodes", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  apply_ok(map, remove_member(3, true));
  CHECK(map.replication() == 3);  // the target stays; the placement holds what fits
  for (uint32_t s = 0; s < 16; ++s) {
    CHECK(map.placement(s).replicas == std::vector<NodeId>{1, 2});
  }
  CHECK(shards_led_by(map, 1).size() == 8);
  CHECK(shards_led_by(map, 2).size() == 8);
  // Back to three members: each shard gets its third replica on the new one.
  CHECK(apply_ok(map, add_member("n4", "127.0.0.1:7004")) == 4);
  for (uint32_t s = 0; s < 16; ++s) {
    CHECK(map.placement(s).replicas == std::vector<NodeId>{1, 2, 4});
  }
}

TEST_CASE("replace puts the new member on exactly the old one's shards", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(5), 16, 3);
  const ClusterMap before = map;
  CHECK(apply_ok(map, replace_member(3, "n6", "127.0.0.1:7006")) == 6);
  CHECK(map.version() == 2);
  CHECK(map.find(3)->state == MemberState::kRemoved);
  CHECK(map.find(6)->state == MemberState::kJoining);
  CHECK(map.active_count() == 5);
  CHECK(shards_of(map, 6) == shards_of(before, 3));
  CHECK(shards_led_by(map, 6) == shards_led_by(before, 3));
  for (NodeId id : {1, 2, 4, 5}) {
    CHECK(shards_of(map, id) == shards_of(before, id));
    CHECK(shards_led_by(map, id) == shards_led_by(before, id));
  }
}

TEST_CASE("replace after a rebalance moves nothing else either", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  apply_ok(map, add_member("n4", "127.0.0.1:7004"));
  const ClusterMap before = map;
  CHECK(apply_ok(map, replace_member(2, "n5", "127.0.0.1:7005")) == 5);
  CHECK(shards_of(map, 5) == shards_of(before, 2));
  for (NodeId id : {1, 3, 4}) CHECK(shards_of(map, id) == shards_of(before, id));
}

TEST_CASE("replace needs no --force and works below the replication", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  apply_ok(map, remove_member(3, true));
  CHECK(apply_ok(map, replace_member(2, "n4", "127.0.0.1:7004")) == 4);
  CHECK(map.active_count() == 2);
  CHECK(shards_of(map, 4).size() == 16);
  // Even the last active member can be replaced: the count does not drop.
  apply_ok(map, remove_member(1, true));
  CHECK(apply_ok(map, replace_member(4, "n5", "127.0.0.1:7005")) == 5);
  CHECK(map.active_count() == 1);
}

TEST_CASE("a refused replace names the member and changes nothing", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(4), 16, 3);
  apply_ok(map, remove_member(4));
  CHECK(apply_refused(map, replace_member(9, "n9", "127.0.0.1:7009")) == "no member with id 9");
  CHECK(apply_refused(map, replace_member(4, "n9", "127.0.0.1:7009")) ==
        "node n4 (id 4) is already removed");
  CHECK(apply_refused(map, replace_member(3, "n2", "127.0.0.1:7009")) == "name n2 is in use");
  // Not even the old member's own name or address: it holds them until the
  // change applies.
  CHECK(apply_refused(map, replace_member(3, "n3", "127.0.0.1:7009")) == "name n3 is in use");
  CHECK(apply_refused(map, replace_member(3, "n9", "127.0.0.1:7003")) ==
        "address 127.0.0.1:7003 is in use by n3");
  CHECK(apply_refused(map, replace_member(3, "", "127.0.0.1:7009")) == "a new member needs a name");
}

TEST_CASE("the metadata voters are the five lowest active ids", "[cluster_map]") {
  ClusterMap small = ClusterMap::bootstrap("c1", members(3), 16, 3);
  CHECK(small.meta_voters() == std::vector<NodeId>{1, 2, 3});
  CHECK(small.meta_learners().empty());

  ClusterMap map = ClusterMap::bootstrap("c1", members(7), 16, 3);
  CHECK(map.meta_voters() == std::vector<NodeId>{1, 2, 3, 4, 5});
  CHECK(map.meta_learners() == std::vector<NodeId>{6, 7});
  apply_ok(map, remove_member(2));
  CHECK(map.meta_voters() == std::vector<NodeId>{1, 3, 4, 5, 6});
  CHECK(map.meta_learners() == std::vector<NodeId>{7});
  apply_ok(map, remove_member(7));
  CHECK(map.meta_learners().empty());
}

TEST_CASE("the map survives encode and decode unchanged", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("0123456789abcdef", members(3), 16, 3);
  apply_ok(map, add_member("n4", "127.0.0.1:7004"));
  apply_ok(map, remove_member(2));
  apply_ok(map, replace_member(1, "n5", "10.0.0.5:7005"));
  std::string error;
  const auto decoded = ClusterMap::decode(map.encode(), &error);
  INFO(error);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == map);
  // next_id travels too: the next member gets 6 on the decoded copy.
  ClusterMap copy = *decoded;
  CHECK(apply_ok(copy, add_member("n6", "127.0.0.1:7006")) == 6);

  const auto empty = ClusterMap::decode(ClusterMap().encode(), &error);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}

TEST_CASE("decode refuses truncated or damaged maps with a one-line reason", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(4), 16, 3);
  apply_ok(map, remove_member(4));
  const std::string bytes = map.encode();
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("first " << n << " of " << bytes.size() << " bytes");
    decode_error(bytes.substr(0, n));
  }
  CHECK(decode_error("\xff\xff\xff\xff") ==
        "cluster map: not a ClusterMapState message (damaged or truncated)");

  auto refused = [&](auto&& damage) {
    mq::peer::ClusterMapState st = state_of(map);
    damage(st);
    return decode_error(st.SerializeAsString());
  };
  CHECK(refused([](auto& st) { st.set_format(2); }) ==
        "cluster map: format 2, but this version reads format 1");
  CHECK(refused([](auto& st) { st.set_shard_count(17); }) ==
        "cluster map: shard count 17 but 16 shards placed");
  CHECK(refused([](auto& st) { st.mutable_shards(3)->set_replicas(0, 9); }) ==
        "cluster map: shard 3 names replica 9, which is not a member");
  // Member 4 is a tombstone: no replica may live on it.
  CHECK(refused([](auto& st) {
          auto* r = st.mutable_shards(0)->mutable_replicas();
          r->Set(r->size() - 1, 4);
        }).find("which is not a member") != std::string::npos);
  CHECK(refused([](auto& st) { st.mutable_shards(5)->set_preferred_leader(9); }) ==
        "cluster map: shard 5 prefers leader 9, which is not one of its replicas");
  CHECK(refused([](auto& st) {
          auto* r = st.mutable_shards(2)->mutable_replicas();
          r->SwapElements(0, 1);
        }) == "cluster map: shard 2 lists its replicas out of order or twice");
  CHECK(refused([](auto& st) { st.mutable_members(1)->set_id(1); }) ==
        "cluster map: member n2 (id 1) is out of id order");
  CHECK(refused([](auto& st) { st.mutable_members(2)->set_state(7); }) ==
        "cluster map: member n3 (id 3) has unknown state 7");
  CHECK(refused([](auto& st) { st.set_next_id(4); }) ==
        "cluster map: member n4 (id 4) has an id outside 1..3");
  CHECK(refused([](auto& st) { st.mutable_members(1)->set_name("n1"); }) ==
        "cluster map: member n1 (id 2): name n1 is held twice");
}

TEST_CASE("map commands survive encode and decode", "[cluster_map]") {
  for (const MapCommand& c : {add_member("n4", "127.0.0.1:7004"), remove_member(3, true),
                              remove_member(2), replace_member(2, "n7", "[::1]:7007")}) {
    const auto decoded = decode_map_command(encode(c));
    REQUIRE(decoded.has_value());
    CHECK(decoded->type == c.type);
    CHECK(decoded->id == c.id);
    CHECK(decoded->name == c.name);
    CHECK(decoded->address == c.address);
    CHECK(decoded->force == c.force);
  }
}

TEST_CASE("decode_map_command refuses garbage and unknown types", "[cluster_map]") {
  CHECK_FALSE(decode_map_command("").has_value());  // type 0
  CHECK_FALSE(decode_map_command("\xff\xff\xff\xff").has_value());
  const std::string bytes = encode(replace_member(2, "n7", "127.0.0.1:7007"));
  CHECK_FALSE(decode_map_command(bytes.substr(0, bytes.size() - 3)).has_value());
  mq::peer::MapCommandRecord r;
  r.set_type(5);
  r.set_name("n4");
  CHECK_FALSE(decode_map_command(r.SerializeAsString()).has_value());
}

TEST_CASE("a node that joins claims the member an operator added, once", "[cluster_map]") {
  ClusterMap map = ClusterMap::bootstrap("c1", members(3), 16, 3);
  MapCommand join;
  join.type = MapCommand::Type::kJoin;
  join.name = "n4";
  join.address = "127.0.0.1:7004";

  SECTION("added first, then claimed by its node: same id, now active, nothing moves") {
    REQUIRE(apply_ok(map, add_member("n4", "127.0.0.1:7004")) == 4);
    const ClusterMap added = map;
    CHECK(added.meta_learners() == std::vector<NodeId>{4});
    CHECK(apply_ok(map, join) == 4);
    CHECK(map.find(4)->state == MemberState::kActive);
    for (uint32_t s = 0; s < 16; ++s) CHECK(map.placement(s) == added.placement(s));
    CHECK(map.meta_voters() == std::vector<NodeId>{1, 2, 3, 4});
    // A second start with an empty data dir is refused, map unchanged.
    const ClusterMap before = map;
    MapChange change;
    CHECK(map.apply(join, &change).find("has already joined") != std::string::npos);
    CHECK(map == before);
  }
  SECTION("not added first: a new active member") {
    CHECK(apply_ok(map, join) == 4);
    CHECK(map.find(4)->state == MemberState::kActive);
  }
  SECTION("a joining member's name claimed from another address is refused") {
    REQUIRE(apply_ok(map, add_member("n4", "127.0.0.1:7004")) == 4);
    const ClusterMap before = map;
    join.address = "127.0.0.1:7009";
    MapChange change;
    CHECK(map.apply(join, &change) == "name n4 is in use");
    CHECK(map == before);
  }
  SECTION("the command survives its encoding") {
    const auto decoded = decode_map_command(encode(join));
    REQUIRE(decoded.has_value());
    CHECK(decoded->type == MapCommand::Type::kJoin);
    CHECK(decoded->name == "n4");
  }
}
