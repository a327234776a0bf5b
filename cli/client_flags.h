// Flags every client subcommand shares (--endpoints or --cluster, -o,
// --timeout, -v, --consistency), each also read from MQ_<FLAG>, and their
// resolution into ClientOptions and an output format; the flags that name
// a local cluster; and parse_or_exit, through which every command parses.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/client/client.h"
#include "cli/duration.h"
#include "cli/output.h"
#include "playground/cluster_target.h"

namespace mq::cli {

struct ClientFlags {
  std::string endpoints;  // after parsing: also the nodes of the local cluster meant
  std::string cluster;    // --cluster NAME
  std::string output;
  Millis timeout{5000};
  bool verbose = false;
  std::string consistency = "linearizable";
  // TLS (etcdctl's names): the CA the nodes' certificates chain to, and
  // this client's certificate and key for nodes that require one. A local
  // cluster started with --tls supplies all three when none is given.
  std::string cacert, cert, key;
  // Bearer token for nodes with --auth-file (MQ_TOKEN).
  std::string token;
  // Whether a command without --endpoints talks to the local cluster
  // (`mq bench --target etcd` does not: it has a default of its own).
  bool local_cluster_default = true;
  // The command's own checks of its other flags, run once they are parsed
  // and before the nodes are resolved, so that a bad flag is reported as
  // one (exit 2) even when no cluster runs. Returns "" or the reason.
  std::function<std::string()> usage_check;
};

// Declares the client flags on `app`. Once the command line is parsed,
// --endpoints holds the nodes to talk to: given, or those of the local
// cluster --cluster names (by default "local"), or 127.0.0.1:7001; a
// cluster that is not running, or nothing at all to talk to, ends the parse
// with exit 3 and a message that says how to start one (local_target.h).
void add_client_flags(CLI::App& app, ClientFlags& flags, bool with_consistency);

// --cluster NAME (alias --name; MQ_CLUSTER) and --cluster-dir DIR (alias
// --dir; MQ_CLUSTER_DIR): which local cluster a `mq cluster` verb means.
void add_cluster_target_flags(CLI::App& app, playground::ClusterTarget& target);

struct ResolvedClient {
  ClientOptions options;
  Format format = Format::kPlain;
  Consistency consistency = Consistency::kLinearizable;
};
// "" on success, else the reason (an exit-2 usage error). Empty endpoints
// (flags that were never parsed) mean 127.0.0.1:7001.
std::string resolve_client_flags(const ClientFlags& flags, ResolvedClient* out);

// Thrown while parsing when the flags are well formed but name nothing to
// talk to; parse_or_exit prints it and returns its exit code.
class ClientTargetError : public std::runtime_error {
 public:
  ClientTargetError(const std::string& message, int exit_code)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Parses a subcommand's arguments with CLI11: returns -1 to go on, else the
// exit code to return at once (0 after --help, 2 after a usage error, which
// is printed in one line with a pointer to --help). A flag declared without
// an environment variable gets MQ_<FLAG> here (--base-port: MQ_BASE_PORT).
// Inside a DescribeScope (command_spec.h) it records the App and returns 0
// without parsing.
int parse_or_exit(CLI::App& app, int argc, char** argv);

// The arguments after the program name, with a short option's attached value
// split off (`-o=json` -> `-o`, `json`): the parser keeps the '=' of a short
// option's value and splits only long ones. Nothing after `--` is touched.
std::vector<std::string> split_attached_short_values(int argc, char** argv);

}  // namespace mq::cli
