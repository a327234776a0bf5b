// What `mq member` prints: the cluster map's members as plain lines, a
// table or one JSON object (cli/json_schema/member_list.json), and the
// result of a change (member.json, member_replace.json). Pure functions of
// the client library's answers, so a test checks them without a cluster.
#pragma once

#include <string>
#include <vector>

#include "cli/client/client.h"
#include "cli/output.h"

namespace mq::cli {

// The order every format lists members in: those not removed (active, or
// joining: added and not yet claimed by their node) by id, then the removed
// ones (tombstones kept so an id is never reused) by id.
std::vector<MemberInfo> members_in_display_order(const std::vector<MemberInfo>& members);

// plain: "ID NAME ADDRESS STATE" per member; table: a line naming the
// cluster and the answering node, then ID NAME ADDRESS STATE REPLICAS
// LEADS; json: the list as one object.
std::string render_member_list(Format f, const MemberList& list);

// `mq node` flags that start the member: the command an operator runs next.
std::string start_command(const MemberInfo& m, const std::string& join_endpoint);

// add: "added n4 (id 4) at HOST:PORT; start it with: mq node ...".
std::string render_member_added(Format f, const MemberInfo& added, const std::string& join_endpoint);

// remove: "removed n3 (id 3): its replicas move to the other members", or,
// when fewer members than the replication factor remain (a forced
// removal), how many replicas each shard keeps. `after` is the map once the
// change is applied; members_after 0 when it could not be read.
struct RemovalContext {
  size_t members_after = 0;  // not removed: active or joining
  uint32_t replication = 0;
};
std::string render_member_removed(Format f, const MemberInfo& removed, const RemovalContext& after);

// replace: what was removed and what was added, and how to start the new one.
// transfer-leadership: the shards whose leadership moved, and where to.
std::string render_leadership_moved(Format f, const std::string& member,
                                    const std::vector<std::pair<uint32_t, std::string>>& moved);

std::string render_member_replaced(Format f, const MemberInfo& removed, const MemberInfo& added,
                                   const std::string& join_endpoint);

}  // namespace mq::cli
