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

void ClusterChecker::on_sent(NodeId id, const raft::Message& m, const raft::MemoryStorage& disk,
                             bool before_persist) {
  using raft::MessageType;
  const raft::HardState hs = disk.hard_state();
  auto broken = [&](const std::string& why) {
    violation("durable before sent: node " + std::to_string(id) + " sent " + raft::describe(m) +
              (before_persist ? " before writing its Ready" : "") + " but " + why);
  };
  if (before_persist) {
    const bool leader_traffic = m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
                                m.type == MessageType::kSnap || m.type == MessageType::kTimeoutNow;
    if (!leader_traffic) return broken("only a leader's own traffic may precede the write");
    if (m.term != hs.term || hs.vote != id) return broken("its term and its vote for itself are not durable");
  }
  // What a vote or a vote request reveals is durable when the disk holds
  // that term with that vote, or a later term: a node past term T never acts
  // in T again, even after a crash (a candidate that moved on before its
  // Ready was written still sends the requests it had queued).
  auto vote_durable = [&](NodeId voted_for) {
    return m.term < hs.term || (m.term == hs.term && hs.vote == voted_for);
  };
  switch (m.type) {
    case MessageType::kPreVote:
      // Asks for the next term, binding nothing; its own term must be durable.
      if (m.term > hs.term + 1) broken("the term it campaigns from is not durable");
      break;
    case MessageType::kPreVoteResp:
      // A granted pre-vote carries the candidate's term and binds nothing.
      if (m.reject && m.term > hs.term) broken("its term is not durable");
      break;
    case MessageType::kVote:
      if (!vote_durable(id)) broken("its term and its vote for itself are not durable");
      break;
    case MessageType::kVoteResp:
      if (!m.reject && !vote_durable(m.to)) broken("the vote is not durable");
      if (m.reject && m.term > hs.term) broken("its term is not durable");
      break;
    case MessageType::kAppResp:
      if (m.term > hs.term) broken("its term is not durable");
      // An acknowledgement of entries the disk no longer holds is legal only
      // when a leader of a later term (durable now) had them truncated after
      // it was queued: then it is like any acknowledgement delayed in the
      // network. Within its own term a node never drops what it acknowledged.
      if (!m.reject && m.index > disk.last_index() && m.term >= hs.term) {
        broken("the disk ends at " + std::to_string(disk.last_index()));
      }
      break;
    default:
      if (m.term > hs.term) broken("its term is not durable");
      break;
  }
}

void ClusterChecker::on_ready(NodeId id, const raft::Ready& rd, const raft::HardState& durable) {
  const bool needed = !rd.entries.empty() || rd.snapshot.has_value() ||
                      (rd.hard_state && (rd.hard_state->term != durable.term || rd.hard_state->vote != durable.vote));
  if (rd.must_sync != needed) {
    violation("sync when needed: node " + std::to_string(id) + " Ready says must_sync " +
              std::to_string(rd.must_sync) + " with " + std::to_string(rd.entries.size()) + " entries, " +
              (rd.snapshot ? "a" : "no") + " snapshot, hard state " +
              (rd.hard_state ? std::to_string(rd.hard_state->term) + "/" + std::to_string(rd.hard_state->vote)
                             : std::string("unchanged")) +
              " over durable " + std::to_string(durable.term) + "/" + std::to_string(durable.vote));
  }
}

void ClusterChecker::on_soft_state(NodeId id, const raft::SoftState& reported, const raft::SoftState& actual) {
  if (reported == actual) return;
  violation("soft state: node " + std::to_string(id) + " is " + std::string(raft::to_string(actual.role)) +
            " of term " + std::to_string(actual.term) + " led by " + std::to_string(actual.lead) +
            " but its Readies reported " + std::string(raft::to_string(reported.role)) + " of term " +
            std::to_string(reported.term) + " led by " + std::to_string(reported.lead));
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
