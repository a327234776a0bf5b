// InstallSnapshot: a follower whose next entries are compacted away gets the
// leader's latest snapshot in chunks of at most snapshot_chunk_bytes, one
// chunk in flight, resent when no answer came for a few heartbeats.
#include <algorithm>

#include "node/raft/invariant.h"
#include "node/raft/raft.h"

namespace mq::raft {

void Raft::send_snapshot(NodeId to) {
  Progress* pr = tracker_.get(to);
  if (pr == nullptr) return;
  const SnapshotMeta& meta = storage_.snapshot_meta();
  // Entries are only compacted below a snapshot.
  MQ_INVARIANT(meta.index > 0);
  pr->become_snapshot(meta.index);
  send_snapshot_chunk(to);
}

void Raft::send_snapshot_chunk(NodeId to) {
  Progress* pr = tracker_.get(to);
  if (pr == nullptr || pr->state != ProgressState::kSnapshot) return;
  const SnapshotMeta& meta = storage_.snapshot_meta();
  if (meta.index != pr->pending_snapshot) {
    // The application took a newer snapshot meanwhile: send that one.
    pr->pending_snapshot = meta.index;
    pr->snapshot_offset = 0;
  }
  const uint64_t image_bytes = storage_.snapshot_bytes();
  const uint64_t offset = std::min<uint64_t>(pr->snapshot_offset, image_bytes);
  Message m;
  m.type = MessageType::kSnap;
  m.to = to;
  m.snapshot_meta = meta;
  m.snapshot_offset = offset;
  m.snapshot_chunk = storage_.snapshot_chunk(offset, config_.snapshot_chunk_bytes);
  m.snapshot_done = offset + m.snapshot_chunk.size() >= image_bytes;
  send(std::move(m));
}

void Raft::handle_snapshot(const Message& m) {
  const SnapshotMeta& meta = m.snapshot_meta;
  if (meta.index <= log_.committed()) {
    // Nothing to install; say how far we are so the leader resumes appends.
    incoming_snapshot_.reset();
    Message resp;
    resp.type = MessageType::kAppResp;
    resp.to = m.from;
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  if (m.snapshot_offset == 0) incoming_snapshot_ = Snapshot{meta, std::string()};
  const bool same = incoming_snapshot_ && incoming_snapshot_->meta.index == meta.index &&
                    incoming_snapshot_->meta.term == meta.term;
  if (!same || incoming_snapshot_->data.size() != m.snapshot_offset) {
    Message resp;
    resp.type = MessageType::kSnapResp;
    resp.to = m.from;
    resp.index = meta.index;
    resp.reject = true;
    resp.reject_hint = same ? incoming_snapshot_->data.size() : 0;
    send(std::move(resp));
    return;
  }
  incoming_snapshot_->data += m.snapshot_chunk;
  if (!m.snapshot_done) {
    Message resp;
    resp.type = MessageType::kSnapResp;
    resp.to = m.from;
    resp.index = meta.index;
    resp.reject_hint = incoming_snapshot_->data.size();
    send(std::move(resp));
    return;
  }
  Snapshot snapshot = std::move(*incoming_snapshot_);
  incoming_snapshot_.reset();
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  resp.index = restore(snapshot) ? log_.last_index() : log_.committed();
  send(std::move(resp));
}

bool Raft::restore(const Snapshot& snapshot) {
  const SnapshotMeta& meta = snapshot.meta;
  if (meta.index <= log_.committed()) return false;
  if (log_.match_term(meta.index, meta.term)) {
    // We hold the snapshot's last entry: everything up to it matches the
    // leader, so only the commit index moves.
    log_.commit_to(meta.index);
    return false;
  }
  log_.restore(snapshot);
  tracker_.reset_membership(meta.voters, meta.learners, log_.last_index() + 1);
  return true;
}

void Raft::handle_snapshot_response(const Message& m) {
  Progress* pr = tracker_.get(m.from);
  if (pr == nullptr) return;
  pr->recent_active = true;
  if (pr->state != ProgressState::kSnapshot || m.index != pr->pending_snapshot) return;
  pr->snapshot_quiet_heartbeats = 0;
  // The answer names how much of the image the follower holds. Asking for
  // the chunk last sent is an answer to a duplicate of it (a resend): that
  // chunk is on its way already, and sending it once more would start a
  // second stream of chunks beside the first, every answer of which asks
  // for its next chunk again. Further on is progress; further back, a
  // follower that lost its partial image.
  if (m.reject_hint == pr->snapshot_offset) return;
  pr->snapshot_offset = m.reject_hint;
  send_snapshot_chunk(m.from);
}

}  // namespace mq::raft
