// --max-memory: a node over its limit refuses new writes instead of growing
// until the kernel kills it with every call in flight.
//
// The node counts its memory every few ticks. Over the limit it refuses
// writes it leads (RESOURCE_EXHAUSTED naming the limit) and says so in every
// batch it sends its peers. A follower cannot refuse what its leader sends:
// the entries are committed by a majority and must be applied. So the
// leader refuses for it: the leader of a shard refuses new writes while any
// replica it heard from within the alive window reports itself full. The
// follower then grows only by the writes already in flight, the shard keeps
// its leader (heartbeats and elections are untouched), and reads and
// deletes go on everywhere. Writes resume once the replica is below 90% of
// its limit.
#include "node/server/memory_gauge.h"
#include "node/server/node_host.h"

namespace mq::server {

void NodeHost::check_memory() {
  if (!env_.memory_in_use) return;
  memory_in_use_ = env_.memory_in_use();  // for /metrics, limit or not
  if (options_.max_memory_bytes == 0) return;
  // Full at the limit; writes resume only below 90% of it, so that a node
  // at its limit does not flip with every snapshot it builds and frees.
  const bool full = memory_full_ ? memory_in_use_ >= options_.max_memory_bytes / 10 * 9
                                 : memory_in_use_ >= options_.max_memory_bytes;
  if (full == memory_full_) return;
  memory_full_ = full;
  if (full) {
    log(LogLevel::kWarn, "memory in use " + format_bytes(memory_in_use_) + " reached --max-memory " +
                             format_bytes(options_.max_memory_bytes) +
                             ": refusing new writes to the shards this node replicates; reads and "
                             "deletes go on");
  } else {
    log(LogLevel::kInfo, "memory in use " + format_bytes(memory_in_use_) +
                             " is below 90% of --max-memory " + format_bytes(options_.max_memory_bytes) +
                             " again: accepting writes");
  }
}

std::optional<Outcome> NodeHost::memory_refusal(const ShardGroup& g) const {
  const MemoryFullInfo* full = nullptr;
  MemoryFullInfo own;
  if (memory_full_) {
    own = {topology().self_info().id, memory_in_use_, options_.max_memory_bytes};
    full = &own;
  } else {
    for (raft::NodeId r : g.replicas) {
      if (r == topology().self || r >= peer_memory_full_.size()) continue;
      // A replica silent for longer than the window may have restarted
      // emptier: its old report no longer holds the shard back.
      if (!peer_memory_full_[r].node.empty() && env_.peers->recently_heard(r, kPeerAliveWindowMs)) {
        full = &peer_memory_full_[r];
        break;
      }
    }
  }
  if (full == nullptr) return std::nullopt;
  Outcome o = Outcome::with(
      Outcome::Code::kMemoryFull,
      "node " + full->node + " holds " + format_bytes(full->used_bytes) + ", over its --max-memory " +
          format_bytes(full->limit_bytes) + ": writes to shard " + std::to_string(g.shard) +
          " are refused until deletes free memory (reads and deletes are served)");
  o.memory = *full;
  return o;
}

}  // namespace mq::server
