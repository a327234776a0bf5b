// Writes: proposed in batches per group, completed when they apply.
//
// Log entries carry an envelope (write_envelope.h). Empty data is a
// leader's no-op.
#include <mutex>

#include "node/kv/command.h"
#include "node/raft/invariant.h"
#include "node/server/node_host.h"
#include "node/server/write_envelope.h"

namespace mq::server {

Outcome NodeHost::propose_error(raft::ProposeError e, const ShardGroup& g) const {
  switch (e) {
    case raft::ProposeError::kNotLeader:
    case raft::ProposeError::kTransferInProgress:
      return not_leader(g.shard, &g);
    case raft::ProposeError::kTooMuchUncommitted:
    case raft::ProposeError::kTooManyPendingReads:
      return Outcome::with(Outcome::Code::kOverloaded,
                           "shard " + std::to_string(g.shard) + " is overloaded (" +
                               std::string(raft::to_string(e)) + "); retry later");
    case raft::ProposeError::kTooLarge:
      return Outcome::with(Outcome::Code::kInvalidArgument, "request too large for one Raft message");
    default:
      return Outcome::with(Outcome::Code::kInternal, std::string(raft::to_string(e)));
  }
}

void NodeHost::propose_write(uint32_t shard, const kv::CommandView& command, WriteDone done) {
  ShardGroup* g = group(shard);
  if (!g || g->role != raft::Role::kLeader) {
    done(not_leader(shard, g), {});
    return;
  }
  if (command.op == kv::Op::kSet) {
    if (auto refusal = memory_refusal(*g)) {
      done(*refusal, {});
      return;
    }
  }
  if (g->writes.size() >= options_.writes_pending_max) {
    done(Outcome::with(Outcome::Code::kOverloaded,
                       "shard " + std::to_string(shard) + " has " + std::to_string(g->writes.size()) +
                           " writes in flight on node " + topology().self_info().id +
                           " (the limit); retry later"),
         {});
    return;
  }
  const uint64_t id = next_request_id_++;
  g->writes_to_issue.push_back(wrap(id, command));
  g->write_ids_to_issue.push_back(id);
  g->writes.emplace(id, std::move(done));
}

// All writes that arrived together go to Raft as one batch per group: one
// AppendEntries per follower instead of one per write.
void NodeHost::issue_writes() {
  for (auto& gp : groups_) {
    if (!gp || gp->writes_to_issue.empty()) continue;
    ShardGroup& g = *gp;
    size_t accepted = 0;
    const raft::ProposeError e = g.node->propose_batch(g.writes_to_issue, &accepted);
    if (e != raft::ProposeError::kOk) {
      // Refused before they entered the log: a definite failure.
      const Outcome refused = propose_error(e, g);
      g.counters.proposals_failed += g.write_ids_to_issue.size() - accepted;
      for (size_t i = accepted; i < g.write_ids_to_issue.size(); ++i) {
        auto it = g.writes.find(g.write_ids_to_issue[i]);
        WriteDone done = std::move(it->second);
        g.writes.erase(it);
        done(refused, {});
      }
    }
    g.writes_to_issue.clear();
    g.write_ids_to_issue.clear();
  }
}

// Applies committed entries under one exclusive hold of the group's shared
// state, then completes the writes this node proposed (which sends their
// responses) after releasing it.
void NodeHost::apply(ShardGroup& g, const std::vector<raft::Entry>& entries) {
  std::vector<std::pair<WriteDone, kv::ApplyResult>> completed;
  {
    std::unique_lock lock(g.shared_state);
    for (const raft::Entry& e : entries) {
      if (e.index <= g.sm.applied_index()) continue;  // covered by a restored snapshot
      MQ_INVARIANT(e.index == g.sm.applied_index() + 1);
      g.applied_bytes_since_snapshot += e.data.size();
      uint64_t id = 0;
      std::string_view command;
      if (e.type != raft::EntryType::kNormal || e.data.empty() || !unwrap(e.data, &id, &command)) {
        g.sm.apply(e.index, "");
        continue;
      }
      const kv::ApplyResult r = g.sm.apply(e.index, command);
      auto it = g.writes.find(id);
      if (it == g.writes.end()) continue;  // proposed by another node, or before a restart
      completed.emplace_back(std::move(it->second), r);
      g.writes.erase(it);
    }
  }
  g.counters.proposals_committed += completed.size();
  for (auto& [done, r] : completed) {
    done(r.ok ? Outcome::success()
              : Outcome::with(Outcome::Code::kInternal, "entry is not a valid command"),
         r);
  }
}

}  // namespace mq::server
