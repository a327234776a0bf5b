#include "playground/cluster_view.h"

#include <algorithm>
#include <future>
#include <set>

namespace mq::playground {

std::string NodeView::state_word() const {
  if (liveness == Liveness::kUp && partitioned) return "partitioned";
  return liveness_name(liveness);
}

const char* health_name(Health h) {
  switch (h) {
    case Health::kHealthy: return "healthy";
    case Health::kDegraded: return "degraded";
    case Health::kUnavailable: return "unavailable";
  }
  return "unavailable";
}

std::string ClusterView::health_line() const {
  return std::string(health_name(health)) + (health_reason.empty() ? "" : ": " + health_reason);
}

namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The largest set of the given replicas that are up and pairwise linked,
// found by growing connected components; links are symmetric here.
size_t largest_connected(const ClusterState& state, const std::vector<std::string>& up) {
  std::set<std::string> seen;
  size_t best = 0;
  for (const auto& start : up) {
    if (seen.count(start)) continue;
    std::vector<std::string> stack = {start};
    seen.insert(start);
    size_t size = 0;
    while (!stack.empty()) {
      const std::string a = stack.back();
      stack.pop_back();
      ++size;
      for (const auto& b : up) {
        if (!seen.count(b) && link_ok(state, a, b)) {
          seen.insert(b);
          stack.push_back(b);
        }
      }
    }
    best = std::max(best, size);
  }
  return best;
}

// "partitioned n1,n2 | n3" (groups of running nodes that cannot talk to
// each other), or the cut links when every node is still reachable some
// way; "" when no fault is injected.
std::string describe_partition(const ClusterState& state, const std::vector<std::string>& up) {
  bool any = false;
  for (const auto& n : state.nodes) any |= !n.faults.empty();
  if (!any) return "";
  std::vector<std::string> groups;
  std::set<std::string> seen;
  for (const auto& start : up) {
    if (seen.count(start)) continue;
    std::vector<std::string> group, stack = {start};
    seen.insert(start);
    while (!stack.empty()) {
      const std::string a = stack.back();
      stack.pop_back();
      group.push_back(a);
      for (const auto& b : up) {
        if (!seen.count(b) && link_ok(state, a, b)) {
          seen.insert(b);
          stack.push_back(b);
        }
      }
    }
    std::sort(group.begin(), group.end());
    groups.push_back(join(group, ","));
  }
  if (groups.size() > 1) return "partitioned " + join(groups, " | ");
  std::vector<std::string> cuts;
  for (const auto& n : state.nodes) {
    for (const auto& to : n.faults.drop_to) cuts.push_back(n.id + "->" + to);
  }
  return "links cut: " + join(cuts);
}

}  // namespace

bool link_ok(const ClusterState& state, const std::string& a, const std::string& b) {
  const NodeRecord* na = state.find(a);
  const NodeRecord* nb = state.find(b);
  if (!na || !nb) return false;
  auto blocks = [](const NodeRecord& from, const NodeRecord& to) {
    return contains(from.faults.drop_to, to.id) || contains(to.faults.drop_from, from.id);
  };
  return !blocks(*na, *nb) && !blocks(*nb, *na);
}

ClusterView build_view(const ClusterState& state, const std::vector<Liveness>& liveness,
                       const std::vector<std::optional<ClusterStatus>>& statuses) {
  ClusterView view;
  view.name = state.name;
  std::vector<std::string> up_ids;
  for (size_t i = 0; i < state.nodes.size(); ++i) {
    const NodeRecord& r = state.nodes[i];
    NodeView n;
    n.id = r.id;
    n.address = r.address();
    if (r.http_port != 0) n.http_address = r.http_address();
    n.liveness = i < liveness.size() ? liveness[i] : Liveness::kDown;
    n.partitioned = !r.faults.empty();
    n.answered = i < statuses.size() && statuses[i].has_value();
    n.pid = n.liveness == Liveness::kDown ? 0 : r.pid;
    if (n.answered) {
      n.clock_ms = statuses[i]->clock_ms;
      n.role_changes = statuses[i]->role_changes;
      n.memory_used_bytes = statuses[i]->memory_used_bytes;
      n.memory_limit_bytes = statuses[i]->memory_limit_bytes;
      n.memory_full = statuses[i]->memory_full;
      n.moves_in_flight = statuses[i]->moves_in_flight;
    }
    if (n.liveness == Liveness::kUp) up_ids.push_back(r.id);
    view.nodes.push_back(n);
  }

  // Per shard: the claim of leadership with the highest term wins; every
  // node that answered tells its own role.
  std::map<std::string, size_t> node_index;
  for (size_t i = 0; i < state.nodes.size(); ++i) node_index[state.nodes[i].id] = i;
  for (uint32_t s = 0; s < state.shard_count; ++s) {
    ShardView sv;
    sv.id = s;
    const cli::ShardStatus* best = nullptr;
    size_t best_node = 0;
    std::map<std::string, std::string> roles;
    std::vector<std::string> replica_ids;
    for (size_t i = 0; i < statuses.size(); ++i) {
      if (!statuses[i] || view.nodes[i].liveness != Liveness::kUp) continue;
      for (const auto& sh : statuses[i]->shards) {
        if (sh.id != s) continue;
        roles[state.nodes[i].id] = sh.role;
        sv.term = std::max(sv.term, sh.term);
        sv.commit = std::max(sv.commit, sh.commit);
        if (sh.role == "leader" && (!best || sh.term > best->term)) {
          best = &sh;
          best_node = i;
        }
        if (replica_ids.empty()) {
          for (const auto& r : sh.replicas) replica_ids.push_back(r.node);
        }
      }
    }
    if (replica_ids.empty()) replica_ids = state.placement(s);
    // A leader of an older term than one seen elsewhere has been deposed
    // without knowing it yet (e.g. on the minority side of a partition).
    if (best && best->term == sv.term) {
      sv.leader = state.nodes[best_node].id;
      sv.commit = best->commit;
    }
    for (const auto& id : replica_ids) {
      ReplicaView rv;
      rv.node = id;
      auto it = roles.find(id);
      auto ni = node_index.find(id);
      const bool up = ni != node_index.end() && view.nodes[ni->second].liveness == Liveness::kUp;
      rv.role = it != roles.end() ? it->second : up ? "?" : "-";
      if (best && best->term == sv.term) {
        for (const auto& r : best->replicas) {
          if (r.node == id && (r.role == "follower" || r.role == "leader")) {
            rv.lag = r.lag;
            rv.lag_known = true;
          }
        }
      }
      sv.replicas.push_back(rv);
    }
    std::vector<std::string> up_replicas;
    for (const auto& id : replica_ids) {
      if (contains(up_ids, id)) up_replicas.push_back(id);
    }
    sv.quorum = largest_connected(state, up_replicas) >= replica_ids.size() / 2 + 1;
    if (!sv.leader.empty()) {
      if (auto ni = node_index.find(sv.leader); ni != node_index.end()) ++view.nodes[ni->second].shards_led;
    }
    view.shards.push_back(std::move(sv));
  }

  std::vector<std::string> no_quorum, leaderless, troubled;
  for (const auto& sv : view.shards) {
    if (!sv.quorum) no_quorum.push_back(std::to_string(sv.id));
    else if (sv.leader.empty()) leaderless.push_back(std::to_string(sv.id));
  }
  for (const auto& n : view.nodes) {
    if (n.liveness != Liveness::kUp) troubled.push_back(n.id + " " + liveness_name(n.liveness));
    if (n.liveness == Liveness::kUp && n.memory_full) {
      troubled.push_back(n.id + " over --max-memory (writes to its shards refused)");
    }
  }
  if (std::string cut = describe_partition(state, up_ids); !cut.empty()) troubled.push_back(cut);
  std::vector<std::string> reasons;
  if (!no_quorum.empty()) {
    view.health = Health::kUnavailable;
    reasons.push_back(std::string("no quorum for shard") + (no_quorum.size() > 1 ? "s " : " ") +
                      join(no_quorum));
  } else if (!troubled.empty() || !leaderless.empty()) {
    view.health = Health::kDegraded;
  }
  if (!troubled.empty()) reasons.push_back(join(troubled));
  if (!leaderless.empty() && no_quorum.empty()) {
    reasons.push_back(std::string("electing a leader for shard") + (leaderless.size() > 1 ? "s " : " ") +
                      join(leaderless));
  }
  // Not a fault: members changed and replicas follow (mq cluster add/remove).
  uint32_t moving = 0;
  for (const auto& n : view.nodes) moving += n.liveness == Liveness::kUp ? n.moves_in_flight : 0;
  if (moving > 0) {
    reasons.push_back(std::to_string(moving) + (moving > 1 ? " shards" : " shard") +
                      " moving replicas to the cluster map's placement");
  }
  view.health_reason = join(reasons, "; ");
  return view;
}

ClusterView ClusterObserver::observe(const ClusterState& state) {
  std::vector<Liveness> liveness;
  for (const auto& n : state.nodes) liveness.push_back(node_liveness(state, n));
  std::vector<std::future<std::optional<ClusterStatus>>> calls;
  for (size_t i = 0; i < state.nodes.size(); ++i) {
    if (liveness[i] != Liveness::kUp) {
      // A paused node would only make the caller wait out the deadline.
      std::promise<std::optional<ClusterStatus>> none;
      calls.push_back(none.get_future());
      none.set_value(std::nullopt);
      continue;
    }
    auto& client = clients_[state.nodes[i].address()];
    if (!client) {
      ClientOptions o;
      o.tls = state.client_tls();
      o.token = state.client_token();
      o.endpoints = {state.nodes[i].address()};
      o.timeout_ms = timeout_ms_;
      o.dial_timeout_ms = timeout_ms_;
      client = std::make_unique<Client>(o);
    }
    Client* c = client.get();
    calls.push_back(std::async(std::launch::async, [c]() -> std::optional<ClusterStatus> {
      ClusterStatus s;
      if (!c->status(&s).ok()) return std::nullopt;
      return s;
    }));
  }
  std::vector<std::optional<ClusterStatus>> statuses;
  for (auto& c : calls) statuses.push_back(c.get());
  return build_view(state, liveness, statuses);
}

ClusterView observe_cluster(const ClusterState& state, int timeout_ms) {
  return ClusterObserver(timeout_ms).observe(state);
}

}  // namespace mq::playground
