// The one-shot data commands for scripts: mq set|get|del|keys|status.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/client_flags.h"
#include "cli/commands.h"
#include "cli/kv_command.h"

namespace mq::cli {

namespace {

void write_stdout(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

bool read_all_stdin(std::string* out) {
  out->clear();
  std::freopen(nullptr, "rb", stdin);
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) out->append(buf, n);
  return !std::ferror(stdin);
}

// Shared tail of the data commands: connect, run, print, map to exit code.
int run_data(const char* name, const ClientFlags& flags, KvCommand command) {
  ResolvedClient resolved;
  if (auto e = resolve_client_flags(flags, &resolved); !e.empty()) {
    std::fprintf(stderr, "mq %s: %s\n", name, e.c_str());
    return 2;
  }
  command.consistency = resolved.consistency;
  Client client(resolved.options);
  KvOutcome out = run_kv_command(client, command, resolved.format, false);
  if (command.verb == KvCommand::kGet && out.error.ok() && resolved.format == Format::kPlain &&
      !isatty(STDOUT_FILENO) && !out.stdout_text.empty()) {
    // Scripts get the value's exact bytes: `mq get u k > file` round-trips.
    out.stdout_text.pop_back();
  }
  const bool not_found = out.error.kind == ErrorKind::kNotFound;
  if (out.error.ok() || (not_found && resolved.format == Format::kJson)) {
    write_stdout(out.stdout_text);
  }
  if (!out.error.ok()) {
    if (not_found) {
      std::fprintf(stderr, "mq %s: key not found (user %s)\n", name, command.user.c_str());
    } else {
      std::fprintf(stderr, "mq %s: %s\n", name, out.error.message.c_str());
    }
  }
  return exit_code_of(out.error.kind);
}

constexpr const char* kExitCodes = R"(
Exit codes: 0 ok, 1 not found, 2 bad arguments, 3 not done (cannot reach the
cluster, no quorum, or refused), 4 outcome unknown (a write was sent and no
answer proves it did nothing: it may or may not have happened).)";

}  // namespace

int cmd_set(int argc, char** argv) {
  ClientFlags flags;
  KvCommand c;
  c.verb = KvCommand::kSet;
  CLI::App app{"Set KEY of USER to VALUE.", "mq set"};
  app.add_option("USER", c.user, "User id (1..256 bytes); picks the shard")->required();
  app.add_option("KEY", c.key, "Key (1..1024 bytes)")->required();
  app.add_option("VALUE", c.value, "Value (at most 1 MiB by default); '-' reads stdin")->required();
  add_client_flags(app, flags, false);
  app.footer(std::string(R"(Examples:
  mq set user123 greeting "hello world"
  mq set user123 photo - < photo.jpg        # binary-safe, from stdin
  mq set --endpoints 127.0.0.1:7002 -o json user123 k v)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  if (c.value == "-" && !read_all_stdin(&c.value)) {
    std::fprintf(stderr, "mq set: cannot read the value from stdin\n");
    return 2;
  }
  return run_data("set", flags, std::move(c));
}

int cmd_get(int argc, char** argv) {
  ClientFlags flags;
  KvCommand c;
  c.verb = KvCommand::kGet;
  CLI::App app{"Print the value of KEY of USER.", "mq get"};
  app.add_option("USER", c.user, "User id")->required();
  app.add_option("KEY", c.key, "Key")->required();
  add_client_flags(app, flags, true);
  app.footer(std::string(R"(Examples:
  mq get user123 greeting
  mq get user123 photo > photo.jpg          # plain output is the exact bytes
  mq get --consistency stale -o json user123 greeting

Plain output writes the value's bytes as they are (a newline is added only
on a terminal). JSON carries non-UTF-8 bytes as "value_base64".)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_data("get", flags, std::move(c));
}

int cmd_del(int argc, char** argv) {
  ClientFlags flags;
  KvCommand c;
  c.verb = KvCommand::kDel;
  CLI::App app{"Delete KEY of USER.", "mq del"};
  app.add_option("USER", c.user, "User id")->required();
  app.add_option("KEY", c.key, "Key")->required();
  add_client_flags(app, flags, false);
  app.footer(std::string(R"(Examples:
  mq del user123 greeting
  mq del user123 greeting || echo "was not there"   # exit 1 when missing)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_data("del", flags, std::move(c));
}

int cmd_keys(int argc, char** argv) {
  ClientFlags flags;
  KvCommand c;
  c.verb = KvCommand::kKeys;
  CLI::App app{"List the keys of USER matching GLOB, in byte order.", "mq keys"};
  app.add_option("USER", c.user, "User id")->required();
  app.add_option("GLOB", c.glob, "Pattern: * ? [abc] [a-z] [!a] \\x (default *)");
  app.add_option("--limit", c.limit, "List at most this many keys (default: all)");
  add_client_flags(app, flags, true);
  app.footer(std::string(R"(Examples:
  mq keys user123
  mq keys user123 'session:*'
  mq keys -o json --limit 10 user123 '[a-c]*')") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_data("keys", flags, std::move(c));
}

int cmd_status(int argc, char** argv) {
  ClientFlags flags;
  CLI::App app{"Show the nodes and shards as seen by the node answering.", "mq status"};
  add_client_flags(app, flags, false);
  app.footer(R"(Examples:
  mq status
  mq status -o json --endpoints 127.0.0.1:7002)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  if (auto e = resolve_client_flags(flags, &resolved); !e.empty()) {
    std::fprintf(stderr, "mq status: %s\n", e.c_str());
    return 2;
  }
  if (resolved.format == Format::kPlain && flags.output.empty()) resolved.format = Format::kJson;
  Client client(resolved.options);
  ClusterStatus status;
  Error e = client.status(&status);
  if (!e.ok()) {
    std::fprintf(stderr, "mq status: %s\n", e.message.c_str());
    return exit_code_of(e.kind);
  }
  write_stdout(render_status(resolved.format == Format::kPlain ? Format::kTable : resolved.format,
                             status));
  return 0;
}

}  // namespace mq::cli
