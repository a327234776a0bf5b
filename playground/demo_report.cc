#include "playground/demo_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace mq::playground {

namespace {

bool is_write(const RecordedOp& r) { return r.op.kind != lincheck::OpKind::kGet; }

std::string ms_text(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(us) / 1000.0);
  return buf;
}

}  // namespace

std::vector<ShardWindow> unavailability_windows(const std::vector<RecordedOp>& history,
                                                uint32_t shard_count, int64_t fault_us,
                                                int64_t end_us) {
  std::vector<std::vector<int64_t>> done(shard_count);
  for (const auto& r : history) {
    if (is_write(r) && r.op.outcome == lincheck::Outcome::kOk && r.shard < shard_count) {
      done[r.shard].push_back(r.op.complete_time);
    }
  }
  std::vector<ShardWindow> out;
  for (uint32_t s = 0; s < shard_count; ++s) {
    auto& t = done[s];
    std::sort(t.begin(), t.end());
    ShardWindow w;
    w.shard = s;
    int64_t best = end_us - fault_us, from = fault_us, to = end_us;
    if (!t.empty()) {
      // The end of the run closes a gap still open then.
      t.push_back(std::max(end_us, t.back()));
      best = -1;
      for (size_t i = 1; i < t.size(); ++i) {
        if (t[i] < fault_us || t[i] - t[i - 1] <= best) continue;
        best = t[i] - t[i - 1];
        from = t[i - 1];
        to = t[i];
      }
    }
    w.window_ms = std::max<int64_t>(best, 0) / 1000;
    w.gap_start_ms = (from - fault_us) / 1000;
    w.gap_end_ms = (to - fault_us) / 1000;
    out.push_back(w);
  }
  return out;
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
  r.windows = unavailability_windows(history, shard_count, timeline.fault_us, timeline.end_us);
  for (const auto& w : r.windows) r.max_window_ms = std::max(r.max_window_ms, w.window_ms);
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
  if (r.lost_writes > 0 || r.verdict.verdict == lincheck::Result::kNotLinearizable) return 1;
  return r.verdict.verdict == lincheck::Result::kLinearizable ? 0 : 2;
}

static const char* verdict_word(const lincheck::Result& v) {
  switch (v.verdict) {
    case lincheck::Result::kLinearizable: return "linearizable";
    case lincheck::Result::kNotLinearizable: return "NOT linearizable";
    case lincheck::Result::kUnknown: return "unknown (search budget exhausted)";
  }
  return "unknown";
}

std::string render_report_text(const DemoReport& r) {
  const DemoTimeline& t = r.timeline;
  std::string out;
  out += "fault: " + t.fault + " on " + t.target_node + " (shard " + std::to_string(t.target_shard) +
         "'s leader) at " + ms_text(t.fault_us) + " ms, healed at " + ms_text(t.heal_us) +
         " ms, end at " + ms_text(t.end_us) + " ms\n\n";
  out += "write unavailability per shard (longest gap between successful writes, ms):\n";
  std::string line;
  for (const auto& w : r.windows) {
    char cell[48];
    std::snprintf(cell, sizeof cell, "  %2u:%6lld", w.shard, static_cast<long long>(w.window_ms));
    line += cell;
    if ((w.shard + 1) % 8 == 0) {
      out += line + "\n";
      line.clear();
    }
  }
  if (!line.empty()) out += line + "\n";
  out += "  longest: " + std::to_string(r.max_window_ms) + " ms\n\n";
  out += "leader changes:\n";
  if (r.leader_changes.empty()) out += "  none\n";
  for (const auto& e : r.leader_changes) {
    const int64_t rel_us = e.time_ms * 1000 - t.fault_us;
    out += "  " + ms_text(rel_us < 0 ? -rel_us : rel_us) + " ms " + (rel_us < 0 ? "before" : "after") +
           " the fault: " + e.text + "\n";
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
  out += "acknowledged writes lost: " + std::to_string(r.lost_writes) + "\n";
  for (const auto& e : r.lost_examples) out += "  " + e + "\n";
  out += "history: " + std::string(verdict_word(r.verdict)) + "\n";
  if (r.verdict.verdict != lincheck::Result::kLinearizable && !r.verdict.explanation.empty()) {
    out += r.verdict.explanation + "\n";
  }
  return out;
}

std::string render_report_json(const DemoReport& r) {
  using nlohmann::json;
  json j;
  const DemoTimeline& t = r.timeline;
  j["fault"] = {{"kind", t.fault},
                {"node", t.target_node},
                {"shard", t.target_shard},
                {"at_ms", t.fault_us / 1000},
                {"healed_ms", t.heal_us / 1000},
                {"end_ms", t.end_us / 1000}};
  j["windows"] = json::array();
  for (const auto& w : r.windows) {
    j["windows"].push_back({{"shard", w.shard},
                            {"unavailable_ms", w.window_ms},
                            {"from_ms", w.gap_start_ms},
                            {"to_ms", w.gap_end_ms}});
  }
  j["max_unavailable_ms"] = r.max_window_ms;
  j["leader_changes"] = json::array();
  for (const auto& e : r.leader_changes) {
    j["leader_changes"].push_back({{"shard", e.shard},
                                   {"from", e.from},
                                   {"to", e.to},
                                   {"term", e.term},
                                   {"at_ms", e.time_ms - t.fault_us / 1000},
                                   {"leaderless_ms", e.leaderless_ms}});
  }
  auto counts = [](const OpCounts& c) { return json{{"ok", c.ok}, {"failed", c.failed}, {"unknown", c.unknown}}; };
  j["writes"] = counts(r.writes);
  j["reads"] = counts(r.reads);
  j["ok_per_second"] = r.ok_per_second;
  j["sparkline"] = r.sparkline;
  j["lost_writes"] = r.lost_writes;
  j["lost_examples"] = r.lost_examples;
  j["linearizable"] = r.verdict.verdict == lincheck::Result::kLinearizable   ? "yes"
                      : r.verdict.verdict == lincheck::Result::kNotLinearizable ? "no"
                                                                                 : "unknown";
  j["explanation"] = r.verdict.explanation;
  return j.dump() + "\n";
}

}  // namespace mq::playground
