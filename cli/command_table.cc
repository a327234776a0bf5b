#include "cli/command_table.h"

#include "cli/commands.h"
#include "cli/suggest.h"

namespace mq::cli {

const CommandTable& subcommands() {
  static const CommandTable table = {
      {"node", "Run one node (server)", cmd_node},
      {"set", "Set a key of a user", cmd_set},
      {"get", "Print the value of a key", cmd_get},
      {"del", "Delete a key", cmd_del},
      {"keys", "List a user's keys matching a glob", cmd_keys},
      {"status", "Show nodes and shards", cmd_status},
      {"member", "Cluster membership: list, add, remove, replace", cmd_member, member_verbs},
      {"cluster", "Run a local cluster: up, status, kill, partition, watch, down, ...", cmd_cluster,
       cluster_verbs},
      {"demo", "Failover demo on a local cluster, with a linearizability check", cmd_demo,
       demo_commands},
      {"auth", "Tokens for the nodes' --auth-file: new-token, hash-token", cmd_auth, auth_verbs},
      {"bench", "Load-test a cluster (or etcd) and report ops/s and latency", cmd_bench},
      {"repl", "Interactive client (bare `mq` on a terminal starts it too)", cmd_repl},
      {"completion", "Print a shell completion script: bash, zsh or fish", cmd_completion},
      {"help", "Show this help, or a command's: mq help cluster up", cmd_help},
      {"version", "Print the version", cmd_version},
  };
  return table;
}

const Command* find_command(const CommandTable& table, const std::string& name) {
  for (const auto& c : table) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string unknown_name_message(const std::string& path, const char* what,
                                 const CommandTable& table, const std::string& word) {
  std::vector<std::string> names;
  for (const auto& c : table) names.emplace_back(c.name);
  std::string message = path + ": unknown " + what + " '" + word + "'";
  if (auto near = closest(word, names); !near.empty()) {
    message += "; did you mean '" + path + " " + near + "'?";
  }
  return message;
}

int dispatch(const std::string& path, const char* what, const CommandTable& table,
             const std::function<void(FILE*)>& usage, int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string word = argv[1];
  const Command* c = find_command(table, word);
  // `help` is a word of the table at the top (mq help), the usage below it.
  if (c == nullptr && (word == "--help" || word == "-h" || word == "help")) {
    usage(stdout);
    return 0;
  }
  if (c == nullptr) {
    std::fprintf(stderr, "%s\nRun '%s --help' for the list.\n",
                 unknown_name_message(path, what, table, word).c_str(), path.c_str());
    return 2;
  }
  // The parser names the command by argv[0] in its messages and help.
  std::string name = path + " " + c->name;
  std::vector<char*> args = {name.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  return c->run(static_cast<int>(args.size()) - 1, args.data());
}

CommandSpec describe_command(const Command& c, const std::vector<std::string>& words) {
  std::string name = "mq";
  for (const auto& w : words) name += " " + w;
  CommandSpec spec;
  DescribeScope scope(&spec);
  char* args[] = {name.data(), nullptr};
  c.run(1, args);
  return spec;
}

namespace {

void walk(const CommandTable& table, std::vector<std::string>& words,
          std::vector<DescribedCommand>* out) {
  for (const auto& c : table) {
    words.emplace_back(c.name);
    if (c.children != nullptr) {
      walk(c.children(), words, out);
    } else {
      out->push_back({words, describe_command(c, words)});
    }
    words.pop_back();
  }
}

}  // namespace

std::vector<DescribedCommand> describe_tree() {
  std::vector<DescribedCommand> out;
  std::vector<std::string> words;
  walk(subcommands(), words, &out);
  return out;
}

CommandLookup lookup_command(const std::vector<std::string>& words) {
  CommandLookup result;
  const CommandTable* table = &subcommands();
  std::vector<std::string> path;
  // The tree is two levels deep; the bound keeps the walk finite whatever
  // the tables say.
  for (size_t depth = 0; depth < words.size() && depth < 4; ++depth) {
    const Command* c = find_command(*table, words[depth]);
    if (c == nullptr) return result;
    result.command = c;
    result.words_used = depth + 1;
    path.push_back(words[depth]);
    if (c->children == nullptr) {
      result.is_leaf = true;
      result.spec = describe_command(*c, path);
      return result;
    }
    table = &c->children();
  }
  return result;
}

}  // namespace mq::cli
