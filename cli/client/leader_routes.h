// How a client finds a shard's leader, shared by the client library and the
// load generator so a script and a benchmark route the same way: which
// address an answer names as the leader, whether a NotLeader hint is worth
// following, and how many hops one request may take.
#pragma once

#include <string>

namespace mq::v1 {
class NotLeader;
class ResponseHeader;
}  // namespace mq::v1

namespace mq::cli {

// Redirects one request may follow. A hint can be stale (the named node lost
// leadership too); past a few hops the cluster is electing, and waiting for
// it beats bouncing between nodes.
inline constexpr int kLeaderHopsMax = 3;

// The leader an answer from `answered_by` names: the header's leader address,
// else the node that answered (a leader does not always fill the address in
// for itself).
std::string leader_named_by(const v1::ResponseHeader& header, const std::string& answered_by);

// Where a NotLeader hint from `refused_by` sends the request next: the leader
// it names, or "" when it names none, names the node that refused, or the
// request has used up its hops.
std::string hint_target(const v1::NotLeader& hint, const std::string& refused_by, int hops_taken);

}  // namespace mq::cli
