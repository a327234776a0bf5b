// What `mq status` shows of this node: its peers, and per hosted shard the
// leader, term, commit and applied indexes and, on a leader, each replica's
// match index and lag; and the node's newest role changes
// (role_change_ring.h) with its clock reading, to turn their times into ages.
#include <chrono>

#include "node/server/node_host.h"

#ifndef MQ_VERSION_STRING
#define MQ_VERSION_STRING "unknown"
#endif

namespace mq::server {

namespace {

uint64_t ms_on_node_clock(NodeTime t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

}  // namespace

void NodeHost::fill_status(v1::StatusResponse* resp) {
  resp->set_node(topology().self_info().id);
  resp->set_cluster_id(topology().cluster_id);
  resp->set_version(MQ_VERSION_STRING);
  resp->set_shard_count(topology().shard_count);
  resp->set_replication(topology().replication);
  const NodeTime now = env_.now();
  resp->set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(now - started_).count());
  resp->set_clock_ms(ms_on_node_clock(now));
  resp->set_map_version(map_.version());
  resp->set_moves_in_flight(static_cast<uint32_t>(moves_in_flight()));
  if (env_.memory_in_use) {
    // Counted now, not at the last check: status is asked for rarely.
    resp->set_memory_used_bytes(env_.memory_in_use());
    resp->set_memory_limit_bytes(options_.max_memory_bytes);
    resp->set_memory_full(memory_full_);
  }
  for (const RoleChange& c : role_changes_.changes()) {
    auto* rc = resp->add_role_changes();
    rc->set_seq(c.seq);
    rc->set_at_ms(ms_on_node_clock(c.at));
    rc->set_shard(c.shard);
    rc->set_term(c.term);
    rc->set_role(std::string(raft::to_string(c.role)));
    rc->set_leader(c.lead == raft::kNoNode ? "" : node_name(c.lead));
  }
  for (const auto& p : topology().nodes) {
    if (p.removed) continue;
    auto* n = resp->add_nodes();
    n->set_id(p.id);
    n->set_address(p.address);
    n->set_reachable(p.raft_id == topology().self ||
                     env_.peers->recently_heard(p.raft_id, kPeerAliveWindowMs));
  }
  for (auto& gp : groups_) {
    if (!gp || is_meta(*gp)) continue;
    const raft::Status st = gp->node->status();
    auto* s = resp->add_shards();
    s->set_id(gp->shard);
    s->set_leader(node_name(st.lead));
    s->set_term(st.term);
    s->set_commit(st.commit);
    s->set_applied(gp->sm.applied_index());
    s->set_role(std::string(raft::to_string(st.role)));
    s->set_keys(gp->sm.key_count());
    for (raft::NodeId r : gp->replicas) {
      auto* ri = s->add_replicas();
      ri->set_node(node_name(r));
      if (st.role == raft::Role::kLeader) {
        auto it = st.progress.find(r);
        const uint64_t match = r == topology().self ? st.last_index
                               : it != st.progress.end() ? it->second.match
                                                         : 0;
        ri->set_role(r == topology().self ? "leader" : "follower");
        ri->set_match(match);
        ri->set_lag(st.commit > match ? st.commit - match : 0);
      } else if (r == st.lead) {
        ri->set_role("leader");
      } else if (r == topology().self) {
        ri->set_role(std::string(raft::to_string(st.role)));
      }
    }
  }
}

}  // namespace mq::server
