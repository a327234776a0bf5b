// Batches queued for one peer are merged before a write; nothing but the
// Raft messages (and the newest per-batch state) may be merged, or a
// removal notice or a question travelling in a later batch is lost.
#include <catch2/catch.hpp>

#include "node/server/peer_batch_merge.h"

using namespace mq::server;

namespace {

mq::peer::PeerBatch with_messages(int n, uint64_t refusal_us) {
  mq::peer::PeerBatch b;
  for (int i = 0; i < n; ++i) {
    auto* m = b.add_messages();
    m->set_shard(static_cast<uint32_t>(i));
    m->set_message("m" + std::to_string(i));
  }
  b.set_vote_refusal_us(refusal_us);
  return b;
}

}  // namespace

TEST_CASE("batches of Raft messages merge, the later one's state wins", "[peer]") {
  auto into = with_messages(2, 100);
  auto next = with_messages(3, 200);
  next.set_memory_full(true);
  next.set_memory_used_bytes(7);
  REQUIRE(merge_batch(into, next));
  CHECK(into.messages_size() == 5);
  CHECK(into.messages(4).message() == "m2");
  CHECK(into.vote_refusal_us() == 200);
  CHECK(into.memory_full());
  CHECK(into.memory_used_bytes() == 7);
  CHECK(next.messages_size() == 0);
}

TEST_CASE("a batch with a removal notice or a question is never merged", "[peer]") {
  auto into = with_messages(1, 100);
  SECTION("a removal notice") {
    auto next = with_messages(0, 100);
    next.mutable_removal()->set_member_removed(true);
    CHECK_FALSE(merge_batch(into, next));
    CHECK(next.has_removal());
  }
  SECTION("asks_if_removed") {
    auto next = with_messages(0, 100);
    next.set_asks_if_removed(true);
    CHECK_FALSE(merge_batch(into, next));
  }
  SECTION("quiet groups, even behind messages") {
    auto next = with_messages(2, 100);
    next.add_quiet_groups(3);
    CHECK_FALSE(merge_batch(into, next));
    CHECK(next.messages_size() == 2);
  }
  SECTION("into a batch that carries one") {
    into.add_quiet_groups(1);
    auto next = with_messages(2, 100);
    CHECK_FALSE(merge_batch(into, next));
  }
  CHECK(into.messages_size() == 1);
}
