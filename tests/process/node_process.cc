#include "node_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mq::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(20);

}  // namespace

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  return sa;
}

const std::string& mq_binary() {
  static const std::string path = MQ_BINARY;
  return path;
}

uint16_t free_loopback_port() {
  // The kernel may hand the same ephemeral port to two binds in a row once
  // the first socket is closed, so a test asking for two ports could get one
  // twice. Remember what this process was given and never give it again.
  static std::mutex mu;
  static std::set<uint16_t> given;
  const std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    sockaddr_in sa = loopback(0);
    socklen_t len = sizeof sa;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot bind 127.0.0.1:0");
    }
    ::close(fd);
    const uint16_t port = ntohs(sa.sin_port);
    if (given.insert(port).second) return port;
  }
  throw std::runtime_error("no loopback port left that this process was not given already");
}

bool port_accepts(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "mq-process-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

RunResult run_mq(const std::vector<std::string>& args, std::string_view stdin_data,
             const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> argv = {mq_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, stdin_data, env);
}

NodeProcess::NodeProcess(std::string data_dir, uint16_t port, std::vector<std::string> extra_flags,
                         std::string id)
    : data_dir_(std::move(data_dir)), log_path_(data_dir_ + ".log"), port_(port) {
  SpawnOptions options;
  options.argv = {mq_binary(), "node", "--id", id, "--listen", endpoint(), "--data-dir", data_dir_};
  options.argv.insert(options.argv.end(), extra_flags.begin(), extra_flags.end());
  options.stderr_path = log_path_;
  process_ = std::make_unique<Subprocess>(options);
}

NodeProcess::~NodeProcess() {
  // Subprocess's destructor kills and reaps; a graceful stop first keeps the
  // data dir's lock file tidy for the next node in the same test.
  if (!process_->exited()) stop(kNodeStopTimeoutMs);
}

bool NodeProcess::wait_ready(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (process_->wait(0)) return false;  // exited: it will never answer
    if (port_accepts(port_)) {
      // Listening is not serving: a shard needs a leader first.
      const RunResult r = client({"get", "--timeout", "1s", "ready-probe", "k"});
      if (r.exit_code == 0 || r.exit_code == 1) return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

std::optional<int> NodeProcess::stop(int timeout_ms) {
  process_->signal(SIGTERM);
  process_->signal(SIGCONT);  // a node a test paused must still see the SIGTERM
  return process_->wait(timeout_ms);
}

std::string NodeProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

RunResult NodeProcess::client(std::vector<std::string> args, std::string_view stdin_data) const {
  args.push_back("--endpoints");
  args.push_back(endpoint());
  return run_mq(args, stdin_data);
}

}  // namespace mq::test
