// After the heal and the final reads, the cluster must settle where its
// newest map says: every removed member has stopped (told so by the
// others if it never learned of its removal itself), every live node has
// that map, each shard's configuration is its placement, and no node holds
// a replica the map does not place on it.
#include <algorithm>

#include "tests/nodesim/simulation_internals.h"

namespace mq::nodesim::internal {

namespace {

// Checked at this interval until it holds or the deadline passes.
constexpr int64_t kConvergenceCheckUs = 100'000;

bool contains(const std::vector<raft::NodeId>& v, raft::NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

std::string ids(std::vector<raft::NodeId> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (raft::NodeId id : v) out += (out.empty() ? "" : ",") + std::to_string(id);
  return "{" + out + "}";
}

}  // namespace

void Simulation::after_finals() {
  if (!opt_.membership) return;
  convergence_deadline_us_ = now_ + opt_.convergence_ms_max * 1000;
  check_convergence();
}

void Simulation::check_convergence() {
  std::string why = unconverged();
  if (why.empty() || now_ >= convergence_deadline_us_) {
    converged_ = why.empty() || why == kUncheckable;
    if (why == kUncheckable) ++result_.convergence_unchecked;
    if (!converged_) {
      violation("convergence: " + std::to_string(opt_.convergence_ms_max) +
                " ms after the final reads, " + why);
      dump_groups();
    }
    convergence_done_ = true;
    return;
  }
  at(std::min(now_ + kConvergenceCheckUs, convergence_deadline_us_), [this] { check_convergence(); });
}

std::string Simulation::unconverged() const {
  const server::ClusterMap* newest = nullptr;
  for (const auto& np : nodes_) {
    if (!np->host || np->host->cluster_map().empty()) continue;
    const server::ClusterMap& m = np->host->cluster_map();
    if (!newest || m.version() > newest->version()) newest = &m;
  }
  if (!newest) return "no running node has a cluster map";
  const std::string version = " (map version " + std::to_string(newest->version()) + ")";
  std::vector<std::pair<const server::Member*, const SimNode*>> members;
  for (const server::Member& m : newest->members()) {
    const SimNode* n = nullptr;
    for (const auto& np : nodes_) {
      if (np->id == m.name) n = np.get();
    }
    if (!n) return "member " + m.name + " is no simulated node";
    // A member whose data dir was wiped is refused for ever: its replicas
    // wait for an operator to replace it, which this run does not do.
    if (m.state != server::MemberState::kRemoved && n->refused_forever) return kUncheckable;
    members.emplace_back(&m, n);
  }
  for (const auto& [m, n] : members) {
    if (m->state == server::MemberState::kRemoved) {
      if (n->host) return n->id + " was removed" + version + " and still runs";
    } else if (!n->host) {
      return "member " + n->id + " is down";
    }
  }
  for (const auto& np : nodes_) {
    if (!np->host) continue;
    const server::ClusterMap& m = np->host->cluster_map();
    if (m.version() != newest->version()) {
      return np->id + " has map version " + std::to_string(m.version()) + version;
    }
    for (uint32_t s = 0; s <= opt_.shards; ++s) {
      const bool placed = s == opt_.shards ? contains(m.meta_voters(), np->raft_id) ||
                                                 contains(m.meta_learners(), np->raft_id)
                                           : m.hosts(np->raft_id, s);
      const bool held = np->host->group(s) != nullptr;
      if (placed != held) {
        return np->id + (held ? " holds" : " lacks") + " a replica of group " + std::to_string(s) +
               version;
      }
    }
  }
  for (uint32_t s = 0; s <= opt_.shards; ++s) {
    std::vector<raft::NodeId> want_voters, want_learners;
    if (s == opt_.shards) {
      want_voters = newest->meta_voters();
      want_learners = newest->meta_learners();
    } else {
      want_voters = newest->placement(s).replicas;
    }
    const server::ShardGroup* leader = nullptr;
    for (const auto& np : nodes_) {
      const server::ShardGroup* g = np->host ? np->host->group(s) : nullptr;
      if (g && g->role == raft::Role::kLeader) leader = g;
    }
    if (!leader) return "group " + std::to_string(s) + " has no leader";
    std::vector<raft::NodeId> voters = leader->node->voters();
    std::vector<raft::NodeId> learners = leader->node->learners();
    std::sort(voters.begin(), voters.end());
    std::sort(learners.begin(), learners.end());
    std::sort(want_voters.begin(), want_voters.end());
    std::sort(want_learners.begin(), want_learners.end());
    if (voters != want_voters || learners != want_learners) {
      return "group " + std::to_string(s) + " has voters " + ids(voters) + " and learners " +
             ids(learners) + ", placed " + ids(want_voters) + " and " + ids(want_learners) + version;
    }
  }
  return "";
}

}  // namespace mq::nodesim::internal
