// The mq binary: node server, one-shot client, REPL, local cluster
// launcher, in one executable. The commands are in command_table.cc.
#include <grpc/support/log.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/top_level.h"
#include "node/server/lock_order_checks.h"

int main(int argc, char** argv) {
  using namespace mq::cli;
  mq::server::disable_lock_order_checks();
  // gRPC's own log lines (a failed TLS handshake, say) are for a server's
  // log; a client command says what went wrong in its one line instead.
  if (argc < 2 || std::string(argv[1]) != "node") gpr_set_log_function([](gpr_log_func_args*) {});
  if (argc < 2) {
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
      std::string name = "mq repl";
      char* args[] = {name.data(), nullptr};
      return cmd_repl(1, args);
    }
    print_usage(stderr);
    return 2;
  }
  return run_mq(std::vector<std::string>(argv + 1, argv + argc));
}
