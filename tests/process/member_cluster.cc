#include "member_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

// The listener below derives from Catch's reporter interfaces, which only
// the main file sees unless asked for.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mq::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint16_t kBlockFirst = 15000;
constexpr uint16_t kBlockEnd = 16000;  // one past the last port of the block
constexpr int kPickAttemptsMax = 64;

bool port_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

// Every shard the node holds has a leader it knows of.
bool all_led(const NodeProcess& node) {
  const RunResult r = node.client({"status", "-o", "json", "--timeout", "1s"});
  if (r.exit_code != 0) return false;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("shards") || j["shards"].empty()) return false;
  for (const auto& s : j["shards"]) {
    if (s["leader"].get<std::string>().empty()) return false;
  }
  return true;
}

std::string tail(const std::string& text, size_t lines_max) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > lines_max) lines.erase(lines.begin());
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

bool g_test_failed = false;

// Remembers whether the running test case failed an assertion, so that a
// cluster prints its nodes' logs exactly when someone needs to read them.
struct FailureListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override { g_test_failed = false; }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.succeeded()) g_test_failed = true;
    return true;
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(FailureListener)

uint16_t reserve_member_ports(size_t count) {
  // Random blocks, so that two test binaries running at once rarely try
  // the same one; each candidate is checked port by port.
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                   static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> pick(kBlockFirst, kBlockEnd - static_cast<int>(count));
  for (int attempt = 0; attempt < kPickAttemptsMax; ++attempt) {
    const auto base = static_cast<uint16_t>(pick(rng));
    bool free = true;
    for (size_t i = 0; i < count && free; ++i) free = port_free(static_cast<uint16_t>(base + i));
    if (free) return base;
  }
  throw std::runtime_error("no " + std::to_string(count) + " free consecutive ports in 15000-15999");
}

MemberCluster::MemberCluster(MemberClusterOptions options) : options_(options) {
  base_port_ = reserve_member_ports(options_.nodes + options_.spare_ports);
  std::string peers;
  for (size_t i = 0; i < options_.nodes; ++i) {
    peers += (i ? "," : "") + std::string("n") + std::to_string(i + 1) + "=" + endpoint(i);
  }
  for (size_t i = 0; i < options_.nodes; ++i) {
    std::vector<std::string> flags = {"--shards", std::to_string(options_.shards)};
    if (options_.nodes > 1) flags.insert(flags.end(), {"--peers", peers, "--initial-cluster-state", "new"});
    if (options_.member_changes) flags.push_back("--enable-member-changes");
    const std::string id = "n" + std::to_string(i + 1);
    nodes_.push_back(std::make_unique<NodeProcess>(dir_ / id, static_cast<uint16_t>(base_port_ + i),
                                                   flags, id));
    flags_.push_back(std::move(flags));
  }
}

NodeProcess& MemberCluster::restart(size_t i) {
  const std::string id = "n" + std::to_string(i + 1);
  nodes_.at(i).reset();  // stops it by its PID, if it still runs
  nodes_[i] = std::make_unique<NodeProcess>(dir_ / id, static_cast<uint16_t>(base_port_ + i), flags_[i], id);
  return *nodes_[i];
}

MemberCluster::~MemberCluster() {
  if (g_test_failed || std::uncaught_exceptions() > 0) std::cerr << logs();
  // The NodeProcess destructors stop each node by its PID and reap it.
}

std::string MemberCluster::endpoint(size_t node) const {
  return "127.0.0.1:" + std::to_string(base_port_ + node);
}

std::string MemberCluster::spare_address(size_t k) const {
  if (k >= options_.spare_ports) throw std::out_of_range("no such spare port");
  return "127.0.0.1:" + std::to_string(base_port_ + options_.nodes + k);
}

bool MemberCluster::wait_ready(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left_ms = [&] {
    return static_cast<int>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  };
  for (auto& n : nodes_) {
    if (!n->wait_ready(left_ms())) return false;
    // Bounded by the deadline; each try is one bounded status call.
    while (!all_led(*n)) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

NodeProcess& MemberCluster::start_joiner(const std::string& name, size_t spare,
                                         const std::vector<std::string>& extra_flags) {
  const std::string address = spare_address(spare);
  const auto port = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  std::vector<std::string> flags = {"--join", endpoint(0)};
  if (options_.member_changes) flags.push_back("--enable-member-changes");
  flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
  joiners_.push_back(std::make_unique<NodeProcess>(dir_ / name, port, flags, name));
  joiner_names_.push_back(name);
  return *joiners_.back();
}

NodeProcess& MemberCluster::restart_joiner(const std::string& name, size_t spare,
                                           const std::vector<std::string>& extra_flags) {
  for (size_t i = 0; i < joiners_.size(); ++i) {
    if (joiner_names_[i] == name && !joiners_[i]->process().exited()) joiners_[i]->stop();
  }
  return start_joiner(name, spare, extra_flags);
}

RunResult MemberCluster::mq_at(size_t node, std::vector<std::string> args) const {
  args.push_back("--endpoints");
  args.push_back(endpoint(node));
  return run_mq(args);
}

std::string MemberCluster::logs() const {
  std::string out;
  for (const auto* list : {&nodes_, &joiners_}) {
    for (const auto& n : *list) {
      out += "---- log of the node on " + n->endpoint() + ", last lines ----\n" + tail(n->log(), 30);
    }
  }
  return out;
}

}  // namespace mq::test
