// Log replication (Raft paper 5.3) with flow control: batches bounded by
// bytes and count, a bounded window of pipelined appends per follower, and
// back-off on rejection guided by the follower's conflict hint.
#include <algorithm>
#include <set>

#include "node/raft/invariant.h"
#include "node/raft/raft.h"

namespace mq::raft {

ProposeError Raft::propose(std::string data) {
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  if (lead_transferee_ != kNoNode) return ProposeError::kTransferInProgress;
  if (data.size() > config_.max_size_per_msg_bytes) return ProposeError::kTooLarge;
  // One entry is always accepted when nothing is pending, so a single large
  // proposal below the message limit cannot be refused forever.
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + data.size() > config_.max_uncommitted_bytes) {
    return ProposeError::kTooMuchUncommitted;
  }
  Entry e;
  e.data = std::move(data);
  MQ_INVARIANT(append_entry({std::move(e)}));
  bcast_append();
  return ProposeError::kOk;
}

ProposeError Raft::propose_batch(std::vector<std::string>& data, size_t* accepted) {
  *accepted = 0;
  if (role_ != Role::kLeader) return ProposeError::kNotLeader;
  if (lead_transferee_ != kNoNode) return ProposeError::kTransferInProgress;
  // The longest prefix within the limits is accepted, as if each entry had
  // been proposed alone, but the followers get one append for all of them.
  std::vector<Entry> entries;
  uint64_t bytes = uncommitted_bytes_;
  ProposeError refused = ProposeError::kOk;
  for (std::string& d : data) {
    if (d.size() > config_.max_size_per_msg_bytes) {
      refused = ProposeError::kTooLarge;
      break;
    }
    if (bytes > 0 && bytes + d.size() > config_.max_uncommitted_bytes) {
      refused = ProposeError::kTooMuchUncommitted;
      break;
    }
    bytes += d.size();
    Entry e;
    e.data = std::move(d);
    entries.push_back(std::move(e));
  }
  *accepted = entries.size();
  if (!entries.empty()) {
    MQ_INVARIANT(append_entry(std::move(entries)));
    bcast_append();
  }
  return refused;
}

bool Raft::append_entry(std::vector<Entry> entries) {
  uint64_t index = log_.last_index();
  uint64_t bytes = 0;
  for (Entry& e : entries) {
    e.term = term_;
    e.index = ++index;
    bytes += e.data.size();
  }
  uncommitted_bytes_ += bytes;
  const uint64_t last = log_.append(entries);
  if (Progress* self = tracker_.get(id_)) self->maybe_update(last);
  // A leader alone in its configuration commits on its own vote.
  maybe_commit();
  return true;
}

bool Raft::maybe_commit() {
  const uint64_t index = tracker_.quorum_match();
  if (index <= log_.committed()) return false;
  // Figure 8 of the paper: an entry of an earlier term stored on a majority
  // can still be overwritten, so only counting replicas of our own term
  // commits (and commits everything before it by log matching).
  if (log_.term(index) != term_) return false;
  log_.commit_to(index);
  on_commit_advanced();
  return true;
}

void Raft::on_commit_advanced() {
  if (log_.term(log_.committed()) == term_) release_pending_reads();
}

bool Raft::send_append(NodeId to, bool send_if_empty) {
  Progress* pr = tracker_.get(to);
  if (pr == nullptr || pr->is_paused()) return false;
  const uint64_t prev = pr->next - 1;
  const auto prev_term = log_.term(prev);
  std::vector<Entry> entries;
  const bool have_entries =
      log_.entries_from(pr->next, config_.max_size_per_msg_bytes, config_.max_entries_per_msg, &entries);
  if (!prev_term.has_value() || !have_entries) {
    // What the follower needs is compacted away.
    send_snapshot(to);
    return true;
  }
  if (entries.empty() && !send_if_empty) return false;

  Message m;
  m.type = MessageType::kApp;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  if (!entries.empty()) {
    const uint64_t last = entries.back().index;
    if (pr->state == ProgressState::kReplicate) {
      pr->next = last + 1;
      pr->inflights.add(last);
    }
  }
  if (pr->state == ProgressState::kProbe) pr->probe_sent = true;
  m.entries = std::move(entries);
  send(std::move(m));
  return true;
}

void Raft::flush_commit() {
  if (!commit_unsent_) return;
  commit_unsent_ = false;
  if (role_ != Role::kLeader) return;
  // A queued append may carry the newer commit: a follower commits only up
  // to the last entry the append proved to match (RaftLog::maybe_append).
  std::set<NodeId> told;
  for (Message& m : msgs_) {
    if (m.type == MessageType::kApp && m.term == term_) {
      m.commit = std::max(m.commit, log_.committed());
      told.insert(m.to);
    }
  }
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_ && !told.count(id)) send_append(id, true);
  }
}

void Raft::bcast_append() {
  for (auto& [id, pr] : tracker_.progress()) {
    if (id != id_) send_append(id, true);
  }
}

void Raft::send_heartbeat(NodeId to, const std::string& context) {
  Progress* pr = tracker_.get(to);
  if (pr == nullptr) return;
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // A follower may not hold our committed entries yet; it must not commit
  // past what it has matched.
  m.commit = std::min(pr->match, log_.committed());
  m.context = context;
  send(std::move(m));
}

void Raft::bcast_heartbeat(const std::string& context) {
  for (auto& [id, pr] : tracker_.progress()) {
    if (id != id_) send_heartbeat(id, context);
  }
}

void Raft::handle_append(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  if (auto last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last_new;
    send(std::move(resp));
    return;
  }
  // Tell the leader where our logs may agree: the last index at or before
  // its probe whose term is no newer than its entry there. It skips a whole
  // term of mismatches per round trip instead of one entry.
  const uint64_t hint = log_.find_conflict_by_term(std::min(m.index, log_.last_index()), m.log_term);
  resp.reject = true;
  resp.index = m.index;
  resp.reject_hint = hint;
  resp.log_term = log_.term(hint).value_or(0);
  send(std::move(resp));
}

void Raft::handle_heartbeat(const Message& m) {
  log_.commit_to(std::min(m.commit, log_.last_index()));
  Message resp;
  resp.type = MessageType::kHeartbeatResp;
  resp.to = m.from;
  resp.context = m.context;
  send(std::move(resp));
}

void Raft::handle_append_response(const Message& m) {
  Progress* pr = tracker_.get(m.from);
  if (pr == nullptr) return;
  pr->recent_active = true;

  if (m.reject) {
    uint64_t next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log_.find_conflict_by_term(m.reject_hint, m.log_term);
    if (pr->state != ProgressState::kSnapshot && !pr->is_stale_rejection(m.index) &&
        m.reject_hint < pr->match) {
      // A follower holding what it acknowledged answers a fresh rejection
      // with a hint at or past its match (its terms there equal ours, and
      // ours never decrease). One below lost its log: probing from the old
      // match would be rejected forever. It still holds up to the hint
      // only if its term there is ours (log matching); else nothing is
      // proven.
      const bool hint_matches = log_.match_term(m.reject_hint, m.log_term);
      pr->rewind(hint_matches ? m.reject_hint : 0, next_probe);
      send_append(m.from, true);
      return;
    }
    if (pr->maybe_decrease_to(m.index, next_probe)) {
      if (pr->state == ProgressState::kReplicate) pr->become_probe();
      send_append(m.from, true);
    }
    return;
  }

  const bool was_paused = pr->is_paused();
  if (!pr->maybe_update(m.index)) return;
  switch (pr->state) {
    case ProgressState::kProbe: pr->become_replicate(); break;
    case ProgressState::kSnapshot:
      if (pr->match + 1 >= log_.first_index()) {
        pr->become_probe();
        pr->become_replicate();
      }
      break;
    case ProgressState::kReplicate: pr->inflights.free_le(m.index); break;
  }
  // A new commit index waits for flush_commit(): acks arrive in bursts (one
  // per follower, many groups per loop iteration), and appends that are
  // queued anyway carry it, so a commit costs no message of its own while
  // writes keep coming.
  if (maybe_commit()) commit_unsent_ = true;
  if (was_paused) send_append(m.from, true);
  // Fill the window; bounded by max_inflight_msgs and the log's end.
  for (uint64_t i = 0; i < config_.max_inflight_msgs && send_append(m.from, false); ++i) {
  }
  if (m.from == lead_transferee_ && pr->match == log_.last_index()) {
    Message now;
    now.type = MessageType::kTimeoutNow;
    now.to = m.from;
    send(std::move(now));
  }
}

void Raft::handle_heartbeat_response(const Message& m) {
  Progress* pr = tracker_.get(m.from);
  if (pr == nullptr) return;
  pr->recent_active = true;
  pr->probe_sent = false;
  // The follower is alive but the window is still full: its acks (or our
  // appends) were lost. Reopen the window; the next append either extends
  // the follower's log or is rejected and sends us back to probing.
  if (pr->state == ProgressState::kReplicate && pr->inflights.full()) pr->inflights.free_le(pr->match + 1);
  if (pr->state == ProgressState::kReplicate && pr->inflights.full()) pr->inflights.reset();
  if (pr->match < log_.last_index()) send_append(m.from, true);
  if (!m.context.empty()) handle_read_ack(m);
}

}  // namespace mq::raft
