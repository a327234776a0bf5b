// The REPL. On a terminal: line editing, history (MQ_HISTFILE, default
// ~/.mq_history), tab completion of commands, a prompt naming the endpoint
// that says when the connection is down. Otherwise (a pipe or a file): one
// command per line and exactly one result line per command on stdout, so a
// program can drive it as a coprocess.
#pragma once

#include "cli/client/client.h"
#include "cli/output.h"

namespace mq::cli {

struct ReplOptions {
  ClientOptions client;
  Format format = Format::kPlain;  // plain or json in piped mode
  Consistency consistency = Consistency::kLinearizable;
  bool interactive = true;
};

// Returns 0 at quit/EOF.
int run_repl(const ReplOptions& options);

// Executes one REPL line; returns what to print on stdout (one line when
// one_line) and whether the REPL should end. Exposed for tests.
struct ReplStep {
  std::string output;
  bool quit = false;
};
ReplStep repl_execute(Client& client, const std::string& line, Format format,
                      Consistency consistency, bool one_line);

}  // namespace mq::cli
