#include "cli/repl.h"

#include <editline/readline.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kv_command.h"
#include "cli/suggest.h"
#include "cli/tokenizer.h"

namespace mq::cli {

namespace {

constexpr int kHistoryLinesMax = 1000;

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = {"set", "get", "del", "keys", "status",
                                                 "help", "quit", "exit"};
  return names;
}

constexpr const char* kHelpOneLine =
    "commands: set USER KEY VALUE | get USER KEY | del USER KEY | keys USER [GLOB] | status | "
    "help | quit | \\cluster VERB ... | \\demo failover ...";

constexpr const char* kHelp = R"(Commands:
  set USER KEY VALUE   store VALUE (quote values with spaces: "hello world")
  get USER KEY         print the value, or (nil)
  del USER KEY         delete; OK, or (nil) when the key was not there
  keys USER [GLOB]     list keys matching GLOB (* ? [a-z] [!a] \x)
  status               nodes and shards as seen by the connected node
  \cluster VERB ...    a local cluster command: \cluster kill n2, \cluster status
  \demo failover ...   the failover demo (mq demo failover --help)
  help                 this text
  quit, exit           leave (Ctrl-D too)
Quoting: "..." takes \n \t \\ \" \xNN escapes; '...' is literal.
)";

std::string error_line(Format f, ErrorKind kind, const std::string& message) {
  return render_error(f, Error{kind, message});
}

std::string status_line(Format f, const ClusterStatus& s, bool one_line) {
  if (f == Format::kJson || !one_line) return render_status(f == Format::kJson ? f : Format::kTable, s);
  size_t led = 0;
  for (const auto& sh : s.shards) led += !sh.leader.empty();
  size_t up = 0;
  for (const auto& n : s.nodes) up += n.reachable;
  return "node " + s.node + ": " + std::to_string(up) + "/" + std::to_string(s.nodes.size()) +
         " nodes up, " + std::to_string(led) + "/" + std::to_string(s.shards.size()) +
         " shards with a leader\n";
}

// Completion: command names for the first word, nothing (not file names)
// for the others.
char* complete_command(const char* text, int state) {
  static size_t next;
  if (state == 0) next = 0;
  const size_t len = std::strlen(text);
  const auto& names = command_names();
  while (next < names.size()) {
    const std::string& n = names[next++];
    if (n.compare(0, len, text) == 0) return strdup(n.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;
  if (start != 0) return nullptr;
  return rl_completion_matches(text, complete_command);
}

std::string history_path() {
  if (const char* p = std::getenv("MQ_HISTFILE"); p && *p) return p;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.mq_history";
  return "";
}

// `\cluster VERB ...` and `\demo ...`: the mq cluster / mq demo command,
// run in this process; it prints its own results.
bool run_launcher_line(const std::string& line, Format format, std::string* error) {
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos || line[start] != '\\') return false;
  std::string command;
  for (const char* c : {"cluster", "demo"}) {
    const size_t n = std::strlen(c);
    if (line.compare(start + 1, n, c) == 0 &&
        (start + 1 + n == line.size() || line[start + 1 + n] == ' ' || line[start + 1 + n] == '\t')) {
      command = c;
    }
  }
  if (command.empty()) return false;
  auto words = tokenize(line.substr(start + 1 + command.size()), error);
  if (!words) return true;
  // Piped JSON sessions keep one JSON object per line.
  if (format == Format::kJson) words->push_back("-o=json");
  std::fflush(stdout);
  run_cluster_words(command, *words);
  std::fflush(stdout);
  return true;
}

}  // namespace

ReplStep repl_execute(Client& client, const std::string& line, Format format,
                      Consistency consistency, bool one_line) {
  std::string error;
  if (run_launcher_line(line, format, &error)) {
    if (!error.empty()) return {error_line(format, ErrorKind::kInvalid, error)};
    return {};
  }
  auto words = tokenize(line, &error);
  if (!words) return {error_line(format, ErrorKind::kInvalid, error)};
  if (words->empty()) return {};
  const std::string& verb = (*words)[0];
  if (verb == "quit" || verb == "exit") return {"", true};
  if (verb == "help") {
    // Serialized, not pasted: the help text may hold quotes or backslashes.
    if (format == Format::kJson) return {nlohmann::json{{"help", kHelpOneLine}}.dump() + "\n"};
    return {one_line ? std::string(kHelpOneLine) + "\n" : kHelp};
  }
  if (verb == "status") {
    ClusterStatus s;
    Error e = client.status(&s);
    if (!e.ok()) return {render_error(format, e)};
    return {status_line(format, s, one_line)};
  }
  auto command = parse_kv_words(*words, &error);
  if (!command) {
    if (error.empty()) {
      error = "unknown command '" + verb + "'";
      if (auto s = closest(verb, command_names()); !s.empty()) error += "; did you mean '" + s + "'?";
      error += " (type help)";
    }
    return {error_line(format, ErrorKind::kInvalid, error)};
  }
  command->consistency = consistency;
  if (!one_line && format == Format::kPlain && command->verb == KvCommand::kKeys) {
    // On a terminal, keys read best numbered one per line, as redis-cli does.
    ListResult r;
    Error e = validate_kv_command(*command);
    if (e.ok()) e = client.list(command->user, command->glob, 0, consistency, &r);
    if (!e.ok()) return {render_error(format, e)};
    if (r.keys.empty()) return {"(empty)\n"};
    std::string text;
    for (size_t i = 0; i < r.keys.size(); ++i) {
      text += std::to_string(i + 1) + ") " + display_bytes(r.keys[i]) + "\n";
    }
    return {text};
  }
  // Values are shown escaped on one line even on a terminal: raw bytes could
  // garble it, and the escaped form can be typed back.
  KvOutcome out = run_kv_command(client, *command, format, true);
  if (out.error.ok() || out.error.kind == ErrorKind::kNotFound) return {out.stdout_text};
  return {render_error(format, out.error)};
}

int run_repl(const ReplOptions& options) {
  Client client(options.client);
  const Format format = options.format == Format::kTable ? Format::kPlain : options.format;
  if (!options.interactive) {
    // Piped: one command per line, exactly one result line each; no prompt,
    // no banner, stdout flushed per line so a coprocess never waits.
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') {
        continue;
      }
      ReplStep step = repl_execute(client, line, format, options.consistency, true);
      if (step.quit) break;
      std::fwrite(step.output.data(), 1, step.output.size(), stdout);
      std::fflush(stdout);
    }
    return 0;
  }

  rl_readline_name = "mq";
  rl_attempted_completion_function = complete;
  using_history();
  stifle_history(kHistoryLinesMax);
  const std::string histfile = history_path();
  if (!histfile.empty()) read_history(histfile.c_str());
  std::fprintf(stderr, "mq %s: connected to %s. Type help for commands, quit or Ctrl-D to leave.\n",
               "repl", client.current_endpoint().c_str());
  while (true) {
    const std::string prompt = "mq " + client.current_endpoint() +
                               (client.connected() ? "" : " (disconnected)") + "> ";
    char* raw = readline(prompt.c_str());
    if (!raw) {
      std::fputc('\n', stderr);
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    if (!histfile.empty()) {
      write_history(histfile.c_str());
    }
    ReplStep step = repl_execute(client, line, format, options.consistency, false);
    if (step.quit) break;
    std::fwrite(step.output.data(), 1, step.output.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace mq::cli
