// A node's status as JSON, in the shape of `mq status -o json`
// (cli/json_schema/status.json), for GET /api/v1/memory/cluster/status, and
// the readiness verdict /readyz and the health check draw from it.
#pragma once

#include <string>
#include <vector>

#include "mq/v1/cluster.pb.h"

namespace mq::http {

std::string status_json(const v1::StatusResponse& status);

// Why this node is not ready, one line per shard that keeps it from being
// so: no leader known, or entries committed but not yet applied. Empty when
// it is ready.
std::vector<std::string> readiness_problems(const v1::StatusResponse& status);

}  // namespace mq::http
