// mq auth: helpers for the nodes' --auth-file (node/auth/access_rules.h):
// a new random token, and the SHA-256 the file keeps of a token, so that
// the file never holds a token in the clear.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/client_flags.h"
#include "cli/command_table.h"
#include "cli/commands.h"
#include "node/auth/access_rules.h"

namespace mq::cli {

namespace {

int auth_hash_token(int argc, char** argv) {
  std::string token;
  CLI::App app{"Print the SHA-256 of a bearer token, as --auth-file's \"token_sha256\" takes it.",
               "mq auth hash-token"};
  app.add_option("TOKEN", token, "The token; read from stdin (one line) when absent, so it stays out of "
                                 "the shell's history");
  app.footer(R"(Examples:
  mq auth hash-token s3cr3t-t0ken
  printf '%s\n' "$TOKEN" | mq auth hash-token

Exit codes: 0 printed, 2 no token.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  if (token.empty() && !std::getline(std::cin, token)) token.clear();
  if (token.empty()) {
    std::fprintf(stderr, "mq auth hash-token: no token (give it as an argument or on stdin)\n");
    return 2;
  }
  std::printf("%s\n", auth::sha256_hex(token).c_str());
  return 0;
}

int auth_new_token(int argc, char** argv) {
  CLI::App app{"Print a new random bearer token (32 random bytes, hex) and, on stderr, its SHA-256 for "
               "--auth-file.",
               "mq auth new-token"};
  app.footer(R"(Examples:
  TOKEN=$(mq auth new-token)

Exit codes: 0 printed, 3 no randomness available.)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  const std::string token = auth::new_token();
  if (token.empty()) {
    std::fprintf(stderr, "mq auth new-token: no randomness available\n");
    return 3;
  }
  std::printf("%s\n", token.c_str());
  std::fprintf(stderr, "token_sha256: %s\n", auth::sha256_hex(token).c_str());
  return 0;
}

void print_auth_usage(FILE* to) {
  std::fprintf(to, "Usage: mq auth <verb> [args]   (mq auth <verb> --help for details)\n\n"
                   "Helpers for the nodes' --auth-file.\n\nVerbs:\n");
  for (const auto& v : auth_verbs()) std::fprintf(to, "  %-12s %s\n", v.name, v.summary);
  std::fprintf(to, R"(
Examples:
  mq auth new-token
  mq auth hash-token s3cr3t-t0ken

Exit codes: 0 ok, 2 bad arguments.
)");
}

}  // namespace

const CommandTable& auth_verbs() {
  static const CommandTable table = {
      {"new-token", "Print a new random token (and its hash on stderr)", auth_new_token},
      {"hash-token", "Print a token's SHA-256 for --auth-file: hash-token [TOKEN]", auth_hash_token},
  };
  return table;
}

int cmd_auth(int argc, char** argv) { return dispatch("mq auth", "verb", auth_verbs(), print_auth_usage, argc, argv); }

}  // namespace mq::cli
