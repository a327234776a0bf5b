#include "cli/client_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "cli/suggest.h"
#include "node/server/address.h"
#include "playground/cluster_state.h"

namespace mq::cli {

void add_client_flags(CLI::App& app, ClientFlags& flags, bool with_consistency) {
  app.add_option("--endpoints", flags.endpoints,
                 "Comma-separated host:port list of nodes (default: the running local cluster "
                 "(mq cluster up), else 127.0.0.1:7001)")
      ->envname("MQ_ENDPOINTS");
  app.add_option("-o,--output", flags.output,
                 "Output format: plain, json or table (default: table on a terminal, else plain)")
      ->envname("MQ_OUTPUT");
  app.add_option("--timeout", flags.timeout_ms, "Request timeout in milliseconds (default 5000)")
      ->envname("MQ_TIMEOUT")
      ->check(CLI::Range(1, 3'600'000));
  app.add_flag("-v,--verbose", flags.verbose, "Say on stderr when a leader hint is followed")
      ->envname("MQ_VERBOSE");
  if (with_consistency) {
    app.add_option("--consistency", flags.consistency,
                   "linearizable (default) or stale (any replica; may miss recent writes)")
        ->envname("MQ_CONSISTENCY");
  }
}

std::vector<std::string> default_endpoints() {
  auto local = playground::running_cluster_endpoints();
  if (!local.empty()) return local;
  return {"127.0.0.1:7001"};
}

std::string resolve_client_flags(const ClientFlags& flags, ResolvedClient* out) {
  if (flags.endpoints.empty()) {
    out->options.endpoints = default_endpoints();
  } else {
    size_t start = 0;
    while (start <= flags.endpoints.size()) {
      size_t comma = flags.endpoints.find(',', start);
      if (comma == std::string::npos) comma = flags.endpoints.size();
      const std::string e = flags.endpoints.substr(start, comma - start);
      std::string error;
      if (e.empty() || !server::parse_host_port(e, &error)) {
        return "--endpoints: " + (e.empty() ? "empty endpoint in '" + flags.endpoints + "'" : error);
      }
      out->options.endpoints.push_back(e);
      start = comma + 1;
    }
  }
  out->options.timeout_ms = flags.timeout_ms;
  out->options.verbose = flags.verbose;
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

int parse_or_exit(CLI::App& app, int argc, char** argv) {
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
    // The parser checks required arguments before unknown ones, so a
    // mistyped flag (`mq get --hlep`) would be reported as a missing USER:
    // name the flag it did not know instead.
    std::string why = e.what();
    // A word where a subcommand belongs (`mq demo failver`) is named, with
    // the nearest subcommand.
    std::vector<std::string> subcommands;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      subcommands.push_back(sub->get_name());
    }
    if (!subcommands.empty()) {
      for (const std::string& arg : app.remaining()) {
        if (arg.empty() || arg[0] == '-') continue;
        why = "unknown subcommand '" + arg + "'";
        if (auto near = closest(arg, subcommands); !near.empty()) {
          why += "; did you mean '" + app.get_name() + " " + near + "'?";
        }
        break;
      }
    }
    if (dynamic_cast<const CLI::RequiredError*>(&e)) {
      for (const std::string& arg : app.remaining()) {
        if (arg.size() > 1 && arg[0] == '-') {
          why = "unknown option " + arg;
          break;
        }
      }
    }
    std::fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", app.get_name().c_str(), why.c_str(),
                 app.get_name().c_str());
    return 2;
  }
  return -1;
}

}  // namespace mq::cli
