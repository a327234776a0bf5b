// The launcher's pure parts: the state file, fault plans, the combined view
// and its health word, the event tracker, the demo's sparkline and
// lost-write count (the demo's unavailability, summary and JSON are in
// demo_report_test.cc, the watch's layout in watch_render_test.cc).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cluster_fixture.h"
#include "playground/cluster_state.h"
#include "playground/prometheus_targets.h"
#include "playground/cluster_view.h"
#include "playground/demo_report.h"
#include "playground/fault_plan.h"
#include "playground/watch_view.h"

using namespace mq::playground;
using mq::cli::ClusterStatus;
using mq::cli::ShardStatus;

namespace {

ClusterState three_nodes(uint32_t shards = 3) {
  ClusterState s;
  s.name = "t";
  s.binary = "/bin/mq";
  s.shard_count = shards;
  s.replication = 3;
  for (int i = 1; i <= 3; ++i) {
    NodeRecord n;
    n.id = "n" + std::to_string(i);
    n.port = static_cast<uint16_t>(7000 + i);
    n.data_dir = "/d/" + n.id;
    n.log_path = "/d/" + n.id + ".log";
    s.nodes.push_back(n);
  }
  return s;
}

// What node `self` answers when `leader` leads every shard in `term`.
ClusterStatus answer(const ClusterState& st, const std::string& self, const std::string& leader,
                     uint64_t term) {
  ClusterStatus cs;
  cs.node = self;
  for (uint32_t s = 0; s < st.shard_count; ++s) {
    ShardStatus sh;
    sh.id = s;
    sh.leader = leader;
    sh.term = term;
    sh.commit = 10;
    sh.role = self == leader ? "leader" : "follower";
    for (const auto& id : st.placement(s)) sh.replicas.push_back({id, id == leader ? "leader" : "follower", 10, 0});
    cs.shards.push_back(sh);
  }
  return cs;
}

RecordedOp write(uint32_t shard, int64_t invoke_us, int64_t complete_us, const std::string& key,
                 const std::string& value, mq::lincheck::Outcome outcome = mq::lincheck::Outcome::kOk) {
  RecordedOp r;
  r.shard = shard;
  r.op.kind = mq::lincheck::OpKind::kSet;
  r.op.key = key;
  r.op.value = value;
  r.op.invoke_time = invoke_us;
  r.op.complete_time = complete_us;
  r.op.outcome = outcome;
  return r;
}

RecordedOp final_read(uint64_t reader, const std::string& key, bool found, const std::string& value,
                      int64_t at_us) {
  RecordedOp r;
  r.op.client = reader;
  r.op.kind = mq::lincheck::OpKind::kGet;
  r.op.key = key;
  r.op.found = found;
  r.op.value = value;
  r.op.invoke_time = at_us;
  r.op.complete_time = at_us + 1;
  return r;
}

}  // namespace

TEST_CASE("the state file round-trips every field", "[cluster][state]") {
  ClusterState s = three_nodes();
  s.node_flags = {"--fsync", "always"};
  s.nodes[1].pid = 4242;
  s.nodes[1].start_time_ticks = 987654321;
  s.nodes[1].paused = true;
  s.nodes[2].faults = {{"n1"}, {"n1", "n2"}};
  s.nodes[0].http_port = 8001;
  s.tls = true;
  s.auth = true;
  ClusterState back;
  REQUIRE(state_from_json(state_to_json(s), &back) == "");
  CHECK(back.tls);
  CHECK(back.auth);
  CHECK(back.nodes[0].http_port == 8001);
  CHECK(back.nodes[1].http_port == 0);
  CHECK(back.name == "t");
  CHECK(back.node_flags == s.node_flags);
  REQUIRE(back.nodes.size() == 3);
  CHECK(back.nodes[1].pid == 4242);
  CHECK(back.nodes[1].start_time_ticks == 987654321);
  CHECK(back.nodes[1].paused);
  CHECK(back.nodes[2].faults.drop_from == std::vector<std::string>{"n1", "n2"});
  CHECK(back.peers() == "n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003");
}

TEST_CASE("test clusters take ports below the kernel's ephemeral range", "[cluster][ports]") {
  // A port the kernel may hand to a listener of port 0 or to a connection's
  // local end can be taken between the check and a node's bind.
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  range >> low >> high;
  CHECK(mq::test::kPortRunLast < low);
  for (int i = 0; i < 50; ++i) {
    const uint16_t base = mq::test::free_port_run(5);
    REQUIRE(base >= mq::test::kPortRunFirst);
    CHECK(base + 1000 + 5 <= mq::test::kPortRunLast);
  }
}

TEST_CASE("a state file from before HTTP ports loads with none", "[cluster][state]") {
  ClusterState out;
  REQUIRE(state_from_json(R"({"name":"old","binary":"/bin/mq","shards":1,"replication":1,
      "nodes":[{"id":"n1","port":7001,"data_dir":"/d/n1","log":"/d/n1.log"}]})",
                          &out) == "");
  REQUIRE(out.nodes.size() == 1);
  CHECK(out.nodes[0].port == 7001);
  CHECK(out.nodes[0].http_port == 0);
}

TEST_CASE("the Prometheus target list names every node's HTTP port, and the cluster",
          "[cluster][state]") {
  ClusterState s = three_nodes();
  s.nodes[0].http_port = 8001;
  s.nodes[2].http_port = 8003;  // n2 has none: it is left out
  const auto j = nlohmann::json::parse(prometheus_targets_json(s));
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 1);
  CHECK(j[0]["targets"] == nlohmann::json({"127.0.0.1:8001", "127.0.0.1:8003"}));
  CHECK(j[0]["labels"] == nlohmann::json({{"cluster", "t"}}));
}

TEST_CASE("the Prometheus target file is replaced only when its content changes",
          "[cluster][state]") {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/mq-targets-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const fs::path path = fs::path(dir) / kPrometheusTargetsFileName;
  ClusterState s = three_nodes();
  for (auto& n : s.nodes) n.http_port = static_cast<uint16_t>(n.port + kHttpPortOffset);
  REQUIRE(write_prometheus_targets(dir, s) == "");
  REQUIRE(fs::exists(path));
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  // Unchanged: the same file stays (a rename would give it a new inode).
  REQUIRE(write_prometheus_targets(dir, s) == "");
  struct stat same {};
  REQUIRE(::stat(path.c_str(), &same) == 0);
  CHECK(same.st_ino == before.st_ino);
  // A port moved: the file is replaced with the new list, and no temp file is left.
  s.nodes[1].http_port = 9002;
  REQUIRE(write_prometheus_targets(dir, s) == "");
  const auto j = nlohmann::json::parse(std::ifstream(path));
  CHECK(j[0]["targets"][1] == "127.0.0.1:9002");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) == 1);
  fs::remove_all(dir);
}

TEST_CASE("a malformed state file is an error, not a guess", "[cluster][state]") {
  ClusterState out;
  CHECK(state_from_json("{", &out) != "");
  CHECK(state_from_json(R"({"name":"x","binary":"b","shards":1,"replication":1,"nodes":[]})", &out) != "");
}

TEST_CASE("placement follows the design's formula", "[cluster][state]") {
  ClusterState s = three_nodes();
  CHECK(s.placement(0) == std::vector<std::string>{"n1", "n2", "n3"});
  CHECK(s.placement(1) == std::vector<std::string>{"n2", "n3", "n1"});
  s.replication = 5;  // clamped to the node count
  CHECK(s.placement(2).size() == 3);
}

TEST_CASE("a partition cuts both directions between the sides only", "[cluster][faults]") {
  ClusterState s = three_nodes();
  REQUIRE(plan_partition(&s, {"n1"}, {"n2", "n3"}) == "");
  CHECK_FALSE(link_ok(s, "n1", "n2"));
  CHECK_FALSE(link_ok(s, "n3", "n1"));
  CHECK(link_ok(s, "n2", "n3"));
  CHECK(s.find("n1")->faults.drop_to == std::vector<std::string>{"n2", "n3"});
  plan_heal(&s);
  CHECK(link_ok(s, "n1", "n2"));
  CHECK(s.find("n1")->faults.empty());
}

TEST_CASE("partition sides must not overlap or be empty", "[cluster][faults]") {
  ClusterState s = three_nodes();
  CHECK(plan_partition(&s, {"n1"}, {"n1", "n2"}) != "");
  CHECK(plan_partition(&s, {}, {"n2"}) != "");
  std::string error;
  CHECK(parse_node_list(s, "n1,n9", &error).empty());
  CHECK(error.find("n9") != std::string::npos);
}

TEST_CASE("a one-way cut breaks the link for health purposes", "[cluster][faults]") {
  ClusterState s = three_nodes();
  REQUIRE(plan_one_way(&s, "n1", "n2") == "");
  CHECK(s.find("n1")->faults.drop_to == std::vector<std::string>{"n2"});
  CHECK(s.find("n2")->faults.drop_from == std::vector<std::string>{"n1"});
  CHECK(s.find("n2")->faults.drop_to.empty());
  CHECK_FALSE(link_ok(s, "n1", "n2"));
  CHECK(link_ok(s, "n1", "n3"));
  std::vector<std::optional<ClusterStatus>> answers = {answer(s, "n1", "n1", 2), answer(s, "n2", "n1", 2),
                                                      answer(s, "n3", "n1", 2)};
  ClusterView v = build_view(s, std::vector<Liveness>(3, Liveness::kUp), answers);
  CHECK(v.health_reason == "links cut: n1->n2");
}

TEST_CASE("health: healthy, degraded naming the down node, unavailable naming shards", "[cluster][health]") {
  ClusterState s = three_nodes();
  const std::vector<Liveness> all_up(3, Liveness::kUp);
  std::vector<std::optional<ClusterStatus>> answers = {answer(s, "n1", "n1", 2), answer(s, "n2", "n1", 2),
                                                      answer(s, "n3", "n1", 2)};
  ClusterView v = build_view(s, all_up, answers);
  CHECK(v.health == Health::kHealthy);
  CHECK(v.shards[0].leader == "n1");
  CHECK(v.nodes[0].shards_led == 3);

  answers[2].reset();
  v = build_view(s, {Liveness::kUp, Liveness::kUp, Liveness::kDown}, answers);
  CHECK(v.health == Health::kDegraded);
  CHECK(v.health_reason.find("n3 down") != std::string::npos);
  CHECK(v.nodes[2].state_word() == "down");
  CHECK(v.nodes[2].pid == 0);

  answers[1].reset();
  v = build_view(s, {Liveness::kUp, Liveness::kPaused, Liveness::kDown}, answers);
  CHECK(v.health == Health::kUnavailable);
  CHECK(v.health_reason.find("no quorum for shards 0, 1, 2") != std::string::npos);
  CHECK(v.nodes[1].state_word() == "paused");
}

TEST_CASE("health: a partitioned minority leader is not the shard's leader", "[cluster][health]") {
  ClusterState s = three_nodes();
  REQUIRE(plan_partition(&s, {"n1"}, {"n2", "n3"}) == "");
  // n1 still believes it leads term 2; n2 was elected in term 3.
  std::vector<std::optional<ClusterStatus>> answers = {answer(s, "n1", "n1", 2), answer(s, "n2", "n2", 3),
                                                      answer(s, "n3", "n2", 3)};
  ClusterView v = build_view(s, std::vector<Liveness>(3, Liveness::kUp), answers);
  CHECK(v.shards[0].leader == "n2");
  CHECK(v.shards[0].term == 3);
  CHECK(v.shards[0].quorum);
  CHECK(v.health == Health::kDegraded);
  CHECK(v.health_reason == "partitioned n1 | n2,n3");
  CHECK(v.nodes[0].state_word() == "partitioned");
}

TEST_CASE("health: a three-way split leaves no quorum", "[cluster][health]") {
  ClusterState s = three_nodes();
  REQUIRE(plan_isolate(&s, "n1") == "");
  REQUIRE(plan_one_way(&s, "n2", "n3") == "");
  ClusterView v = build_view(s, std::vector<Liveness>(3, Liveness::kUp), {std::nullopt, std::nullopt, std::nullopt});
  CHECK(v.health == Health::kUnavailable);
  CHECK_FALSE(v.shards[1].quorum);
}

TEST_CASE("the event tracker reports a leader change with the leaderless time", "[cluster][watch]") {
  ClusterState s = three_nodes(1);
  EventTracker t;
  auto view = [&](const std::string& leader, uint64_t term, std::vector<Liveness> l) {
    std::vector<std::optional<ClusterStatus>> a(3);
    for (size_t i = 0; i < 3; ++i) {
      if (l[i] == Liveness::kUp && !leader.empty()) a[i] = answer(s, s.nodes[i].id, leader, term);
    }
    return build_view(s, l, a);
  };
  CHECK(t.observe(view("n1", 2, {Liveness::kUp, Liveness::kUp, Liveness::kUp}), 0).empty());
  auto e1 = t.observe(view("", 2, {Liveness::kDown, Liveness::kUp, Liveness::kUp}), 100);
  bool saw_down = false, saw_lost = false;
  for (const auto& e : e1) {
    saw_down |= e.text == "n1 up -> down";
    saw_lost |= e.leader_lost && e.from == "n1" && e.term == 2;
  }
  CHECK(saw_down);
  CHECK(saw_lost);
  auto e2 = t.observe(view("n2", 3, {Liveness::kDown, Liveness::kUp, Liveness::kUp}), 350);
  const ClusterEvent* change = nullptr;
  for (const auto& e : e2) {
    if (e.leader_change) change = &e;
  }
  REQUIRE(change != nullptr);
  CHECK(change->from == "n1");
  CHECK(change->to == "n2");
  CHECK(change->term == 3);
  CHECK(change->leaderless_ms == 350);
  WatchLayout layout;
  layout.now_ms = 1350;
  std::string grid;
  for (const auto& line : render_watch(view("n2", 3, {Liveness::kDown, Liveness::kUp, Liveness::kUp}), {*change},
                                       layout)) {
    grid += line + "\n";
  }
  CHECK(grid.find("1.0s ago  shard 0: leader n1 -> n2 (term 3), no leader for 350 ms") != std::string::npos);
  // The same leader in a new term went through an election: a change too.
  auto e3 = t.observe(view("n2", 4, {Liveness::kDown, Liveness::kUp, Liveness::kUp}), 500);
  REQUIRE(e3.size() == 1);
  CHECK(e3[0].leader_change);
  CHECK(e3[0].text == "shard 0: leader n2 re-elected (term 4), no leader for 150 ms");
}

TEST_CASE("throughput per second and its sparkline", "[cluster][demo]") {
  std::vector<RecordedOp> h;
  for (int i = 0; i < 10; ++i) h.push_back(write(0, 0, 100'000 + i, "a", std::to_string(i)));
  h.push_back(write(0, 0, 1'500'000, "a", "x"));
  auto per = ok_per_second(h, 2'900'000);
  REQUIRE(per.size() == 3);
  CHECK(per[0] == 10);
  CHECK(per[1] == 1);
  CHECK(per[2] == 0);
  CHECK(sparkline(per) == "█▂▁");
}

TEST_CASE("a write lost after acknowledgement is counted", "[cluster][demo]") {
  const uint64_t reader = 99;
  std::vector<std::string> ex;
  // k1: the final read sees the last acknowledged write: nothing lost.
  // k2: the final read sees an older write that finished before the
  // acknowledged one started: lost. k3: nothing there: lost.
  std::vector<RecordedOp> h = {write(0, 0, 10, "k1", "a"),       write(0, 20, 30, "k1", "b"),
                               write(0, 0, 10, "k2", "a"),       write(0, 20, 30, "k2", "b"),
                               write(0, 0, 10, "k3", "a"),       final_read(reader, "k1", true, "b", 100),
                               final_read(reader, "k2", true, "a", 100), final_read(reader, "k3", false, "", 100)};
  CHECK(count_lost_writes(h, reader, &ex) == 2);
  CHECK(ex.size() == 2);
  // Overlapping writes may land in either order: not lost.
  std::vector<RecordedOp> overlap = {write(0, 0, 50, "k", "a"), write(0, 10, 40, "k", "b"),
                                     final_read(reader, "k", true, "a", 100)};
  CHECK(count_lost_writes(overlap, reader, &ex) == 0);
}

TEST_CASE("the report's exit code follows the verdict and lost writes", "[cluster][demo]") {
  const uint64_t reader = 5;
  DemoTimeline tl;
  tl.fault = "kill-leader";
  tl.target_node = "n1";
  tl.fault_us = 10;
  tl.heal_us = 20;
  tl.end_us = 30;
  std::vector<RecordedOp> good = {write(0, 0, 10, "k", "a"), final_read(reader, "k", true, "a", 40)};
  DemoReport r = make_report(tl, good, 1, reader, {}, true);
  CHECK(r.verdict.verdict == mq::lincheck::Result::kLinearizable);
  CHECK(report_exit_code(r) == 0);
  std::vector<RecordedOp> bad = {write(0, 0, 10, "k", "a"), final_read(reader, "k", false, "", 40)};
  r = make_report(tl, bad, 1, reader, {}, true);
  CHECK(r.lost_writes == 1);
  CHECK(report_exit_code(r) == 1);
  CHECK(render_demo_json({r}, 0).find("\"lost_writes\":1") != std::string::npos);
}
