#include "playground/leader_history.h"

#include <algorithm>

namespace mq::playground {

void LeaderHistory::add(const ClusterView& view, int64_t now_ms) {
  for (const auto& n : view.nodes) {
    if (!n.answered) continue;
    for (const auto& c : n.role_changes) {
      if (c.leader.empty()) continue;
      const int64_t age_ms = n.clock_ms >= c.at_ms ? static_cast<int64_t>(n.clock_ms - c.at_ms) : 0;
      auto [it, fresh] = leaders_.try_emplace({c.shard, c.term, c.leader}, now_ms - age_ms);
      if (!fresh) it->second = std::min(it->second, now_ms - age_ms);
    }
  }
  trim();
}

void LeaderHistory::note_leaderless(uint32_t shard, uint64_t term, int64_t ms) {
  leaderless_[{shard, term}] = ms;
  trim();
}

void LeaderHistory::trim() {
  // Bounded: each pass removes one entry, and one Status answer per node
  // (64 records each) is all that can arrive above the limit at once.
  while (leaders_.size() > kRecordsMax) {
    auto oldest = std::min_element(leaders_.begin(), leaders_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    leaders_.erase(oldest);
  }
  // Keyed by shard and term: the lowest terms go first.
  while (leaderless_.size() > kRecordsMax) leaderless_.erase(leaderless_.begin());
}

std::vector<ClusterEvent> LeaderHistory::changes() const {
  std::vector<ClusterEvent> out;
  // leaders_ is ordered by shard, then term: consecutive entries of one
  // shard are consecutive leaders.
  const LeaderKey* prev = nullptr;
  for (const auto& [key, first_ms] : leaders_) {
    const auto& [shard, term, leader] = key;
    if (prev && std::get<0>(*prev) == shard) {
      const std::string& old_leader = std::get<2>(*prev);
      ClusterEvent e;
      e.time_ms = first_ms;
      e.leader_change = true;
      e.shard = shard;
      e.from = old_leader;
      e.to = leader;
      e.term = term;
      e.text = "shard " + std::to_string(shard) + ": leader " +
               (old_leader == leader ? leader + " re-elected" : old_leader + " -> " + leader) + " (term " +
               std::to_string(term) + ")";
      if (auto it = leaderless_.find({shard, term}); it != leaderless_.end()) {
        e.leaderless_ms = it->second;
        e.text += ", no leader for " + std::to_string(e.leaderless_ms) + " ms";
      }
      out.push_back(std::move(e));
    }
    prev = &key;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ClusterEvent& a, const ClusterEvent& b) { return a.time_ms < b.time_ms; });
  return out;
}

}  // namespace mq::playground
