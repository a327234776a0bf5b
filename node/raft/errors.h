// Outcomes of the requests a caller makes of the core: values, not exceptions,
// because "not leader" and "too busy" are normal answers a server relays.
#pragma once

#include <string_view>

namespace mq::raft {

enum class ProposeError {
  kOk = 0,
  kNotLeader,            // only the leader accepts; status().lead names it when known
  kTooMuchUncommitted,   // max_uncommitted_bytes reached: retry after commits
  kTransferInProgress,   // leadership is moving; retry at the new leader
  kTooLarge,             // the entry alone exceeds max_size_per_msg_bytes
  kConfChangePending,    // one membership change at a time, after a commit of this term
  kInvalidConfChange,    // e.g. removing a node that is not a member
  kTooManyPendingReads,  // max_pending_reads reached
  kInvalidTarget,        // transfer to self or to a node that is not a voter
};

std::string_view to_string(ProposeError error);

}  // namespace mq::raft
