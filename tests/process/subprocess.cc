#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <stdexcept>

extern char** environ;

namespace mq::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::vector<std::string> child_environment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "MQ_", 3) != 0) env.emplace_back(*e);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Subprocess::Subprocess(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  // A child that exits early must not kill the test with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  int in_pipe[2] = {-1, -1}, out_pipe[2], err_pipe[2] = {-1, -1};
  if (options.pipe_stdin && ::pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  if (options.stderr_path.empty() && ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2");
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_file = -1;
  if (!options.stderr_path.empty()) {
    err_file = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_file < 0) throw std::runtime_error("cannot open " + options.stderr_path);
  }

  // Everything the child needs is built before fork: after it, the child
  // only calls async-signal-safe functions.
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv = c_strings(args);
  std::vector<std::string> env_strings = child_environment(options.env);
  std::vector<char*> envp = c_strings(env_strings);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the test died before prctl took effect
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    ::dup2(options.pipe_stdin ? in_pipe[0] : null_fd, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_file >= 0 ? err_file : err_pipe[1], STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    const char message[] = "exec failed\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  pid_alive_ = true;
  ::close(null_fd);
  if (err_file >= 0) ::close(err_file);
  if (options.pipe_stdin) {
    ::close(in_pipe[0]);
    stdin_fd_ = in_pipe[1];
    ::fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
  }
  ::close(out_pipe[1]);
  stdout_fd_ = out_pipe[0];
  if (err_pipe[1] >= 0) {
    ::close(err_pipe[1]);
    stderr_fd_ = err_pipe[0];
  }
}

Subprocess::~Subprocess() {
  if (pid_alive_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
    pid_alive_ = false;
  }
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

bool Subprocess::pump(int timeout_ms) {
  pollfd fds[2];
  int n = 0;
  if (stdout_fd_ >= 0) fds[n++] = {stdout_fd_, POLLIN, 0};
  if (stderr_fd_ >= 0) fds[n++] = {stderr_fd_, POLLIN, 0};
  if (n == 0) return false;
  if (::poll(fds, n, timeout_ms) <= 0) return true;
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    char buf[65536];
    const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
    const bool is_out = fds[i].fd == stdout_fd_;
    if (got > 0) {
      (is_out ? out_ : err_).append(buf, static_cast<size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      close_fd(is_out ? stdout_fd_ : stderr_fd_);
    }
  }
  return stdout_fd_ >= 0 || stderr_fd_ >= 0;
}

bool Subprocess::write_stdin(std::string_view data, int timeout_ms) {
  if (stdin_fd_ < 0) return false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!data.empty()) {
    const ssize_t n = ::write(stdin_fd_, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;  // EPIPE: the child is gone
    if (Clock::now() >= deadline) return false;
    // The child may be blocked writing its own output: drain it meanwhile.
    pollfd fd{stdin_fd_, POLLOUT, 0};
    if (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
      pump(0);
    }
    ::poll(&fd, 1, std::min(remaining_ms(deadline), 10));
  }
  return true;
}

void Subprocess::close_stdin() { close_fd(stdin_fd_); }

std::optional<std::string> Subprocess::read_line(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const size_t newline = out_.find('\n');
    if (newline != std::string::npos) {
      std::string line = out_.substr(0, newline);
      out_.erase(0, newline + 1);
      return line;
    }
    if (stdout_fd_ < 0 || Clock::now() >= deadline) return std::nullopt;
    pump(remaining_ms(deadline));
  }
}

void Subprocess::signal(int signal_number) {
  // While not reaped the pid is still ours (a zombie at worst), never reused.
  if (pid_alive_) ::kill(pid_, signal_number);
}

bool Subprocess::stop_and_wait(int timeout_ms) {
  if (!pid_alive_) return false;
  ::kill(pid_, SIGSTOP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::string stat_path = "/proc/" + std::to_string(pid_) + "/stat";
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat(stat_path);
    std::string line;
    std::getline(stat, line);
    // "pid (comm) S ...": the state follows the last ')'.
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'T') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

void Subprocess::reap_nonblocking() {
  if (!pid_alive_) return;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) pid_alive_ = false;
}

std::optional<int> Subprocess::wait(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    reap_nonblocking();
    const bool pipes_open = stdout_fd_ >= 0 || stderr_fd_ >= 0;
    if (!pid_alive_ && (!pipes_open || Clock::now() >= deadline)) break;
    if (Clock::now() >= deadline) return std::nullopt;
    if (pipes_open) {
      pump(std::min(remaining_ms(deadline), 10));
    } else {
      ::usleep(2000);
    }
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

RunResult run(const std::vector<std::string>& argv, std::string_view stdin_data,
              const std::vector<std::pair<std::string, std::string>>& env, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Subprocess p({argv, env, /*pipe_stdin=*/true, ""});
  RunResult r;
  p.write_stdin(stdin_data, timeout_ms);
  p.close_stdin();
  if (auto code = p.wait(remaining_ms(deadline))) r.exit_code = *code;
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

}  // namespace mq::test
