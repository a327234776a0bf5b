// The checks every public request passes before it reaches the backend,
// shared by the gRPC services and the HTTP gateway so that both refuse the
// same input with the same message (naming the limit), and nothing refused
// is ever stored.
#pragma once

#include <optional>
#include <string>

#include "mq/v1/kv.pb.h"
#include "node/kv/glob.h"

namespace mq::server {

// Each returns the reason the request is refused, or nullopt when valid.
std::optional<std::string> check_set(const v1::SetRequest& req, size_t value_bytes_max);
std::optional<std::string> check_get(const v1::GetRequest& req);
std::optional<std::string> check_delete(const v1::DeleteRequest& req);

// A list request made ready for the backend: its glob compiled, its page
// token decoded (keys strictly after `after`), its limit defaulted.
struct ListPlan {
  kv::Glob glob;
  std::string after;
  uint32_t limit = 0;
};
std::optional<ListPlan> plan_list(const v1::ListRequest& req, std::string* error);

}  // namespace mq::server
