// Ctrl-C (SIGINT) and SIGTERM for the failover demo: instead of killing the
// process in the middle of a fault (a node left stopped by SIGSTOP, a
// partition left in place, a killed node left down), a signal becomes a
// request that the demo answers at its next wait: undo the fault, print
// the partial report, exit 128 + the signal's number (130, 143).
//
// The handler only records the signal and writes a byte to a pipe (the
// self-pipe trick), so every wait of the demo can be woken by it at once.
// A further signal does not cut the undo short (an interrupted undo is
// exactly the state this exists to avoid): the handler writes a note to
// stderr instead, by default that the demo is stopping and undoes the
// fault first, and while an undo runs the one set with set_undo_note(),
// which says what is being undone and how to finish it by hand. Every undo
// step is bounded in time, so the process still ends; SIGKILL remains for
// whoever cannot wait.
//
// One instance at a time (signal dispositions are process-wide); the
// previous dispositions come back when it is destroyed, so the REPL's
// `\demo` leaves the REPL's own handling as it was.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

namespace mq::playground {

class InterruptLatch {
 public:
  using Clock = std::chrono::steady_clock;

  InterruptLatch();
  ~InterruptLatch();
  InterruptLatch(const InterruptLatch&) = delete;
  InterruptLatch& operator=(const InterruptLatch&) = delete;

  // The first signal received (SIGINT or SIGTERM), 0 when none yet.
  int signal() const;
  bool interrupted() const { return signal() != 0; }
  // Signals received so far.
  int count() const;

  // Sleeps until the deadline; false (early) once a signal has arrived.
  bool sleep_until(Clock::time_point deadline);
  bool sleep_for(std::chrono::milliseconds d) { return sleep_until(Clock::now() + d); }

  // What a further signal prints while an undo runs ("": back to the
  // default note); truncated to a fixed buffer, since the handler may not
  // allocate.
  void set_undo_note(const std::string& note);
  static constexpr const char* kDefaultNote =
      "mq demo failover: stopping; a fault in place is undone first, then the report is printed\n";

  // 128 + the signal, the shell's convention for "ended by this signal".
  static int exit_code_for(int signal) { return 128 + signal; }
  static const char* signal_name(int signal);

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace mq::playground
