// The top level of mq: its usage, `mq help [COMMAND [VERB]]`, `mq version`
// and the dispatch of `mq ARGS...` through the command table.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/leading_flags.h"
#include "cli/top_level.h"

namespace mq::cli {

std::string version_string() { return "mq " MQ_VERSION; }

void print_usage(FILE* out) {
  std::fprintf(out, R"(mq: a sharded, Raft-replicated, in-memory key-value store.

Usage: mq [flags] <command> [flags] [args]    (mq help <command> for details)

Commands:
)");
  for (const auto& s : subcommands()) std::fprintf(out, "  %-10s %s\n", s.name, s.summary);
  std::fprintf(out, R"(
Examples:
  mq cluster up
  mq set user123 greeting "hello world"
  mq get user123 greeting
  mq --endpoints db1:7001,db2:7001 keys user123 'g*'
  mq help cluster up
  source <(mq completion bash)

Client flags (set, get, del, keys, status, member, repl, bench), before or
after the command: --endpoints HOST:PORT[,...] or --cluster NAME,
-o plain|json|table, --timeout DURATION, -v. Every flag can also be set as
MQ_<FLAG>, e.g. MQ_ENDPOINTS, MQ_TIMEOUT=2s. Durations: 250ms, 5s, 1.5s, 2m, 1h.
Exit codes: 0 ok, 1 not found, 2 bad arguments, 3 cannot reach the cluster or
no quorum, 4 outcome unknown, 6 not allowed (credentials missing, wrong, or
without the right: see --token, --cert).
)");
}

int cmd_version(int argc, char** argv) {
  CLI::App app{"Print the version of mq.", "mq version"};
  app.footer("Examples:\n  mq version\n  mq --version");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  std::printf("%s\n", version_string().c_str());
  return 0;
}

int cmd_help(int argc, char** argv) {
  std::vector<std::string> words;
  CLI::App app{"Show the usage of mq, or the help of a command or verb.", "mq help"};
  app.add_option("COMMAND", words, "A command, and a verb of it: mq help cluster up");
  app.footer(R"(Examples:
  mq help
  mq help get                # same as: mq get --help
  mq help cluster up         # same as: mq cluster up --help)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  if (words.empty()) {
    print_usage(stdout);
    return 0;
  }
  // `mq help A B` is `mq A B --help`: the same lookup, the same
  // suggestions for a mistyped word, the same help text.
  words.push_back("--help");
  return run_mq(words);
}

int run_mq(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--version" || args[0] == "-V")) {
    std::printf("%s\n", version_string().c_str());
    return 0;
  }
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    print_usage(stdout);
    return 0;
  }
  LeadingFlagsResult moved = move_leading_flags(args);
  if (!moved.error.empty()) {
    std::fprintf(stderr, "mq: %s\nRun 'mq help' for usage.\n", moved.error.c_str());
    return 2;
  }
  std::vector<std::string> storage = {"mq"};
  storage.insert(storage.end(), moved.args.begin(), moved.args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return dispatch("mq", "command", subcommands(), print_usage, static_cast<int>(storage.size()),
                  argv.data());
}

}  // namespace mq::cli
