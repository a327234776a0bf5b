// mq repl: the interactive client (and the line-driven one when piped).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/repl.h"

namespace mq::cli {

int cmd_repl(int argc, char** argv) {
  ClientFlags flags;
  CLI::App app{"Interactive client. When stdin is not a terminal, runs one command per line "
               "and prints exactly one result line per command.",
               "mq repl"};
  add_client_flags(app, flags, true);
  app.footer(R"(Examples:
  mq repl
  mq repl --endpoints 127.0.0.1:7002
  printf 'set u k v\nget u k\n' | mq repl            # prints: OK, then v
  printf 'get u k\n' | mq repl -o json               # one JSON object per line

Inside: set USER KEY VALUE, get USER KEY, del USER KEY, keys USER [GLOB],
status, help, quit. History is kept in $MQ_HISTFILE (default ~/.mq_history).
Piped output: plain prints OK, the value (escaped and quoted when it holds
spaces or non-printable bytes), (nil) when missing, (error) MESSAGE on
failure; json prints one object per line.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  if (auto e = resolve_client_flags(flags, &resolved); !e.empty()) {
    std::fprintf(stderr, "mq repl: %s\n", e.c_str());
    return 2;
  }
  ReplOptions options;
  options.client = resolved.options;
  options.format = flags.output.empty() ? Format::kPlain : resolved.format;
  options.consistency = resolved.consistency;
  options.interactive = isatty(STDIN_FILENO);
  return run_repl(options);
}

}  // namespace mq::cli
