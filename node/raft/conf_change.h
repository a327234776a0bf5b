// A membership change: one server at a time (Ongaro's dissertation, 4.1), so
// any majority of the old configuration overlaps any majority of the new one.
// A new server should join as a learner, catch up, then be promoted, so it
// never counts toward a quorum while its log is empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "node/raft/types.h"

namespace mq::raft {

enum class ConfChangeType : uint8_t {
  kAddVoter = 1,    // also promotes an existing learner
  kAddLearner = 2,
  kRemoveNode = 3,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node = kNoNode;
};

// Entry data of an EntryType::kConfChange entry.
std::string encode(const ConfChange& cc);
std::optional<ConfChange> decode_conf_change(std::string_view data);
std::string describe(const ConfChange& cc);

}  // namespace mq::raft
