// The one-shot data commands for scripts: mq set|get|del|keys|status.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/client_flags.h"
#include "cli/command_result.h"
#include "cli/commands.h"
#include "cli/kv_command.h"

namespace mq::cli {

namespace {

bool read_all_stdin(std::string* out) {
  out->clear();
  std::freopen(nullptr, "rb", stdin);
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) out->append(buf, n);
  return !std::ferror(stdin);
}

int fail(const char* name, bool json, const Error& e) { return fail_command(name, json, e); }

// Before the flags are resolved, the format asked for (a bad -o is not json).
bool json_requested(const ClientFlags& flags) { return flags.output == "json"; }

bool resolve(const char* name, const ClientFlags& flags, ResultShape shape, ResolvedClient* out,
             int* exit_code) {
  return resolve_command_flags(name, flags, shape, out, exit_code);
}

int run_data(const char* name, const ClientFlags& flags, KvCommand command) {
  const ResultShape shape = command.verb == KvCommand::kKeys ? ResultShape::kRows : ResultShape::kSingle;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve(name, flags, shape, &resolved, &exit_code)) return exit_code;
  const bool json = resolved.format == Format::kJson;
  command.consistency = resolved.consistency;
  Client client(resolved.options);
  // Scripts get a value's exact bytes (`mq get u k > file` round-trips); a
  // terminal shows them as the REPL does.
  KvOutcome out =
      run_kv_command(client, command, resolved.format, plain_style_for(isatty(STDOUT_FILENO)));
  if (out.error.ok()) {
    write_stdout(out.stdout_text);
    return 0;
  }
  if (out.error.kind != ErrorKind::kNotFound) return fail(name, json, out.error);
  // A missing key is an answer ({"found":false} or {"deleted":false}) for
  // programs, and exit 1 with a line on stderr for scripts and people.
  if (json) write_stdout(out.stdout_text);
  std::fprintf(stderr, "mq %s: key not found (user %s)\n", name, command.user.c_str());
  return exit_code_of(ErrorKind::kNotFound);
}

constexpr const char* kExitCodes = R"(
Exit codes: 0 ok, 1 not found, 2 bad arguments, 3 not done (cannot reach the
cluster, no quorum, or refused), 4 outcome unknown (a write was sent and no
answer proves it did nothing: it may or may not have happened), 6 not allowed
(no valid credentials, or no right to this user: the node's --auth-file).)";

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
  say_plain_is_default(app);
  app.footer(std::string(R"(Examples:
  mq set user123 greeting "hello world"
  mq set user123 photo - < photo.jpg        # binary-safe, from stdin
  mq set --endpoints 127.0.0.1:7002 -o json user123 k v)") + kExitCodes);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  if (c.value == "-" && !read_all_stdin(&c.value)) {
    return fail("set", json_requested(flags), {ErrorKind::kInvalid, "cannot read the value from stdin"});
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
  say_plain_is_default(app);
  app.footer(std::string(R"(Examples:
  mq get user123 greeting
  mq get user123 photo > photo.jpg          # plain output is the exact bytes
  mq get --consistency stale -o json user123 greeting

To a pipe or a file, plain output is the value's exact bytes; on a terminal
it is shown as the REPL shows it (quoted when it holds spaces, quotes or
bytes that do not print). JSON always has "value" (null when the bytes are
not UTF-8) and "value_base64".)") + kExitCodes);
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
  say_plain_is_default(app);
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
  mq status -o json --endpoints 127.0.0.1:7002

On a terminal: the nodes and shards as tables. Plain (the default to a pipe)
is one line: "node n1: 3/3 nodes up, 16/16 shards with a leader".)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  ResolvedClient resolved;
  int exit_code = 0;
  if (!resolve("status", flags, ResultShape::kRows, &resolved, &exit_code)) return exit_code;
  Client client(resolved.options);
  ClusterStatus status;
  if (Error e = client.status(&status); !e.ok()) {
    return fail("status", resolved.format == Format::kJson, e);
  }
  write_stdout(render_status(resolved.format, status));
  return 0;
}

}  // namespace mq::cli
