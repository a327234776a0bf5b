#include "playground/node_process.h"

#include "playground/local_ca.h"

#include <fcntl.h>

#include <nlohmann/json.hpp>

#include "node/auth/access_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mq::playground {

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fields of /proc/PID/stat after the command name, which may itself
// hold spaces and parentheses: field 3 (state) is first.
std::vector<std::string> stat_fields_after_comm(int pid) {
  const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = text.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream in(text.substr(close + 1));
  std::string f;
  while (in >> f) fields.push_back(f);
  return fields;
}

char process_state(int pid) {
  auto f = stat_fields_after_comm(pid);
  return f.empty() || f[0].empty() ? '\0' : f[0][0];
}

std::vector<std::string> process_cmdline(int pid) {
  const std::string raw = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

// Collects the exit status of pid when it is our exited child; harmless
// (ECHILD) when it is not our child.
void reap_if_child(int pid) {
  if (pid > 0) ::waitpid(pid, nullptr, WNOHANG);
}

}  // namespace

const char* liveness_name(Liveness l) {
  switch (l) {
    case Liveness::kDown: return "down";
    case Liveness::kUp: return "up";
    case Liveness::kPaused: return "paused";
  }
  return "down";
}

uint64_t process_start_time_ticks(int pid) {
  auto f = stat_fields_after_comm(pid);
  // starttime is field 22 of stat; fields here start at field 3.
  if (f.size() < 20) return 0;
  return std::strtoull(f[19].c_str(), nullptr, 10);
}

bool is_our_node(int pid, uint64_t start_time_ticks, const std::string& binary,
                 const std::string& id) {
  if (pid <= 0) return false;
  const char state = process_state(pid);
  if (state == '\0' || state == 'Z' || state == 'X') return false;
  if (start_time_ticks != 0 && process_start_time_ticks(pid) != start_time_ticks) return false;
  const auto args = process_cmdline(pid);
  if (args.size() < 4 || args[1] != "node" || args[2] != "--id" || args[3] != id) return false;
  // A rebuilt binary keeps its path; a different program with our flags
  // would not have it.
  return args[0] == binary;
}

Liveness node_liveness(const ClusterState& state, const NodeRecord& node) {
  reap_if_child(node.pid);
  if (!is_our_node(node.pid, node.start_time_ticks, state.binary, node.id)) return Liveness::kDown;
  const char s = process_state(node.pid);
  return s == 'T' || s == 't' ? Liveness::kPaused : Liveness::kUp;
}

std::vector<std::string> node_command(const ClusterState& state, const NodeRecord& node) {
  std::vector<std::string> args = {"node", "--id", node.id, "--listen", node.address(),
                                   "--data-dir", node.data_dir};
  if (node.joined) {
    args.insert(args.end(), {"--join", state.join_endpoints(node.id)});
  } else {
    args.insert(args.end(), {"--peers", state.peers(), "--shards", std::to_string(state.shard_count),
                             "--replication", std::to_string(state.replication),
                             "--initial-cluster-state", node.bootstrapped ? "existing" : "new"});
    if (!state.initial_cluster_token.empty()) {
      args.insert(args.end(), {"--initial-cluster-token", state.initial_cluster_token});
    }
  }
  // partition, isolate and heal install their faults with SetFaults, and
  // add and remove change the members: a node refuses both without these.
  args.insert(args.end(), {"--enable-fault-injection", "--enable-member-changes"});
  if (node.http_port != 0) {
    args.insert(args.end(), {"--http-listen", node.http_address()});
  }
  if (state.auth) args.insert(args.end(), {"--auth-file", state.auth_dir() + "/auth.json"});
  if (state.tls) {
    // One certificate per node (local_ca.h) for both faces, as etcd's
    // own tooling issues them; clients need one of the same CA.
    const std::string cert = state.tls_dir() + "/" + node.id + ".pem";
    const std::string key = state.tls_dir() + "/" + node.id + "-key.pem";
    const std::string ca = state.tls_dir() + "/ca.pem";
    args.insert(args.end(), {"--cert-file", cert, "--key-file", key, "--trusted-ca-file", ca,
                             "--client-cert-auth", "--peer-cert-file", cert, "--peer-key-file", key,
                             "--peer-trusted-ca-file", ca});
  }
  // Nodes that share a machine share its memory: each gets an equal part of
  // the 60% one node alone would take, unless the flags say otherwise.
  const bool memory_given = std::any_of(state.node_flags.begin(), state.node_flags.end(),
                                        [](const std::string& f) { return f.rfind("--max-memory", 0) == 0; });
  if (!memory_given && !state.nodes.empty()) {
    args.insert(args.end(), {"--max-memory", std::to_string(std::max<size_t>(1, 60 / state.nodes.size())) + "%"});
  }
  args.insert(args.end(), state.node_flags.begin(), state.node_flags.end());
  return args;
}

namespace {

// The CA, this node's certificate and the client's, each made once.
std::string ensure_certificates(const ClusterState& state, const NodeRecord& node) {
  std::error_code ec;
  fs::create_directories(state.tls_dir(), ec);
  if (ec) return "cannot create " + state.tls_dir() + ": " + ec.message();
  std::string error;
  if (!ensure_local_ca(state.tls_dir(), &error)) return error;
  auto issue = [&](const CertificateSpec& spec) {
    return fs::exists(state.tls_dir() + "/" + spec.name + ".pem") ||
           issue_certificate(state.tls_dir(), spec, &error);
  };
  if (!issue({node.id, {node.id, "localhost"}, {"127.0.0.1"}}) || !issue({"client", {}, {}})) return error;
  return "";
}

// The auth file of one admin principal and its token, each made once.
std::string ensure_auth_files(const ClusterState& state) {
  const std::string token_path = state.auth_dir() + "/admin.token";
  const std::string rules_path = state.auth_dir() + "/auth.json";
  if (fs::exists(token_path) && fs::exists(rules_path)) return "";
  std::error_code ec;
  fs::create_directories(state.auth_dir(), ec);
  if (ec) return "cannot create " + state.auth_dir() + ": " + ec.message();
  const std::string token = auth::new_token();
  if (token.empty()) return "no randomness for a token";
  auto write = [](const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
  };
  const nlohmann::json admin = {{"name", "admin"},
                                {"token_sha256", auth::sha256_hex(token)},
                                {"admin", true},
                                {"rules", {{{"users", "*"}, {"access", "rw"}}}}};
  const std::string rules = nlohmann::json{{"principals", {admin}}}.dump(2) + "\n";
  if (!write(token_path, token + "\n") || !write(rules_path, rules)) return "cannot write " + state.auth_dir();
  return "";
}

}  // namespace

std::string spawn_node(const ClusterState& state, NodeRecord* node) {
  if (state.auth) {
    if (std::string e = ensure_auth_files(state); !e.empty()) return "auth: " + e;
  }
  if (state.tls) {
    if (std::string e = ensure_certificates(state, *node); !e.empty()) return "TLS for " + node->id + ": " + e;
  }
  std::error_code ec;
  fs::create_directories(node->data_dir, ec);
  if (ec) return "cannot create " + node->data_dir + ": " + ec.message();
  // O_APPEND: a restarted node's log continues the same file.
  FILE* log = std::fopen(node->log_path.c_str(), "a");
  if (!log) return "cannot open " + node->log_path;
  try {
    bp::child child(
        bp::exe = state.binary, bp::args = node_command(state, *node), bp::std_in < bp::null,
        bp::std_out > log, bp::std_err > log,
        // Every other inherited descriptor is closed: a node holding the
        // launcher's stdout pipe would keep a reader of it waiting forever.
        bp::limit_handles,
        bp::extend::on_exec_setup = [](auto&) {
          // A session of its own: no terminal signals, and it outlives the
          // launcher without becoming part of its job.
          ::setsid();
        },
        ec);
    std::fclose(log);
    if (ec) return "cannot start " + state.binary + ": " + ec.message();
    node->pid = child.id();
    child.detach();
  } catch (const std::exception& e) {
    std::fclose(log);
    return std::string("cannot start node ") + node->id + ": " + e.what();
  }
  node->paused = false;
  // The start time survives exec, so it can be read at once.
  node->start_time_ticks = process_start_time_ticks(node->pid);
  // With limit_handles, Boost.Process does not wait for the exec: until it
  // happens the child still shows the launcher's command line.
  constexpr int kExecWaitMs = 5000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kExecWaitMs);
  while (!is_our_node(node->pid, node->start_time_ticks, state.binary, node->id)) {
    const char s = process_state(node->pid);
    if (s == '\0' || s == 'Z' || s == 'X') {
      reap_if_child(node->pid);
      return "node " + node->id + " exited at once; see " + node->log_path;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return "node " + node->id + " did not start " + state.binary + " within " +
             std::to_string(kExecWaitMs) + " ms";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  node->bootstrapped = true;
  return "";
}

bool signal_node(const ClusterState& state, const NodeRecord& node, int sig) {
  if (!is_our_node(node.pid, node.start_time_ticks, state.binary, node.id)) return false;
  return ::kill(node.pid, sig) == 0;
}

bool wait_node_gone(const ClusterState& state, const NodeRecord& node, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    reap_if_child(node.pid);
    if (!is_our_node(node.pid, node.start_time_ticks, state.binary, node.id)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool stop_node(const ClusterState& state, const NodeRecord& node, int term_timeout_ms) {
  if (!signal_node(state, node, SIGTERM)) return true;
  signal_node(state, node, SIGCONT);
  if (wait_node_gone(state, node, term_timeout_ms)) return true;
  signal_node(state, node, SIGKILL);
  constexpr int kKillWaitMs = 5000;
  return wait_node_gone(state, node, kKillWaitMs);
}

bool port_busy(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  // SO_REUSEADDR as gRPC sets it: a port in TIME_WAIT is free for the node.
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool busy = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0;
  ::close(fd);
  return busy;
}

std::string self_executable() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace mq::playground
