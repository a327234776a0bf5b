#include "playground/demo_interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace mq::playground {

namespace {

// Process-wide, like the dispositions they serve. Lock-free atomics and
// write(2) are what a handler may touch.
int wake_pipe[2] = {-1, -1};
std::atomic<int> first_signal{0};
std::atomic<int> signals_seen{0};
constexpr size_t kNoteBytesMax = 512;
char undo_note[kNoteBytesMax];
std::atomic<size_t> undo_note_bytes{0};

static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<size_t>::is_always_lock_free);

void on_signal(int sig) {
  const int saved_errno = errno;
  int none = 0;
  first_signal.compare_exchange_strong(none, sig);
  const int seen = signals_seen.fetch_add(1) + 1;
  if (wake_pipe[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] ssize_t w = ::write(wake_pipe[1], &byte, 1);
  }
  const size_t note = undo_note_bytes.load();
  if (seen >= 2 && note > 0) {
    [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, undo_note, note);
  }
  errno = saved_errno;
}

}  // namespace

InterruptLatch::InterruptLatch() {
  first_signal = 0;
  signals_seen = 0;
  set_undo_note("");
  if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    // Without the pipe the waits below still notice the flag, a poll
    // period later.
    wake_pipe[0] = wake_pipe[1] = -1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // Restarted system calls keep the client threads' blocking calls from
  // failing with EINTR on the way out.
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

InterruptLatch::~InterruptLatch() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  undo_note_bytes = 0;
  for (int& fd : wake_pipe) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

int InterruptLatch::signal() const { return first_signal.load(); }
int InterruptLatch::count() const { return signals_seen.load(); }

bool InterruptLatch::sleep_until(Clock::time_point deadline) {
  // Bounded by the deadline; each poll by a second at most, so a lost
  // wake-up (no pipe) costs at most that.
  while (!interrupted()) {
    const auto now = Clock::now();
    if (now >= deadline) return true;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    const int wait_ms = static_cast<int>(std::min<int64_t>(left.count(), 1000));
    if (wake_pipe[0] < 0) {
      ::poll(nullptr, 0, std::min(wait_ms, 50));
      continue;
    }
    pollfd p{wake_pipe[0], POLLIN, 0};
    if (::poll(&p, 1, wait_ms) > 0) {
      char drain[64];
      while (::read(wake_pipe[0], drain, sizeof drain) > 0) {
      }
    }
  }
  return false;
}

void InterruptLatch::set_undo_note(const std::string& note) {
  const std::string& text = note.empty() ? std::string(kDefaultNote) : note;
  // The handler reads nothing while the length is 0.
  undo_note_bytes = 0;
  const size_t n = std::min(text.size(), kNoteBytesMax);
  std::memcpy(undo_note, text.data(), n);
  undo_note_bytes = n;
}

const char* InterruptLatch::signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace mq::playground
