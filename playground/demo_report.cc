#include "playground/demo_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "playground/demo_interrupt.h"

namespace mq::playground {

namespace {

bool is_write(const RecordedOp& r) { return r.op.kind != lincheck::OpKind::kGet; }

}  // namespace

std::vector<ShardWindow> write_waits(const std::vector<RecordedOp>& history, uint32_t shard_count,
                                     int64_t fault_us, int64_t end_us) {
  // Not injected: nothing after the fault to measure.
  if (fault_us < 0) fault_us = end_us;
  std::vector<std::vector<int64_t>> ok_done(shard_count), invoked(shard_count);
  for (const auto& r : history) {
    if (!is_write(r) || r.shard >= shard_count) continue;
    invoked[r.shard].push_back(r.op.invoke_time);
    if (r.op.outcome == lincheck::Outcome::kOk) ok_done[r.shard].push_back(r.op.complete_time);
  }
  std::vector<ShardWindow> out;
  for (uint32_t s = 0; s < shard_count; ++s) {
    auto& done = ok_done[s];
    std::sort(done.begin(), done.end());
    ShardWindow w;
    w.shard = s;
    int64_t best = 0, from = 0, to = 0;
    for (int64_t invoke : invoked[s]) {
      if (invoke > end_us) continue;
      auto next = std::lower_bound(done.begin(), done.end(), invoke);
      const int64_t answered = next == done.end() ? end_us : std::min(*next, end_us);
      if (answered <= fault_us) continue;
      w.measured = true;
      if (answered - invoke <= best) continue;
      best = answered - invoke;
      from = invoke;
      to = answered;
    }
    w.longest_wait_ms = best / 1000;
    w.wait_from_ms = from / 1000;
    w.wait_to_ms = to / 1000;
    out.push_back(w);
  }
  return out;
}

void mark_counted(std::vector<ShardWindow>* windows, const std::vector<ClusterEvent>& events,
                  int64_t fault_us, const std::string& target_node) {
  if (fault_us >= 0) {
    for (const auto& e : events) {
      // A leader missing from one look may only have answered too late;
      // only the fault's own node is known to be gone.
      const bool lost = e.leader_change || (e.leader_lost && e.from == target_node);
      if (lost && e.time_ms * 1000 >= fault_us && e.shard < windows->size()) {
        (*windows)[e.shard].lost_leader = true;
      }
    }
  }
  for (auto& w : *windows) w.counted = w.lost_leader || w.longest_wait_ms >= kStallCountedMs;
}

std::vector<uint64_t> ok_per_second(const std::vector<RecordedOp>& history, int64_t end_us) {
  const size_t seconds = static_cast<size_t>(std::max<int64_t>(end_us, 0) / 1'000'000 + 1);
  std::vector<uint64_t> out(seconds, 0);
  for (const auto& r : history) {
    if (r.op.outcome != lincheck::Outcome::kOk || r.op.complete_time > end_us) continue;
    const size_t sec = static_cast<size_t>(std::max<int64_t>(r.op.complete_time, 0) / 1'000'000);
    if (sec < out.size()) ++out[sec];
  }
  // A last partial second would read as a dip that did not happen.
  if (out.size() > 1 && end_us % 1'000'000 < 500'000) out.pop_back();
  return out;
}

std::string sparkline(const std::vector<uint64_t>& values) {
  static const char* kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  const uint64_t top = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
  std::string out;
  for (uint64_t v : values) {
    const size_t level = top == 0 ? 0 : static_cast<size_t>((v * 7 + top / 2) / top);
    out += kBlocks[std::min<size_t>(level, 7)];
  }
  return out;
}

uint64_t count_lost_writes(const std::vector<RecordedOp>& history, uint64_t reader,
                           std::vector<std::string>* examples) {
  std::map<std::string, const RecordedOp*> final_read;
  std::map<std::pair<std::string, std::string>, const RecordedOp*> write_of;  // (key, value)
  for (const auto& r : history) {
    if (r.op.client == reader && r.op.kind == lincheck::OpKind::kGet &&
        r.op.outcome == lincheck::Outcome::kOk) {
      final_read[r.op.key] = &r;
    }
    if (r.op.kind == lincheck::OpKind::kSet) write_of[{r.op.key, r.op.value}] = &r;
  }
  uint64_t lost = 0;
  for (const auto& r : history) {
    if (r.op.kind != lincheck::OpKind::kSet || r.op.outcome != lincheck::Outcome::kOk) continue;
    auto fr = final_read.find(r.op.key);
    if (fr == final_read.end()) continue;
    const RecordedOp& read = *fr->second;
    bool is_lost = false;
    if (!read.op.found) {
      is_lost = true;  // the workload never deletes
    } else if (read.op.value != r.op.value) {
      auto w = write_of.find({r.op.key, read.op.value});
      is_lost = w == write_of.end() ||
                (w->second->op.outcome == lincheck::Outcome::kOk &&
                 w->second->op.complete_time < r.op.invoke_time);
    }
    if (is_lost) {
      ++lost;
      if (examples->size() < 5) {
        examples->push_back(lincheck::describe(r.op) + " but the final read saw " +
                            (read.op.found ? "'" + read.op.value + "'" : "nothing"));
      }
    }
  }
  return lost;
}

DemoReport make_report(const DemoTimeline& timeline, const std::vector<RecordedOp>& history,
                       uint32_t shard_count, uint64_t reader,
                       const std::vector<ClusterEvent>& events, bool check) {
  DemoReport r;
  r.timeline = timeline;
  r.windows = write_waits(history, shard_count, timeline.fault_us, timeline.end_us);
  mark_counted(&r.windows, events, timeline.fault_us, timeline.target_node);
  for (const auto& w : r.windows) r.max_window_ms = std::max(r.max_window_ms, w.unavailable_ms());
  for (const auto& e : events) {
    if (e.leader_change) r.leader_changes.push_back(e);
  }
  for (const auto& op : history) {
    if (op.op.client == reader) continue;
    OpCounts& c = is_write(op) ? r.writes : r.reads;
    switch (op.op.outcome) {
      case lincheck::Outcome::kOk: ++c.ok; break;
      case lincheck::Outcome::kFail: ++c.failed; break;
      case lincheck::Outcome::kUnknown: ++c.unknown; break;
    }
  }
  r.ok_per_second = ok_per_second(history, timeline.end_us);
  r.sparkline = sparkline(r.ok_per_second);
  if (check) r.lost_writes = count_lost_writes(history, reader, &r.lost_examples);
  std::vector<lincheck::Operation> ops;
  ops.reserve(history.size());
  for (const auto& op : history) ops.push_back(op.op);
  r.verdict = lincheck::check(ops);
  return r;
}

int report_exit_code(const DemoReport& r) {
  if (r.lost_writes.value_or(0) > 0 || r.verdict.verdict == lincheck::Result::kNotLinearizable) return 1;
  return r.verdict.verdict == lincheck::Result::kLinearizable ? 0 : 2;
}

namespace {

// "2.41 s": a time from the start of the run.
std::string seconds_text(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(us) / 1e6);
  return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool kills(const DemoTimeline& t) { return t.fault == "kill-leader" || t.fault == "kill-follower"; }

const char* verdict_word(const lincheck::Result& v) {
  switch (v.verdict) {
    case lincheck::Result::kLinearizable: return "linearizable";
    case lincheck::Result::kNotLinearizable: return "NOT linearizable";
    case lincheck::Result::kUnknown: return "unknown (search budget exhausted)";
  }
  return "unknown";
}

const char* verdict_json(lincheck::Result::Verdict v) {
  return v == lincheck::Result::kLinearizable ? "yes" : v == lincheck::Result::kNotLinearizable ? "no" : "unknown";
}

const char* signal_name(int sig) { return InterruptLatch::signal_name(sig); }

nlohmann::json ms_or_null(int64_t us) { return us < 0 ? nlohmann::json() : nlohmann::json(us / 1000); }

nlohmann::json report_json(const DemoReport& r) {
  using nlohmann::json;
  json j;
  const DemoTimeline& t = r.timeline;
  j["fault"] = {{"kind", t.fault},
                {"node", t.target_node.empty() ? json() : json(t.target_node)},
                {"shard", t.target_shard},
                {"role", t.fault == "kill-follower" ? "follower" : "leader"},
                {"description", t.target_node.empty() ? json() : json(describe_fault(t))},
                {"at_ms", ms_or_null(t.fault_us)},
                {"healed_ms", ms_or_null(t.heal_us)},
                {"end_ms", t.end_us / 1000}};
  j["interrupted"] = r.interrupted();
  j["signal"] = r.interrupted() ? json(signal_name(t.interrupted_by)) : json();
  j["interrupted_ms"] = r.interrupted() ? ms_or_null(t.interrupted_us) : json();
  j["windows"] = json::array();
  for (const auto& w : r.windows) {
    j["windows"].push_back({{"shard", w.shard},
                            {"unavailable_ms", w.counted && !w.measured ? json() : json(w.unavailable_ms())},
                            {"measured", w.measured},
                            {"counted", w.counted},
                            {"lost_leader", w.lost_leader},
                            {"longest_wait_ms", w.longest_wait_ms},
                            {"wait_from_ms", w.wait_from_ms},
                            {"wait_to_ms", w.wait_to_ms}});
  }
  j["max_unavailable_ms"] = r.max_window_ms;
  j["leader_changes"] = json::array();
  for (const auto& e : r.leader_changes) {
    j["leader_changes"].push_back({{"shard", e.shard},
                                   {"from", e.from.empty() ? json() : json(e.from)},
                                   {"to", e.to},
                                   {"term", e.term},
                                   {"at_ms", e.time_ms},
                                   {"leaderless_ms", e.leaderless_ms}});
  }
  auto counts = [](const OpCounts& c) { return json{{"ok", c.ok}, {"failed", c.failed}, {"unknown", c.unknown}}; };
  j["writes"] = counts(r.writes);
  j["reads"] = counts(r.reads);
  j["ok_per_second"] = r.ok_per_second;
  j["sparkline"] = r.sparkline;
  j["lost_writes"] = r.lost_writes ? json(*r.lost_writes) : json();
  j["lost_examples"] = r.lost_examples;
  j["linearizable"] = verdict_json(r.verdict.verdict);
  j["explanation"] = r.verdict.explanation;
  return j;
}

}  // namespace

std::string describe_fault(const DemoTimeline& t) {
  const std::string shard = std::to_string(t.target_shard);
  std::string out = t.target_node + (t.fault == "kill-follower" ? " (a follower of shard " + shard + ")"
                                                                 : " (shard " + shard + "'s leader)");
  if (kills(t)) return out + " killed with SIGKILL";
  if (t.fault == "pause") return out + " stopped with SIGSTOP";
  return out + " cut off from " + join(t.cut_off_from, ", ");
}

std::string describe_heal(const DemoTimeline& t) {
  if (kills(t)) return "restarted";
  if (t.fault == "pause") return "resumed with SIGCONT";
  return "partition healed";
}

std::string render_report_text(const DemoReport& r) {
  const DemoTimeline& t = r.timeline;
  std::string out;
  if (r.interrupted()) {
    out += "INTERRUPTED by " + std::string(signal_name(t.interrupted_by)) + " at " + seconds_text(t.interrupted_us) +
           (t.fault_us >= 0 ? ": the fault was undone; " : ": before the fault; ") +
           "the numbers below cover the run until then\n";
  }
  if (t.fault_us < 0) {
    out += "fault: " + t.fault + ": not injected\n";
  } else {
    out += "fault: " + t.fault + ": " + describe_fault(t) + " at " + seconds_text(t.fault_us) + ", " +
           (t.heal_us >= 0 ? describe_heal(t) + " at " + seconds_text(t.heal_us) : std::string("NOT undone")) +
           "; the run ended at " + seconds_text(t.end_us) + "\n";
  }
  out += "(times from the start of the workload)\n\n";
  out += "write unavailability per shard, ms: the longest a write waited for any write to its shard to\n"
         "succeed, where the shard lost its leader or a write waited " + std::to_string(kStallCountedMs) +
         " ms or more (\"-\": neither;\n\"?\": it lost its leader while no write to it was waiting):\n";
  std::string line;
  for (const auto& w : r.windows) {
    char cell[48];
    if (w.counted && w.measured) {
      std::snprintf(cell, sizeof cell, "  %2u:%6lld", w.shard, static_cast<long long>(w.longest_wait_ms));
    } else {
      std::snprintf(cell, sizeof cell, "  %2u:%6s", w.shard, w.counted ? "?" : "-");
    }
    line += cell;
    if ((w.shard + 1) % 8 == 0) {
      out += line + "\n";
      line.clear();
    }
  }
  if (!line.empty()) out += line + "\n";
  std::vector<std::string> lost;
  for (const auto& w : r.windows) {
    if (w.lost_leader) lost.push_back(std::to_string(w.shard));
  }
  out += "  longest: " + std::to_string(r.max_window_ms) + " ms; shards that lost their leader: " +
         (lost.empty() ? std::string("none") : join(lost, ", ")) + "\n\n";
  out += "leader changes:\n";
  if (r.leader_changes.empty()) out += "  none\n";
  for (const auto& e : r.leader_changes) {
    std::string when = "  at " + seconds_text(e.time_ms * 1000);
    if (t.fault_us >= 0) {
      const int64_t rel_ms = e.time_ms - t.fault_us / 1000;
      when += " (" + std::to_string(rel_ms < 0 ? -rel_ms : rel_ms) + " ms " + (rel_ms < 0 ? "before" : "after") +
              " the fault)";
    }
    out += when + ": " + e.text + "\n";
  }
  auto counts = [](const char* what, const OpCounts& c) {
    return std::string("  ") + what + ": " + std::to_string(c.ok) + " ok, " + std::to_string(c.failed) +
           " failed, " + std::to_string(c.unknown) + " unknown\n";
  };
  out += "\noperations:\n" + counts("writes", r.writes) + counts("reads ", r.reads);
  out += "\nthroughput (ok ops per second): " + r.sparkline + "  ";
  for (size_t i = 0; i < r.ok_per_second.size(); ++i) {
    out += (i ? " " : "") + std::to_string(r.ok_per_second[i]);
  }
  out += "\n";
  if (r.lost_writes) {
    out += "acknowledged writes lost: " + std::to_string(*r.lost_writes) + "\n";
  } else {
    out += std::string("acknowledged writes lost: not checked") +
           (r.interrupted() ? " (interrupted before the read-back)\n" : " (--check reads every key back)\n");
  }
  for (const auto& e : r.lost_examples) out += "  " + e + "\n";
  out += "history: " + std::string(verdict_word(r.verdict)) + "\n";
  if (r.verdict.verdict != lincheck::Result::kLinearizable && !r.verdict.explanation.empty()) {
    out += r.verdict.explanation + "\n";
  }
  return out;
}

std::optional<int64_t> median_ms(std::vector<int64_t> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

std::optional<int64_t> p90_ms(std::vector<int64_t> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least 90% of them at or below.
  const size_t rank = (v.size() * 9 + 9) / 10;
  return v[std::max<size_t>(rank, 1) - 1];
}

std::vector<int64_t> completed_longest_ms(const std::vector<DemoReport>& trials) {
  std::vector<int64_t> out;
  for (const auto& r : trials) {
    if (!r.interrupted()) out.push_back(r.max_window_ms);
  }
  return out;
}

std::string render_summary_text(const std::vector<DemoReport>& trials, int interrupted_by) {
  const std::vector<int64_t> done = completed_longest_ms(trials);
  std::string out = "\nlongest write unavailability per trial (ms):";
  for (const auto& r : trials) out += " " + std::to_string(r.max_window_ms) + (r.interrupted() ? " (partial)" : "");
  out += "\n";
  if (done.empty()) {
    out += "no trial ran to its end: no median\n";
  } else {
    out += "median " + std::to_string(*median_ms(done)) + " ms, p90 " + std::to_string(*p90_ms(done)) + " ms over " +
           std::to_string(done.size()) + (done.size() == 1 ? " trial" : " trials") +
           (done.size() < trials.size() ? " that ran to their end" : "") + "\n";
  }
  if (interrupted_by != 0) out += "interrupted by " + std::string(signal_name(interrupted_by)) + "\n";
  return out;
}

std::string render_demo_json(const std::vector<DemoReport>& trials, int interrupted_by) {
  using nlohmann::json;
  json j;
  j["trials"] = json::array();
  json longest = json::array();
  bool any_lost_unknown = trials.empty();
  uint64_t lost = 0;
  int worst = 0;
  for (const auto& r : trials) {
    j["trials"].push_back(report_json(r));
    longest.push_back(r.max_window_ms);
    if (r.lost_writes) {
      lost += *r.lost_writes;
    } else {
      any_lost_unknown = true;
    }
    const int code = report_exit_code(r);
    if (code == 1 || (code == 2 && worst == 0)) worst = code;
  }
  const std::vector<int64_t> done = completed_longest_ms(trials);
  j["longest_ms"] = longest;
  j["completed_trials"] = done.size();
  j["median_ms"] = done.empty() ? json() : json(*median_ms(done));
  j["p90_ms"] = done.empty() ? json() : json(*p90_ms(done));
  j["linearizable"] = trials.empty() ? "unknown" : worst == 0 ? "yes" : worst == 1 ? "no" : "unknown";
  j["lost_writes"] = any_lost_unknown ? json() : json(lost);
  j["interrupted"] = interrupted_by != 0;
  j["signal"] = interrupted_by != 0 ? json(signal_name(interrupted_by)) : json();
  return j.dump() + "\n";
}

}  // namespace mq::playground
