#include "cli/client/leader_routes.h"

#include "mq/v1/kv.pb.h"

namespace mq::cli {

std::string leader_named_by(const v1::ResponseHeader& header, const std::string& answered_by) {
  return header.leader_address().empty() ? answered_by : header.leader_address();
}

std::string hint_target(const v1::NotLeader& hint, const std::string& refused_by, int hops_taken) {
  if (hops_taken >= kLeaderHopsMax) return "";
  const std::string& to = hint.leader_address();
  if (to.empty() || to == refused_by) return "";
  return to;
}

}  // namespace mq::cli
