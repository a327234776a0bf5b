#include "cli/repl_interrupts.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace mq::cli {

namespace {

// The write end of the pipe the handler signals through. One REPL per
// process, so one slot.
volatile sig_atomic_t g_signal_fd = -1;

constexpr char kInterrupt = 'i';
constexpr char kStop = 's';

void on_sigint(int) {
  const int saved = errno;
  const int fd = g_signal_fd;
  if (fd >= 0) {
    const char byte = kInterrupt;
    // A full pipe means many Ctrl-C are already pending: dropping one is fine.
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
  }
  errno = saved;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) fds[0] = fds[1] = -1;
}

}  // namespace

ReplInterrupts::ReplInterrupts() {
  make_pipe(signal_pipe_);
  make_pipe(prompt_pipe_);
  if (signal_pipe_[1] >= 0) ::fcntl(signal_pipe_[1], F_SETFL, O_NONBLOCK);
  if (prompt_pipe_[0] >= 0) ::fcntl(prompt_pipe_[0], F_SETFL, O_NONBLOCK);
  if (prompt_pipe_[1] >= 0) ::fcntl(prompt_pipe_[1], F_SETFL, O_NONBLOCK);
  g_signal_fd = signal_pipe_[1];
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  // Restarted system calls: a Ctrl-C must not look like end of input to a
  // read in progress; the pipe is what reports it.
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &previous_);
  watcher_ = std::thread([this] { watch(); });
}

ReplInterrupts::~ReplInterrupts() {
  ::sigaction(SIGINT, &previous_, nullptr);
  g_signal_fd = -1;
  const char byte = kStop;
  if (signal_pipe_[1] >= 0) [[maybe_unused]] ssize_t n = ::write(signal_pipe_[1], &byte, 1);
  if (watcher_.joinable()) watcher_.join();
  for (int fd : {signal_pipe_[0], signal_pipe_[1], prompt_pipe_[0], prompt_pipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void ReplInterrupts::running(Client* client) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_ = client;
}

bool ReplInterrupts::take_prompt_interrupt() {
  char buf[64];
  bool any = false;
  while (::read(prompt_pipe_[0], buf, sizeof buf) > 0) any = true;
  return any;
}

void ReplInterrupts::watch() {
  // Ends on kStop from the destructor (or a broken pipe).
  while (true) {
    char byte = 0;
    const ssize_t n = ::read(signal_pipe_[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == kStop) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_) {
      running_->cancel();
    } else {
      [[maybe_unused]] ssize_t w = ::write(prompt_pipe_[1], &byte, 1);
    }
  }
}

}  // namespace mq::cli
