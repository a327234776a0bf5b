#include "tests/replication/local_cluster.h"

#include <csignal>
#include <chrono>
#include <exception>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "node/kv/shard_hash.h"
#include "tests/replication/test_failure.h"

namespace mq::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLeaderPollInterval = std::chrono::milliseconds(50);
constexpr int kPortPicksMax = 100;
constexpr size_t kUserCandidatesMax = 100'000;

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
  if (options_.node_count == 0) throw std::invalid_argument("LocalCluster: no nodes");
  std::set<uint16_t> ports;
  const size_t ports_wanted = options_.node_count * (options_.http ? 2 : 1);
  for (int i = 0; i < kPortPicksMax && ports.size() < ports_wanted; ++i) {
    ports.insert(free_loopback_port());
  }
  if (ports.size() < ports_wanted) throw std::runtime_error("cannot pick distinct ports");
  auto next_port = ports.begin();
  for (size_t i = 0; i < options_.node_count; ++i) {
    Node n;
    n.port = *next_port++;
    if (options_.http) n.http_port = *next_port++;
    const std::string name = "n" + std::to_string(nodes_.size() + 1);
    n.data_dir = dir_ / name;
    n.log_path = dir_ / (name + ".log");
    nodes_.push_back(std::move(n));
  }
  for (size_t i = 0; i < nodes_.size(); ++i) start(i);
}

LocalCluster::~LocalCluster() {
  // TERM everyone first so the nodes shut down in parallel, then reap each.
  for (Node& n : nodes_) {
    if (n.process && !n.process->exited()) {
      n.process->signal(SIGTERM);
      n.process->signal(SIGCONT);  // a paused node must run to stop
    }
  }
  for (Node& n : nodes_) {
    if (!n.process) continue;
    if (!n.process->wait(kStopTimeoutMs)) {
      n.process->signal(SIGKILL);
      n.process->wait(kStopTimeoutMs);
    }
  }
  if (current_test_failed() || std::uncaught_exceptions() > 0) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      std::cerr << "---- log of " << id(i) << " (" << endpoint(i) << "), last lines ----\n"
                << log_tail(i) << "---- end of " << id(i) << " ----\n";
    }
  }
  nodes_.clear();  // Subprocess destructors: SIGKILL and reap anything left
}

std::string LocalCluster::endpoint(size_t node) const {
  return "127.0.0.1:" + std::to_string(nodes_.at(node).port);
}

std::vector<std::string> LocalCluster::endpoints() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < nodes_.size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string LocalCluster::peers_flag() const {
  std::string out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    out += (i ? "," : "") + id(i) + "=" + endpoint(i);
  }
  return out;
}

size_t LocalCluster::index_of(const std::string& node_id) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (id(i) == node_id) return i;
  }
  throw std::invalid_argument("no node " + node_id);
}

void LocalCluster::start(size_t node) {
  Node& n = nodes_.at(node);
  if (n.process && !n.process->exited()) throw std::logic_error(id(node) + " is still running");
  SpawnOptions spawn;
  // Fault injection is on for every node: the tests partition and slow
  // nodes through SetFaults, which a node refuses without the flag.
  spawn.argv = {mq_binary(), "node", "--id", id(node), "--listen", endpoint(node), "--data-dir",
                n.data_dir, "--enable-fault-injection"};
  if (options_.with_peers) {
    spawn.argv.push_back("--peers");
    spawn.argv.push_back(peers_flag());
    spawn.argv.push_back("--initial-cluster-state");
    spawn.argv.push_back(n.started_once ? "existing" : "new");
  }
  n.started_once = true;
  if (n.http_port != 0) {
    spawn.argv.push_back("--http-listen");
    spawn.argv.push_back("127.0.0.1:" + std::to_string(n.http_port));
  }
  spawn.argv.insert(spawn.argv.end(), options_.node_flags.begin(), options_.node_flags.end());
  spawn.argv.insert(spawn.argv.end(), n.extra_flags.begin(), n.extra_flags.end());
  spawn.stderr_path = n.log_path;
  n.process.reset();  // reaps the previous run, if any
  n.process = std::make_unique<Subprocess>(spawn);
}

void LocalCluster::kill(size_t node) {
  Node& n = nodes_.at(node);
  if (!n.process) return;
  n.process->signal(SIGKILL);
  n.process->wait(kStopTimeoutMs);
}

void LocalCluster::pause(size_t node) {
  Node& n = nodes_.at(node);
  if (n.process) n.process->stop_and_wait(kStopTimeoutMs);
}

void LocalCluster::resume(size_t node) {
  Node& n = nodes_.at(node);
  if (n.process) n.process->signal(SIGCONT);
}

void LocalCluster::kill_all() {
  for (Node& n : nodes_) {
    if (n.process) n.process->signal(SIGKILL);
  }
  for (Node& n : nodes_) {
    if (n.process) n.process->wait(kStopTimeoutMs);
  }
}

std::optional<int> LocalCluster::stop(size_t node) {
  Node& n = nodes_.at(node);
  if (!n.process) return std::nullopt;
  n.process->signal(SIGTERM);
  if (auto code = n.process->wait(kStopTimeoutMs)) return code;
  n.process->signal(SIGKILL);
  n.process->wait(kStopTimeoutMs);
  return std::nullopt;
}

bool LocalCluster::running(size_t node) {
  Node& n = nodes_.at(node);
  if (!n.process) return false;
  n.process->wait(0);  // reaps it if it has exited
  return !n.process->exited();
}

std::optional<cli::ClusterStatus> LocalCluster::status(size_t node, int timeout_ms) {
  cli::ClientOptions o;
  o.endpoints = {endpoint(node)};
  o.timeout_ms = timeout_ms;
  o.dial_timeout_ms = timeout_ms;
  cli::Client c(o);
  cli::ClusterStatus st;
  if (!c.status(&st).ok()) return std::nullopt;
  return st;
}

std::optional<std::map<uint32_t, size_t>> LocalCluster::leaders() {
  std::map<size_t, cli::ClusterStatus> statuses;
  uint32_t shard_count = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!running(i)) continue;
    auto st = status(i);
    if (!st) return std::nullopt;
    shard_count = st->shard_count;
    statuses.emplace(i, std::move(*st));
  }
  if (statuses.empty() || shard_count == 0) return std::nullopt;
  std::map<uint32_t, size_t> out;
  for (uint32_t shard = 0; shard < shard_count; ++shard) {
    std::optional<size_t> leader;
    bool agreed = true;
    for (const auto& [node, st] : statuses) {
      for (const cli::ShardStatus& s : st.shards) {
        if (s.id != shard) continue;
        if (s.leader.empty()) {
          agreed = false;
          continue;
        }
        const size_t named = index_of(s.leader);
        if (leader && *leader != named) agreed = false;
        leader = named;
        if (named == node && s.role != "leader") agreed = false;
      }
    }
    // The named leader must be alive and itself claim the role.
    if (!agreed || !leader || !statuses.count(*leader)) return std::nullopt;
    out[shard] = *leader;
  }
  return out;
}

bool LocalCluster::wait_for_leaders(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (leaders()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kLeaderPollInterval);
  }
}

bool LocalCluster::wait_for_preferred_leaders(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (const auto l = leaders()) {
      bool preferred = true;
      for (const auto& [shard, node] : *l) preferred = preferred && node == shard % nodes_.size();
      if (preferred) return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kLeaderPollInterval);
  }
}

std::unique_ptr<cli::Client> LocalCluster::client(std::vector<size_t> nodes, int timeout_ms) const {
  cli::ClientOptions o;
  if (nodes.empty()) {
    o.endpoints = endpoints();
  } else {
    for (size_t i : nodes) o.endpoints.push_back(endpoint(i));
  }
  o.timeout_ms = timeout_ms;
  o.dial_timeout_ms = std::min(timeout_ms, 1000);
  return std::make_unique<cli::Client>(o);
}

std::string LocalCluster::log_tail(size_t node, size_t lines_max) const {
  std::ifstream in(nodes_.at(node).log_path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::ostringstream out;
  const size_t first = lines.size() > lines_max ? lines.size() - lines_max : 0;
  for (size_t i = first; i < lines.size(); ++i) out << lines[i] << "\n";
  return out.str();
}

std::string user_in_shard(uint32_t shard, uint32_t shard_count, size_t n, const std::string& prefix) {
  size_t seen = 0;
  for (size_t i = 0; i < kUserCandidatesMax; ++i) {
    std::string user = prefix + std::to_string(i);
    if (kv::shard_of(user, shard_count) != shard) continue;
    if (seen++ == n) return user;
  }
  throw std::runtime_error("no user for shard " + std::to_string(shard));
}

}  // namespace mq::test
