#include "pty_process.h"

#include <poll.h>
#include <pty.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace mq::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

PtyProcess::PtyProcess(const std::vector<std::string>& argv_in,
                       const std::vector<std::pair<std::string, std::string>>& env_in) {
  std::vector<std::string> args = argv_in;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "MQ_", 3) != 0 && std::strncmp(*e, "TERM=", 5) != 0) env.emplace_back(*e);
  }
  for (const auto& [name, value] : env_in) env.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::forkpty(&master_fd_, nullptr, nullptr, nullptr);
  if (pid_ < 0) throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  alive_ = true;
}

PtyProcess::~PtyProcess() {
  if (alive_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (master_fd_ >= 0) ::close(master_fd_);
}

bool PtyProcess::type(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(master_fd_, text.data(), text.size());
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool PtyProcess::wait_for(std::string_view needle, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const size_t at = screen_.find(needle);
    if (at != std::string::npos) {
      screen_.erase(0, at + needle.size());
      return true;
    }
    if (master_fd_ < 0 || Clock::now() >= deadline) return false;
    pollfd fd{master_fd_, POLLIN, 0};
    if (::poll(&fd, 1, remaining_ms(deadline)) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(master_fd_, buf, sizeof buf);
    if (n > 0) {
      screen_.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      // EIO: the child closed the terminal (it exited).
      ::close(master_fd_);
      master_fd_ = -1;
    }
  }
}

std::optional<int> PtyProcess::wait_exit(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (alive_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      alive_ = false;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    // Keep draining the terminal so the child never blocks writing to it;
    // the needle never appears, so this only reads for up to 20 ms.
    wait_for(std::string_view("\x01\x02\x03", 3), std::min(remaining_ms(deadline), 20));
  }
  return exit_status_;
}

}  // namespace mq::test
