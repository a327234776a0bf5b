// `mq cluster watch` as pure functions: the frame fits the terminal it is
// drawn on (width and height), a narrow or short terminal gets the compact
// grid, frames overwrite each other without blanking the screen, and the
// nodes' role-change rings give the leader changes from before the watch.
#include <catch2/catch.hpp>

#include "playground/cluster_view.h"
#include "playground/leader_history.h"
#include "playground/watch_view.h"

using namespace mq::playground;
using mq::cli::ClusterStatus;
using mq::cli::RoleChangeStatus;
using mq::cli::ShardStatus;

namespace {

ClusterState cluster(int nodes, uint32_t shards) {
  ClusterState s;
  s.name = "local";
  s.binary = "/bin/mq";
  s.shard_count = shards;
  s.replication = 3;
  for (int i = 1; i <= nodes; ++i) {
    NodeRecord n;
    n.id = "n" + std::to_string(i);
    n.port = static_cast<uint16_t>(7000 + i);
    s.nodes.push_back(n);
  }
  return s;
}

// Every node up; each shard led by its preferred node, one follower behind.
ClusterView led_view(const ClusterState& st) {
  std::vector<std::optional<ClusterStatus>> answers;
  for (const auto& n : st.nodes) {
    ClusterStatus cs;
    cs.node = n.id;
    for (uint32_t s = 0; s < st.shard_count; ++s) {
      const auto placement = st.placement(s);
      if (std::find(placement.begin(), placement.end(), n.id) == placement.end()) continue;
      ShardStatus sh;
      sh.id = s;
      sh.leader = placement[0];
      sh.term = 12;
      sh.commit = 123456;
      sh.role = n.id == placement[0] ? "leader" : "follower";
      for (const auto& id : placement) sh.replicas.push_back({id, id == placement[0] ? "leader" : "follower", 0, id == placement.back() ? 3u : 0u});
      cs.shards.push_back(sh);
    }
    answers.push_back(cs);
  }
  return build_view(st, std::vector<Liveness>(st.nodes.size(), Liveness::kUp), answers);
}

std::vector<ClusterEvent> many_events(size_t n) {
  std::vector<ClusterEvent> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({static_cast<int64_t>(i) * 100,
                   "shard " + std::to_string(i % 16) + ": leader n1 -> n2 (term " + std::to_string(i) +
                       "), no leader for 412 ms, and a long tail of words that no terminal of 80 columns holds"});
  }
  return out;
}

}  // namespace

TEST_CASE("the watch fits the terminal it draws on", "[cluster][watch]") {
  for (auto [nodes, shards] : {std::pair{3, 16u}, std::pair{5, 64u}, std::pair{3, 4u}, std::pair{7, 1024u}}) {
    const ClusterState st = cluster(nodes, shards);
    const ClusterView view = led_view(st);
    for (auto [w, h] : {std::pair{80, 24}, std::pair{60, 20}, std::pair{40, 12}, std::pair{120, 40},
                        std::pair{200, 60}, std::pair{20, 5}}) {
      for (bool color : {false, true}) {
        WatchLayout layout;
        layout.width = static_cast<size_t>(w);
        layout.height = static_cast<size_t>(h);
        layout.color = color;
        layout.now_ms = 10'000;
        layout.hint = "(Ctrl-C to leave)";
        const auto lines = render_watch(view, many_events(40), layout);
        INFO(nodes << " nodes, " << shards << " shards on " << w << "x" << h << (color ? " in colour" : ""));
        CHECK(lines.size() <= layout.height);
        for (const auto& l : lines) {
          INFO(l);
          CHECK(visible_width(l) <= layout.width);
        }
      }
    }
  }
}

TEST_CASE("80x24 shows all 16 shards of a default cluster and room for events", "[cluster][watch]") {
  const ClusterView view = led_view(cluster(3, 16));
  WatchLayout layout;
  layout.now_ms = 10'000;
  const auto lines = render_watch(view, many_events(40), layout);
  REQUIRE(lines.size() <= 24);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  // The compact grid: every shard as "id leader term letters".
  for (uint32_t s = 0; s < 16; ++s) {
    INFO(all);
    const std::string leader = "n" + std::to_string(s % 3 + 1);
    CHECK(all.find(std::to_string(s) + " " + leader + " t12") != std::string::npos);
  }
  CHECK(all.find("do not fit") == std::string::npos);
  size_t event_lines = 0;
  for (const auto& l : lines) event_lines += l.find(" ago  shard") != std::string::npos;
  CHECK(event_lines >= 3);
  // The newest event is last.
  CHECK(lines.back().find("(term 39)") != std::string::npos);
}

TEST_CASE("a large terminal gets the full grid, one shard per row", "[cluster][watch]") {
  const ClusterView view = led_view(cluster(3, 16));
  WatchLayout layout;
  layout.width = 120;
  layout.height = 50;
  const auto lines = render_watch(view, {}, layout);
  REQUIRE(lines.size() > 4);
  CHECK(lines[3].rfind("shard term  commit   leader  n1", 0) == 0);
  CHECK(lines.back() == "  (none yet)");
  // A follower behind shows its lag.
  CHECK(lines[4].find("F+3") != std::string::npos);
}

TEST_CASE("shards that fit nowhere are summarized, not cut silently", "[cluster][watch]") {
  const ClusterView view = led_view(cluster(3, 1024));
  WatchLayout layout;
  const auto lines = render_watch(view, {}, layout);
  bool summarized = false;
  for (const auto& l : lines) summarized |= l.rfind("... shards ", 0) == 0;
  CHECK(summarized);
}

TEST_CASE("a frame overwrites the last one in place", "[cluster][watch]") {
  const std::string frame = redraw_frame({"a", "bb", "ccc"});
  CHECK(frame == "\x1b[Ha\x1b[K\nbb\x1b[K\nccc\x1b[K\x1b[J");
  CHECK(frame.find("\x1b[2J") == std::string::npos);
  CHECK(visible_width("\x1b[32mup\x1b[0m") == 2);
}

TEST_CASE("the nodes' rings give the leader changes that happened before the watch", "[cluster][watch]") {
  const ClusterState st = cluster(3, 1);
  ClusterView view = led_view(st);
  // n2 saw n1 lead term 2, lost it at 5000 (its clock), stood in term 3
  // and won; n3 heard of n2 a little later. Both answer at clock 6000.
  auto rc = [](uint64_t seq, uint64_t at, uint64_t term, const std::string& role, const std::string& leader) {
    return RoleChangeStatus{seq, at, 0, term, role, leader};
  };
  view.nodes[0].answered = false;  // n1 is dead: its ring is gone
  view.nodes[1].clock_ms = 6000;
  view.nodes[1].role_changes = {rc(1, 1000, 2, "follower", "n1"), rc(2, 5000, 2, "pre-candidate", ""),
                                rc(3, 5100, 3, "candidate", ""), rc(4, 5300, 3, "leader", "n2")};
  view.nodes[2].clock_ms = 9000;  // another clock: only ages matter
  view.nodes[2].role_changes = {rc(1, 4001, 2, "follower", "n1"), rc(2, 8310, 3, "follower", "n2")};
  LeaderHistory history;
  history.add(view, 100'000);
  auto changes = history.changes();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].from == "n1");
  CHECK(changes[0].to == "n2");
  CHECK(changes[0].term == 3);
  CHECK(changes[0].time_ms == 100'000 - 700);
  // Nothing in the rings says when n1 died: no length is guessed.
  CHECK(changes[0].text == "shard 0: leader n1 -> n2 (term 3)");

  // Later answers no longer carry those records (rings are small): what
  // was read stays known, and the same records read again change nothing.
  ClusterView later = view;
  later.nodes[1].role_changes.clear();
  later.nodes[2].role_changes.clear();
  history.add(later, 101'000);
  history.add(view, 100'500);
  changes = history.changes();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].time_ms == 100'000 - 700);
  // A change the watch saw happen has the leaderless time it measured.
  history.note_leaderless(0, 3, 412);
  changes = history.changes();
  CHECK(changes[0].text == "shard 0: leader n1 -> n2 (term 3), no leader for 412 ms");

  // In the watch: 2.7 s ago at the watch's 102'000 ms.
  WatchLayout layout;
  layout.now_ms = 102'000;
  std::string all;
  for (const auto& l : render_watch(view, changes, layout)) all += l + "\n";
  CHECK(all.find("2.7s ago  shard 0: leader n1 -> n2 (term 3), no leader for 412 ms") != std::string::npos);
}
