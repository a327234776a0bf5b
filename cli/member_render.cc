#include "cli/member_render.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mq::cli {

namespace {

using nlohmann::json;

std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

json member_json(const MemberInfo& m) {
  return {{"id", m.id},
          {"name", m.name},
          {"address", m.address},
          {"state", m.state},
          {"replicas", m.replicas},
          {"preferred_leader_of", m.preferred_leader_of}};
}

std::vector<std::string> member_row(const MemberInfo& m) {
  return {std::to_string(m.id), m.name,  m.address, m.state, std::to_string(m.replicas),
          std::to_string(m.preferred_leader_of)};
}

const std::vector<std::string>& member_headers() {
  static const std::vector<std::string> headers = {"ID", "NAME", "ADDRESS", "STATE", "REPLICAS", "LEADS"};
  return headers;
}

std::string member_table(const std::vector<MemberInfo>& members) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : members) rows.push_back(member_row(m));
  return render_table(member_headers(), rows);
}

// "n3 (id 3)": how a sentence names a member.
std::string named(const MemberInfo& m) { return m.name + " (id " + std::to_string(m.id) + ")"; }

}  // namespace

std::vector<MemberInfo> members_in_display_order(const std::vector<MemberInfo>& members) {
  std::vector<MemberInfo> out = members;
  std::stable_sort(out.begin(), out.end(), [](const MemberInfo& a, const MemberInfo& b) {
    const bool a_removed = a.state == "removed", b_removed = b.state == "removed";
    if (a_removed != b_removed) return b_removed;
    return a.id < b.id;
  });
  return out;
}

std::string render_member_list(Format f, const MemberList& list) {
  const std::vector<MemberInfo> members = members_in_display_order(list.members);
  if (f == Format::kJson) {
    json j = {{"cluster_id", list.cluster_id},   {"version", list.version},
              {"shard_count", list.shard_count}, {"replication", list.replication},
              {"node", list.node},               {"members", json::array()}};
    for (const auto& m : members) j["members"].push_back(member_json(m));
    return line(j);
  }
  if (f == Format::kPlain) {
    std::string out;
    for (const auto& m : members) {
      out += std::to_string(m.id) + " " + m.name + " " + m.address + " " + m.state + "\n";
    }
    return out;
  }
  // LEADS is the placement's preferred leader, not who leads right now
  // (mq status shows that): a leader hands a shard back to it once it is
  // caught up, so the two agree on a healthy cluster.
  return "cluster " + list.cluster_id + ", map version " + std::to_string(list.version) + ", " +
         std::to_string(list.shard_count) + " shards, replication " +
         std::to_string(list.replication) + ", answered by " + list.node + "\n\n" +
         member_table(members);
}

std::string start_command(const MemberInfo& m, const std::string& join_endpoint) {
  return "mq node --id " + m.name + " --listen " + m.address + " --data-dir DIR --join " + join_endpoint;
}

std::string render_member_added(Format f, const MemberInfo& added, const std::string& join_endpoint) {
  if (f == Format::kJson) return line(member_json(added));
  if (f == Format::kTable) return member_table({added});
  return "added " + named(added) + " at " + added.address +
         "; start it with: " + start_command(added, join_endpoint) + "\n";
}

std::string render_member_removed(Format f, const MemberInfo& removed, const RemovalContext& after) {
  if (f == Format::kJson) return line(member_json(removed));
  if (f == Format::kTable) return member_table({removed});
  // Below the replication factor (only with --force) there is nowhere for
  // the replicas to go: each shard just has fewer of them.
  if (after.members_after > 0 && after.members_after < after.replication) {
    return "removed " + named(removed) + ": " + std::to_string(after.members_after) +
           " member(s) remain for replication " + std::to_string(after.replication) +
           ", so each shard keeps " + std::to_string(after.members_after) +
           " replica(s) until a member is added\n";
  }
  return "removed " + named(removed) + ": its replicas move to the other members\n";
}

std::string render_member_replaced(Format f, const MemberInfo& removed, const MemberInfo& added,
                                   const std::string& join_endpoint) {
  if (f == Format::kJson) return line({{"removed", member_json(removed)}, {"added", member_json(added)}});
  if (f == Format::kTable) return member_table({removed, added});
  return "replaced " + named(removed) + " with " + named(added) + " at " + added.address +
         ", which takes its replicas; start it with: " + start_command(added, join_endpoint) + "\n";
}

std::string render_leadership_moved(Format f, const std::string& member,
                                    const std::vector<std::pair<uint32_t, std::string>>& moved) {
  if (f == Format::kJson) {
    nlohmann::json j;
    j["member"] = member;
    j["moved"] = nlohmann::json::array();
    for (const auto& [shard, to] : moved) j["moved"].push_back({{"shard", shard}, {"to", to}});
    return j.dump() + "\n";
  }
  if (moved.empty()) return member + " leads no shard that has another replica: nothing moved\n";
  std::string out = "moved the leadership of " + std::to_string(moved.size()) +
                    (moved.size() > 1 ? " shards" : " shard") + " off " + member + ":";
  for (const auto& [shard, to] : moved) out += " " + std::to_string(shard) + "->" + to;
  return out + "\n";
}

}  // namespace mq::cli
