// Child processes for the process-level tests: spawn by fork/exec, feed
// stdin, capture stdout and stderr, wait with a bound, and always reap.
//
// Every wait here takes a timeout: a hung child fails the test instead of
// hanging it. A Subprocess that goes out of scope kills (SIGKILL) and reaps
// its child, so nothing outlives a failed assertion; the child also gets
// SIGKILL if the test binary itself dies (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mq::test {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the executable's path
  // Set in the child's environment; every other MQ_* variable is removed so
  // the developer's settings never leak into a test.
  std::vector<std::pair<std::string, std::string>> env;
  bool pipe_stdin = false;  // else stdin is /dev/null
  // Where stderr goes: "" for a pipe read by the test, else a file (for a
  // long-running node whose log nobody drains while the test runs).
  std::string stderr_path;
};

class Subprocess {
 public:
  explicit Subprocess(const SpawnOptions& options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Writes all of data to the child's stdin (pipe_stdin only); false once
  // the child has closed it or timeout_ms passed.
  bool write_stdin(std::string_view data, int timeout_ms);
  void close_stdin();

  // The next line of stdout without its newline; nullopt when none arrives
  // within timeout_ms or stdout ends first.
  std::optional<std::string> read_line(int timeout_ms);

  // Sends a signal if the child has not been reaped yet.
  void signal(int signal_number);
  // SIGSTOP, then waits until the kernel reports the child stopped: kill()
  // returns before every thread of the child has stopped, and a request
  // sent in between may still be served. False if it did not stop in time.
  bool stop_and_wait(int timeout_ms);

  // Waits for the exit, reading stdout and stderr meanwhile. Returns the
  // exit status (128 + N for death by signal N), nullopt on timeout.
  std::optional<int> wait(int timeout_ms);
  bool exited() const { return !pid_alive_; }

  // Everything read so far (stdout minus the lines read_line returned).
  const std::string& stdout_text() const { return out_; }
  const std::string& stderr_text() const { return err_; }

 private:
  // Reads whatever is ready on stdout/stderr, waiting up to timeout_ms for
  // the first byte. False when both are closed.
  bool pump(int timeout_ms);
  void reap_nonblocking();

  pid_t pid_ = -1;
  bool pid_alive_ = false;
  int status_ = 0;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string out_;
  std::string err_;
};

struct RunResult {
  int exit_code = -1;  // -1 when the child did not finish in time (it was killed)
  std::string out;
  std::string err;
};

// Runs a command to completion: stdin_data is written then closed; the run
// is bounded by timeout_ms, after which the child is killed.
RunResult run(const std::vector<std::string>& argv, std::string_view stdin_data = {},
              const std::vector<std::pair<std::string, std::string>>& env = {},
              int timeout_ms = 10'000);

}  // namespace mq::test
