// mq cluster: the local cluster launcher. One verb per entry of the table
// below; each verb parses its own flags with CLI11 and calls the launcher
// (playground/launcher.h). Every verb also runs inside the REPL as
// `\cluster VERB ...`.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/client_flags.h"
#include "cli/cluster_render.h"
#include "cli/commands.h"
#include "cli/duration.h"
#include "cli/repl.h"
#include "playground/cluster_target.h"
#include "playground/launcher.h"

namespace mq::cli {

namespace pg = mq::playground;

namespace {

constexpr int kStatusTimeoutMs = 500;
constexpr int kReadyTimeoutMs = 10'000;

struct CommonFlags {
  pg::ClusterTarget target;
  std::string output;
};

void add_common_flags(CLI::App& app, CommonFlags& f) {
  add_cluster_target_flags(app, f.target);
  app.add_option("-o,--output", f.output, "plain, json or table (default: table)");
}

// Whether the verb running now prints JSON: its failures then print a JSON
// error on stdout too, so a program reading stdout always gets an object.
// One verb runs at a time (a shell runs one; the REPL runs its lines in
// turn); dispatch resets it.
bool g_json_errors = false;

// Resolves -o; prints the usage error and returns false when it is bad.
bool resolve_format(const char* verb, const CommonFlags& f, Format* out) {
  if (f.output.empty()) {
    // Verbs answer with rows (nodes, shards) or one sentence: a table on a
    // terminal, else plain, as every command.
    *out = default_format(ResultShape::kRows, isatty(STDOUT_FILENO));
    return true;
  }
  if (auto p = parse_format(f.output)) {
    *out = *p;
    g_json_errors = *p == Format::kJson;
    return true;
  }
  std::fprintf(stderr, "mq cluster %s: -o must be plain, json or table, not '%s'\n", verb, f.output.c_str());
  return false;
}

void out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// The error code of a launcher exit code, as in cli/json_schema/error.json.
const char* error_code_of_exit(int exit_code) {
  switch (exit_code) {
    case pg::kClusterNotFound: return "not_found";
    case pg::kClusterUsage: return "invalid_argument";
    case pg::kClusterCannotStart: return "cannot_start";
    default: return "unavailable";
  }
}

int report(const char* verb, const pg::Outcome& o) {
  if (o.ok()) return o.exit_code;
  std::fprintf(stderr, "mq cluster %s: %s\n", verb, o.message.c_str());
  if (g_json_errors) {
    const nlohmann::json j = {{"error", {{"code", error_code_of_exit(o.exit_code)}, {"message", o.message}}}};
    out(j.dump() + "\n");
  }
  return o.exit_code;
}

// One acknowledgement on stdout: a JSON object or a sentence.
int acknowledge(const char* verb, Format format, const pg::Outcome& o, const std::string& node,
                const std::string& sentence) {
  if (!o.ok()) return report(verb, o);
  if (format == Format::kJson) {
    out(std::string("{\"ok\":true,\"action\":\"") + verb + "\",\"node\":\"" + node + "\"" +
        (o.message.empty() ? "" : ",\"note\":\"" + o.message + "\"") + "}\n");
  } else {
    out((o.message.empty() ? sentence : o.message) + "\n");
  }
  return 0;
}

volatile sig_atomic_t interrupted_flag = 0;
void on_interrupt(int) { interrupted_flag = 1; }

// SIGINT ends a following command (watch, logs -f) instead of the process,
// so the REPL that ran it goes on.
class InterruptScope {
 public:
  InterruptScope() {
    interrupted_flag = 0;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~InterruptScope() { sigaction(SIGINT, &old_, nullptr); }
  bool interrupted() const { return interrupted_flag != 0; }

 private:
  struct sigaction old_ {};
};

pg::ClusterView observe(const pg::ClusterState& state) {
  return pg::observe_cluster(state, kStatusTimeoutMs);
}

int cluster_up(int argc, char** argv) {
  CommonFlags f;
  pg::UpOptions o;
  bool attach = false;
  CLI::App app{"Start a local cluster (or the stopped nodes of an existing one) and wait until "
               "every shard has a leader.",
               "mq cluster up"};
  add_common_flags(app, f);
  CLI::Option* nodes_flag =
      app.add_option("-n,--nodes", o.nodes, "Number of nodes (default 3)");
  CLI::Option* shards_flag =
      app.add_option("--shards", o.shards, "Number of shards, 1..1024 (default 16)");
  CLI::Option* replication_flag =
      app.add_option("--replication", o.replication, "Replicas per shard, 1..nodes (default 3)");
  app.add_option("--base-port", o.base_port,
                 "Port of n1; node i gets base+i-1, and its HTTP port 1000 above (default 7001)");
  Millis wait{o.wait_ms};
  add_duration_option(app, "--wait", &wait, "How long to wait for every shard to be led",
                      Millis(1), Millis(3'600'000));
  app.add_option("--node-flag", o.node_flags,
                 "Extra flag for every `mq node`, e.g. --node-flag=--fsync=always (repeatable)");
  app.add_flag("--attach", attach, "Then run the REPL on the cluster (the cluster keeps running after)");
  app.add_flag("--auth", o.auth,
               "Authorization on: the nodes run with an --auth-file of one admin principal, whose "
               "token (in the state directory's auth/admin.token) the cluster's clients present");
  app.add_flag("--tls", o.tls,
               "TLS everywhere: a CA of the cluster's own and a certificate per node and for the "
               "client, made in the state directory's tls/; clients of this cluster find them");
  app.footer(R"(Examples:
  mq cluster up                       # 3 nodes on 127.0.0.1:7001-7003 (HTTP 8001-8003), 16 shards
  mq cluster up --tls                 # the same over TLS (gRPC, HTTP, Raft), client certs required
  mq cluster up --tls --auth          # and a token required for every request
  mq cluster up -n 5 --base-port 7101 --name five
  mq cluster up --attach              # and open the REPL on it

Reuses a cluster already there: nodes that run are kept, stopped ones are
started on their recorded ports and data dirs; -n, --shards or --replication
that differ from the existing cluster's are refused (exit 2). Every port is checked before
anything is spawned. Nodes run in a session of their own and keep running
after this command returns; stop them with mq cluster down. The nodes'
HTTP addresses are kept in prometheus_targets.json in the state directory,
a Prometheus file_sd list (see examples/monitoring/).
Exit codes: 0 every shard led, 2 bad arguments, 3 shards still without a
leader after --wait, 5 a port is in use or a node exited at start.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  o.wait_ms = static_cast<int>(wait.count());
  o.nodes_given = nodes_flag->count() > 0;
  o.shards_given = shards_flag->count() > 0;
  o.replication_given = replication_flag->count() > 0;
  Format format;
  if (!resolve_format("up", f, &format)) return 2;
  o.name = f.target.name;
  o.dir = f.target.resolved_dir();
  const bool tty = isatty(STDERR_FILENO);
  pg::ProgressFn progress = [tty](uint32_t led, uint32_t total) {
    if (tty) std::fprintf(stderr, "\rwaiting for leaders: %u/%u shards led ", led, total);
  };
  pg::ClusterState state;
  pg::UpResult result;
  pg::Outcome outcome = pg::cluster_up(o, progress, &state, &result);
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  if (!outcome.ok()) return report("up", outcome);
  if (result.already_running) {
    std::fprintf(stderr, "cluster %s is already running (%zu nodes, state in %s)\n", state.name.c_str(),
                 state.nodes.size(), o.dir.c_str());
  } else {
    std::fprintf(stderr, "cluster %s: started %zu node(s); every shard led %lld ms after the first spawn\n",
                 state.name.c_str(), result.started.size(), static_cast<long long>(result.all_led_ms));
  }
  if (format == Format::kJson) {
    std::string j = render_status_json(result.view);
    j.pop_back();  // the newline; the object gets two more fields
    j.pop_back();
    out(j + ",\"already_running\":" + (result.already_running ? "true" : "false") +
        ",\"all_led_ms\":" + std::to_string(result.all_led_ms) + "}\n");
  } else {
    out(format == Format::kTable ? render_nodes(result.view) : render_status_line(result.view));
    std::fputs(connect_hint(result.view, f.target.flags(), state.client_tls_files(),
                            state.auth ? state.auth_dir() + "/admin.token" : "")
                   .c_str(),
               stderr);
  }
  if (!attach) return 0;
  ReplOptions repl;
  repl.client.endpoints = state.endpoints();
  repl.client.tls = state.client_tls();
  repl.client.token = state.client_token();
  repl.format = Format::kPlain;
  repl.interactive = isatty(STDIN_FILENO);
  run_repl(repl);
  std::fprintf(stderr, "cluster %s is still running; stop it with: mq cluster down%s\n", state.name.c_str(),
               f.target.flags().c_str());
  return 0;
}

int cluster_status(int argc, char** argv) {
  CommonFlags f;
  CLI::App app{"Show the nodes (up, down, paused, partitioned), every shard's leader, term, "
               "commit and replica lag, and the cluster's health.",
               "mq cluster status"};
  add_common_flags(app, f);
  app.footer(R"(Examples:
  mq cluster status
  mq cluster ls -o json | jq .health

Health: healthy; degraded (every shard keeps a quorum; names what is down);
unavailable (names the shards without a quorum).
Exit codes: 0 healthy or degraded, 1 no such cluster, 3 unavailable.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("status", f, &format)) return 2;
  pg::ClusterState state;
  if (auto o = pg::open_cluster(f.target.resolved_dir(), &state); !o.ok()) return report("status", o);
  pg::ClusterView view = observe(state);
  out(render_cluster_status(format, view));
  return view.health == pg::Health::kUnavailable ? pg::kClusterUnavailable : 0;
}

int cluster_down(int argc, char** argv) {
  CommonFlags f;
  bool purge = false;
  Millis term_timeout{5000};
  CLI::App app{"Stop every node of the cluster: SIGTERM, then SIGKILL after a timeout; waits "
               "until each is gone.",
               "mq cluster down"};
  add_common_flags(app, f);
  app.add_flag("--purge", purge, "Also delete the state directory (data, logs)");
  add_duration_option(app, "--timeout", &term_timeout, "Wait after SIGTERM before SIGKILL", Millis(0),
                      Millis(600'000));
  app.footer(R"(Examples:
  mq cluster down
  mq cluster down --purge --name five

A pid is signalled only after checking it is still this cluster's node
(start time and command line), never a reused pid.
Exit codes: 0 stopped (or nothing to stop: no such cluster), 3 a node
survived SIGKILL.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("down", f, &format)) return 2;
  std::vector<std::string> stopped;
  bool found = false;
  pg::Outcome o = pg::cluster_down(f.target.resolved_dir(), purge, static_cast<int>(term_timeout.count()),
                                 &stopped, &found);
  if (!o.ok()) return report("down", o);
  if (!found) {
    std::fprintf(stderr, "no cluster %s in %s: nothing to stop\n", f.target.name.c_str(),
                 f.target.resolved_dir().c_str());
    if (format == Format::kJson) out("{\"ok\":true,\"found\":false,\"stopped\":[],\"purged\":false}\n");
    return 0;
  }
  std::string list;
  for (const auto& id : stopped) list += (list.empty() ? "" : ",") + id;
  if (format == Format::kJson) {
    std::string j = "{\"ok\":true,\"found\":true,\"stopped\":[";
    for (size_t i = 0; i < stopped.size(); ++i) j += (i ? ",\"" : "\"") + stopped[i] + "\"";
    out(j + "],\"purged\":" + (purge ? "true" : "false") + "}\n");
  } else {
    out("stopped " + std::to_string(stopped.size()) + " node(s)" + (list.empty() ? "" : " (" + list + ")") +
        (purge ? "; deleted " + f.target.resolved_dir() : "") + "\n");
  }
  return 0;
}

// kill, stop, start, restart, pause, resume: one node each.
int node_verb(const char* verb, int argc, char** argv) {
  CommonFlags f;
  std::string node;
  uint32_t shard = 0;
  std::string signal_name = "KILL";
  const std::string v = verb;
  const std::string title = "mq cluster " + v;
  std::string what;
  if (v == "kill") what = "Send a signal (default SIGKILL) to a node and wait until it is gone.";
  if (v == "stop") what = "Stop a node: SIGTERM, SIGKILL after 5 s.";
  if (v == "start") what = "Start a stopped node on its recorded port and data dir.";
  if (v == "restart") what = "Stop a node, then start it again (same port, same data).";
  if (v == "pause") what = "Freeze a node with SIGSTOP: it keeps its sockets but does nothing.";
  if (v == "resume") what = "Continue a paused node (SIGCONT).";
  CLI::App app{what, title};
  add_common_flags(app, f);
  app.add_option("NODE", node, "Node id (n1, n2, ...) or 'leader' (of --shard)")->required();
  app.add_option("--shard", shard, "With NODE=leader: whose leader (default 0)");
  if (v == "kill") app.add_option("--signal", signal_name, "KILL (default) or TERM");
  app.footer("Examples:\n  " + title + " n2\n  " + title + " leader --shard 3\n\n" +
             "Exit codes: 0 done, 1 no such cluster or node (or not running), 3 no leader to "
             "resolve 'leader', 5 cannot start.");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format(verb, f, &format)) return 2;
  int sig = SIGKILL;
  if (signal_name == "TERM" || signal_name == "SIGTERM") {
    sig = SIGTERM;
  } else if (signal_name != "KILL" && signal_name != "SIGKILL") {
    std::fprintf(stderr, "mq cluster kill: --signal must be KILL or TERM, not '%s'\n", signal_name.c_str());
    return 2;
  }
  const std::string dir = f.target.resolved_dir();
  pg::ClusterState state;
  if (auto o = pg::open_cluster(dir, &state); !o.ok()) return report(verb, o);
  std::string id;
  if (auto o = pg::resolve_node(state, node, shard, &id); !o.ok()) return report(verb, o);
  const int pid = state.find(id)->pid;
  pg::Outcome o;
  std::string sentence;
  if (v == "kill") {
    o = pg::kill_node(dir, id, sig);
    sentence = "killed " + id + " (pid " + std::to_string(pid) + ") with SIG" + (sig == SIGKILL ? "KILL" : "TERM");
  } else if (v == "stop") {
    o = pg::stop_one(dir, id);
    sentence = "stopped " + id;
  } else if (v == "start") {
    o = pg::start_node(dir, id, kReadyTimeoutMs);
    sentence = "started " + id + " on " + state.find(id)->address();
  } else if (v == "restart") {
    o = pg::restart_node(dir, id, kReadyTimeoutMs);
    sentence = "restarted " + id + " on " + state.find(id)->address();
  } else if (v == "pause") {
    o = pg::pause_node(dir, id);
    sentence = "paused " + id + " (SIGSTOP)";
  } else {
    o = pg::resume_node(dir, id);
    sentence = "resumed " + id;
  }
  return acknowledge(verb, format, o, id, sentence);
}

int cluster_kill(int argc, char** argv) { return node_verb("kill", argc, argv); }
int cluster_stop(int argc, char** argv) { return node_verb("stop", argc, argv); }
int cluster_start(int argc, char** argv) { return node_verb("start", argc, argv); }
int cluster_restart(int argc, char** argv) { return node_verb("restart", argc, argv); }
int cluster_pause(int argc, char** argv) { return node_verb("pause", argc, argv); }
int cluster_resume(int argc, char** argv) { return node_verb("resume", argc, argv); }

int cluster_partition(int argc, char** argv) {
  CommonFlags f;
  std::string a, b;
  bool one_way = false;
  CLI::App app{"Cut the network between two groups of nodes (Raft traffic is dropped at each "
               "node's transport; no root needed).",
               "mq cluster partition"};
  add_common_flags(app, f);
  app.add_option("SIDE_A", a, "Nodes of one side: n1,n2")->required();
  app.add_option("SIDE_B", b, "Nodes of the other side: n3")->required();
  app.add_flag("--one-way", one_way, "Cut only SIDE_A -> SIDE_B (each a single node)");
  app.footer(R"(Examples:
  mq cluster partition n1 n2,n3       # n1 alone on one side
  mq cluster partition --one-way n1 n2
  mq cluster heal

Clients still reach every node; only node-to-node traffic is cut.
Exit codes: 0 done, 1 no such cluster, 2 bad sides, 3 a node refused the fault.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("partition", f, &format)) return 2;
  const std::string dir = f.target.resolved_dir();
  pg::Outcome o = one_way ? pg::cut_link(dir, a, b) : pg::partition(dir, a, b);
  return acknowledge("partition", format, o, a,
                     "partitioned " + a + (one_way ? " -> " : " | ") + b);
}

int cluster_isolate(int argc, char** argv) {
  CommonFlags f;
  std::string node;
  uint32_t shard = 0;
  CLI::App app{"Cut a node off from every other node.", "mq cluster isolate"};
  add_common_flags(app, f);
  app.add_option("NODE", node, "Node id or 'leader' (of --shard)")->required();
  app.add_option("--shard", shard, "With NODE=leader: whose leader (default 0)");
  app.footer("Examples:\n  mq cluster isolate n1\n  mq cluster isolate leader --shard 2\n  mq cluster heal");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("isolate", f, &format)) return 2;
  const std::string dir = f.target.resolved_dir();
  pg::ClusterState state;
  if (auto o = pg::open_cluster(dir, &state); !o.ok()) return report("isolate", o);
  std::string id;
  if (auto o = pg::resolve_node(state, node, shard, &id); !o.ok()) return report("isolate", o);
  return acknowledge("isolate", format, pg::isolate(dir, id), id, "isolated " + id);
}

int cluster_heal(int argc, char** argv) {
  CommonFlags f;
  CLI::App app{"Remove every injected network fault.", "mq cluster heal"};
  add_common_flags(app, f);
  app.footer("Examples:\n  mq cluster heal");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("heal", f, &format)) return 2;
  return acknowledge("heal", format, pg::heal(f.target.resolved_dir()), "", "healed every link");
}

int cluster_transfer(int argc, char** argv) {
  CommonFlags f;
  uint32_t shard = 0;
  std::string node;
  CLI::App app{"Move a shard's leadership to another of its replicas.", "mq cluster transfer-leader"};
  add_common_flags(app, f);
  app.add_option("SHARD", shard, "Shard id")->required();
  app.add_option("NODE", node, "Node id that should lead it")->required();
  app.footer("Examples:\n  mq cluster transfer-leader 0 n2\n\n"
             "Exit codes: 0 NODE leads SHARD, 1 no such cluster or node, 2 NODE holds no replica,\n"
             "3 the transfer did not happen within 3 s.");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("transfer-leader", f, &format)) return 2;
  return acknowledge("transfer-leader", format, pg::transfer_leader(f.target.resolved_dir(), shard, node),
                     node, "shard " + std::to_string(shard) + " is now led by " + node);
}

// What add and remove did, after the replicas moved.
int membership_done(const char* verb, Format format, const pg::Outcome& o,
                    const pg::MembershipResult& r, const std::string& sentence) {
  if (!o.ok()) return report(verb, o);
  if (format == Format::kJson) {
    nlohmann::json j;
    j["ok"] = true;
    j["action"] = verb;
    j["nodes"] = r.nodes;
    j["balanced_ms"] = r.balanced_ms;
    out(j.dump() + "\n");
  } else {
    out(sentence + " (replicas balanced " + std::to_string(r.balanced_ms) + " ms after the change)\n");
  }
  return 0;
}

int cluster_add(int argc, char** argv) {
  CommonFlags f;
  int count = 1;
  Millis wait{120'000};
  CLI::App app{"Add nodes to the running local cluster: each joins (mq node --join), and replicas "
               "move to it until the cluster is balanced.",
               "mq cluster add"};
  add_common_flags(app, f);
  app.add_option("-n,--nodes", count, "How many nodes to add (default 1)");
  add_duration_option(app, "--wait", &wait, "How long to wait for the replicas to move",
                      Millis(1), Millis(3'600'000));
  app.footer("Examples:\n  mq cluster add\n  mq cluster add -n 2 --wait 5m\n\n"
             "The new nodes are named n4, n5, ... and take the next ports. Exit codes: 0 added and\n"
             "balanced, 1 no such cluster, 2 bad arguments, 3 a node is down or the replicas did\n"
             "not finish moving within --wait (the nodes stay), 5 a port is in use or a node\n"
             "exited at start.");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("add", f, &format)) return 2;
  pg::MembershipResult r;
  const pg::Outcome o = pg::cluster_add(f.target.resolved_dir(), count, static_cast<int>(wait.count()), &r);
  std::string names;
  for (const auto& n : r.nodes) names += (names.empty() ? "" : ", ") + n;
  return membership_done("add", format, o, r, "added " + names);
}

int cluster_remove(int argc, char** argv) {
  CommonFlags f;
  std::string node;
  bool force = false;
  Millis wait{120'000};
  CLI::App app{"Remove a node from the running local cluster: its replicas move to the other nodes, "
               "then it is stopped and its data dir deleted (its log stays).",
               "mq cluster remove"};
  add_common_flags(app, f);
  app.add_option("NODE", node, "Node id")->required();
  app.add_flag("--force", force,
               "Remove it even if fewer nodes than the replication factor remain (shards then keep "
               "fewer replicas)");
  add_duration_option(app, "--wait", &wait, "How long to wait for its replicas to move",
                      Millis(1), Millis(3'600'000));
  app.footer("Examples:\n  mq cluster remove n4\n\n"
             "Exit codes: 0 removed and stopped, 1 no such cluster or node, 2 refused (e.g. too few\n"
             "nodes would remain; see --force), 3 the cluster did not answer or the replicas did not\n"
             "finish moving within --wait (the node keeps running).");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("remove", f, &format)) return 2;
  pg::MembershipResult r;
  const pg::Outcome o =
      pg::cluster_remove(f.target.resolved_dir(), node, force, static_cast<int>(wait.count()), &r);
  return membership_done("remove", format, o, r, "removed and stopped " + node);
}

int cluster_logs(int argc, char** argv) {
  CommonFlags f;
  std::string node;
  bool follow = false;
  size_t lines = 50;
  CLI::App app{"Print a node's log (its stderr).", "mq cluster logs"};
  add_common_flags(app, f);
  app.add_option("NODE", node, "Node id")->required();
  app.add_flag("-f,--follow", follow, "Keep printing new lines until Ctrl-C");
  app.add_option("-n,--lines", lines, "Print the last N lines first (default 50; 0 = all)");
  app.footer("Examples:\n  mq cluster logs n1\n  mq cluster logs -f n2\n"
             "  mq cluster logs -o json n1 | jq -r .line   # one {\"node\",\"line\"} object per line");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  Format format;
  if (!resolve_format("logs", f, &format)) return 2;
  pg::ClusterState state;
  if (auto o = pg::open_cluster(f.target.resolved_dir(), &state); !o.ok()) return report("logs", o);
  const pg::NodeRecord* n = state.find(node);
  if (!n) return report("logs", {pg::kClusterNotFound, "no node '" + node + "' in cluster " + state.name});
  std::ifstream in(n->log_path, std::ios::binary);
  if (!in) return report("logs", {pg::kClusterNotFound, "no log yet at " + n->log_path});
  // A log is text for people; with -o json each of its lines is one object
  // on a line of its own, so a program can follow it line by line.
  const bool json = format == Format::kJson;
  auto emit = [&](const std::string& line) { out(json ? render_log_line_json(node, line) : line + "\n"); };
  std::vector<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (lines > 0 && tail.size() > lines) tail.erase(tail.begin());
  }
  for (const auto& l : tail) emit(l);
  if (!follow) return 0;
  in.clear();
  InterruptScope scope;
  // Whole lines only: a line still being written is kept until its end
  // arrives. Bounded by the user: Ctrl-C (or a closed stdout) ends it.
  std::string partial;
  while (!scope.interrupted()) {
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      partial.append(buf, static_cast<size_t>(in.gcount()));
      if (in.eof()) break;
    }
    in.clear();
    size_t start = 0;
    for (size_t nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n', start)) {
      emit(partial.substr(start, nl - start));
      start = nl + 1;
    }
    partial.erase(0, start);
    if (std::ferror(stdout)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

}  // namespace

const CommandTable& cluster_verbs() {
  static const CommandTable table = {
      {"up", "Start a local cluster and wait until every shard is led", cluster_up},
      {"status", "Nodes, shard leaders, terms, lag and health (also: ls)", cluster_status},
      {"ls", "Same as status", cluster_status},
      {"watch", "Live view: shard-by-node roles and an event feed", cluster_watch},
      {"kill", "Kill a node (SIGKILL, or --signal TERM); NODE or 'leader'", cluster_kill},
      {"stop", "Stop a node (TERM, then KILL)", cluster_stop},
      {"start", "Start a stopped node (same port and data)", cluster_start},
      {"restart", "Stop, then start a node", cluster_restart},
      {"pause", "Freeze a node (SIGSTOP)", cluster_pause},
      {"resume", "Continue a paused node (SIGCONT)", cluster_resume},
      {"partition", "Cut the links between two sides: partition n1 n2,n3", cluster_partition},
      {"isolate", "Cut one node off from all others", cluster_isolate},
      {"heal", "Remove every network fault", cluster_heal},
      {"transfer-leader", "Move a shard's leadership: transfer-leader SHARD NODE", cluster_transfer},
      {"add", "Add nodes that join the running cluster; replicas move to them", cluster_add},
      {"remove", "Move a node's replicas away, then stop and delete it", cluster_remove},
      {"logs", "Print (or -f follow) a node's log", cluster_logs},
      {"down", "Stop every node and wait for them (--purge deletes the state)", cluster_down},
  };
  return table;
}

namespace {

void print_cluster_usage(FILE* to) {
  std::fprintf(to, "Usage: mq cluster <verb> [flags] [args]   (mq cluster <verb> --help for details)\n\n"
                   "Runs a cluster of real `mq node` processes on this machine.\n\nVerbs:\n");
  for (const auto& v : cluster_verbs()) std::fprintf(to, "  %-16s %s\n", v.name, v.summary);
  std::fprintf(to, R"(
Every verb takes --cluster NAME (or --name; MQ_CLUSTER, default local) or
--cluster-dir DIR (or --dir; MQ_CLUSTER_DIR), and -o plain|json|table.
In the REPL: \cluster VERB ...

Examples:
  mq cluster up && mq cluster kill leader && mq cluster status
  mq cluster partition n1 n2,n3; mq cluster heal
  mq cluster down --purge

Exit codes: 0 ok, 1 no such cluster or node, 2 bad arguments, 3 unavailable
(no quorum, no leader, a node did not answer), 5 cannot start (port in use).
)");
}

}  // namespace

int cmd_cluster(int argc, char** argv) {
  g_json_errors = false;
  return dispatch("mq cluster", "verb", cluster_verbs(), print_cluster_usage, argc, argv);
}

int run_cluster_words(const std::string& command, const std::vector<std::string>& words) {
  std::vector<std::string> storage = {"mq " + command};
  storage.insert(storage.end(), words.begin(), words.end());
  std::vector<char*> args;
  for (auto& s : storage) args.push_back(s.data());
  args.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());
  return command == "demo" ? cmd_demo(argc, args.data()) : cmd_cluster(argc, args.data());
}

}  // namespace mq::cli
