#include "cli/client_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "cli/command_spec.h"
#include "cli/local_target.h"
#include "cli/suggest.h"
#include "node/server/address.h"

namespace mq::cli {

namespace {

// Whether `option` got its value from the command line rather than from its
// environment variable (the parser records only the former in parse_order).
bool on_command_line(const CLI::App& app, const CLI::Option* option) {
  for (const CLI::Option* o : app.parse_order()) {
    if (o == option) return true;
  }
  return false;
}

// After a successful parse: fills flags.endpoints with the nodes to talk to.
void choose_target(const CLI::App& app, ClientFlags& flags, const CLI::Option* endpoints,
                   const CLI::Option* cluster) {
  if (flags.usage_check) {
    if (auto e = flags.usage_check(); !e.empty()) throw CLI::ValidationError(e);
  }
  if (!flags.endpoints.empty() && !flags.cluster.empty()) {
    // A flag typed on the command line beats a variable of the
    // environment; two of the same kind contradict each other.
    const bool endpoints_typed = on_command_line(app, endpoints);
    if (endpoints_typed == on_command_line(app, cluster)) {
      throw ClientTargetError(std::string("--endpoints and --cluster both name the nodes to talk to") +
                                  (endpoints_typed ? "" : " (from MQ_ENDPOINTS and MQ_CLUSTER)") +
                                  "; give one",
                              2);
    }
    (endpoints_typed ? flags.cluster : flags.endpoints).clear();
  }
  if (!flags.endpoints.empty() || !flags.local_cluster_default) return;
  LocalTarget target = resolve_local_target(flags.cluster);
  if (!target.error.empty()) throw ClientTargetError(target.error, target.exit_code);
  for (const auto& e : target.endpoints) flags.endpoints += (flags.endpoints.empty() ? "" : ",") + e;
  if (flags.cacert.empty() && flags.cert.empty() && flags.key.empty()) {
    flags.cacert = target.tls.trusted_ca_file;
    flags.cert = target.tls.cert_file;
    flags.key = target.tls.key_file;
  }
  if (flags.token.empty()) flags.token = target.token;
}

}  // namespace

void add_client_flags(CLI::App& app, ClientFlags& flags, bool with_consistency) {
  CLI::Option* endpoints =
      app.add_option("--endpoints", flags.endpoints,
                     "Comma-separated host:port list of nodes; hosts may be names (default: the "
                     "local cluster, see --cluster, else 127.0.0.1:7001)");
  CLI::Option* cluster =
      app.add_option("--cluster", flags.cluster,
                     "Talk to the nodes of this local cluster (mq cluster up --cluster NAME; "
                     "default: 'local' when it was started)");
  app.add_option("-o,--output", flags.output,
                 "Output format: plain, json or table (default: table on a terminal, else plain)");
  add_duration_option(app, "--timeout", &flags.timeout,
                      "Deadline of a request, every hop and retry included", Millis(1),
                      Millis(3'600'000));
  app.add_flag("-v,--verbose", flags.verbose, "Say on stderr when a leader hint is followed");
  app.add_option("--cacert", flags.cacert,
                 "PEM CA the nodes' certificates must chain to: talk TLS (default: the local "
                 "cluster's own CA when it runs with TLS)");
  app.add_option("--cert", flags.cert, "PEM client certificate, for nodes that require one");
  app.add_option("--key", flags.key, "PEM private key of --cert");
  app.add_option("--token", flags.token,
                 "Bearer token, for nodes that run with --auth-file (better in MQ_TOKEN than on a "
                 "command line others can read)");
  if (with_consistency) {
    app.add_option("--consistency", flags.consistency,
                   "linearizable (default) or stale (any replica; may miss recent writes)");
  }
  app.final_callback([&app, &flags, endpoints, cluster] { choose_target(app, flags, endpoints, cluster); });
}

void add_cluster_target_flags(CLI::App& app, playground::ClusterTarget& target) {
  app.add_option("--cluster,--name", target.name, "Cluster name (default local)");
  app.add_option("--cluster-dir,--dir", target.dir,
                 "State directory (default $MQ_HOME/clusters/NAME, else ~/.mq/clusters/NAME)");
}

std::string resolve_client_flags(const ClientFlags& flags, ResolvedClient* out) {
  if (flags.endpoints.empty()) {
    out->options.endpoints = {kDefaultEndpoint};
  } else {
    size_t start = 0;
    while (start <= flags.endpoints.size()) {
      size_t comma = flags.endpoints.find(',', start);
      if (comma == std::string::npos) comma = flags.endpoints.size();
      const std::string e = flags.endpoints.substr(start, comma - start);
      std::string error;
      if (e.empty() || !server::parse_dial_address(e, &error)) {
        return "--endpoints: " + (e.empty() ? "empty endpoint in '" + flags.endpoints + "'" : error);
      }
      out->options.endpoints.push_back(e);
      start = comma + 1;
    }
  }
  out->options.timeout_ms = static_cast<int>(flags.timeout.count());
  out->options.verbose = flags.verbose;
  out->options.token = flags.token;
  std::string tls_error;
  if (!tls::load_tls({flags.cert, flags.key, flags.cacert, false}, tls::kCliFlags, false, &out->options.tls,
                     &tls_error)) {
    return tls_error;
  }
  if (flags.output.empty()) {
    out->format = isatty(STDOUT_FILENO) ? Format::kTable : Format::kPlain;
  } else if (auto f = parse_format(flags.output)) {
    out->format = *f;
  } else {
    return "-o/--output must be plain, json or table, not '" + flags.output + "'";
  }
  if (flags.consistency == "linearizable") {
    out->consistency = Consistency::kLinearizable;
  } else if (flags.consistency == "stale") {
    out->consistency = Consistency::kStale;
  } else {
    return "--consistency must be linearizable or stale, not '" + flags.consistency + "'";
  }
  return "";
}

std::vector<std::string> split_attached_short_values(int argc, char** argv) {
  std::vector<std::string> args;
  bool options_end = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") options_end = true;
    const bool attached = !options_end && arg.size() > 3 && arg[0] == '-' &&
                          std::isalpha(static_cast<unsigned char>(arg[1])) && arg[2] == '=';
    if (attached) {
      args.push_back(arg.substr(0, 2));
      args.push_back(arg.substr(3));
    } else {
      args.push_back(arg);
    }
  }
  return args;
}

namespace {

// The message of a parse error, naming what the parser would misreport: it
// checks required arguments before unknown ones, so a mistyped flag (`mq
// get --hlep`) would read as a missing USER; and it names an unknown flag
// only as an argument it did not expect.
std::string usage_error(const CLI::App& app, const CLI::ParseError& e) {
  const bool unknown_possible = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr ||
                                dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr;
  if (!unknown_possible) return e.what();
  for (const std::string& arg : app.remaining()) {
    if (arg.size() < 2 || arg[0] != '-') continue;
    const std::string name = arg.substr(0, arg.find('='));
    std::vector<std::string> names = {"--help"};
    for (const auto& f : describe_app(app).flags) names.insert(names.end(), f.names.begin(), f.names.end());
    std::string why = "unknown flag '" + name + "'";
    if (auto near = closest(name, names); !near.empty()) why += "; did you mean '" + near + "'?";
    return why;
  }
  return e.what();
}

// "MQ_" and the long name in capitals, '-' as '_': --base-port -> MQ_BASE_PORT.
std::string env_name_for(const std::string& long_name) {
  std::string env = "MQ_";
  for (char c : long_name) {
    env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return env;
}

// The rule that every flag can come from MQ_<FLAG>, applied where every
// command passes, so that no flag is left out because its declaration
// forgot the variable. A flag that names one itself (--name reads
// MQ_CLUSTER) keeps it.
void apply_env_names(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o == app.get_help_ptr() || o == app.get_help_all_ptr()) continue;
    if (!o->nonpositional() || o->get_lnames().empty() || !o->get_envname().empty()) continue;
    o->envname(env_name_for(o->get_lnames().front()));
  }
}

}  // namespace

int parse_or_exit(CLI::App& app, int argc, char** argv) {
  apply_env_names(app);
  if (DescribeScope::record(app)) return 0;
  try {
    std::vector<std::string> args = split_attached_short_values(argc, argv);
    std::reverse(args.begin(), args.end());  // the parser takes them last first
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", app.get_name().c_str(),
                 usage_error(app, e).c_str(), app.get_name().c_str());
    return 2;
  } catch (const ClientTargetError& e) {
    std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(), e.what());
    return e.exit_code();
  }
  return -1;
}

}  // namespace mq::cli
