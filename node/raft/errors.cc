#include "node/raft/errors.h"

namespace mq::raft {

std::string_view to_string(ProposeError error) {
  switch (error) {
    case ProposeError::kOk: return "ok";
    case ProposeError::kNotLeader: return "not leader";
    case ProposeError::kTooMuchUncommitted: return "too much uncommitted data";
    case ProposeError::kTransferInProgress: return "leadership transfer in progress";
    case ProposeError::kTooLarge: return "entry larger than the message size limit";
    case ProposeError::kConfChangePending: return "a membership change is pending";
    case ProposeError::kInvalidConfChange: return "invalid membership change";
    case ProposeError::kTooManyPendingReads: return "too many pending reads";
    case ProposeError::kInvalidTarget: return "invalid transfer target";
  }
  return "unknown error";
}

}  // namespace mq::raft
