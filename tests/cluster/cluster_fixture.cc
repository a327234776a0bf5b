#include "cluster_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace mq::test {

namespace bp = boost::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool port_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

nlohmann::json Run::json() const {
  auto j = nlohmann::json::parse(out, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

bool wait_ms_until(const std::function<bool()>& pred, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

Run mq(const std::vector<std::string>& args, int timeout_ms) {
  return mq_with_stdin(args, "", timeout_ms);
}

Run mq_with_stdin(const std::vector<std::string>& args, const std::string& input, int timeout_ms) {
  static int counter = 0;
  const std::string base = (fs::temp_directory_path() /
                            ("mq-cluster-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter)))
                               .string();
  Run r;
  {
    // The nodes a command spawns must not inherit the test's environment
    // settings for clients.
    bp::environment env = boost::this_process::environment();
    for (const char* v : {"MQ_ENDPOINTS", "MQ_OUTPUT", "MQ_CLUSTER", "MQ_CLUSTER_DIR", "MQ_HOME"}) {
      if (env.find(v) != env.end()) env.erase(v);
    }
    {
      std::ofstream in(base + ".in", std::ios::binary | std::ios::trunc);
      in << input;
    }
    bp::child c(bp::exe = MQ_BINARY, bp::args = args, bp::std_in < base + ".in",
                bp::std_out > base + ".out", bp::std_err > base + ".err", env);
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (c.running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (c.running()) {
      c.terminate();
      r.exit_code = -1;
    } else {
      c.wait();
      r.exit_code = c.exit_code();
    }
  }
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::error_code ec;
  fs::remove(base + ".in", ec);
  fs::remove(base + ".out", ec);
  fs::remove(base + ".err", ec);
  return r;
}

uint16_t free_port_run(int n) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  // Below the kernel's ephemeral range (32768 and up by default): a port
  // there can be taken between this check and the node's bind, by a peer
  // listener whose port the kernel picks or by a connection's local end.
  std::uniform_int_distribution<int> pick(kPortRunFirst, kPortRunLast - 1000 - n);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(rng);
    bool ok = true;
    // The launcher also gives each node an HTTP port, 1000 above its own.
    for (int i = 0; i < n && ok; ++i) {
      ok = port_free(static_cast<uint16_t>(base + i)) && port_free(static_cast<uint16_t>(base + 1000 + i));
    }
    if (ok) return static_cast<uint16_t>(base);
  }
  return 0;
}

bool process_runs_with(int pid, const std::string& needle) {
  if (pid <= 0) return false;
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  if (stat[close + 2] == 'Z') return false;
  std::string cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(needle) != std::string::npos;
}

TestCluster::TestCluster(int nodes, uint32_t shards) : nodes_(nodes), shards_(shards) {
  char tmpl[] = "/tmp/mq-cluster-XXXXXX";
  root_ = ::mkdtemp(tmpl);
  dir_ = root_ + "/state";
  base_port_ = free_port_run(nodes);
}

TestCluster::~TestCluster() {
  mq({"cluster", "down", "--purge", "--dir", dir_, "--timeout", "3s"}, 20'000);
  kill_leftovers();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::vector<int> TestCluster::recorded_pids() const {
  std::vector<int> pids;
  auto j = nlohmann::json::parse(slurp(dir_ + "/cluster.json"), nullptr, false);
  if (j.is_discarded()) return pids;
  for (const auto& n : j["nodes"]) pids.push_back(n.value("pid", 0));
  return pids;
}

void TestCluster::kill_leftovers() {
  // Anything still running with our state directory on its command line is
  // one of our nodes (the directory name is unique to this test).
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    if (process_runs_with(pid, "--data-dir " + dir_ + "/")) ::kill(pid, SIGKILL);
  }
}

Run TestCluster::cluster(const std::string& verb, std::vector<std::string> args, int timeout_ms) {
  std::vector<std::string> full = {"cluster", verb};
  full.insert(full.end(), args.begin(), args.end());
  full.push_back("--dir");
  full.push_back(dir_);
  return mq(full, timeout_ms);
}

nlohmann::json TestCluster::status() { return cluster("status", {"-o", "json"}, 10'000).json(); }

}  // namespace mq::test
