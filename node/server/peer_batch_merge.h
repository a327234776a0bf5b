// Batches queued for one peer while the previous write was in flight
// travel as one: one write, one wake-up of the peer's loop.
#pragma once

#include "mq/peer/raft.pb.h"

namespace mq::server {

// Moves next's Raft messages into `into` and takes its newer state (vote
// refusal window, memory flags), when nothing else in it would be lost;
// false leaves both as they were (send next on its own). A batch with a
// removal notice, a question (asks_if_removed, quiet_groups) is never merged.
bool merge_batch(peer::PeerBatch& into, peer::PeerBatch& next);

}  // namespace mq::server
