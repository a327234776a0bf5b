#include "playground/fault_plan.h"

#include <algorithm>

namespace mq::playground {

namespace {

void add_unique(std::vector<std::string>* v, const std::string& x) {
  if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
}

}  // namespace

std::vector<std::string> parse_node_list(const ClusterState& state, const std::string& text,
                                         std::string* error) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string id = text.substr(start, comma - start);
    if (!state.find(id)) {
      *error = id.empty() ? "empty node name in '" + text + "'"
                          : "no node '" + id + "' in cluster " + state.name;
      return {};
    }
    add_unique(&out, id);
    start = comma + 1;
  }
  return out;
}

std::string plan_partition(ClusterState* state, const std::vector<std::string>& side_a,
                           const std::vector<std::string>& side_b) {
  if (side_a.empty() || side_b.empty()) return "a partition needs two non-empty sides";
  for (const auto& a : side_a) {
    if (std::find(side_b.begin(), side_b.end(), a) != side_b.end()) {
      return "node " + a + " is on both sides";
    }
  }
  auto cut = [state](const std::vector<std::string>& from, const std::vector<std::string>& to) {
    for (const auto& id : from) {
      NodeRecord* n = state->find(id);
      n->faults = {};
      for (const auto& other : to) {
        add_unique(&n->faults.drop_to, other);
        add_unique(&n->faults.drop_from, other);
      }
    }
  };
  cut(side_a, side_b);
  cut(side_b, side_a);
  return "";
}

std::string plan_one_way(ClusterState* state, const std::string& from, const std::string& to) {
  NodeRecord* f = state->find(from);
  NodeRecord* t = state->find(to);
  if (!f || !t) return "no node '" + (f ? to : from) + "' in cluster " + state->name;
  if (from == to) return "a link needs two different nodes";
  add_unique(&f->faults.drop_to, to);
  add_unique(&t->faults.drop_from, from);
  return "";
}

std::string plan_isolate(ClusterState* state, const std::string& node) {
  if (!state->find(node)) return "no node '" + node + "' in cluster " + state->name;
  std::vector<std::string> others;
  for (const auto& n : state->nodes) {
    if (n.id != node) others.push_back(n.id);
  }
  if (others.empty()) return "a cluster of one node cannot be partitioned";
  // The others keep their links among themselves but lose the isolated one.
  for (const auto& id : others) {
    NodeRecord* n = state->find(id);
    add_unique(&n->faults.drop_to, node);
    add_unique(&n->faults.drop_from, node);
  }
  NodeRecord* n = state->find(node);
  n->faults = {others, others};
  return "";
}

void plan_heal(ClusterState* state) {
  for (auto& n : state->nodes) n.faults = {};
}

}  // namespace mq::playground
