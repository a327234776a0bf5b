#include "playground/cluster_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "playground/node_process.h"

namespace mq::playground {

namespace fs = std::filesystem;
using nlohmann::json;

NodeRecord* ClusterState::find(const std::string& id) {
  for (auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

const NodeRecord* ClusterState::find(const std::string& id) const {
  return const_cast<ClusterState*>(this)->find(id);
}

std::string ClusterState::peers() const {
  if (!initial_peers.empty()) return initial_peers;
  std::string out;
  for (const auto& n : nodes) {
    if (!n.joined) out += (out.empty() ? "" : ",") + n.id + "=" + n.address();
  }
  return out;
}

std::string ClusterState::join_endpoints(const std::string& except_id) const {
  std::string out;
  for (const auto& n : nodes) {
    if (n.id != except_id) out += (out.empty() ? "" : ",") + n.address();
  }
  return out;
}

std::vector<std::string> ClusterState::endpoints() const {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.push_back(n.address());
  return out;
}

std::vector<std::string> ClusterState::placement(uint32_t shard) const {
  std::vector<std::string> out;
  if (nodes.empty()) return out;
  const size_t n = nodes.size();
  const size_t rf = std::min<size_t>(replication == 0 ? 1 : replication, n);
  for (size_t i = 0; i < rf; ++i) out.push_back(nodes[(shard + i) % n].id);
  return out;
}

std::string default_cluster_dir(const std::string& name) {
  if (const char* home = std::getenv("MQ_HOME"); home && *home) {
    return std::string(home) + "/clusters/" + name;
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.mq/clusters/" + name;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool state_exists(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / kStateFileName, ec);
}

std::string state_to_json(const ClusterState& s) {
  json j;
  j["name"] = s.name;
  j["binary"] = s.binary;
  j["shards"] = s.shard_count;
  j["replication"] = s.replication;
  j["node_flags"] = s.node_flags;
  j["initial_peers"] = s.initial_peers;
  j["initial_cluster_token"] = s.initial_cluster_token;
  j["tls"] = s.tls;
  j["auth"] = s.auth;
  j["nodes"] = json::array();
  for (const auto& n : s.nodes) {
    j["nodes"].push_back({{"id", n.id},
                          {"port", n.port},
                          {"http_port", n.http_port},
                          {"pid", n.pid},
                          {"start_time_ticks", n.start_time_ticks},
                          {"data_dir", n.data_dir},
                          {"log", n.log_path},
                          {"paused", n.paused},
                          {"bootstrapped", n.bootstrapped},
                          {"joined", n.joined},
                          {"drop_to", n.faults.drop_to},
                          {"drop_from", n.faults.drop_from}});
  }
  return j.dump(2) + "\n";
}

std::string state_from_json(const std::string& text, ClusterState* out) {
  try {
    const json j = json::parse(text);
    ClusterState s;
    s.name = j.at("name").get<std::string>();
    s.binary = j.at("binary").get<std::string>();
    s.shard_count = j.at("shards").get<uint32_t>();
    s.replication = j.at("replication").get<uint32_t>();
    s.node_flags = j.value("node_flags", std::vector<std::string>{});
    s.initial_peers = j.value("initial_peers", std::string());
    s.initial_cluster_token = j.value("initial_cluster_token", std::string());
    s.tls = j.value("tls", false);
    s.auth = j.value("auth", false);
    for (const auto& jn : j.at("nodes")) {
      NodeRecord n;
      n.id = jn.at("id").get<std::string>();
      n.port = jn.at("port").get<uint16_t>();
      n.http_port = jn.value("http_port", uint16_t{0});
      n.pid = jn.value("pid", 0);
      n.start_time_ticks = jn.value("start_time_ticks", uint64_t{0});
      n.data_dir = jn.at("data_dir").get<std::string>();
      n.log_path = jn.at("log").get<std::string>();
      n.paused = jn.value("paused", false);
      n.bootstrapped = jn.value("bootstrapped", true);
      n.joined = jn.value("joined", false);
      n.faults.drop_to = jn.value("drop_to", std::vector<std::string>{});
      n.faults.drop_from = jn.value("drop_from", std::vector<std::string>{});
      s.nodes.push_back(std::move(n));
    }
    if (s.nodes.empty()) return "the state lists no nodes";
    *out = std::move(s);
    return "";
  } catch (const std::exception& e) {
    return std::string("malformed state: ") + e.what();
  }
}

std::string load_state(const std::string& dir, ClusterState* out) {
  const fs::path path = fs::path(dir) / kStateFileName;
  std::ifstream in(path);
  if (!in) return "no cluster state at " + path.string();
  std::stringstream text;
  text << in.rdbuf();
  if (auto e = state_from_json(text.str(), out); !e.empty()) return path.string() + ": " + e;
  out->dir = dir;
  return "";
}

tls::TlsFiles ClusterState::client_tls_files() const {
  if (!tls) return {};
  return {tls_dir() + "/client.pem", tls_dir() + "/client-key.pem", tls_dir() + "/ca.pem", false};
}

std::string ClusterState::client_token() const {
  if (!auth) return "";
  std::ifstream in(auth_dir() + "/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

tls::TlsMaterial ClusterState::client_tls() const {
  tls::TlsMaterial m;
  std::string ignored;
  if (tls) tls::load_tls(client_tls_files(), tls::kCliFlags, false, &m, &ignored);
  return m;
}

std::string save_state(const std::string& dir, const ClusterState& state) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir + ": " + ec.message();
  const fs::path path = fs::path(dir) / kStateFileName;
  const fs::path tmp = fs::path(dir) / (std::string(kStateFileName) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state_to_json(state);
    out.flush();
    if (!out) return "cannot write " + tmp.string();
  }
  // Readers see the old state or the new one, never half of it.
  fs::rename(tmp, path, ec);
  if (ec) return "cannot write " + path.string() + ": " + ec.message();
  return "";
}

StateLock::StateLock(const std::string& dir, int timeout_ms) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const int fd = ::open((fs::path(dir) / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fd_ = fd;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace mq::playground
