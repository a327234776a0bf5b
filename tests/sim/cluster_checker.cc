#include "tests/sim/cluster_checker.h"

namespace mq::sim {

using raft::Entry;
using raft::NodeId;

void ClusterChecker::violation(std::string what) {
  // The first few are enough to debug; more only repeat the cascade.
  if (violations_.size() < 20) violations_.push_back(std::move(what));
}

void ClusterChecker::on_status(const raft::Status& s) {
  if (s.applied > s.commit) {
    violation("node " + std::to_string(s.id) + " applied " + std::to_string(s.applied) +
              " > committed " + std::to_string(s.commit));
  }
  if (s.role != raft::Role::kLeader) return;
  auto [it, inserted] = leader_of_term_.emplace(s.term, s.id);
  if (!inserted && it->second != s.id) {
    violation("two leaders in term " + std::to_string(s.term) + ": " + std::to_string(it->second) +
              " and " + std::to_string(s.id));
  }
}

void ClusterChecker::on_persisted(NodeId id, const std::vector<Entry>& entries,
                                  const raft::MemoryStorage& storage,
                                  uint64_t previous_durable_commit) {
  for (const Entry& e : entries) {
    uint64_t prev_term = 0;
    if (storage.term(e.index - 1, &prev_term) != raft::StorageError::kOk) prev_term = UINT64_MAX;
    EntryKey key{e.data, static_cast<uint8_t>(e.type), prev_term};
    auto [it, inserted] = persisted_.emplace(std::make_pair(e.index, e.term), key);
    if (inserted) continue;
    const bool prev_known = it->second.prev_term != UINT64_MAX && prev_term != UINT64_MAX;
    if (it->second.data != key.data || it->second.type != key.type ||
        (prev_known && it->second.prev_term != prev_term)) {
      violation("log matching: node " + std::to_string(id) + " persisted a different entry at " +
                std::to_string(e.term) + "/" + std::to_string(e.index));
    }
    if (it->second.prev_term == UINT64_MAX) it->second.prev_term = prev_term;
  }
  const uint64_t commit = storage.hard_state().commit;
  if (commit < previous_durable_commit) {
    violation("node " + std::to_string(id) + " durable commit went back from " +
              std::to_string(previous_durable_commit) + " to " + std::to_string(commit));
  }
  // Everything up to the durable commit index is committed, for good.
  const uint64_t from = std::max(previous_durable_commit + 1, storage.first_index());
  for (uint64_t i = from; i <= commit && i <= storage.last_index(); ++i) {
    uint64_t t = 0;
    if (storage.term(i, &t) != raft::StorageError::kOk) continue;
    auto [it, inserted] = committed_.emplace(i, t);
    if (!inserted && it->second != t) {
      violation("commit safety: index " + std::to_string(i) + " committed with term " +
                std::to_string(it->second) + " and later term " + std::to_string(t) + " on node " +
                std::to_string(id));
    }
  }
}

void ClusterChecker::on_applied(NodeId id, const Entry& e) {
  auto [it, inserted] = applied_.emplace(e.index, std::make_pair(e.term, e.data));
  if (!inserted && (it->second.first != e.term || it->second.second != e.data)) {
    violation("state machine safety: node " + std::to_string(id) + " applied " +
              std::to_string(e.term) + "/" + std::to_string(e.index) + " where another applied term " +
              std::to_string(it->second.first));
  }
  auto c = committed_.find(e.index);
  if (c != committed_.end() && c->second != e.term) {
    violation("node " + std::to_string(id) + " applied " + std::to_string(e.term) + "/" +
              std::to_string(e.index) + " but term " + std::to_string(c->second) + " committed there");
  }
}

void ClusterChecker::check_leader_log(NodeId id, uint64_t term, const raft::MemoryStorage& storage) {
  auto [it, first_time] = leader_checked_.emplace(std::make_pair(id, term), true);
  if (!first_time) return;
  // Entries committed in earlier terms must all be in the new leader's log.
  for (auto c = committed_.lower_bound(storage.first_index()); c != committed_.end(); ++c) {
    if (c->second >= term) continue;
    uint64_t t = 0;
    if (storage.term(c->first, &t) != raft::StorageError::kOk || t != c->second) {
      violation("leader completeness: leader " + std::to_string(id) + " of term " +
                std::to_string(term) + " lacks committed entry " + std::to_string(c->second) + "/" +
                std::to_string(c->first));
      return;
    }
  }
}

}  // namespace mq::sim
