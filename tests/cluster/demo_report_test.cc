// The failover demo's report: which shards count as unavailable and for how
// long, the fault described as it was, one time origin, a median for any
// number of trials, a JSON shape that does not change with the data, and
// the marks of an interrupted run.
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "playground/demo_report.h"

using namespace mq::playground;
using mq::lincheck::Outcome;
using nlohmann::json;

namespace {

RecordedOp write(uint32_t shard, int64_t invoke_us, int64_t complete_us, Outcome outcome = Outcome::kOk) {
  static int value = 0;
  RecordedOp r;
  r.shard = shard;
  r.op.client = static_cast<uint64_t>(shard);
  r.op.kind = mq::lincheck::OpKind::kSet;
  r.op.key = "k" + std::to_string(shard);
  r.op.value = std::to_string(++value);
  r.op.invoke_time = invoke_us;
  r.op.complete_time = complete_us;
  r.op.outcome = outcome;
  return r;
}

ClusterEvent leader_change(uint32_t shard, int64_t at_ms, const std::string& from, const std::string& to) {
  ClusterEvent e;
  e.time_ms = at_ms;
  e.leader_change = true;
  e.shard = shard;
  e.from = from;
  e.to = to;
  e.term = 3;
  e.text = "shard " + std::to_string(shard) + ": leader " + from + " -> " + to + " (term 3)";
  return e;
}

DemoTimeline timeline(const std::string& fault) {
  DemoTimeline t;
  t.fault = fault;
  t.target_node = "n1";
  t.target_shard = 0;
  t.cut_off_from = {"n2", "n3"};
  t.fault_us = 2'000'000;
  t.heal_us = 4'000'000;
  t.end_us = 6'000'000;
  return t;
}

}  // namespace

TEST_CASE("a shard that kept its leader and was only idle is not unavailable", "[cluster][demo]") {
  // Shard 0 lost its leader: a write invoked at 2.01 s waited until 2.40 s.
  // Shard 1 kept its leader and nobody wrote to it from 2.01 s to 2.40 s
  // (the clients were stuck on shard 0): every write it got was fast.
  std::vector<RecordedOp> h = {write(0, 1'990'000, 2'000'000), write(0, 2'010'000, 2'400'000),
                               write(0, 2'410'000, 2'411'000), write(1, 2'000'000, 2'001'000),
                               write(1, 2'400'000, 2'401'000), write(1, 2'500'000, 2'502'000)};
  auto w = write_waits(h, 2, 2'000'000, 6'000'000);
  mark_counted(&w, {leader_change(0, 2'200, "n1", "n2")}, 2'000'000, "n1");
  REQUIRE(w.size() == 2);
  CHECK(w[0].lost_leader);
  CHECK(w[0].counted);
  CHECK(w[0].unavailable_ms() == 390);
  CHECK(w[0].wait_from_ms == 2010);
  CHECK(w[0].wait_to_ms == 2400);
  // The gap between successful writes was 399 ms; no write waited 2 ms.
  CHECK_FALSE(w[1].lost_leader);
  CHECK_FALSE(w[1].counted);
  CHECK(w[1].longest_wait_ms == 2);
  CHECK(w[1].unavailable_ms() == 0);
}

TEST_CASE("a client stuck on an unreachable node does not make a shard unavailable", "[cluster][demo]") {
  // One write times out after 2 s; other clients' writes to the shard
  // succeed meanwhile.
  std::vector<RecordedOp> h = {write(0, 2'100'000, 4'100'000, Outcome::kUnknown), write(0, 2'105'000, 2'106'000),
                               write(0, 2'200'000, 2'203'000), write(0, 3'000'000, 3'004'000)};
  auto w = write_waits(h, 1, 2'000'000, 6'000'000);
  mark_counted(&w, {}, 2'000'000, "n1");
  CHECK(w[0].longest_wait_ms == 6);  // the stuck write waited 6 ms for the next success
  CHECK_FALSE(w[0].counted);
}

TEST_CASE("a long stall counts even when no leader change was seen", "[cluster][demo]") {
  // A write waits until the end of the run: still open then, it ends there.
  std::vector<RecordedOp> h = {write(0, 1'000'000, 1'001'000), write(0, 2'500'000, 6'500'000, Outcome::kUnknown)};
  auto w = write_waits(h, 1, 2'000'000, 6'000'000);
  mark_counted(&w, {}, 2'000'000, "n1");
  CHECK(w[0].longest_wait_ms == 3500);
  CHECK(w[0].wait_to_ms == 6000);
  CHECK(w[0].counted);
  // A leader change before the fault is not the fault's doing.
  std::vector<RecordedOp> quick = {write(0, 2'500'000, 2'501'000)};
  auto q = write_waits(quick, 1, 2'000'000, 6'000'000);
  mark_counted(&q, {leader_change(0, 1'000, "n1", "n2")}, 2'000'000, "n1");
  CHECK_FALSE(q[0].lost_leader);
  CHECK_FALSE(q[0].counted);
}

TEST_CASE("the fault is described as it was", "[cluster][demo]") {
  CHECK(describe_fault(timeline("kill-leader")) == "n1 (shard 0's leader) killed with SIGKILL");
  CHECK(describe_fault(timeline("kill-follower")) == "n1 (a follower of shard 0) killed with SIGKILL");
  CHECK(describe_fault(timeline("pause")) == "n1 (shard 0's leader) stopped with SIGSTOP");
  CHECK(describe_fault(timeline("partition")) == "n1 (shard 0's leader) cut off from n2, n3");
  CHECK(describe_heal(timeline("pause")) == "resumed with SIGCONT");
  CHECK(describe_heal(timeline("kill-follower")) == "restarted");
  const DemoReport r = make_report(timeline("kill-follower"), {}, 1, 99, {}, false);
  const std::string text = render_report_text(r);
  CHECK(text.find("fault: kill-follower: n1 (a follower of shard 0) killed with SIGKILL at 2.00 s, restarted at "
                  "4.00 s; the run ended at 6.00 s") != std::string::npos);
  CHECK(text.find("leader)") == std::string::npos);
  CHECK(text.find("acknowledged writes lost: not checked") != std::string::npos);
}

TEST_CASE("every time in the JSON counts from the start of the run", "[cluster][demo]") {
  std::vector<RecordedOp> h = {write(0, 1'000'000, 1'001'000), write(0, 2'100'000, 2'450'000)};
  const DemoReport r = make_report(timeline("kill-leader"), h, 1, 99, {leader_change(0, 2'300, "n1", "n2")}, false);
  const json j = json::parse(render_demo_json({r}, 0));
  const json& t = j["trials"][0];
  CHECK(t["fault"]["at_ms"] == 2000);
  CHECK(t["fault"]["healed_ms"] == 4000);
  CHECK(t["leader_changes"][0]["at_ms"] == 2300);
  CHECK(t["windows"][0]["wait_from_ms"] == 2100);
  CHECK(t["windows"][0]["wait_to_ms"] == 2450);
  CHECK(t["windows"][0]["unavailable_ms"] == 350);
}

TEST_CASE("a median for any number of trials, and one JSON shape", "[cluster][demo]") {
  CHECK_FALSE(median_ms({}).has_value());
  CHECK(median_ms({7}) == 7);
  CHECK(median_ms({1, 3}) == 2);
  CHECK(median_ms({9, 1, 5}) == 5);
  CHECK(p90_ms({7}) == 7);
  CHECK(p90_ms({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) == 9);
  CHECK(p90_ms({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}) == 10);

  std::vector<RecordedOp> h = {write(0, 2'100'000, 2'450'000)};
  DemoReport one = make_report(timeline("pause"), h, 1, 99, {leader_change(0, 2'300, "n1", "n2")}, false);
  const json single = json::parse(render_demo_json({one}, 0));
  CHECK(single["median_ms"] == 350);
  CHECK(single["p90_ms"] == 350);
  CHECK(single["completed_trials"] == 1);
  CHECK(single["interrupted"] == false);
  CHECK(single["signal"].is_null());
  CHECK(single["lost_writes"].is_null());  // not checked: unknown, not 0
  CHECK(single["trials"][0]["lost_writes"].is_null());
  CHECK(render_summary_text({one}, 0).find("median 350 ms, p90 350 ms over 1 trial\n") != std::string::npos);

  DemoReport interrupted = one;
  interrupted.timeline.interrupted_by = SIGINT;
  interrupted.timeline.interrupted_us = 3'000'000;
  const json three = json::parse(render_demo_json({one, one, interrupted}, SIGINT));
  // The same keys whatever the number of trials and their outcome.
  for (auto it = single.begin(); it != single.end(); ++it) CHECK(three.contains(it.key()));
  for (auto it = three.begin(); it != three.end(); ++it) CHECK(single.contains(it.key()));
  for (auto it = single["trials"][0].begin(); it != single["trials"][0].end(); ++it) {
    CHECK(three["trials"][2].contains(it.key()));
  }
  // The partial trial is shown, and left out of the median.
  CHECK(three["longest_ms"].size() == 3);
  CHECK(three["completed_trials"] == 2);
  CHECK(three["interrupted"] == true);
  CHECK(three["signal"] == "SIGINT");
  CHECK(three["trials"][2]["interrupted_ms"] == 3000);
  const json none = json::parse(render_demo_json({interrupted}, SIGINT));
  CHECK(none["median_ms"].is_null());
  CHECK(render_summary_text({interrupted}, SIGINT).find("no trial ran to its end") != std::string::npos);
}

TEST_CASE("an interrupted run says so, and what happened to the fault", "[cluster][demo]") {
  DemoTimeline t = timeline("pause");
  t.interrupted_by = SIGTERM;
  t.interrupted_us = 2'500'000;
  t.heal_us = 2'510'000;
  t.end_us = 2'900'000;
  std::string text = render_report_text(make_report(t, {}, 1, 99, {}, false));
  CHECK(text.rfind("INTERRUPTED by SIGTERM at 2.50 s: the fault was undone;", 0) == 0);
  CHECK(text.find("resumed with SIGCONT at 2.51 s") != std::string::npos);
  t.fault_us = -1;
  t.heal_us = -1;
  text = render_report_text(make_report(t, {}, 1, 99, {}, false));
  CHECK(text.find("before the fault") != std::string::npos);
  CHECK(text.find("fault: pause: not injected") != std::string::npos);
}

TEST_CASE("a shard that lost its leader while nobody wrote to it has no measure", "[cluster][demo]") {
  // Shard 1 lost its leader but got no write after the fault.
  std::vector<RecordedOp> h = {write(0, 2'100'000, 2'101'000), write(1, 1'000'000, 1'001'000)};
  const DemoReport r = make_report(timeline("pause"), h, 2, 99, {leader_change(1, 2'300, "n1", "n2")}, false);
  REQUIRE(r.windows.size() == 2);
  CHECK(r.windows[1].counted);
  CHECK_FALSE(r.windows[1].measured);
  CHECK(r.windows[0].measured);
  const json j = json::parse(render_demo_json({r}, 0));
  CHECK(j["trials"][0]["windows"][1]["unavailable_ms"].is_null());
  CHECK(j["trials"][0]["windows"][0]["unavailable_ms"] == 0);
  CHECK(render_report_text(r).find("   0:     -   1:     ?\n") != std::string::npos);
}

TEST_CASE("a leader missing from one look is not a lost leader unless it is the fault's node", "[cluster][demo]") {
  std::vector<RecordedOp> h = {write(0, 2'100'000, 2'120'000), write(1, 2'100'000, 2'120'000)};
  auto w = write_waits(h, 2, 2'000'000, 6'000'000);
  ClusterEvent slow_answer;  // n2 answered too late once: its shard 1 looked leaderless
  slow_answer.time_ms = 2'100;
  slow_answer.leader_lost = true;
  slow_answer.shard = 1;
  slow_answer.from = "n2";
  ClusterEvent paused = slow_answer;  // n1, the paused node, no longer leads shard 0
  paused.shard = 0;
  paused.from = "n1";
  mark_counted(&w, {slow_answer, paused}, 2'000'000, "n1");
  CHECK(w[0].lost_leader);
  CHECK(w[0].unavailable_ms() == 20);
  CHECK_FALSE(w[1].lost_leader);
  CHECK(w[1].unavailable_ms() == 0);
}
