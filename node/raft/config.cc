#include "node/raft/config.h"

namespace mq::raft {

std::string Config::validate() const {
  if (id == kNoNode) return "id must be non-zero";
  if (heartbeat_tick <= 0) return "heartbeat_tick must be positive";
  if (election_tick <= heartbeat_tick) return "election_tick must exceed heartbeat_tick";
  if (max_size_per_msg_bytes == 0) return "max_size_per_msg_bytes must be positive";
  if (max_entries_per_msg == 0) return "max_entries_per_msg must be positive";
  if (max_inflight_msgs == 0) return "max_inflight_msgs must be positive";
  if (max_uncommitted_bytes == 0) return "max_uncommitted_bytes must be positive";
  if (snapshot_chunk_bytes == 0) return "snapshot_chunk_bytes must be positive";
  if (max_pending_reads == 0) return "max_pending_reads must be positive";
  return "";
}

}  // namespace mq::raft
