// How a node marks an authorization refusal on the wire, so that a client
// tells it from the other PERMISSION_DENIED answers (a feature the node was
// started without): the gRPC status details hold this marker.
#pragma once

#include <string_view>

namespace mq::auth {

inline constexpr std::string_view kAccessRefusalDetails = "mq.auth.forbidden";

}  // namespace mq::auth
