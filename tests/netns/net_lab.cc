#include "tests/netns/net_lab.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/process/subprocess.h"

namespace mq::netns {
namespace {

constexpr const char* kRunNetns = "/run/netns";
constexpr const char* kEtcNetns = "/etc/netns";
constexpr const char* kPrefix = "/16";  // the bridge and every node share 10.213.0.0/16

std::string ip_tool() {
  static const std::string path = find_tool("ip");
  return path;
}

std::string nft_tool() {
  static const std::string path = find_tool("nft");
  return path;
}

// Namespaces of earlier test binaries that died without cleaning up: their
// names carry a pid that no longer runs (or runs something that is not
// us, which /proc/PID/stat's state does not tell; a zombie counts as gone).
void remove_stale_namespaces() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kRunNetns, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("mqlab-", 0) != 0) continue;
    const pid_t pid = static_cast<pid_t>(std::atoi(name.c_str() + 6));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    bool alive = false;
    if (std::getline(stat, line)) {
      const size_t paren = line.rfind(')');
      alive = paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
    }
    if (alive) continue;
    test::run({ip_tool(), "netns", "del", name});
    std::filesystem::remove_all(std::string(kEtcNetns) + "/" + name, ec);
  }
}

void write_file_in_place(const std::string& path, const std::string& text) {
  // In place, not by rename: `ip netns exec` bind-mounts this file over
  // /etc/hosts, and a bind mount keeps following the inode it was given.
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

}  // namespace

std::string find_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::string lab_unavailable_reason() {
  if (::geteuid() != 0) return "needs root (network namespaces, veth, nftables)";
  if (ip_tool().empty()) return "needs ip (Debian package iproute2)";
  if (nft_tool().empty()) return "needs nft (Debian package nftables)";
  const std::string probe = "mqlab-" + std::to_string(::getpid()) + "-probe";
  const auto added = test::run({ip_tool(), "netns", "add", probe});
  if (added.exit_code != 0) return "cannot create a network namespace: " + added.err;
  const auto table = test::run({ip_tool(), "netns", "exec", probe, nft_tool(), "add", "table", "inet", "probe"});
  test::run({ip_tool(), "netns", "del", probe});
  if (table.exit_code != 0) return "nftables does not work in a network namespace: " + table.err;
  return "";
}

void run_or_throw(const std::vector<std::string>& argv, const std::string& stdin_data) {
  const auto r = test::run(argv, stdin_data);
  if (r.exit_code == 0) return;
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  throw std::runtime_error(command + " failed (" + std::to_string(r.exit_code) + "): " + r.err + r.out);
}

NetLab::NetLab() : prefix_("mqlab-" + std::to_string(::getpid())), switch_ns_(prefix_ + "-sw") {
  remove_stale_namespaces();
  run_or_throw({ip_tool(), "netns", "add", switch_ns_});
  const std::string s = switch_ns_;
  run_or_throw({ip_tool(), "-n", s, "link", "set", "lo", "up"});
  run_or_throw({ip_tool(), "-n", s, "link", "add", "br0", "type", "bridge"});
  run_or_throw({ip_tool(), "-n", s, "addr", "add", std::string("10.213.0.254") + kPrefix, "dev", "br0"});
  run_or_throw({ip_tool(), "-n", s, "link", "set", "br0", "up"});
  const int fd = ::open((std::string(kRunNetns) + "/" + switch_ns_).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot enter namespace " + switch_ns_ + ": " + why);
  }
  ::close(fd);
  // The test's own clients follow leader hints, which name nodes by their
  // advertised names: the calling thread gets a mount namespace of its own
  // with the lab's hosts file over /etc/hosts, as `ip netns exec` gives
  // each node.
  const std::string hosts = std::string(kEtcNetns) + "/" + switch_ns_ + "/hosts";
  std::filesystem::create_directories(std::string(kEtcNetns) + "/" + switch_ns_);
  write_file_in_place(hosts, "127.0.0.1 localhost\n");
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
      ::mount(hosts.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    throw std::runtime_error(std::string("cannot put the lab's hosts file over /etc/hosts: ") +
                             std::strerror(errno));
  }
}

NetLab::~NetLab() {
  while (!nodes_.empty()) remove_node(nodes_.back().name);
  test::run({ip_tool(), "netns", "del", switch_ns_});
  // The bind mount lives in this process's mount namespace and ends with
  // it; the file can go now.
  ::umount2("/etc/hosts", MNT_DETACH);
  std::error_code ec;
  std::filesystem::remove_all(std::string(kEtcNetns) + "/" + switch_ns_, ec);
}

std::string NetLab::add_node(const std::string& name, const std::string& ip) {
  Node n{name, prefix_ + "-" + name, ip};
  const std::string veth = "v" + std::to_string(++veth_counter_);
  run_or_throw({ip_tool(), "netns", "add", n.ns});
  nodes_.push_back(n);
  std::filesystem::create_directories(std::string(kEtcNetns) + "/" + n.ns);
  write_file_in_place(std::string(kEtcNetns) + "/" + n.ns + "/hosts", "127.0.0.1 localhost\n");
  run_or_throw({ip_tool(), "-n", switch_ns_, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                "netns", n.ns});
  run_or_throw({ip_tool(), "-n", switch_ns_, "link", "set", veth, "master", "br0", "up"});
  run_or_throw({ip_tool(), "-n", n.ns, "link", "set", "lo", "up"});
  run_or_throw({ip_tool(), "-n", n.ns, "addr", "add", ip + kPrefix, "dev", "eth0"});
  run_or_throw({ip_tool(), "-n", n.ns, "link", "set", "eth0", "up"});
  nft(name,
      "table inet mqfault {\n"
      "  chain input { type filter hook input priority 0; policy accept; }\n"
      "  chain output { type filter hook output priority 0; policy accept; }\n"
      "}\n");
  return n.ns;
}

void NetLab::remove_node(const std::string& name) {
  for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
    if (it->name != name) continue;
    test::run({ip_tool(), "netns", "del", it->ns});
    std::error_code ec;
    std::filesystem::remove_all(std::string(kEtcNetns) + "/" + it->ns, ec);
    nodes_.erase(it);
    return;
  }
}

void NetLab::readdress_node(const std::string& name, const std::string& new_ip) {
  Node& n = node(name);
  run_or_throw({ip_tool(), "-n", n.ns, "addr", "del", n.ip + kPrefix, "dev", "eth0"});
  run_or_throw({ip_tool(), "-n", n.ns, "addr", "add", new_ip + kPrefix, "dev", "eth0"});
  n.ip = new_ip;
}

void NetLab::set_hosts(const std::vector<std::pair<std::string, std::string>>& names) {
  std::string text = "127.0.0.1 localhost\n";
  for (const auto& [host, ip] : names) text += ip + " " + host + "\n";
  for (const Node& n : nodes_) write_file_in_place(std::string(kEtcNetns) + "/" + n.ns + "/hosts", text);
  write_file_in_place(std::string(kEtcNetns) + "/" + switch_ns_ + "/hosts", text);
}

void NetLab::drop_between(const std::string& name, const std::string& peer_ip) {
  nft(name, "add rule inet mqfault input ip saddr " + peer_ip + " drop\n"
            "add rule inet mqfault output ip daddr " + peer_ip + " drop\n");
}

void NetLab::drop_outgoing(const std::string& name, const std::string& peer_ip) {
  nft(name, "add rule inet mqfault output ip daddr " + peer_ip + " drop\n");
}

void NetLab::drop_all(const std::string& name) {
  nft(name, "add rule inet mqfault input iifname \"eth0\" drop\n"
            "add rule inet mqfault output oifname \"eth0\" drop\n");
}

void NetLab::heal(const std::string& name) {
  nft(name, "flush chain inet mqfault input\nflush chain inet mqfault output\n");
}

std::string NetLab::node_namespace(const std::string& name) const {
  for (const Node& n : nodes_) {
    if (n.name == name) return n.ns;
  }
  throw std::runtime_error("no lab node " + name);
}

NetLab::Node& NetLab::node(const std::string& name) {
  for (Node& n : nodes_) {
    if (n.name == name) return n;
  }
  throw std::runtime_error("no lab node " + name);
}

void NetLab::nft(const std::string& name, const std::string& script) {
  run_or_throw({ip_tool(), "netns", "exec", node(name).ns, nft_tool(), "-f", "-"}, script);
}

}  // namespace mq::netns
