// The mq binary: node server, one-shot client, REPL, in one executable.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "cli/suggest.h"
#include "node/server/lock_order_checks.h"

namespace mq::cli {

std::string version_string() { return "mq " MQ_VERSION; }

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"node", "Run one node (server)", cmd_node},
      {"set", "Set a key of a user", cmd_set},
      {"get", "Print the value of a key", cmd_get},
      {"del", "Delete a key", cmd_del},
      {"keys", "List a user's keys matching a glob", cmd_keys},
      {"status", "Show nodes and shards", cmd_status},
      {"cluster", "Run a local cluster: up, status, kill, partition, watch, down, ...", cmd_cluster},
      {"demo", "Failover demo on a local cluster, with a linearizability check", cmd_demo},
      {"bench", "Load-test a cluster (or etcd) and report ops/s and latency", cmd_bench},
      {"repl", "Interactive client (bare `mq` on a terminal starts it too)", cmd_repl},
      {"help", "Show this help, or a subcommand's: mq help set", cmd_help},
      {"version", "Print the version", cmd_version},
  };
  return table;
}

int cmd_version(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::printf(R"(Print the version of mq.
Usage: mq version

Examples:
  mq version
  mq --version
)");
    return 0;
  }
  std::printf("%s\n", version_string().c_str());
  return 0;
}

static void print_usage(FILE* out) {
  std::fprintf(out, R"(mq: a sharded, Raft-replicated, in-memory key-value store.

Usage: mq <command> [flags] [args]    (mq <command> --help for details)

Commands:
)");
  for (const auto& s : subcommands()) std::fprintf(out, "  %-9s %s\n", s.name, s.summary);
  std::fprintf(out, R"(
Examples:
  mq node --id n1 --listen 127.0.0.1:7001 --data-dir /tmp/mq/n1
  mq set user123 greeting "hello world"
  mq get user123 greeting
  mq keys user123 'g*'
  mq repl

Client flags (every client command): --endpoints HOST:PORT[,...], -o plain|json|table,
--timeout MS, -v. Each flag can also be set as MQ_<FLAG>, e.g. MQ_ENDPOINTS.
Exit codes: 0 ok, 1 not found, 2 bad arguments, 3 cannot reach the cluster or
no quorum, 4 outcome unknown.
)");
}

int cmd_help(int argc, char** argv) {
  // `mq help help` and `mq help --help` are the usage itself.
  const bool about_help = argc >= 2 && (std::strcmp(argv[1], "help") == 0 ||
                                        std::strcmp(argv[1], "--help") == 0 ||
                                        std::strcmp(argv[1], "-h") == 0);
  if (argc >= 2 && !about_help) {
    std::vector<std::string> names;
    for (const auto& s : subcommands()) {
      if (std::strcmp(s.name, argv[1]) == 0) {
        std::string name = std::string("mq ") + s.name;
        char help_flag[] = "--help";
        char* args[] = {name.data(), help_flag, nullptr};
        return s.run(2, args);
      }
      names.push_back(s.name);
    }
    std::string message = std::string("mq help: unknown command '") + argv[1] + "'";
    if (auto near = closest(argv[1], names); !near.empty()) {
      message += "; did you mean '" + near + "'?";
    }
    std::fprintf(stderr, "%s\n", message.c_str());
    return 2;
  }
  print_usage(stdout);
  return 0;
}

}  // namespace mq::cli

int main(int argc, char** argv) {
  using namespace mq::cli;
  mq::server::disable_lock_order_checks();
  if (argc < 2) {
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
      std::string name = "mq repl";
      char* args[] = {name.data(), nullptr};
      return cmd_repl(1, args);
    }
    print_usage(stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--version" || command == "-V") return cmd_version(0, nullptr);
  if (command == "--help" || command == "-h") {
    print_usage(stdout);
    return 0;
  }
  for (const auto& s : subcommands()) {
    if (command == s.name) {
      // CLI11 sees "mq <name>" as the program name in messages and help.
      std::string name = std::string("mq ") + s.name;
      argv[1] = name.data();
      return s.run(argc - 1, argv + 1);
    }
  }
  std::vector<std::string> names;
  for (const auto& s : subcommands()) names.push_back(s.name);
  std::string message = "mq: unknown command '" + command + "'";
  if (auto near = closest(command, names); !near.empty()) {
    message += "; did you mean 'mq " + near + "'?";
  }
  std::fprintf(stderr, "%s\nRun 'mq help' for the list of commands.\n", message.c_str());
  return 2;
}
