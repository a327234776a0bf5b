// What a Ready tells its caller beyond data: which messages may overtake the
// write, whether the write needs a sync, and who leads.
#include <catch2/catch.hpp>

#include "tests/raft/elect.h"
#include "tests/raft/interaction_env.h"

using namespace mq::raft;
using mq::raft::testing::elect;
using mq::raft::testing::InteractionEnv;

namespace {


// Persists and advances a Ready taken by hand (its messages are dropped).
void persist(InteractionEnv& env, NodeId id, const Ready& rd) {
  if (rd.snapshot) env.storage(id).apply_snapshot(*rd.snapshot);
  env.storage(id).append(rd.entries);
  if (rd.hard_state) env.storage(id).set_hard_state(*rd.hard_state);
  env.node(id).advance(rd);
}

Message message(MessageType type, NodeId from, NodeId to, uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

}  // namespace

TEST_CASE("only a leader's traffic of its durable term may precede the write", "[raft][ready]") {
  const HardState durable{5, 1, 10};
  for (MessageType t : {MessageType::kApp, MessageType::kHeartbeat, MessageType::kSnap,
                        MessageType::kTimeoutNow}) {
    CHECK(may_send_before_persist(message(t, 1, 2, 5), durable));
    // A term this Ready bumps to is not durable yet.
    CHECK_FALSE(may_send_before_persist(message(t, 1, 2, 6), durable));
    // Nor is leadership without the durable vote for itself.
    CHECK_FALSE(may_send_before_persist(message(t, 1, 2, 5), HardState{5, kNoNode, 10}));
  }
  for (MessageType t : {MessageType::kPreVote, MessageType::kPreVoteResp, MessageType::kVote,
                        MessageType::kVoteResp, MessageType::kAppResp, MessageType::kHeartbeatResp,
                        MessageType::kSnapResp}) {
    CHECK_FALSE(may_send_before_persist(message(t, 1, 2, 5), durable));
  }
}

TEST_CASE("a sync is needed for entries, a snapshot, a term or a vote, not a commit", "[raft][ready]") {
  const HardState prev{5, 1, 10};
  CHECK_FALSE(must_sync(std::nullopt, prev, false, false));
  CHECK_FALSE(must_sync(HardState{5, 1, 11}, prev, false, false));
  CHECK(must_sync(HardState{5, 1, 11}, prev, true, false));
  CHECK(must_sync(std::nullopt, prev, false, true));
  CHECK(must_sync(HardState{6, kNoNode, 10}, prev, false, false));
  CHECK(must_sync(HardState{5, 2, 10}, prev, false, false));
}

TEST_CASE("a leader's append leaves before persisting only when the split is on", "[raft][ready]") {
  for (const bool split : {false, true}) {
    INFO("split " << split);
    InteractionEnv env;
    env.base_config.split_messages_before_persist = split;
    env.run("nodes 1 2 3");
    elect(env, 1);
    REQUIRE(env.node(1).propose("x") == ProposeError::kOk);
    Ready rd = env.node(1).ready();
    CHECK(rd.must_sync);
    const std::vector<Message>& appends = split ? rd.messages_before_persist : rd.messages;
    REQUIRE(appends.size() == 2);
    for (const Message& m : appends) {
      CHECK(m.type == MessageType::kApp);
      CHECK(m.entries.size() == 1);
    }
    CHECK((split ? rd.messages : rd.messages_before_persist).empty());
    persist(env, 1, rd);
  }
}

TEST_CASE("a vote and an acknowledgement wait for the write", "[raft][ready]") {
  InteractionEnv env;
  env.base_config.split_messages_before_persist = true;
  env.base_config.pre_vote = false;
  env.base_config.check_quorum = false;
  env.run("nodes 1 2 3");

  Message vote = message(MessageType::kVote, 1, 2, 7);
  vote.index = 3;
  vote.log_term = 1;
  env.node(2).step(vote);
  Ready rd = env.node(2).ready();
  REQUIRE(rd.hard_state.has_value());
  CHECK(rd.hard_state->term == 7);
  CHECK(rd.hard_state->vote == 1);
  CHECK(rd.must_sync);
  CHECK(rd.messages_before_persist.empty());
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kVoteResp);
  CHECK_FALSE(rd.messages[0].reject);
  persist(env, 2, rd);

  // Entries from the leader of term 7: acknowledged only after the write.
  Message app = message(MessageType::kApp, 1, 2, 7);
  app.index = 3;
  app.log_term = 1;
  app.commit = 3;
  app.entries = {Entry{7, 4, EntryType::kNormal, "x"}};
  env.node(2).step(app);
  rd = env.node(2).ready();
  CHECK(rd.must_sync);
  CHECK(rd.messages_before_persist.empty());
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kAppResp);
  persist(env, 2, rd);

  // The commit index alone moves: written, but no sync is needed.
  Message heartbeat = message(MessageType::kHeartbeat, 1, 2, 7);
  heartbeat.commit = 4;
  env.node(2).step(heartbeat);
  rd = env.node(2).ready();
  REQUIRE(rd.hard_state.has_value());
  CHECK(rd.hard_state->commit == 4);
  CHECK(rd.entries.empty());
  CHECK_FALSE(rd.must_sync);
  CHECK(rd.committed_entries.size() == 1);
  CHECK(rd.messages_before_persist.empty());
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kHeartbeatResp);
  persist(env, 2, rd);
}

TEST_CASE("soft state is reported when role, term or leader change, and only then", "[raft][ready]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  CHECK_FALSE(env.node(1).has_ready());
  env.node(1).campaign();
  Ready rd = env.node(1).ready();
  REQUIRE(rd.soft_state.has_value());
  CHECK(rd.soft_state->role == Role::kPreCandidate);
  persist(env, 1, rd);
  env.node(1).tick();  // a tick that changes nothing observable
  if (env.node(1).has_ready()) CHECK_FALSE(env.node(1).ready().soft_state.has_value());

  InteractionEnv cluster;
  cluster.run("nodes 1 2 3");
  elect(cluster, 1);
  cluster.run("isolate 1");
  // Check-quorum: the leader steps down in its term, keeping its vote; the
  // step-down alone makes a Ready.
  bool stepped_down = false;
  for (int t = 0; t < 2 * cluster.base_config.election_tick && !stepped_down; ++t) {
    cluster.node(1).tick();
    stepped_down = cluster.node(1).role() != Role::kLeader;
    if (!stepped_down) {
      while (cluster.node(1).has_ready()) persist(cluster, 1, cluster.node(1).ready());
    }
  }
  REQUIRE(stepped_down);
  REQUIRE(cluster.node(1).has_ready());
  rd = cluster.node(1).ready();
  REQUIRE(rd.soft_state.has_value());
  CHECK(rd.soft_state->role == Role::kFollower);
  CHECK(rd.soft_state->term == 2);
  CHECK(rd.soft_state->lead == kNoNode);
  CHECK_FALSE(rd.hard_state.has_value());
  CHECK_FALSE(rd.must_sync);
  persist(cluster, 1, rd);
  CHECK_FALSE(cluster.node(1).has_ready());
}
