#include <catch2/catch.hpp>

#include "tests/raft/elect.h"
#include "tests/raft/interaction_env.h"

using namespace mq::raft;
using mq::raft::testing::elect;
using mq::raft::testing::InteractionEnv;

TEST_CASE("three nodes elect one leader and replicate to all", "[raft]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(2).status().lead == 1);
  REQUIRE(env.node(3).status().lead == 1);
  REQUIRE(env.node(1).propose("a") == ProposeError::kOk);
  env.stabilize();
  for (NodeId id : {1, 2, 3}) {
    REQUIRE(env.node(id).status().commit == 5);  // 3 bootstrap entries, no-op, "a"
    REQUIRE(env.applied(id).back().data == "a");
  }
}

TEST_CASE("followers refuse proposals and reads", "[raft]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(2).propose("x") == ProposeError::kNotLeader);
  REQUIRE(env.node(2).read_index("r") == ProposeError::kNotLeader);
  REQUIRE(env.node(2).transfer_leader(3) == ProposeError::kNotLeader);
}

TEST_CASE("a partitioned node with pre-vote does not raise its term", "[raft][prevote]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  const uint64_t term = env.node(1).status().term;
  env.run("isolate 3");
  for (int i = 0; i < 100; ++i) {
    env.node(3).tick();
    env.stabilize();
  }
  REQUIRE(env.node(3).status().term == term);
  env.run("heal");
  env.run("tick 1");
  env.stabilize();
  REQUIRE(env.node(1).status().role == Role::kLeader);
  REQUIRE(env.node(1).status().term == term);
}

TEST_CASE("without pre-vote a rejoining node forces a new term", "[raft][prevote]") {
  InteractionEnv env;
  env.base_config.pre_vote = false;
  env.base_config.check_quorum = false;
  env.run("nodes 1 2 3");
  elect(env, 1);
  const uint64_t term = env.node(1).status().term;
  env.run("isolate 3");
  for (int i = 0; i < 100; ++i) {
    env.node(3).tick();
    env.stabilize();
  }
  REQUIRE(env.node(3).status().term > term);
}

TEST_CASE("check-quorum makes a cut-off leader step down", "[raft][checkquorum]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  env.run("isolate 1");
  for (int i = 0; i < 2 * env.base_config.election_tick; ++i) {
    env.node(1).tick();
    env.stabilize();
  }
  REQUIRE(env.node(1).status().role == Role::kFollower);
}

TEST_CASE("leader lease: followers ignore a candidate while they hear a leader", "[raft][checkquorum]") {
  InteractionEnv env;
  env.base_config.pre_vote = false;
  env.run("nodes 1 2 3");
  elect(env, 1);
  const uint64_t term = env.node(1).status().term;
  env.run("campaign 3");  // no pre-vote: 3 raises its term
  env.stabilize();
  REQUIRE(env.node(1).status().role == Role::kLeader);
  REQUIRE(env.node(2).status().term == term);
}

TEST_CASE("uncommitted bytes are bounded and oversized entries refused", "[raft][limits]") {
  InteractionEnv env;
  env.base_config.max_uncommitted_bytes = 100;
  env.base_config.max_size_per_msg_bytes = 64;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(1).propose(std::string(65, 'x')) == ProposeError::kTooLarge);
  env.run("isolate 1");
  int accepted = 0;
  ProposeError last = ProposeError::kOk;
  for (int i = 0; i < 100 && last == ProposeError::kOk; ++i) {
    last = env.node(1).propose(std::string(30, 'y'));
    accepted += last == ProposeError::kOk;
  }
  REQUIRE(last == ProposeError::kTooMuchUncommitted);
  REQUIRE(accepted == 3);
  env.run("heal");
  env.stabilize();
  REQUIRE(env.node(1).propose(std::string(30, 'z')) == ProposeError::kOk);
}

TEST_CASE("appends in flight are bounded by max_inflight_msgs", "[raft][limits]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  env.run("cut 2 1");
  env.run("cut 3 1");  // acknowledgements lost: the window must fill, then stop
  size_t sent_to_2 = 0;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(env.node(1).propose("p" + std::to_string(i)) == ProposeError::kOk);
    while (env.node(1).has_ready()) {
      Ready rd = env.node(1).ready();
      env.storage(1).append(rd.entries);
      if (rd.hard_state) env.storage(1).set_hard_state(*rd.hard_state);
      for (const Message& m : rd.messages) {
        sent_to_2 += m.to == 2 && m.type == MessageType::kApp && !m.entries.empty();
      }
      env.node(1).advance(rd);
    }
  }
  REQUIRE(sent_to_2 == env.base_config.max_inflight_msgs);
  REQUIRE(env.node(1).status().progress.at(2).state == ProgressState::kReplicate);
}

TEST_CASE("transfer refuses bad targets and blocks proposals while running", "[raft][transfer]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  elect(env, 1);
  REQUIRE(env.node(1).transfer_leader(1) == ProposeError::kInvalidTarget);
  REQUIRE(env.node(1).transfer_leader(9) == ProposeError::kInvalidTarget);
  env.run("isolate 3");
  REQUIRE(env.node(1).transfer_leader(3) == ProposeError::kOk);
  REQUIRE(env.node(1).propose("x") == ProposeError::kTransferInProgress);
  // The transfer times out after an election timeout and proposals resume.
  for (int i = 0; i < env.base_config.election_tick; ++i) env.node(1).tick();
  REQUIRE(env.node(1).status().lead_transferee == kNoNode);
  REQUIRE(env.node(1).propose("x") == ProposeError::kOk);
}

TEST_CASE("one membership change at a time", "[raft][membership]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  env.run("add-empty-node 4");
  elect(env, 1);
  REQUIRE(env.node(1).propose_conf_change({ConfChangeType::kAddVoter, 2}) ==
          ProposeError::kInvalidConfChange);
  REQUIRE(env.node(1).propose_conf_change({ConfChangeType::kRemoveNode, 9}) ==
          ProposeError::kInvalidConfChange);
  REQUIRE(env.node(1).propose_conf_change({ConfChangeType::kAddLearner, 4}) == ProposeError::kOk);
  REQUIRE(env.node(1).propose_conf_change({ConfChangeType::kAddVoter, 4}) ==
          ProposeError::kConfChangePending);
  env.stabilize();
  REQUIRE(env.node(1).propose_conf_change({ConfChangeType::kAddVoter, 4}) == ProposeError::kOk);
  env.stabilize();
  REQUIRE(env.node(1).status().voters == std::vector<NodeId>{1, 2, 3, 4});
  REQUIRE(env.node(4).status().voters == std::vector<NodeId>{1, 2, 3, 4});
  REQUIRE(env.node(4).status().commit == env.node(1).status().commit);
}

TEST_CASE("election timeouts come from the seed", "[raft][election]") {
  auto ticks_to_campaign = [](uint64_t seed) {
    MemoryStorage s;
    bootstrap(s, {1, 2, 3});
    Config c;
    c.id = 1;
    c.random_seed = seed;
    RawNode n(c, s);
    n.advance(n.ready());  // apply the bootstrap membership
    for (int t = 1; t <= 100; ++t) {
      n.tick();
      if (n.status().role != Role::kFollower) return t;
    }
    return -1;
  };
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const int t = ticks_to_campaign(seed);
    REQUIRE(t == ticks_to_campaign(seed));
    REQUIRE(t >= 10);
    REQUIRE(t < 20);
    seen.insert(t);
  }
  REQUIRE(seen.size() > 3);
}

TEST_CASE("config validation names the problem", "[raft][config]") {
  Config c;
  REQUIRE(c.validate() == "id must be non-zero");
  c.id = 1;
  REQUIRE(c.validate().empty());
  c.election_tick = 1;
  REQUIRE(c.validate() == "election_tick must exceed heartbeat_tick");
}
