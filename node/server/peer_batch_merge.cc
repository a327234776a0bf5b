#include "node/server/peer_batch_merge.h"

namespace mq::server {

namespace {

bool only_messages(const peer::PeerBatch& b) {
  return !b.has_removal() && !b.asks_if_removed() && b.quiet_groups_size() == 0;
}

}  // namespace

bool merge_batch(peer::PeerBatch& into, peer::PeerBatch& next) {
  if (!only_messages(into) || !only_messages(next)) return false;
  for (auto& m : *next.mutable_messages()) into.add_messages()->Swap(&m);
  next.clear_messages();
  into.set_vote_refusal_us(next.vote_refusal_us());
  into.set_memory_full(next.memory_full());
  into.set_memory_used_bytes(next.memory_used_bytes());
  into.set_memory_limit_bytes(next.memory_limit_bytes());
  return true;
}

}  // namespace mq::server
