// Leadership transfer has a deadline of its own: calls to transfer_leader,
// however frequent, must not postpone check-quorum, or a leader cut off from
// its followers would keep leading (and serving lease reads) indefinitely.
#include <catch2/catch.hpp>

#include "tests/raft/elect.h"
#include "tests/raft/interaction_env.h"

using namespace mq::raft;
using mq::raft::testing::elect;
using mq::raft::testing::InteractionEnv;

namespace {


// Ticks a leader cut off from everyone, calling transfer_leader every
// `every` ticks on the target `target_at(tick)`; returns the tick at which
// it stopped leading, or 0 when it still leads after `max_ticks`.
template <typename TargetAt>
int ticks_until_step_down(InteractionEnv& env, int every, int max_ticks, TargetAt target_at) {
  for (int t = 1; t <= max_ticks; ++t) {
    env.node(1).tick();
    if (env.node(1).status().role != Role::kLeader) return t;
    if (t % every == 0) env.node(1).transfer_leader(target_at(t));
    env.stabilize();
  }
  return 0;
}

}  // namespace

TEST_CASE("transfer calls do not keep a cut-off leader past check-quorum", "[raft][transfer][checkquorum]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  env.run("isolate 1");
  const int election = env.base_config.election_tick;
  // Without transfers the leader steps down on the second check-quorum round
  // after the cut (the first still counts the answers from before it).
  int stepped_down = 0;
  SECTION("the same target again and again") {
    stepped_down = ticks_until_step_down(env, 3, 10 * election, [](int) { return NodeId{2}; });
  }
  SECTION("alternating targets") {
    stepped_down = ticks_until_step_down(env, 3, 10 * election,
                                         [](int t) { return NodeId{(t / 3) % 2 == 0 ? 2u : 3u}; });
  }
  REQUIRE(stepped_down > 0);
  CHECK(stepped_down <= 2 * election);
}

TEST_CASE("a repeated transfer to the same target keeps its first deadline", "[raft][transfer]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  env.run("isolate 3");
  const int election = env.base_config.election_tick;
  REQUIRE(env.node(1).transfer_leader(3) == ProposeError::kOk);
  for (int t = 1; t < election; ++t) {
    env.node(1).tick();
    env.stabilize();
    REQUIRE(env.node(1).transfer_leader(3) == ProposeError::kOk);
    REQUIRE(env.node(1).status().lead_transferee == 3);
  }
  env.node(1).tick();
  CHECK(env.node(1).status().lead_transferee == kNoNode);
  CHECK(env.node(1).status().role == Role::kLeader);
  CHECK(env.node(1).propose("x") == ProposeError::kOk);
}

TEST_CASE("a transfer to another target starts a new deadline", "[raft][transfer]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  env.run("isolate 3");
  env.run("cut 1 2");
  const int election = env.base_config.election_tick;
  REQUIRE(env.node(1).transfer_leader(3) == ProposeError::kOk);
  for (int t = 1; t <= election / 2; ++t) env.node(1).tick();
  env.stabilize();
  REQUIRE(env.node(1).transfer_leader(2) == ProposeError::kOk);
  for (int t = 1; t < election; ++t) env.node(1).tick();
  CHECK(env.node(1).status().lead_transferee == 2);
  env.node(1).tick();
  CHECK(env.node(1).status().lead_transferee == kNoNode);
}
