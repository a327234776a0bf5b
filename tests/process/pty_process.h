// A child process on a pseudo-terminal, for what only happens on a
// terminal (the interactive REPL's prompt). Same guarantees as Subprocess:
// every wait is bounded, and the child is killed and reaped on destruction.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::test {

class PtyProcess {
 public:
  // argv[0] is the executable's path; MQ_* variables are dropped from the
  // environment and env is added (TERM=dumb keeps escape codes out).
  PtyProcess(const std::vector<std::string>& argv,
             const std::vector<std::pair<std::string, std::string>>& env);
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  // Types text as a user would (end a line with "\r").
  bool type(std::string_view text);
  // Reads terminal output until it contains needle (searching only text not
  // consumed by an earlier call); true when found within timeout_ms. The
  // search consumes everything up to and including the needle.
  bool wait_for(std::string_view needle, int timeout_ms);
  // The terminal output not consumed yet.
  const std::string& pending() const { return screen_; }

  // The exit status (128 + N for signal N), nullopt on timeout.
  std::optional<int> wait_exit(int timeout_ms);

 private:
  pid_t pid_ = -1;
  bool alive_ = false;
  int exit_status_ = -1;
  int master_fd_ = -1;
  std::string screen_;
};

}  // namespace mq::test
