// mq-sim: runs seeded simulations of a Raft cluster and checks them.
//
//   mq-sim --seeds N [--start S] [--nodes 3|5] [--trace]
//
// Prints one summary line ending in "violations: 0" and exits 0 when every
// seed passes. On a failure it prints the seed, the command that replays it,
// and the trace of that run, and exits 1.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "tests/sim/simulation.h"

namespace {

// An invariant inside the core aborts the process; say which seed did it.
volatile sig_atomic_t g_seed_for_abort = 0;
char g_abort_message[256];

void on_abort(int) {
  const ssize_t n = write(STDERR_FILENO, g_abort_message, strlen(g_abort_message));
  (void)n;
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

int usage(const char* why) {
  std::fprintf(stderr, "mq-sim: %s\nusage: mq-sim --seeds N [--start S] [--nodes 3|5] [--trace]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 0;
  uint64_t start = 1;
  int nodes = 3;
  bool trace = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        usage((std::string(name) + " needs a value").c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seeds") {
      seeds = std::strtoull(value("--seeds"), nullptr, 10);
    } else if (arg == "--start") {
      start = std::strtoull(value("--start"), nullptr, 10);
    } else if (arg == "--nodes") {
      nodes = std::atoi(value("--nodes"));
    } else if (arg == "--trace") {
      trace = true;
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }
  if (seeds == 0) return usage("--seeds must be a positive number");
  if (nodes != 3 && nodes != 5) return usage("--nodes must be 3 or 5");
  std::signal(SIGABRT, on_abort);

  uint64_t ok = 0, fail = 0, unknown = 0, elections = 0, snapshots = 0, conf = 0, transfers = 0,
           crashes = 0, crashes_before_write = 0, commits_lost = 0, messages = 0,
           messages_before_persist = 0;
  int64_t liveness_max_ms = 0;
  for (uint64_t seed = start; seed < start + seeds; ++seed) {
    std::snprintf(g_abort_message, sizeof(g_abort_message),
                  "\nmq-sim: invariant broken in seed %llu\nreplay: mq-sim --seeds 1 --start %llu "
                  "--nodes %d --trace\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), nodes);
    mq::sim::SimOptions opt;
    opt.seed = seed;
    opt.nodes = nodes;
    opt.trace = trace;
    opt.stream_trace = trace;
    mq::sim::SimResult r = mq::sim::run_simulation(opt);
    if (!r.ok && !trace) {
      opt.trace = true;  // replay the same seed with the trace on
      r = mq::sim::run_simulation(opt);
    }
    for (const std::string& line : r.trace) std::printf("%s\n", line.c_str());
    if (!r.ok) {
      std::printf("FAILED seed %llu (%d nodes)\n", static_cast<unsigned long long>(seed), nodes);
      for (const std::string& v : r.violations) std::printf("  violation: %s\n", v.c_str());
      std::printf("replay: mq-sim --seeds 1 --start %llu --nodes %d --trace\n",
                  static_cast<unsigned long long>(seed), nodes);
      std::printf("seeds: %llu nodes: %d violations: %zu\n",
                  static_cast<unsigned long long>(seed - start + 1), nodes, r.violations.size());
      return 1;
    }
    ok += r.ops_ok;
    fail += r.ops_fail;
    unknown += r.ops_unknown;
    elections += r.elections;
    snapshots += r.snapshots_installed;
    conf += r.conf_changes;
    transfers += r.transfers;
    crashes += r.crashes;
    crashes_before_write += r.crashes_before_write;
    commits_lost += r.commits_lost;
    messages += r.messages;
    messages_before_persist += r.messages_before_persist;
    liveness_max_ms = std::max(liveness_max_ms, r.liveness_ms);
  }
  std::printf(
      "seeds: %llu (from %llu) nodes: %d ops ok/fail/unknown: %llu/%llu/%llu elections: %llu "
      "snapshots installed: %llu membership changes: %llu transfers: %llu crashes: %llu "
      "(before a write: %llu, unsynced commits lost: %llu) messages: %llu (before persist: %llu) "
      "slowest recovery: %lld ms violations: 0\n",
      (unsigned long long)seeds, (unsigned long long)start, nodes, (unsigned long long)ok,
      (unsigned long long)fail, (unsigned long long)unknown, (unsigned long long)elections,
      (unsigned long long)snapshots, (unsigned long long)conf, (unsigned long long)transfers,
      (unsigned long long)crashes, (unsigned long long)crashes_before_write,
      (unsigned long long)commits_lost, (unsigned long long)messages,
      (unsigned long long)messages_before_persist, (long long)liveness_max_ms);
  return 0;
}
