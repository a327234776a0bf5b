// Ctrl-C in the interactive REPL. SIGINT must neither kill the REPL nor be
// lost: at the prompt it discards the line being typed; while a command
// runs it cancels the command's request. A signal handler can do neither
// (both need locks), so the handler only writes a byte to a pipe; a watcher
// thread reads it and either cancels the running request or passes the
// interrupt on to the prompt loop, which polls prompt_fd().
#pragma once

#include <signal.h>

#include <mutex>
#include <thread>

#include "cli/client/client.h"

namespace mq::cli {

class ReplInterrupts {
 public:
  // Installs the SIGINT handler; the previous one comes back on destruction.
  ReplInterrupts();
  ~ReplInterrupts();
  ReplInterrupts(const ReplInterrupts&) = delete;
  ReplInterrupts& operator=(const ReplInterrupts&) = delete;

  // Readable (one byte per Ctrl-C) when Ctrl-C came while no command ran.
  int prompt_fd() const { return prompt_pipe_[0]; }
  // Reads away what prompt_fd() holds; true when there was something.
  bool take_prompt_interrupt();

  // While set, Ctrl-C cancels this client's request instead.
  void running(Client* client);

 private:
  void watch();

  int signal_pipe_[2] = {-1, -1};
  int prompt_pipe_[2] = {-1, -1};
  struct sigaction previous_ {};
  std::mutex mutex_;
  Client* running_ = nullptr;
  std::thread watcher_;
};

}  // namespace mq::cli
