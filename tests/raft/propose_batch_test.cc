#include <catch2/catch.hpp>

#include "tests/raft/interaction_env.h"

using namespace mq::raft;
using mq::raft::testing::InteractionEnv;

TEST_CASE("a batch of proposals replicates in order, one append per follower", "[raft][batch]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  env.run("campaign 1");
  env.stabilize();
  REQUIRE(env.node(1).status().role == Role::kLeader);
  const uint64_t commit_before = env.node(1).status().commit;

  std::vector<std::string> batch = {"a", "b", "c"};
  size_t accepted = 0;
  REQUIRE(env.node(1).propose_batch(batch, &accepted) == ProposeError::kOk);
  REQUIRE(accepted == 3);
  // The trace lists every message delivered: the batch reaches each
  // follower as one App carrying all three entries.
  const std::string trace = env.stabilize();
  size_t appends = 0;
  size_t pos = 0;
  while ((pos = trace.find(" App term:", pos)) != std::string::npos) {
    const size_t eol = trace.find('\n', pos);
    const std::string line = trace.substr(pos, eol - pos);
    if (line.find(" commit:" + std::to_string(commit_before) + " [") != std::string::npos) {
      ++appends;
      REQUIRE(line.find("a") != std::string::npos);
      REQUIRE(line.find("c") != std::string::npos);
    }
    pos = eol;
  }
  REQUIRE(appends == 2);
  for (NodeId id : {1, 2, 3}) {
    REQUIRE(env.node(id).status().commit == commit_before + 3);
    const auto& applied = env.applied(id);
    REQUIRE(applied[applied.size() - 3].data == "a");
    REQUIRE(applied[applied.size() - 1].data == "c");
  }
}

TEST_CASE("a follower refuses a batch and takes none of it", "[raft][batch]") {
  InteractionEnv env;
  env.run("nodes 1 2 3");
  env.run("campaign 1");
  env.stabilize();
  std::vector<std::string> batch = {"a", "b"};
  size_t accepted = 7;
  REQUIRE(env.node(2).propose_batch(batch, &accepted) == ProposeError::kNotLeader);
  REQUIRE(accepted == 0);
}
