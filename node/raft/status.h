// A snapshot of one node's Raft state, for `mq status` and for tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/raft/progress.h"
#include "node/raft/types.h"

namespace mq::raft {

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view to_string(Role role);

struct PeerStatus {
  uint64_t match = 0;
  uint64_t next = 0;
  ProgressState state = ProgressState::kProbe;
  bool is_learner = false;
  bool recent_active = false;
};

struct Status {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  uint64_t term = 0;
  NodeId vote = kNoNode;
  NodeId lead = kNoNode;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  NodeId lead_transferee = kNoNode;
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  // Filled on the leader only.
  std::map<NodeId, PeerStatus> progress;
};

}  // namespace mq::raft
