#include "playground/leader_history.h"

#include <algorithm>
#include <limits>

namespace mq::playground {

void LeaderHistory::add(const ClusterView& view, int64_t now_ms) {
  for (const auto& n : view.nodes) {
    if (!n.answered) continue;
    for (const auto& c : n.role_changes) {
      const int64_t age_ms = n.clock_ms >= c.at_ms ? static_cast<int64_t>(n.clock_ms - c.at_ms) : 0;
      const int64_t at = now_ms - age_ms;
      if (c.leader.empty()) {
        leaderless_.try_emplace({n.id, c.at_ms, c.seq}, Leaderless{c.shard, c.term, at});
        continue;
      }
      auto [it, fresh] = leaders_.try_emplace({c.shard, c.term, c.leader}, at);
      if (!fresh) it->second = std::min(it->second, at);
    }
  }
  trim();
}

void LeaderHistory::trim() {
  // Bounded: each pass removes one entry, and there are at most a Status
  // answer's worth (64 per node) above the limit.
  while (leaders_.size() > kRecordsMax) {
    auto oldest = std::min_element(leaders_.begin(), leaders_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    leaders_.erase(oldest);
  }
  while (leaderless_.size() > kRecordsMax) {
    auto oldest = std::min_element(leaderless_.begin(), leaderless_.end(), [](const auto& a, const auto& b) {
      return a.second.time_ms < b.second.time_ms;
    });
    leaderless_.erase(oldest);
  }
}

std::vector<ClusterEvent> LeaderHistory::changes() const {
  std::vector<ClusterEvent> out;
  std::map<uint32_t, std::vector<Leaderless>> leaderless_by_shard;
  for (const auto& [rk, r] : leaderless_) leaderless_by_shard[r.shard].push_back(r);
  // leaders_ is ordered by shard, then term: consecutive entries of one
  // shard are consecutive leaders.
  const LeaderKey* prev = nullptr;
  int64_t prev_ms = 0;
  for (const auto& [key, first_ms] : leaders_) {
    const auto& [shard, term, leader] = key;
    if (prev && std::get<0>(*prev) == shard) {
      const uint64_t old_term = std::get<1>(*prev);
      const std::string& old_leader = std::get<2>(*prev);
      int64_t lost_ms = std::numeric_limits<int64_t>::max();
      for (const auto& r : leaderless_by_shard[shard]) {
        if (r.term >= old_term && r.term <= term && r.time_ms > prev_ms &&
            r.time_ms <= first_ms) {
          lost_ms = std::min(lost_ms, r.time_ms);
        }
      }
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
      if (lost_ms != std::numeric_limits<int64_t>::max()) {
        e.leaderless_ms = first_ms - lost_ms;
        e.text += ", no leader for " + std::to_string(e.leaderless_ms) + " ms";
      }
      out.push_back(std::move(e));
    }
    prev = &key;
    prev_ms = first_ms;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ClusterEvent& a, const ClusterEvent& b) { return a.time_ms < b.time_ms; });
  return out;
}

}  // namespace mq::playground
