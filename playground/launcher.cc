#include "playground/launcher.h"

#include "node/kv/limits.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "cli/client/client.h"
#include "playground/fault_plan.h"
#include "playground/node_process.h"
#include "playground/prometheus_targets.h"

namespace mq::playground {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kLockTimeoutMs = 10'000;
constexpr int kStatusTimeoutMs = 300;
constexpr int kPollMs = 20;
constexpr int kStopTermTimeoutMs = 5000;
constexpr int kKillWaitMs = 5000;
constexpr int kNodesMax = 64;

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string log_tail(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

Outcome fail(int code, std::string message) { return {code, std::move(message)}; }

// Saves the state and, after it, the Prometheus target list derived from
// it, so the list follows every change of ports. "" or the reason.
std::string save(const std::string& dir, const ClusterState& state) {
  if (auto e = save_state(dir, state); !e.empty()) return e;
  return write_prometheus_targets(dir, state);
}

// A node recorded before nodes had an HTTP listener gets its port now, on
// the rule a new cluster uses; one whose rule lands past 65535 stays
// without (it still serves gRPC).
void give_http_port(NodeRecord* n) {
  if (n->http_port == 0 && n->port + kHttpPortOffset <= 65535) {
    n->http_port = static_cast<uint16_t>(n->port + kHttpPortOffset);
  }
}

// "" when the node's ports are free to start it on, else which one is not.
std::string busy_port(const NodeRecord& n) {
  if (port_busy(n.port)) return "port " + std::to_string(n.port);
  if (n.http_port != 0 && port_busy(n.http_port)) return "HTTP port " + std::to_string(n.http_port);
  return "";
}

// Runs fn on the locked, loaded state and saves it afterwards when fn
// returns ok.
template <typename Fn>
Outcome with_state(const std::string& dir, Fn&& fn) {
  // Checked before the lock: locking creates the directory, and a name that
  // does not exist must leave nothing behind.
  if (!state_exists(dir)) return fail(kClusterNotFound, "no cluster in " + dir + " (start one: mq cluster up)");
  StateLock lock(dir, kLockTimeoutMs);
  if (!lock.ok()) return fail(kClusterUnavailable, "another mq cluster command holds " + dir + "/lock");
  ClusterState state;
  if (Outcome o = open_cluster(dir, &state); !o.ok()) return o;
  Outcome o = fn(state);
  if (o.ok()) {
    if (auto e = save(dir, state); !e.empty()) return fail(kClusterCannotStart, e);
  }
  return o;
}

bool answers_status(const ClusterState& state, const std::string& address, int timeout_ms) {
  ClientOptions o;
  o.tls = state.client_tls();
  o.token = state.client_token();
  o.endpoints = {address};
  o.timeout_ms = timeout_ms;
  o.dial_timeout_ms = timeout_ms;
  Client client(o);
  ClusterStatus s;
  return client.status(&s).ok();
}

// The node's SetFaults answer; a refusal names the node and how to lift it.
cli::Error install_faults(const ClusterState& state, const NodeRecord& node) {
  ClientOptions o;
  o.tls = state.client_tls();
  o.token = state.client_token();
  o.endpoints = {node.address()};
  o.timeout_ms = 2000;
  Client client(o);
  cli::FaultSet applied;
  cli::Error e = client.set_faults({node.faults.drop_to, node.faults.drop_from, 0}, &applied);
  if (e.ok()) return e;
  // Refused as asked: a node started by an mq from before the launcher
  // passed --enable-fault-injection. A restart gives it the flag.
  if (e.kind == cli::ErrorKind::kInvalid) {
    e.message += " (restart it: mq cluster restart " + node.id + ")";
  }
  e.message = node.id + ": " + e.message;
  return e;
}

// Installs the recorded faults on every running node.
Outcome install_all_faults(const ClusterState& state) {
  std::string errors;
  for (const auto& n : state.nodes) {
    if (node_liveness(state, n) != Liveness::kUp) continue;
    if (cli::Error e = install_faults(state, n); !e.ok()) errors += (errors.empty() ? "" : "; ") + e.message;
  }
  if (!errors.empty()) return fail(kClusterUnavailable, "cannot set faults: " + errors);
  return {};
}

// Waits until the node answers, then gives it back its recorded faults.
Outcome await_ready(const ClusterState& state, const NodeRecord& node, int timeout_ms) {
  const auto start = Clock::now();
  while (!answers_status(state, node.address(), kStatusTimeoutMs)) {
    if (node_liveness(state, node) == Liveness::kDown) {
      return fail(kClusterCannotStart,
                  node.id + " exited at start; " + node.log_path + ": " + log_tail(node.log_path));
    }
    if (ms_since(start) >= timeout_ms) {
      return fail(kClusterUnavailable, node.id + " did not answer within " +
                                           std::to_string(timeout_ms) + " ms; see " + node.log_path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
  if (!node.faults.empty()) {
    if (cli::Error e = install_faults(state, node); !e.ok()) return fail(kClusterUnavailable, e.message);
  }
  return {};
}

// The settings asked for explicitly that an existing cluster does not have,
// as "-n 5 and --shards 8 differ"; "" when none.
std::string settings_differ(const UpOptions& options, const ClusterState& state) {
  std::vector<std::string> differ;
  if (options.nodes_given && static_cast<size_t>(options.nodes) != state.nodes.size()) {
    differ.push_back("-n " + std::to_string(options.nodes));
  }
  if (options.shards_given && options.shards != state.shard_count) {
    differ.push_back("--shards " + std::to_string(options.shards));
  }
  if (options.replication_given && options.replication != state.replication) {
    differ.push_back("--replication " + std::to_string(options.replication));
  }
  std::string out;
  for (size_t i = 0; i < differ.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == differ.size() ? " and " : ", ") + differ[i];
  }
  return out.empty() ? out : out + (differ.size() == 1 ? " differs" : " differ");
}

}  // namespace

Outcome open_cluster(const std::string& dir, ClusterState* state) {
  if (!state_exists(dir)) return fail(kClusterNotFound, "no cluster in " + dir + " (start one: mq cluster up)");
  if (auto e = load_state(dir, state); !e.empty()) return fail(kClusterNotFound, e);
  return {};
}

bool wait_all_led(const ClusterState& state, int timeout_ms, const ProgressFn& progress,
                  ClusterView* view) {
  const auto start = Clock::now();
  ClusterObserver observer(kStatusTimeoutMs);
  while (true) {
    *view = observer.observe(state);
    uint32_t led = 0;
    for (const auto& s : view->shards) led += !s.leader.empty();
    if (progress) progress(led, static_cast<uint32_t>(view->shards.size()));
    if (led == view->shards.size()) return true;
    if (ms_since(start) >= timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

Outcome cluster_up(const UpOptions& asked, const ProgressFn& progress, ClusterState* state,
                   UpResult* result) {
  UpOptions options = asked;
  // The default replication fits a smaller cluster; one asked for must fit.
  if (!options.replication_given) {
    options.replication = std::min<uint32_t>(options.replication, static_cast<uint32_t>(std::max(options.nodes, 1)));
  }
  if (!valid_name(options.name)) return fail(kClusterUsage, "--name: letters, digits, '-', '_', '.' only");
  if (options.nodes < 1 || options.nodes > kNodesMax) {
    return fail(kClusterUsage, "-n must be between 1 and " + std::to_string(kNodesMax));
  }
  if (options.base_port == 0 || options.base_port + options.nodes - 1 + kHttpPortOffset > 65535) {
    return fail(kClusterUsage, "--base-port leaves no room for " + std::to_string(options.nodes) +
                                   " gRPC ports and their HTTP ports " +
                                   std::to_string(kHttpPortOffset) + " above");
  }
  if (options.shards < 1 || options.shards > kv::kShardCountMax) {
    return fail(kClusterUsage, "--shards must be between 1 and " + std::to_string(kv::kShardCountMax) +
                                   ", not " + std::to_string(options.shards));
  }
  if (options.replication < 1 || options.replication > static_cast<uint32_t>(options.nodes)) {
    return fail(kClusterUsage, "--replication must be between 1 and the node count, -n (" +
                                   std::to_string(options.nodes) + "), not " +
                                   std::to_string(options.replication));
  }
  const std::string dir = options.dir.empty() ? default_cluster_dir(options.name) : options.dir;
  std::vector<size_t> to_start;
  Clock::time_point spawned_at;
  {
    StateLock lock(dir, kLockTimeoutMs);
    if (!lock.ok()) return fail(kClusterUnavailable, "another mq cluster command holds " + dir + "/lock");
    if (state_exists(dir)) {
      if (auto e = load_state(dir, state); !e.empty()) return fail(kClusterNotFound, e);
      if (options.auth && !state->auth) {
        return fail(kClusterUsage, "cluster " + state->name + " already exists without --auth (stop and "
                                   "delete it with: mq cluster down --purge, or choose another --name)");
      }
      if (options.tls && !state->tls) {
        return fail(kClusterUsage, "cluster " + state->name + " already exists without TLS (stop and "
                                   "delete it with: mq cluster down --purge, or choose another --name)");
      }
      if (std::string differs = settings_differ(options, *state); !differs.empty()) {
        return fail(kClusterUsage, "cluster " + state->name + " already exists with " +
                                       std::to_string(state->nodes.size()) + " nodes, " +
                                       std::to_string(state->shard_count) + " shards, replication " +
                                       std::to_string(state->replication) + "; " + differs +
                                       " (stop and delete it with: mq cluster down --purge, or choose "
                                       "another --name)");
      }
      // The nodes run the binary of this call from now on (it may have been
      // rebuilt or moved); only stopped nodes are respawned.
    } else {
      *state = {};
      state->name = options.name;
      state->shard_count = options.shards;
      state->replication = options.replication;
      state->node_flags = options.node_flags;
      state->tls = options.tls;
      state->auth = options.auth;
      state->dir = dir;
      for (int i = 0; i < options.nodes; ++i) {
        NodeRecord n;
        n.bootstrapped = false;
        n.id = "n" + std::to_string(i + 1);
        n.port = static_cast<uint16_t>(options.base_port + i);
        n.http_port = static_cast<uint16_t>(n.port + kHttpPortOffset);
        n.data_dir = (fs::path(dir) / n.id).string();
        n.log_path = (fs::path(dir) / (n.id + ".log")).string();
        state->nodes.push_back(n);
      }
      state->initial_peers = state->peers();
      // A random cluster id: a cluster brought up again with the same
      // ports is another cluster, and refuses the old one's data dirs.
      std::random_device entropy;
      char token[17];
      std::snprintf(token, sizeof token, "%08x%08x", entropy(), entropy());
      state->initial_cluster_token = token;
    }
    for (size_t i = 0; i < state->nodes.size(); ++i) {
      if (node_liveness(*state, state->nodes[i]) == Liveness::kDown) to_start.push_back(i);
    }
    for (size_t i : to_start) give_http_port(&state->nodes[i]);
    if (!to_start.empty()) state->binary = self_executable();
    // Every port is checked before anything is spawned: a half-started
    // cluster is worse than none.
    for (size_t i : to_start) {
      const NodeRecord& n = state->nodes[i];
      if (std::string busy = busy_port(n); !busy.empty()) {
        return fail(kClusterCannotStart, busy + " (for " + n.id +
                                             ") is in use; choose other ports with --base-port, "
                                             "or another --name");
      }
    }
    spawned_at = Clock::now();
    for (size_t i : to_start) {
      NodeRecord& n = state->nodes[i];
      if (auto e = spawn_node(*state, &n); !e.empty()) {
        save(dir, *state);
        return fail(kClusterCannotStart, e);
      }
      result->started.push_back(n.id);
    }
    if (auto e = save(dir, *state); !e.empty()) return fail(kClusterCannotStart, e);
  }
  result->already_running = to_start.empty();
  for (size_t i : to_start) {
    const NodeRecord& n = state->nodes[i];
    if (!n.faults.empty()) {
      if (Outcome o = await_ready(*state, n, options.wait_ms); !o.ok()) return o;
    }
  }
  const auto led_start = Clock::now();
  ClusterObserver observer(kStatusTimeoutMs);
  bool all_led = false;
  while (true) {
    result->view = observer.observe(*state);
    uint32_t led = 0;
    for (const auto& s : result->view.shards) led += !s.leader.empty();
    if (progress) progress(led, static_cast<uint32_t>(result->view.shards.size()));
    all_led = led == result->view.shards.size();
    if (all_led) break;
    for (size_t i : to_start) {
      const NodeRecord& n = state->nodes[i];
      if (node_liveness(*state, n) == Liveness::kDown) {
        return fail(kClusterCannotStart,
                    n.id + " exited at start; " + n.log_path + ": " + log_tail(n.log_path));
      }
    }
    if (ms_since(led_start) >= options.wait_ms) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
  result->all_led_ms = ms_since(to_start.empty() ? led_start : spawned_at);
  if (!all_led) {
    return fail(kClusterUnavailable, "not every shard has a leader after " +
                                         std::to_string(options.wait_ms) + " ms: " +
                                         result->view.health_line());
  }
  return {};
}

Outcome resolve_node(const ClusterState& state, const std::string& name, uint32_t shard,
                     std::string* id) {
  if (name != "leader") {
    if (!state.find(name)) return fail(kClusterNotFound, "no node '" + name + "' in cluster " + state.name);
    *id = name;
    return {};
  }
  if (shard >= state.shard_count) {
    return fail(kClusterUsage, "--shard must be below " + std::to_string(state.shard_count));
  }
  ClusterView view = observe_cluster(state, kStatusTimeoutMs);
  const std::string& leader = view.shards[shard].leader;
  if (leader.empty()) return fail(kClusterUnavailable, "shard " + std::to_string(shard) + " has no leader now");
  *id = leader;
  return {};
}

Outcome start_node(const std::string& dir, const std::string& id, int ready_timeout_ms) {
  ClusterState state;
  Outcome o = with_state(dir, [&](ClusterState& s) -> Outcome {
    NodeRecord* n = s.find(id);
    if (!n) return fail(kClusterNotFound, "no node '" + id + "' in cluster " + s.name);
    if (node_liveness(s, *n) != Liveness::kDown) return {kClusterOk, id + " is already running"};
    give_http_port(n);
    if (std::string busy = busy_port(*n); !busy.empty()) {
      return fail(kClusterCannotStart, busy + " of " + id + " is in use");
    }
    s.binary = self_executable();
    if (auto e = spawn_node(s, n); !e.empty()) return fail(kClusterCannotStart, e);
    state = s;
    return {};
  });
  if (!o.ok() || state.nodes.empty()) return o;
  return await_ready(state, *state.find(id), ready_timeout_ms);
}

Outcome stop_one(const std::string& dir, const std::string& id) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    NodeRecord* n = s.find(id);
    if (!n) return fail(kClusterNotFound, "no node '" + id + "' in cluster " + s.name);
    if (node_liveness(s, *n) == Liveness::kDown) return {kClusterOk, id + " is not running"};
    if (!stop_node(s, *n, kStopTermTimeoutMs)) return fail(kClusterUnavailable, id + " did not exit");
    n->paused = false;
    return {};
  });
}

Outcome kill_node(const std::string& dir, const std::string& id, int sig) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    NodeRecord* n = s.find(id);
    if (!n) return fail(kClusterNotFound, "no node '" + id + "' in cluster " + s.name);
    if (node_liveness(s, *n) == Liveness::kDown) return fail(kClusterNotFound, id + " is not running");
    if (!signal_node(s, *n, sig)) return fail(kClusterNotFound, id + " is not running");
    // A paused node acts on TERM only once it runs again.
    if (sig != SIGKILL) signal_node(s, *n, SIGCONT);
    if (!wait_node_gone(s, *n, sig == SIGKILL ? kKillWaitMs : kStopTermTimeoutMs)) {
      return fail(kClusterUnavailable, id + " did not exit after the signal");
    }
    n->paused = false;
    return {};
  });
}

Outcome restart_node(const std::string& dir, const std::string& id, int ready_timeout_ms) {
  if (Outcome o = stop_one(dir, id); !o.ok()) return o;
  return start_node(dir, id, ready_timeout_ms);
}

Outcome pause_node(const std::string& dir, const std::string& id) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    NodeRecord* n = s.find(id);
    if (!n) return fail(kClusterNotFound, "no node '" + id + "' in cluster " + s.name);
    if (!signal_node(s, *n, SIGSTOP)) return fail(kClusterNotFound, id + " is not running");
    n->paused = true;
    return {};
  });
}

Outcome resume_node(const std::string& dir, const std::string& id) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    NodeRecord* n = s.find(id);
    if (!n) return fail(kClusterNotFound, "no node '" + id + "' in cluster " + s.name);
    if (!signal_node(s, *n, SIGCONT)) return fail(kClusterNotFound, id + " is not running");
    n->paused = false;
    // Faults changed while it was stopped reach it now.
    if (cli::Error e = install_faults(s, *n); !e.ok()) return fail(kClusterUnavailable, e.message);
    return {};
  });
}

Outcome partition(const std::string& dir, const std::string& side_a, const std::string& side_b) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    std::string error;
    auto a = parse_node_list(s, side_a, &error);
    if (a.empty()) return fail(kClusterUsage, error);
    auto b = parse_node_list(s, side_b, &error);
    if (b.empty()) return fail(kClusterUsage, error);
    if (auto e = plan_partition(&s, a, b); !e.empty()) return fail(kClusterUsage, e);
    return install_all_faults(s);
  });
}

Outcome cut_link(const std::string& dir, const std::string& from, const std::string& to) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    if (auto e = plan_one_way(&s, from, to); !e.empty()) return fail(kClusterUsage, e);
    return install_all_faults(s);
  });
}

Outcome isolate(const std::string& dir, const std::string& id) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    if (auto e = plan_isolate(&s, id); !e.empty()) return fail(kClusterUsage, e);
    return install_all_faults(s);
  });
}

Outcome heal(const std::string& dir) {
  return with_state(dir, [&](ClusterState& s) -> Outcome {
    plan_heal(&s);
    return install_all_faults(s);
  });
}

Outcome transfer_leader(const std::string& dir, uint32_t shard, const std::string& to_node) {
  ClusterState state;
  if (Outcome o = open_cluster(dir, &state); !o.ok()) return o;
  if (!state.find(to_node)) return fail(kClusterNotFound, "no node '" + to_node + "' in cluster " + state.name);
  if (shard >= state.shard_count) {
    return fail(kClusterUsage, "shard must be below " + std::to_string(state.shard_count));
  }
  ClientOptions o;
  o.tls = state.client_tls();
  o.token = state.client_token();
  o.endpoints = state.endpoints();
  o.timeout_ms = 3000;
  Client client(o);
  if (cli::Error e = client.transfer_leader(shard, to_node); !e.ok()) {
    return fail(e.kind == cli::ErrorKind::kInvalid ? kClusterUsage : kClusterUnavailable, e.message);
  }
  // The transfer is asynchronous: wait (bounded) to report the result.
  constexpr int kTransferWaitMs = 3000;
  const auto start = Clock::now();
  while (ms_since(start) < kTransferWaitMs) {
    ClusterView view = observe_cluster(state, kStatusTimeoutMs);
    if (view.shards[shard].leader == to_node) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
  return fail(kClusterUnavailable, "shard " + std::to_string(shard) + " is not led by " + to_node +
                                       " after " + std::to_string(kTransferWaitMs) + " ms");
}

Outcome cluster_down(const std::string& dir, bool purge, int term_timeout_ms,
                     std::vector<std::string>* stopped, bool* found) {
  // Nothing to stop is not a failure (a second `down --purge` included), and
  // a name that does not exist must leave no directory behind.
  *found = state_exists(dir);
  if (!*found) return {};
  StateLock lock(dir, kLockTimeoutMs);
  if (!lock.ok()) return fail(kClusterUnavailable, "another mq cluster command holds " + dir + "/lock");
  ClusterState state;
  if (Outcome o = open_cluster(dir, &state); !o.ok()) return o;
  for (const auto& n : state.nodes) {
    if (signal_node(state, n, SIGTERM)) {
      signal_node(state, n, SIGCONT);
      stopped->push_back(n.id);
    }
  }
  std::vector<std::string> stuck;
  for (const auto& n : state.nodes) {
    if (wait_node_gone(state, n, term_timeout_ms)) continue;
    signal_node(state, n, SIGKILL);
  }
  for (auto& n : state.nodes) {
    if (!wait_node_gone(state, n, kKillWaitMs)) stuck.push_back(n.id + " (pid " + std::to_string(n.pid) + ")");
    n.paused = false;
    n.faults = {};
  }
  if (!stuck.empty()) {
    save(dir, state);
    std::string list;
    for (const auto& s : stuck) list += (list.empty() ? "" : ", ") + s;
    return fail(kClusterUnavailable, "still running after SIGKILL: " + list);
  }
  if (purge) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return fail(kClusterCannotStart, "cannot delete " + dir + ": " + ec.message());
    return {};
  }
  if (auto e = save(dir, state); !e.empty()) return fail(kClusterCannotStart, e);
  return {};
}

}  // namespace mq::playground

namespace mq::playground {

namespace {

// Balance is polled less often than leaders: it asks every node.
constexpr int kBalancePollMs = 100;

}  // namespace

bool wait_balanced(const ClusterState& state, int wait_ms, std::string* why) {
  const auto start = Clock::now();
  while (true) {
    uint64_t version = 0;
    uint32_t moving = 0;
    bool same_map = true, all_answer = true;
    std::set<uint32_t> led;
    for (const NodeRecord& n : state.nodes) {
      // A node that is down cannot answer; its replicas are the cluster's
      // business (mq cluster remove moves them), not this wait's.
      if (node_liveness(state, n) == Liveness::kDown) continue;
      ClientOptions o;
      o.tls = state.client_tls();
      o.token = state.client_token();
      o.endpoints = {n.address()};
      o.timeout_ms = kStatusTimeoutMs;
      Client c(o);
      cli::ClusterStatus s;
      if (cli::Error e = c.status(&s); !e.ok()) {
        all_answer = false;
        *why = n.id + " does not answer: " + e.message;
        break;
      }
      if (version != 0 && s.map_version != version) same_map = false;
      version = std::max(version, s.map_version);
      moving += s.moves_in_flight;
      for (const auto& shard : s.shards) {
        if (shard.role == "leader") led.insert(shard.id);
      }
    }
    if (all_answer) {
      if (!same_map) {
        *why = "the nodes do not all have the newest cluster map yet";
      } else if (led.size() < state.shard_count) {
        *why = std::to_string(state.shard_count - led.size()) + " shards have no leader";
      } else if (moving > 0) {
        *why = std::to_string(moving) + " shards still move replicas";
      } else {
        return true;
      }
    }
    if (ms_since(start) >= wait_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(kBalancePollMs));
  }
}

Outcome cluster_add(const std::string& dir, int count, int wait_ms, MembershipResult* result) {
  if (count < 1 || count > kNodesMax) {
    return fail(kClusterUsage, "-n must be between 1 and " + std::to_string(kNodesMax));
  }
  ClusterState state;
  std::vector<std::string> added;
  Outcome o = with_state(dir, [&](ClusterState& s) -> Outcome {
    if (s.auth) {
      // A joining node asks to be admitted, an admin request: it would need
      // a principal of its own in the auth file.
      return fail(kClusterUsage, "cluster " + s.name + " runs with --auth, where nodes cannot join yet; "
                                 "bring up a bigger cluster instead (mq cluster up -n N --auth)");
    }
    if (s.nodes.size() + count > static_cast<size_t>(kNodesMax)) {
      return fail(kClusterUsage, "a local cluster has at most " + std::to_string(kNodesMax) + " nodes");
    }
    int next_index = 0;
    uint16_t next_port = 0;
    for (const NodeRecord& n : s.nodes) {
      next_index = std::max(next_index, std::atoi(n.id.c_str() + 1));
      next_port = std::max<uint16_t>(next_port, n.port);
    }
    s.binary = self_executable();
    for (int i = 0; i < count; ++i) {
      NodeRecord n;
      n.id = "n" + std::to_string(++next_index);
      while (s.find(n.id)) n.id = "n" + std::to_string(++next_index);
      n.port = ++next_port;
      if (n.port + kHttpPortOffset > 65535) return fail(kClusterUsage, "no ports left above " + std::to_string(n.port));
      n.http_port = static_cast<uint16_t>(n.port + kHttpPortOffset);
      n.joined = true;
      n.data_dir = (fs::path(dir) / n.id).string();
      n.log_path = (fs::path(dir) / (n.id + ".log")).string();
      if (std::string busy = busy_port(n); !busy.empty()) {
        return fail(kClusterCannotStart, busy + " (for " + n.id + ") is in use");
      }
      std::error_code ec;
      fs::remove_all(n.data_dir, ec);  // a data dir of an earlier node of this name
      s.nodes.push_back(n);
      if (auto e = spawn_node(s, &s.nodes.back()); !e.empty()) {
        s.nodes.pop_back();
        return fail(kClusterCannotStart, e);
      }
      added.push_back(n.id);
    }
    state = s;
    return {};
  });
  if (!o.ok()) return o;
  result->nodes = added;
  const auto changed = Clock::now();
  for (const std::string& id : added) {
    if (Outcome r = await_ready(state, *state.find(id), wait_ms); !r.ok()) {
      const NodeRecord& n = *state.find(id);
      return fail(kClusterCannotStart, id + " did not join; " + n.log_path + ": " + log_tail(n.log_path));
    }
  }
  std::string why;
  const bool balanced = wait_balanced(state, wait_ms, &why);
  result->balanced_ms = ms_since(changed);
  result->view = observe_cluster(state, kStatusTimeoutMs);
  if (!balanced) {
    return fail(kClusterUnavailable, "added " + std::to_string(added.size()) +
                                         " node(s), but the cluster is not balanced after " +
                                         std::to_string(wait_ms) + " ms: " + why);
  }
  return {};
}

Outcome cluster_remove(const std::string& dir, const std::string& id, bool force, int wait_ms,
                       MembershipResult* result) {
  ClusterState state;
  if (Outcome o = open_cluster(dir, &state); !o.ok()) return o;
  const NodeRecord* node = state.find(id);
  if (!node) return fail(kClusterNotFound, "no node '" + id + "' in cluster " + state.name);
  if (state.nodes.size() == 1) return fail(kClusterUsage, id + " is the cluster's only node");
  ClientOptions co;
  co.tls = state.client_tls();
  co.token = state.client_token();
  co.endpoints = state.endpoints();
  co.timeout_ms = 5000;
  Client client(co);
  cli::MemberInfo removed;
  if (cli::Error e = client.remove_member(id, force, &removed); !e.ok()) {
    return fail(e.kind == cli::ErrorKind::kInvalid ? kClusterUsage : kClusterUnavailable, e.message);
  }
  result->nodes = {id};
  const auto changed = Clock::now();
  // Drained: the node holds no shard, and the others settled.
  ClusterState others = state;
  std::erase_if(others.nodes, [&](const NodeRecord& n) { return n.id == id; });
  bool drained = false;
  std::string why = id + " still holds replicas";
  while (ms_since(changed) < wait_ms) {
    ClientOptions co;
    co.tls = state.client_tls();
    co.token = state.client_token();
    co.endpoints = {node->address()};
    co.timeout_ms = kStatusTimeoutMs;
    Client c(co);
    cli::ClusterStatus s;
    const cli::Error e = c.status(&s);
    if (e.ok() && s.shards.empty()) {
      drained = true;
      break;
    }
    if (!e.ok() && node_liveness(state, *node) == Liveness::kDown) {
      drained = true;  // a dead member: its replicas are replaced elsewhere
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kBalancePollMs));
  }
  if (!drained) {
    return fail(kClusterUnavailable, "removed " + id + " from the cluster, but after " +
                                         std::to_string(wait_ms) + " ms " + why +
                                         "; it keeps running (stop it with mq cluster stop " + id + ")");
  }
  const int remaining_ms = std::max<int>(1000, wait_ms - static_cast<int>(ms_since(changed)));
  const bool balanced = wait_balanced(others, remaining_ms, &why);
  Outcome o = with_state(dir, [&](ClusterState& s) -> Outcome {
    NodeRecord* n = s.find(id);
    if (!n) return {};
    if (node_liveness(s, *n) != Liveness::kDown && !stop_node(s, *n, kStopTermTimeoutMs)) {
      return fail(kClusterUnavailable, id + " did not exit");
    }
    std::error_code ec;
    fs::remove_all(n->data_dir, ec);
    std::erase_if(s.nodes, [&](const NodeRecord& r) { return r.id == id; });
    state = s;
    return {};
  });
  if (!o.ok()) return o;
  result->balanced_ms = ms_since(changed);
  result->view = observe_cluster(state, kStatusTimeoutMs);
  if (!balanced) {
    return fail(kClusterUnavailable, "removed and stopped " + id + ", but the cluster is not balanced: " + why);
  }
  return {};
}

}  // namespace mq::playground
