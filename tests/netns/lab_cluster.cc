#include "tests/netns/lab_cluster.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cli/client/client.h"
#include "playground/local_ca.h"

namespace mq::netns {
namespace {

constexpr int kPort = 7000;
constexpr int kStopTimeoutMs = 10'000;
// Where readdress() moves node K: its certificate names this address too.
constexpr int kReaddressOffset = 100;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

LabCluster::LabCluster(NetLab* lab, LabClusterOptions options) : lab_(lab), options_(options) {
  const std::string tls_dir = dir_ / "tls";
  std::filesystem::create_directories(tls_dir);
  std::string error;
  if (!playground::ensure_local_ca(tls_dir, &error)) throw std::runtime_error(error);
  const std::string subnet = "10.213." + std::to_string(options_.subnet) + ".";
  for (int k = 1; k <= options_.nodes; ++k) {
    const std::string id = "n" + std::to_string(k);
    ids_.push_back(id);
    ips_[id] = subnet + std::to_string(k);
    playground::CertificateSpec spec;
    spec.name = id;
    spec.dns = {id, host_name(id)};
    spec.ips = {ips_[id], subnet + std::to_string(k + kReaddressOffset)};
    if (!playground::issue_certificate(tls_dir, spec, &error)) throw std::runtime_error(error);
  }
  playground::CertificateSpec client;
  client.name = "client";
  client.dns = {"client"};
  if (!playground::issue_certificate(tls_dir, client, &error)) throw std::runtime_error(error);
  client_tls_.ca_pem = read_file(tls_dir + "/ca.pem");
  client_tls_.cert_pem = read_file(tls_dir + "/client.pem");
  client_tls_.key_pem = read_file(tls_dir + "/client-key.pem");
  for (const auto& id : ids_) lab_->add_node(id, ips_[id]);
  write_hosts();
}

LabCluster::~LabCluster() {
  for (const auto& id : ids_) stop(id);
  for (const auto& id : ids_) lab_->remove_node(id);
}

std::vector<std::string> LabCluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& id : ids_) out.push_back(ips_.at(id) + ":" + std::to_string(kPort));
  return out;
}

std::vector<std::string> LabCluster::node_args(const std::string& id) const {
  const std::string port = std::to_string(kPort);
  std::string peers;
  for (const auto& p : ids_) {
    peers += (peers.empty() ? "" : ",") + p + "=" +
             (options_.peers_by_name ? host_name(p) : ips_.at(p)) + ":" + port;
  }
  const std::string tls = dir_ / "tls/";
  std::vector<std::string> args = {find_tool("ip"), "netns", "exec", lab_->node_namespace(id),
                                   MQ_BINARY, "node", "--id", id};
  if (options_.peers_by_name) {
    // Bound on every address of the namespace, known by name: the address
    // under the name may change between runs.
    args.insert(args.end(), {"--listen", "0.0.0.0:" + port, "--advertise", host_name(id) + ":" + port});
  } else {
    args.insert(args.end(), {"--listen", ips_.at(id) + ":" + port});
  }
  args.insert(args.end(),
              {"--peers", peers, "--shards", std::to_string(options_.shards), "--replication",
               std::to_string(options_.replication), "--data-dir", dir_ / id,
               "--cert-file", tls + id + ".pem", "--key-file", tls + id + "-key.pem",
               "--trusted-ca-file", tls + "ca.pem", "--client-cert-auth",
               "--peer-cert-file", tls + id + ".pem", "--peer-key-file", tls + id + "-key.pem",
               "--peer-trusted-ca-file", tls + "ca.pem"});
  if (!std::filesystem::exists(dir_ / id)) args.insert(args.end(), {"--initial-cluster-state", "new"});
  return args;
}

void LabCluster::start(const std::string& id) {
  test::SpawnOptions o;
  o.argv = node_args(id);
  o.stderr_path = dir_ / (id + ".log");
  processes_[id] = std::make_unique<test::Subprocess>(o);
}

void LabCluster::stop(const std::string& id) {
  auto it = processes_.find(id);
  if (it == processes_.end()) return;
  it->second->signal(SIGTERM);
  it->second->wait(kStopTimeoutMs);
  processes_.erase(it);  // SIGKILLs and reaps one that did not exit
}

void LabCluster::readdress(const std::string& id, const std::string& new_ip) {
  lab_->readdress_node(id, new_ip);
  ips_[id] = new_ip;
  write_hosts();
}

void LabCluster::write_hosts() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& id : ids_) names.emplace_back(host_name(id), ips_.at(id));
  lab_->set_hosts(names);
}

std::map<uint32_t, std::string> LabCluster::leaders() {
  // Each node reports the shards it holds a replica of (with replication
  // below the node count, not all of them): the union of the answers.
  std::map<uint32_t, std::string> out;
  for (const auto& id : ids_) {
    if (!processes_.count(id)) continue;
    cli::ClientOptions co;
    co.endpoints = {ips_.at(id) + ":" + std::to_string(kPort)};
    co.tls = client_tls_;
    co.timeout_ms = 1000;
    co.dial_timeout_ms = 500;
    cli::Client client(co);
    cli::ClusterStatus status;
    if (!client.status(&status).ok()) continue;
    for (const auto& s : status.shards) {
      if (!s.leader.empty() && !out.count(s.id)) out[s.id] = s.leader;
    }
  }
  return out;
}

bool LabCluster::wait_all_led(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& [id, process] : processes_) {
      if (process->wait(0)) return false;  // exited: it will not lead anything
    }
    if (leaders().size() == options_.shards) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

std::string LabCluster::leader_of(uint32_t shard) {
  const auto all = leaders();
  const auto it = all.find(shard);
  return it == all.end() ? "" : it->second;
}

std::string LabCluster::logs_tail() const {
  std::string out;
  for (const auto& id : ids_) {
    const std::string log = read_file(dir_ / (id + ".log"));
    out += "--- " + id + " (last 2000 bytes of its log)\n" +
           (log.size() > 2000 ? log.substr(log.size() - 2000) : log) + "\n";
  }
  return out;
}

}  // namespace mq::netns
