// The node host driven by hand, message by message, on a manual clock and
// an in-memory disk: orderings inside one loop iteration that the
// simulator reaches only by chance.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "node/raft/codec.h"
#include "node/server/node_host.h"
#include "node/storage/memory_file_system.h"
#include "node/storage/storage.h"

namespace mq::server {
namespace {

using raft::Message;
using raft::MessageType;

constexpr uint32_t kShards = 3;

class RecordingPeers final : public PeerSender {
 public:
  struct Sent {
    uint32_t shard;
    Message m;
  };
  void send(raft::NodeId, peer::PeerBatch&& batch) override {
    for (const auto& gm : batch.messages()) {
      Message m;
      std::string error;
      REQUIRE(raft::decode(gm.message(), &m, &error));
      if (on_send) on_send(gm.shard(), m);
      sent.push_back({gm.shard(), m});
    }
  }
  bool recently_heard(raft::NodeId, int64_t) const override { return true; }

  std::vector<Sent> sent;
  std::function<void(uint32_t shard, const Message&)> on_send;
};

// One node of a fresh 3-node cluster (every shard on every node).
class HostHarness {
 public:
  explicit HostHarness(const std::string& self,
                       const std::function<void(NodeHostOptions&)>& adjust = {}) {
    NodeHostOptions o;
    std::string error, note;
    const std::string address = self == "n1" ? "127.0.0.1:7001" : self == "n2" ? "127.0.0.1:7002" : "127.0.0.1:7003";
    o.topology = *make_topology("n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003", self, address,
                                kShards, 3, &error, &note);
    o.data_dir = "/data";
    o.initial_cluster_state = "new";
    if (adjust) adjust(o);
    NodeEnv env;
    env.now = [this] { return NodeTime(std::chrono::microseconds(now_us)); };
    env.peers = &peers;
    env.fs = &fs;
    env.log = [](LogLevel, std::string_view) {};
    env.halt = [](int, const std::string& why) { FAIL("halted: " << why); };
    env.sleep = [](std::chrono::milliseconds) {};
    env.seed = 1;
    int exit_code = 0;
    cluster_id = o.topology.cluster_id;
    host = NodeHost::open(o, std::move(env), &error, &exit_code);
    REQUIRE(host);
    host->start();
  }

  void iterate(int64_t advance_ms) {
    now_us += advance_ms * 1000;
    host->run_iteration();
  }
  void deliver(raft::NodeId from, uint32_t shard, const Message& m) {
    peer::PeerBatch batch;
    batch.set_vote_refusal_us(180'000);  // a peer with the default timing
    auto* gm = batch.add_messages();
    gm->set_shard(shard);
    gm->set_message(raft::encode(m));
    host->on_peer_batch(from, batch);
  }
  // The last message of this type sent for the shard.
  const Message* last_sent(uint32_t shard, MessageType type) const {
    for (auto it = peers.sent.rbegin(); it != peers.sent.rend(); ++it) {
      if (it->shard == shard && it->m.type == type) return &it->m;
    }
    return nullptr;
  }
  Message reply(const Message& to, MessageType type) const {
    Message r;
    r.type = type;
    r.from = to.to;
    r.to = to.from;
    r.term = to.term;
    return r;
  }

  storage::MemoryFileSystem fs;
  RecordingPeers peers;
  int64_t now_us = 1'000'000'000;
  std::string cluster_id;
  std::unique_ptr<NodeHost> host;
};

// Makes n1 the leader of shard 0 (its preferred shard) and confirms a read
// round (which starts a lease, when leases are on).
void lead_with_lease(HostHarness& h) {
  h.iterate(1);  // the campaign's pre-votes leave
  const Message* prevote = h.last_sent(0, MessageType::kPreVote);
  REQUIRE(prevote);
  h.deliver(2, 0, h.reply(*prevote, MessageType::kPreVoteResp));
  h.iterate(1);
  const Message* vote = h.last_sent(0, MessageType::kVote);
  REQUIRE(vote);
  h.deliver(2, 0, h.reply(*vote, MessageType::kVoteResp));
  h.iterate(1);
  REQUIRE(h.host->group(0)->role == raft::Role::kLeader);
  const Message* app = h.last_sent(0, MessageType::kApp);
  REQUIRE(app);
  Message ack = h.reply(*app, MessageType::kAppResp);
  ack.index = h.host->group(0)->node->status().last_index;
  h.deliver(2, 0, ack);
  h.iterate(1);
  bool read_ok = false;
  h.host->read(0, false, [&](const Outcome& o) { read_ok = o.ok(); });
  h.iterate(1);
  const Message* hb = h.last_sent(0, MessageType::kHeartbeat);
  REQUIRE(hb);
  REQUIRE_FALSE(hb->context.empty());
  Message hb_ack = h.reply(*hb, MessageType::kHeartbeatResp);
  hb_ack.context = hb->context;
  h.deliver(2, 0, hb_ack);
  h.iterate(1);
  REQUIRE(read_ok);
}

TEST_CASE("a leader that steps down voids its lease before its vote leaves", "[node_host]") {
  HostHarness h("n1");
  lead_with_lease(h);
  REQUIRE(h.host->try_lease_read(0, [](const ShardGroup&) {}));
  const ShardGroup& g = *h.host->group(0);
  const raft::Status st = g.node->status();

  // A forced vote (as a transfer's target asks) in a higher term: the
  // leader steps down and grants it. From the moment that vote is on the
  // wire another leader may exist, so no lease read may be served.
  bool vote_sent = false;
  bool lease_read_while_voting = false;
  h.peers.on_send = [&](uint32_t shard, const Message& m) {
    if (shard != 0 || m.type != MessageType::kVoteResp || m.reject) return;
    vote_sent = true;
    lease_read_while_voting = h.host->try_lease_read(0, [](const ShardGroup&) {});
  };
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 3;
  vote.to = 1;
  vote.term = st.term + 1;
  vote.index = st.last_index;
  vote.log_term = st.term;
  vote.context = std::string(raft::kTransferContext);
  h.deliver(3, 0, vote);
  h.iterate(1);
  REQUIRE(vote_sent);
  CHECK_FALSE(lease_read_while_voting);
  CHECK(g.role != raft::Role::kLeader);
}

TEST_CASE("a preferred leader does not campaign against a leader it heard this iteration",
          "[node_host]") {
  // n2 is shard 1's preferred leader; a fresh cluster's preferred leaders
  // stand at once, and again every 5 ticks while no leader is known.
  HostHarness h("n2");
  for (int tick = 1; tick <= 4; ++tick) h.iterate(10);
  REQUIRE(h.host->group(1)->lead == raft::kNoNode);

  // n1 leads shard 1 in a later term; its heartbeat arrives in the same
  // loop iteration as the fifth tick.
  Message hb;
  hb.type = MessageType::kHeartbeat;
  hb.from = 1;
  hb.to = 2;
  hb.term = 5;
  h.deliver(1, 1, hb);
  const size_t sent_before = h.peers.sent.size();
  h.iterate(10);

  for (size_t i = sent_before; i < h.peers.sent.size(); ++i) {
    const auto& s = h.peers.sent[i];
    INFO("sent " << raft::describe(s.m));
    CHECK_FALSE((s.shard == 1 && (s.m.type == MessageType::kPreVote || s.m.type == MessageType::kVote)));
  }
  CHECK(h.host->group(1)->node->lead() == 1);
  CHECK(h.host->group(1)->lead == 1);
}

// The commit index is volatile in Raft and a change of it alone is not
// synced; but when the loop writes anyway (another group's entries), it
// rides along, so that a restart replays what was committed.
TEST_CASE("a commit-only change is written with another group's entries", "[node_host]") {
  HostHarness h("n1");
  lead_with_lease(h);  // shard 0: n1 leads; its no-op was acknowledged by n2
  // A write on shard 0, acknowledged by n2: its commit is the only change
  // of shard 0's next Ready.
  h.host->propose_write(0, kv::CommandView{kv::Op::kSet, "u", "k", "v"}, [](const Outcome&, const kv::ApplyResult&) {});
  h.iterate(1);
  const Message* app = h.last_sent(0, MessageType::kApp);
  REQUIRE(app);
  REQUIRE_FALSE(app->entries.empty());
  Message ack = h.reply(*app, MessageType::kAppResp);
  ack.index = app->entries.back().index;
  h.deliver(2, 0, ack);
  // In the same iteration, n2 as shard 1's leader sends n1 an entry.
  const raft::MemoryStorage& log1 = h.host->group(1)->log;
  uint64_t last_term = 0;
  REQUIRE(log1.term(log1.last_index(), &last_term) == raft::StorageError::kOk);
  Message append;
  append.type = MessageType::kApp;
  append.from = 2;
  append.to = 1;
  append.term = 7;
  append.index = log1.last_index();
  append.log_term = last_term;
  append.entries.push_back(raft::Entry{7, log1.last_index() + 1, raft::EntryType::kNormal, ""});
  h.deliver(2, 1, append);
  h.iterate(1);
  const uint64_t committed = h.host->group(0)->node->committed();
  REQUIRE(committed == ack.index);

  h.host.reset();
  h.fs.crash();  // only what was synced survives
  storage::StorageOptions so;
  so.data_dir = "/data";
  so.node_id = "n1";
  so.cluster_id = h.cluster_id;
  so.fs = &h.fs;
  so.log = [](const std::string&) {};
  storage::RecoveredState recovered;
  auto reopened = storage::Storage::open(so, &recovered);
  REQUIRE(reopened.is_ok());
  CHECK(recovered.at(0).hard_state.commit == committed);
}

TEST_CASE("reads waiting for one round are bounded: the next is refused as overloaded",
          "[node_host]") {
  HostHarness h("n1", [](NodeHostOptions& o) {
    o.read_lease = false;  // every read waits for a round
    o.reads_per_round_max = 3;
  });
  lead_with_lease(h);
  std::vector<Outcome::Code> answers;
  for (int i = 0; i < 4; ++i) {
    h.host->read(0, false, [&](const Outcome& o) { answers.push_back(o.code); });
  }
  REQUIRE(answers.size() == 1);  // the fourth, at once; the others wait for the round
  CHECK(answers[0] == Outcome::Code::kOverloaded);
}

const HostMetricsReport::Peer& peer_report(const HostMetricsReport& r, const std::string& id) {
  for (const auto& p : r.peers) {
    if (p.id == id) return p;
  }
  FAIL("no peer " << id << " in the report");
  throw std::logic_error("unreachable");
}

TEST_CASE("the host counts each peer's messages and bytes and times heartbeat round trips",
          "[node_host][metrics]") {
  HostHarness h("n1", [](NodeHostOptions& o) { o.read_lease = false; });  // every read: a round
  lead_with_lease(h);
  HostMetricsReport r;
  h.host->report_metrics(&r);
  REQUIRE(r.peers.size() == 2);
  uint64_t sent_to_n2 = 0, bytes_to_n2 = 0;
  for (const auto& sent : h.peers.sent) {
    if (sent.m.to != 2) continue;
    ++sent_to_n2;
    bytes_to_n2 += raft::encode(sent.m).size();
  }
  const auto& n2 = peer_report(r, "n2");
  CHECK(n2.messages_sent == sent_to_n2);
  CHECK(n2.bytes_sent == bytes_to_n2);
  CHECK(n2.messages_received == 4);  // pre-vote, vote, append and heartbeat answers
  CHECK(n2.bytes_received > 0);
  CHECK(peer_report(r, "n3").messages_received == 0);
  // lead_with_lease answered its heartbeat without letting time pass.
  CHECK(n2.round_trip.count() == 1);
  CHECK(n2.round_trip.sum_seconds() == 0);

  // A read round's heartbeat answered 3 ms later.
  h.host->read(0, false, [](const Outcome&) {});
  h.iterate(1);
  const Message* hb = h.last_sent(0, MessageType::kHeartbeat);
  REQUIRE(hb);
  Message hb_ack = h.reply(*hb, MessageType::kHeartbeatResp);
  hb_ack.context = hb->context;
  h.now_us += 3'000;
  h.deliver(2, 0, hb_ack);
  h.host->report_metrics(&r);
  const auto& rtt = peer_report(r, "n2").round_trip;
  CHECK(rtt.count() == 2);
  CHECK(rtt.sum_seconds() == Approx(0.003));
  CHECK(rtt.counts()[5] == 1);  // (2.5 ms, 5 ms]
  CHECK(peer_report(r, "n3").round_trip.count() == 0);
  // An answer to no timed heartbeat (its context unknown) times nothing.
  hb_ack.context = "not a round";
  h.deliver(2, 0, hb_ack);
  h.host->report_metrics(&r);
  CHECK(peer_report(r, "n2").round_trip.count() == 2);
}

TEST_CASE("the host counts committed and failed proposals and leader changes per shard",
          "[node_host][metrics]") {
  HostHarness h("n1");
  lead_with_lease(h);
  auto shard0 = [&h] {
    HostMetricsReport r;
    h.host->report_metrics(&r);
    REQUIRE(r.shards.size() == kShards);
    REQUIRE(r.shards[0].shard == 0);
    return r.shards[0];
  };
  CHECK(shard0().is_leader);
  CHECK(shard0().has_leader);
  CHECK(shard0().counters.leader_changes_seen == 1);  // none -> n1
  CHECK(shard0().counters.read_index_rounds == 1);

  // One write commits (n2 acknowledges it).
  std::vector<Outcome::Code> answers;
  auto record = [&answers](const Outcome& o, const kv::ApplyResult&) { answers.push_back(o.code); };
  h.host->propose_write(0, kv::CommandView{kv::Op::kSet, "u", "k", "value"}, record);
  h.iterate(1);
  CHECK(shard0().proposals_pending == 1);
  const Message* app = h.last_sent(0, MessageType::kApp);
  REQUIRE(app);
  REQUIRE_FALSE(app->entries.empty());
  Message ack = h.reply(*app, MessageType::kAppResp);
  ack.index = app->entries.back().index;
  h.deliver(2, 0, ack);
  h.iterate(1);
  REQUIRE(answers == std::vector<Outcome::Code>{Outcome::Code::kOk});
  CHECK(shard0().counters.proposals_committed == 1);
  CHECK(shard0().proposals_pending == 0);
  CHECK(shard0().keys == 1);
  CHECK(shard0().key_value_bytes == 1 + 5);
  CHECK(shard0().applied_index == ack.index);

  // The next one is in flight when n2 leads a later term: abandoned.
  h.host->propose_write(0, kv::CommandView{kv::Op::kSet, "u", "k2", "v"}, record);
  h.iterate(1);
  Message heartbeat;
  heartbeat.type = MessageType::kHeartbeat;
  heartbeat.from = 2;
  heartbeat.to = 1;
  heartbeat.term = h.host->group(0)->term + 1;
  h.deliver(2, 0, heartbeat);
  h.iterate(1);
  REQUIRE(answers.size() == 2);
  CHECK(answers[1] == Outcome::Code::kOutcomeUnknown);
  const auto after = shard0();
  CHECK_FALSE(after.is_leader);
  CHECK(after.has_leader);
  CHECK(after.term == heartbeat.term);
  CHECK(after.counters.proposals_failed == 1);
  CHECK(after.counters.proposals_committed == 1);
  CHECK(after.proposals_pending == 0);
  CHECK(after.counters.leader_changes_seen == 2);  // n1 -> n2
}

}  // namespace
}  // namespace mq::server
