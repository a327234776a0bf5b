#include "cli/repl.h"

#include <editline/readline.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/command_table.h"
#include "cli/commands.h"
#include "cli/kv_command.h"
#include "cli/repl_completion.h"
#include "cli/repl_history.h"
#include "cli/repl_interrupts.h"
#include "cli/repl_launcher_line.h"
#include "cli/suggest.h"
#include "cli/tokenizer.h"
#include "playground/cluster_state.h"

namespace mq::cli {

namespace {

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = {"set", "get", "del", "keys", "status",
                                                 "help", "quit", "exit"};
  return names;
}

constexpr const char* kHelpOneLine =
    "commands: set USER KEY VALUE | get USER KEY | del USER KEY | keys USER [GLOB] | status | "
    "help | quit | \\cluster VERB ... | \\demo failover ... | \\member VERB ...";

constexpr const char* kHelp = R"(Commands:
  set USER KEY VALUE   store VALUE (quote values with spaces: "hello world")
  get USER KEY         print the value, or (nil)
  del USER KEY         delete; OK, or (nil) when the key was not there
  keys USER [GLOB]     list keys matching GLOB (* ? [a-z] [!a] \x)
  status               nodes and shards as seen by the connected node
  \cluster VERB ...    a local cluster command: \cluster kill n2, \cluster status
  \demo failover ...   the failover demo (mq demo failover --help)
  \member VERB ...     members of the connected cluster: \member list
  help                 this text
  quit, exit           leave (Ctrl-D too)
Quoting: "..." takes \n \t \\ \" \xNN escapes; '...' is literal.
)";

std::string error_line(Format f, ErrorKind kind, const std::string& message) {
  return render_error(f, Error{kind, message});
}

// Piped, one summary line (plain) or object (json); on a terminal, tables.
std::string status_line(Format f, const ClusterStatus& s, bool one_line) {
  if (f == Format::kJson) return render_status(f, s);
  return render_status(one_line ? Format::kPlain : Format::kTable, s);
}

// The words Tab offers that do not change while the REPL runs.
CompletionWords completion_words() {
  CompletionWords w;
  w.commands = command_names();
  w.commands.push_back("\\cluster");
  w.commands.push_back("\\demo");
  w.commands.push_back("\\member");
  for (const auto& verb : cluster_verbs()) w.cluster_verbs.push_back(verb.name);
  for (const auto& demo : demo_commands()) w.demo_verbs.push_back(demo.name);
  for (const auto& verb : member_verbs()) w.member_verbs.push_back(verb.name);
  w.shard_count = 16;  // the default, until a node says otherwise
  return w;
}

// The node ids of the local cluster the \cluster verbs act on.
std::vector<std::string> local_node_ids() {
  const char* name = std::getenv("MQ_CLUSTER");
  playground::ClusterState state;
  const std::string dir = playground::default_cluster_dir(name && *name ? name : "local");
  std::vector<std::string> ids;
  if (!playground::state_exists(dir) || !playground::load_state(dir, &state).empty()) return ids;
  for (const auto& n : state.nodes) ids.push_back(n.id);
  return ids;
}

}  // namespace

ReplStep repl_execute(Client& client, const std::string& line, Format format,
                      Consistency consistency, bool one_line) {
  if (auto out = run_launcher_line(line, format, one_line, client.current_endpoint())) return {*out};
  std::string error;
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

namespace {

// The line the editor handed over, for the prompt loop (the callback
// interface of the line editor takes a plain function).
struct TypedLine {
  bool ready = false;
  bool eof = false;
  std::string text;
};
TypedLine g_typed;

void on_typed_line(char* raw) {
  g_typed.ready = true;
  g_typed.eof = raw == nullptr;
  g_typed.text = raw ? raw : "";
  std::free(raw);
}

CompletionWords g_completion_words;

char* next_completion(const char* text, int state) {
  static std::vector<std::string> matches;
  static size_t next;
  if (state == 0) {
    const std::string before(rl_line_buffer, static_cast<size_t>(rl_point - std::strlen(text)));
    // Node ids are read when asked for: the local cluster may have been
    // started after the REPL.
    g_completion_words.node_ids = local_node_ids();
    matches = complete_repl_word(before, text, g_completion_words);
    next = 0;
  }
  return next < matches.size() ? strdup(matches[next++].c_str()) : nullptr;
}

char** complete(const char* text, int, int) {
  rl_attempted_completion_over = 1;  // never file names
  return rl_completion_matches(text, next_completion);
}

std::string prompt_for(const Client& client) {
  return "mq " + client.current_endpoint() + (client.connected() ? "" : " (not connected)") + "> ";
}

// Reads one line with the editor while watching for Ctrl-C: an interrupt
// discards what was typed and starts a fresh prompt. nullopt at Ctrl-D.
std::optional<std::string> read_line(const std::string& prompt, ReplInterrupts& interrupts) {
  g_typed = {};
  rl_callback_handler_install(prompt.c_str(), on_typed_line);
  // Bounded by the user: ends with a line, Ctrl-D or a closed terminal.
  while (!g_typed.ready) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupts.prompt_fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      g_typed = {true, true, ""};
      break;
    }
    if (fds[1].revents & POLLIN) {
      interrupts.take_prompt_interrupt();
      // As a shell does: show ^C, drop the line, prompt again.
      rl_callback_handler_remove();
      std::fputs("^C\n", stdout);
      std::fflush(stdout);
      rl_callback_handler_install(prompt.c_str(), on_typed_line);
      continue;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) rl_callback_read_char();
  }
  rl_callback_handler_remove();
  if (g_typed.eof) return std::nullopt;
  return g_typed.text;
}

int run_interactive(Client& client, const ReplOptions& options, Format format) {
  rl_readline_name = "mq";
  rl_attempted_completion_function = complete;
  // \cluster is one word; a comma separates the node lists of partition.
  static char word_breaks[] = " \t\n,";
  rl_basic_word_break_characters = word_breaks;
  rl_completer_word_break_characters = word_breaks;
  g_completion_words = completion_words();
  using_history();
  const std::string histfile = history_path();
  for (const auto& line : load_history(histfile)) add_history(line.c_str());

  // The first call says whether anything answers, so the prompt is true
  // from the start.
  ClusterStatus probe;
  const Error reached = client.status(&probe);
  if (reached.ok()) {
    if (probe.shard_count > 0) g_completion_words.shard_count = probe.shard_count;
    std::fprintf(stderr, "mq repl: connected to %s (node %s of %zu). Type help for commands, quit or "
                 "Ctrl-D to leave.\n", client.current_endpoint().c_str(), probe.node.c_str(),
                 probe.nodes.size());
  } else {
    std::fprintf(stderr, "mq repl: not connected: %s. Commands will try again; type help for "
                 "commands, quit or Ctrl-D to leave.\n", reached.message.c_str());
  }
  ReplInterrupts interrupts;
  while (true) {
    auto line = read_line(prompt_for(client), interrupts);
    if (!line) {
      std::fputc('\n', stderr);
      break;
    }
    if (line->find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line->c_str());
    append_history(histfile, *line);
    interrupts.running(&client);
    ReplStep step = repl_execute(client, *line, format, options.consistency, false);
    interrupts.running(nullptr);
    // A Ctrl-C that came as the command ended belongs to no prompt yet.
    interrupts.take_prompt_interrupt();
    if (step.quit) break;
    std::fwrite(step.output.data(), 1, step.output.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int run_repl(const ReplOptions& options) {
  Client client(options.client);
  const Format format = options.format == Format::kTable ? Format::kPlain : options.format;
  if (options.interactive) return run_interactive(client, options, format);
  // Piped: one command per line, exactly one result line each; no prompt,
  // no banner, stdout flushed per line so a coprocess never waits.
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos ||
        line[line.find_first_not_of(" \t")] == '#') {
      continue;
    }
    ReplStep step = repl_execute(client, line, format, options.consistency, true);
    if (step.quit) break;
    std::fwrite(step.output.data(), 1, step.output.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace mq::cli
