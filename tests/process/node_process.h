// A real `mq node` on a free loopback port, and the `mq` client commands
// that talk to it. The node is stopped (SIGKILL at worst) and reaped when
// the object goes away, so a failed assertion leaves nothing running.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "subprocess.h"

namespace mq::test {

// The mq binary under test (set by the build).
const std::string& mq_binary();

// 127.0.0.1:port as a socket address.
sockaddr_in loopback(uint16_t port);

// A port nobody listens on right now: bound to 127.0.0.1:0, read, closed.
// Never the same port twice in one process.
uint16_t free_loopback_port();

// True when something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(uint16_t port);

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `mq ARGS...` to completion (bounded), stdin_data on its stdin.
RunResult run_mq(const std::vector<std::string>& args, std::string_view stdin_data = {},
             const std::vector<std::pair<std::string, std::string>>& env = {});

constexpr int kNodeReadyTimeoutMs = 5000;
constexpr int kNodeStopTimeoutMs = 5000;

class NodeProcess {
 public:
  // Starts `mq node --id ID --listen 127.0.0.1:PORT --data-dir DIR EXTRA...`
  // with its log in DIR.log. Does not wait: see wait_ready().
  NodeProcess(std::string data_dir, uint16_t port, std::vector<std::string> extra_flags = {},
              std::string id = "n1");
  ~NodeProcess();

  // Polls (bounded) until a client request gets an answer; false if the
  // node exited or did not answer within timeout_ms.
  bool wait_ready(int timeout_ms = kNodeReadyTimeoutMs);
  // SIGTERM, then a bounded wait; the exit status, or nullopt on timeout.
  std::optional<int> stop(int timeout_ms = kNodeStopTimeoutMs);

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  Subprocess& process() { return *process_; }
  std::string log() const;

  // `mq ARGS... --endpoints ENDPOINT`.
  RunResult client(std::vector<std::string> args, std::string_view stdin_data = {}) const;

 private:
  std::string data_dir_;
  std::string log_path_;
  uint16_t port_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace mq::test
