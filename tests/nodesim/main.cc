// mq-node-sim: runs seeded simulations of the node host (the code `mq node`
// runs) and checks them; see node_simulation.h.
//
//   mq-node-sim --seeds N [--start S] [--nodes 3|5] [--trace]
//               [--mutate lease-kept|lease-10x|lease-own-timing|bootstrap-wiped|votes-early]
//
// Prints one summary line ending in "violations: 0" and exits 0 when every
// seed passes. On a failure it prints the seed, the command that replays it
// and the violations (the trace with --trace), and exits 1. With --mutate,
// a deliberate bug is planted and the first seed that catches it is named
// (exit 0 when caught, 1 when no seed did).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/nodesim/node_simulation.h"

namespace {

// An invariant inside the core aborts the process; say which seed did it.
char g_abort_message[256];

void on_abort(int) {
  const ssize_t n = write(STDERR_FILENO, g_abort_message, strlen(g_abort_message));
  (void)n;
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

int usage(const std::string& why) {
  std::fprintf(stderr,
               "mq-node-sim: %s\nusage: mq-node-sim --seeds N [--start S] [--nodes 3|5] [--trace] "
               "[--mutate lease-kept|lease-10x|lease-own-timing|bootstrap-wiped|votes-early]\n",
               why.c_str());
  return 2;
}

bool plant(const std::string& name, mq::server::HostMutations* m) {
  if (name == "lease-kept") m->lease_kept_on_step_down = true;
  else if (name == "lease-10x") m->lease_length_factor = 10;
  else if (name == "lease-own-timing") m->lease_from_own_timing = true;
  else if (name == "bootstrap-wiped") m->bootstrap_wiped_node = true;
  else if (name == "votes-early") m->votes_before_sync = true;
  else return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 0, start = 1;
  int nodes = 3;
  bool trace = false;
  std::string mutation;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::exit(usage(arg + " needs a value"));
      }
      return argv[++i];
    };
    if (arg == "--seeds") seeds = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--start") start = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--nodes") nodes = std::atoi(value().c_str());
    else if (arg == "--trace") trace = true;
    else if (arg == "--mutate") mutation = value();
    else return usage("unknown argument " + arg);
  }
  if (seeds == 0) return usage("--seeds must be a positive number");
  if (nodes != 3 && nodes != 5) return usage("--nodes must be 3 or 5");
  mq::server::HostMutations mutations;
  if (!mutation.empty() && !plant(mutation, &mutations)) return usage("unknown mutation " + mutation);

  uint64_t ok = 0, fail = 0, unknown = 0, lease = 0, crashes = 0, wipes = 0, retimed = 0, messages = 0;
  uint64_t memory_refusals = 0, member_changes = 0, joins = 0;
  int64_t slowest = 0;
  std::signal(SIGABRT, on_abort);
  for (uint64_t seed = start; seed < start + seeds; ++seed) {
    std::snprintf(g_abort_message, sizeof(g_abort_message),
                  "\nmq-node-sim: invariant broken in seed %llu\nreplay: mq-node-sim --seeds 1 --start %llu "
                  "--nodes %d%s%s --trace\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), nodes,
                  mutation.empty() ? "" : " --mutate ", mutation.c_str());
    mq::nodesim::NodeSimOptions opt;
    opt.seed = seed;
    opt.nodes = nodes;
    opt.trace = trace;
    opt.stream_trace = trace;
    opt.mutations = mutations;
    const mq::nodesim::NodeSimResult r = mq::nodesim::run_node_simulation(opt);
    if (!r.ok) {
      std::printf("%s seed %llu (%d nodes)\n", mutation.empty() ? "FAILED" : "mutation caught by",
                  static_cast<unsigned long long>(seed), nodes);
      for (const std::string& v : r.violations) std::printf("  violation: %s\n", v.c_str());
      std::printf("replay: mq-node-sim --seeds 1 --start %llu --nodes %d%s%s --trace\n",
                  static_cast<unsigned long long>(seed), nodes, mutation.empty() ? "" : " --mutate ",
                  mutation.c_str());
      return mutation.empty() ? 1 : 0;
    }
    ok += r.ops_ok;
    fail += r.ops_fail;
    unknown += r.ops_unknown;
    lease += r.lease_reads;
    crashes += r.crashes;
    wipes += r.wipes_refused;
    memory_refusals += r.memory_refusals;
    member_changes += r.member_changes;
    joins += r.joins;
    retimed += r.retimed_restarts;
    messages += r.messages;
    slowest = std::max(slowest, r.liveness_ms);
  }
  std::printf(
      "seeds: %llu (from %llu) nodes: %d ops ok/fail/unknown: %llu/%llu/%llu lease reads: %llu "
      "crashes: %llu wiped and refused: %llu restarts with other timing: %llu memory refusals: %llu "
      "membership changes: %llu (joins %llu) peer batches: %llu slowest recovery: %lld ms "
      "violations: 0\n",
      (unsigned long long)seeds, (unsigned long long)start, nodes, (unsigned long long)ok,
      (unsigned long long)fail, (unsigned long long)unknown, (unsigned long long)lease,
      (unsigned long long)crashes, (unsigned long long)wipes, (unsigned long long)retimed,
      (unsigned long long)memory_refusals, (unsigned long long)member_changes,
      (unsigned long long)joins, (unsigned long long)messages, (long long)slowest);
  if (!mutation.empty()) {
    std::printf("mutation %s: not caught by any seed\n", mutation.c_str());
    return 1;
  }
  return 0;
}
