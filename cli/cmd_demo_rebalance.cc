// mq demo rebalance: grows a local cluster from 3 to 5 nodes and shrinks it
// back under the demo workload, and reports how many replicas moved, how
// long each change took, what the writes did meanwhile, and whether the
// history stayed linearizable with every acknowledged write readable.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "cli/client_flags.h"
#include "cli/command_result.h"
#include "cli/commands.h"
#include "cli/duration.h"
#include "cli/leading_flags.h"
#include "cli/output.h"
#include "playground/cluster_target.h"
#include "playground/demo_workload.h"
#include "playground/launcher.h"
#include "playground/lincheck.h"

namespace mq::cli {

namespace pg = mq::playground;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kReadBackTimeoutMs = 5000;

struct RebalanceFlags {
  pg::ClusterTarget target;
  std::string output;
  Millis steady{4000};
  int clients = 16;
  Millis timeout{2000};
  Millis wait{120'000};
  uint64_t seed = 0;
};

// One stretch of the run: a steady one, or one membership change.
struct Phase {
  std::string name;
  int64_t from_us = 0, to_us = 0;
  int nodes_after = 0;
  uint64_t moves = 0;      // replicas placed on a node that did not hold them
  int64_t balanced_ms = -1;  // for a change: from the request to no move in flight
  uint64_t writes_ok = 0;
  double writes_per_s() const {
    return to_us > from_us ? static_cast<double>(writes_ok) * 1e6 / static_cast<double>(to_us - from_us)
                           : 0.0;
  }
};

int64_t us_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

// Replica sets by shard, as the nodes report them.
std::vector<std::set<std::string>> replica_sets(const pg::ClusterState& state) {
  const pg::ClusterView v = pg::observe_cluster(state, 500);
  std::vector<std::set<std::string>> out;
  for (const auto& s : v.shards) {
    std::set<std::string> r;
    for (const auto& rv : s.replicas) r.insert(rv.node);
    out.push_back(std::move(r));
  }
  return out;
}

uint64_t count_moves(const std::vector<std::set<std::string>>& before,
                     const std::vector<std::set<std::string>>& after) {
  uint64_t moves = 0;
  for (size_t s = 0; s < std::min(before.size(), after.size()); ++s) {
    for (const auto& n : after[s]) moves += before[s].count(n) ? 0 : 1;
  }
  return moves;
}

std::string ratio(double x, double base) {
  if (base <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x / base);
  return buf;
}

}  // namespace

int demo_rebalance(int argc, char** argv) {
  RebalanceFlags f;
  CLI::App app{"Grow a local cluster from 3 to 5 nodes and shrink it back under a concurrent "
               "workload; report the replica moves, the time each change took, the write "
               "throughput during the moves against the steady rate before, and a "
               "linearizability verdict with every acknowledged write read back.",
               "mq demo rebalance"};
  add_cluster_target_flags(app, f.target);
  app.add_option("-o,--output", f.output, "plain, json or table (default: table)");
  add_duration_option(app, "--steady", &f.steady, "Workload time before, between and after the changes",
                      Millis(500), Millis(600'000));
  app.add_option("--clients", f.clients, "Concurrent clients (default 16)")->check(CLI::Range(1, 256));
  add_duration_option(app, "--timeout", &f.timeout, "Client deadline per operation", Millis(100),
                      Millis(60'000));
  add_duration_option(app, "--wait", &f.wait, "How long each change may take to balance",
                      Millis(1000), Millis(3'600'000));
  app.add_option("--seed", f.seed, "Workload seed (default 0)");
  app.footer(R"(Examples:
  mq demo rebalance
  mq demo rebalance --steady 10s --clients 32 -o json

The cluster is started with 3 nodes when none runs (an existing one must
have 3). Nodes n4 and n5 are added (mq cluster add -n 2), then removed
one at a time (mq cluster remove). A move is a replica placed on a node
that did not hold it; a change is done when every node has the new
cluster map and no shard has a replica left to move.

Exit codes: 0 the history is linearizable and no acknowledged write was
lost, 1 it is not, 2 the checker could not decide, 3 the cluster could
not be reached or did not balance within --wait, 5 it could not start.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format = Format::kTable;
  if (!f.output.empty()) {
    auto p = parse_format(f.output);
    if (!p) {
      std::fprintf(stderr, "mq demo rebalance: -o must be plain, json or table\n");
      return 2;
    }
    format = *p;
  }
  const std::string dir = f.target.resolved_dir();
  pg::ClusterState state;
  {
    pg::UpOptions up;
    up.name = f.target.name;
    up.dir = dir;
    pg::UpResult result;
    if (pg::Outcome o = pg::cluster_up(up, {}, &state, &result); !o.ok()) {
      std::fprintf(stderr, "mq demo rebalance: %s\n", o.message.c_str());
      return o.exit_code;
    }
    if (state.nodes.size() != 3) {
      std::fprintf(stderr, "mq demo rebalance: cluster %s has %zu nodes; the demo grows 3 to 5 "
                           "(mq cluster down, then run it again)\n",
                   state.name.c_str(), state.nodes.size());
      return 2;
    }
  }
  pg::WorkloadOptions wo;
  wo.endpoints = state.endpoints();
  wo.tls = state.client_tls();
  wo.token = state.client_token();
  wo.clients = f.clients;
  wo.timeout_ms = static_cast<int>(f.timeout.count());
  wo.shard_count = state.shard_count;
  wo.seed = f.seed;
  wo.key_prefix = "rebalance" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
  const auto epoch = Clock::now();
  pg::Workload workload(wo, epoch);
  std::vector<Phase> phases;
  auto steady = [&](const std::string& name, int nodes) {
    Phase p;
    p.name = name;
    p.nodes_after = nodes;
    p.from_us = us_since(epoch);
    std::this_thread::sleep_for(f.steady);
    p.to_us = us_since(epoch);
    phases.push_back(p);
    std::fprintf(stderr, "%.2fs: %s done\n", p.to_us / 1e6, name.c_str());
  };
  pg::Outcome failed;
  auto change = [&](const std::string& name, int nodes, const std::function<pg::Outcome(pg::MembershipResult*)>& fn) {
    if (!failed.ok()) return;
    Phase p;
    p.name = name;
    p.nodes_after = nodes;
    pg::ClusterState before_state;
    pg::open_cluster(dir, &before_state);
    const auto before = replica_sets(before_state);
    p.from_us = us_since(epoch);
    std::fprintf(stderr, "%.2fs: %s...\n", p.from_us / 1e6, name.c_str());
    pg::MembershipResult r;
    failed = fn(&r);
    p.to_us = us_since(epoch);
    p.balanced_ms = r.balanced_ms;
    pg::ClusterState after_state;
    pg::open_cluster(dir, &after_state);
    p.moves = count_moves(before, replica_sets(after_state));
    phases.push_back(p);
    std::fprintf(stderr, "%.2fs: %s: %s\n", p.to_us / 1e6, name.c_str(),
                 failed.ok() ? ("balanced after " + std::to_string(r.balanced_ms) + " ms, " +
                                std::to_string(p.moves) + " replicas moved").c_str()
                             : failed.message.c_str());
  };
  workload.start();
  steady("steady, 3 nodes", 3);
  const int wait_ms = static_cast<int>(f.wait.count());
  change("grow to 5 nodes", 5, [&](pg::MembershipResult* r) { return pg::cluster_add(dir, 2, wait_ms, r); });
  if (failed.ok()) steady("steady, 5 nodes", 5);
  change("remove n5", 4, [&](pg::MembershipResult* r) { return pg::cluster_remove(dir, "n5", false, wait_ms, r); });
  change("remove n4", 3, [&](pg::MembershipResult* r) { return pg::cluster_remove(dir, "n4", false, wait_ms, r); });
  if (failed.ok()) steady("steady, 3 nodes again", 3);
  workload.stop();
  pg::ClusterState final_state;
  pg::open_cluster(dir, &final_state);
  const bool read_back = failed.ok() && workload.read_back(kReadBackTimeoutMs);
  const auto history = workload.history();
  std::vector<lincheck::Operation> ops;
  uint64_t ok = 0, fail = 0, unknown = 0;
  for (const auto& r : history) {
    ops.push_back(r.op);
    if (r.op.outcome == lincheck::Outcome::kOk) ++ok;
    if (r.op.outcome == lincheck::Outcome::kFail) ++fail;
    if (r.op.outcome == lincheck::Outcome::kUnknown) ++unknown;
    if (r.op.kind != lincheck::OpKind::kSet || r.op.outcome != lincheck::Outcome::kOk) continue;
    for (auto& p : phases) {
      if (r.op.complete_time >= p.from_us && r.op.complete_time < p.to_us) ++p.writes_ok;
    }
  }
  std::fprintf(stderr, "checking %zu operations for linearizability...\n", ops.size());
  const lincheck::Result verdict = lincheck::check(ops);
  const double base = phases.empty() ? 0 : phases[0].writes_per_s();
  const char* verdict_word = verdict.verdict == lincheck::Result::kLinearizable      ? "linearizable"
                             : verdict.verdict == lincheck::Result::kNotLinearizable ? "NOT linearizable"
                                                                                      : "undecided";
  if (format == Format::kJson) {
    nlohmann::json j;
    j["phases"] = nlohmann::json::array();
    for (const auto& p : phases) {
      nlohmann::json jp = {{"name", p.name}, {"from_ms", p.from_us / 1000}, {"to_ms", p.to_us / 1000},
                           {"nodes", p.nodes_after}, {"writes_ok", p.writes_ok},
                           {"writes_per_s", p.writes_per_s()},
                           {"writes_vs_before", base > 0 ? p.writes_per_s() / base : 0.0}};
      if (p.balanced_ms >= 0) {
        jp["moves"] = p.moves;
        jp["balanced_ms"] = p.balanced_ms;
        jp["ms_per_move"] = p.moves ? static_cast<double>(p.balanced_ms) / static_cast<double>(p.moves) : 0.0;
      }
      j["phases"].push_back(jp);
    }
    j["operations"] = {{"ok", ok}, {"failed", fail}, {"unknown", unknown}};
    j["verdict"] = verdict.verdict == lincheck::Result::kLinearizable      ? "linearizable"
                   : verdict.verdict == lincheck::Result::kNotLinearizable ? "not_linearizable"
                                                                            : "unknown";
    j["read_back"] = read_back;
    if (!failed.ok()) j["error"] = failed.message;
    write_stdout(j.dump() + "\n");
  } else {
    std::string text = "PHASE                   NODES  TOOK      MOVES  PER MOVE  WRITES/S  VS BEFORE\n";
    for (const auto& p : phases) {
      char line[256];
      const std::string took = p.balanced_ms >= 0 ? std::to_string(p.balanced_ms) + " ms" : "-";
      const std::string moves = p.balanced_ms >= 0 ? std::to_string(p.moves) : "-";
      const std::string per = p.balanced_ms >= 0 && p.moves
                                  ? std::to_string(p.balanced_ms / static_cast<int64_t>(p.moves)) + " ms"
                                  : "-";
      std::snprintf(line, sizeof line, "%-23s %-6d %-9s %-6s %-9s %-9.0f %s\n", p.name.c_str(), p.nodes_after,
                    took.c_str(), moves.c_str(), per.c_str(), p.writes_per_s(),
                    ratio(p.writes_per_s(), base).c_str());
      text += line;
    }
    text += "operations: " + std::to_string(ok) + " ok, " + std::to_string(fail) + " failed, " +
            std::to_string(unknown) + " unknown; history " + verdict_word + "; " +
            (read_back ? "every key read back after the changes" : "keys NOT read back") + "\n";
    if (verdict.verdict == lincheck::Result::kNotLinearizable) text += verdict.explanation + "\n";
    write_stdout(text);
  }
  if (!failed.ok()) {
    std::fprintf(stderr, "mq demo rebalance: %s\n", failed.message.c_str());
    return failed.exit_code;
  }
  if (verdict.verdict == lincheck::Result::kNotLinearizable) return 1;
  if (verdict.verdict == lincheck::Result::kUnknown || !read_back) return 2;
  return 0;
}

}  // namespace mq::cli
