// A leader catches up a follower whose log is shorter than the leader
// believed: the follower acknowledged entries, then lost them (a wiped disk).
// Safety does not depend on this (the server refuses a wiped node's votes);
// only the follower's catching up does.
#include <catch2/catch.hpp>

#include "tests/raft/elect.h"
#include "tests/raft/interaction_env.h"

using namespace mq::raft;
using mq::raft::testing::elect;
using mq::raft::testing::InteractionEnv;

TEST_CASE("a wiped follower is caught up by the leader that credited it", "[raft][catchup]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(1).propose("a") == ProposeError::kOk);
  env.stabilize();
  REQUIRE(env.node(1).status().progress.at(3).match == 5);

  env.run("wipe 3");
  REQUIRE(env.node(3).status().last_index == 0);
  // Heartbeats reach the wiped node; new writes follow.
  env.run("tick 1");
  env.stabilize();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(env.node(1).propose("b" + std::to_string(i)) == ProposeError::kOk);
    env.stabilize();
    env.run("tick 1");
    env.stabilize();
  }
  const Status leader = env.node(1).status();
  const Status wiped = env.node(3).status();
  CHECK(wiped.last_index == leader.last_index);
  CHECK(wiped.commit == leader.commit);
  CHECK(leader.progress.at(3).match == leader.last_index);
  CHECK(leader.progress.at(3).state == ProgressState::kReplicate);
  CHECK(wiped.voters == std::vector<NodeId>{1, 2, 3});
}

TEST_CASE("a wiped follower is caught up while the leader probes it", "[raft][catchup]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(1).propose("a") == ProposeError::kOk);
  env.stabilize();
  // The leader probes 3 at its match: 3 drops an append, then a
  // pipelined one is rejected above the match (entries missing), which
  // sends the leader back to probing from match + 1.
  env.run("cut 1 3");
  REQUIRE(env.node(1).propose("lost-on-the-way") == ProposeError::kOk);
  env.stabilize();
  env.run("heal");
  env.run("wipe 3");
  for (int i = 0; i < 5; ++i) {
    env.run("tick 1");
    env.stabilize();
  }
  const Status leader = env.node(1).status();
  CHECK(env.node(3).status().last_index == leader.last_index);
  CHECK(leader.progress.at(3).match == leader.last_index);
}

TEST_CASE("an old rejection below the match is ignored", "[raft][catchup]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(1).propose("a") == ProposeError::kOk);
  env.stabilize();
  const Status before = env.node(1).status();
  REQUIRE(before.progress.at(2).match == 5);
  // A rejection of an append at or below the match, from before the
  // acknowledgements that established it, is old news: nothing changes
  // and nothing is sent.
  Message stale;
  stale.type = MessageType::kAppResp;
  stale.from = 2;
  stale.to = 1;
  stale.term = before.term;
  stale.index = 4;
  stale.reject = true;
  stale.reject_hint = 3;
  stale.log_term = 1;
  env.node(1).step(stale);
  const Status after = env.node(1).status();
  CHECK(after.progress.at(2).match == 5);
  CHECK(after.progress.at(2).state == ProgressState::kReplicate);
  CHECK_FALSE(env.node(1).has_ready());
}

namespace {

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("heartbeats do not multiply the chunks of a snapshot in flight", "[raft][catchup][snapshot]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  env.run("crash 3");
  for (int i = 0; i < 40; ++i) {
    REQUIRE(env.node(1).propose("value-" + std::to_string(100 + i)) == ProposeError::kOk);
  }
  env.stabilize();
  REQUIRE(env.run("snapshot 1").find("snapshot at") != std::string::npos);
  const uint64_t image_bytes = env.storage(1).snapshot_bytes();
  const uint64_t chunks = (image_bytes + env.base_config.snapshot_chunk_bytes - 1) /
                          env.base_config.snapshot_chunk_bytes;
  REQUIRE(chunks >= 20);
  env.run("restart 3");

  // A heartbeat every round (heartbeat_tick is 1) while each chunk takes
  // a round trip: the heartbeat's resend is for a chunk that was lost, and
  // none is. Each resend of a chunk still on its way used to start a second
  // stream of chunks, each answer of which asked for the next chunk again.
  const uint64_t target = env.node(1).status().last_index;
  std::string sent;
  int rounds = 0;
  while (env.node(3).status().commit < target && rounds < 400) {
    env.run("tick 1");
    sent += env.deliver_round();
    ++rounds;
  }
  INFO("image " << image_bytes << " bytes in " << chunks << " chunks, " << rounds << " rounds");
  REQUIRE(env.node(3).status().commit == target);
  // Every chunk once, and a resend now and then where a heartbeat came
  // before an answer.
  CHECK(count_lines_with(sent, "1->3 Snap ") <= chunks + chunks / 2);
}
