// Makes `id` the leader in an interaction env, as most core tests begin.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "tests/raft/interaction_env.h"

namespace mq::raft::testing {

inline void elect(InteractionEnv& env, NodeId id) {
  env.run("campaign " + std::to_string(id));
  env.stabilize();
  REQUIRE(env.node(id).status().role == Role::kLeader);
}

}  // namespace mq::raft::testing
