// Flags every client subcommand shares (--endpoints, -o, --timeout, -v,
// --consistency), each also read from MQ_<FLAG>, and their resolution into
// ClientOptions and an output format.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/client/client.h"
#include "cli/output.h"

namespace mq::cli {

struct ClientFlags {
  std::string endpoints;
  std::string output;
  int timeout_ms = 5000;
  bool verbose = false;
  std::string consistency = "linearizable";
};

void add_client_flags(CLI::App& app, ClientFlags& flags, bool with_consistency);

// The endpoint list when none is given (MQ_ENDPOINTS is read by the flag
// itself): the running local cluster's nodes, else 127.0.0.1:7001.
std::vector<std::string> default_endpoints();

struct ResolvedClient {
  ClientOptions options;
  Format format = Format::kPlain;
  Consistency consistency = Consistency::kLinearizable;
};
// "" on success, else the reason (an exit-2 usage error).
std::string resolve_client_flags(const ClientFlags& flags, ResolvedClient* out);

// Parses a subcommand's arguments with CLI11: returns -1 to go on, else the
// exit code to return at once (0 after --help, 2 after a usage error, which
// is printed in one line with a pointer to --help).
int parse_or_exit(CLI::App& app, int argc, char** argv);

// The arguments after the program name, with a short option's attached value
// split off (`-o=json` -> `-o`, `json`): the parser keeps the '=' of a short
// option's value and splits only long ones. Nothing after `--` is touched.
std::vector<std::string> split_attached_short_values(int argc, char** argv);

}  // namespace mq::cli
