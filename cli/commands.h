// The subcommand table of the mq binary: one entry per subcommand with its
// one-line summary; main() dispatches on argv[1] and suggests the closest
// name for a typo.
#pragma once

#include <string>
#include <vector>

namespace mq::cli {

struct Subcommand {
  const char* name;
  const char* summary;
  // argv[0] is "mq <name>"; returns the process exit code.
  int (*run)(int argc, char** argv);
};

const std::vector<Subcommand>& subcommands();
std::string version_string();

int cmd_node(int argc, char** argv);
int cmd_set(int argc, char** argv);
int cmd_get(int argc, char** argv);
int cmd_del(int argc, char** argv);
int cmd_keys(int argc, char** argv);
int cmd_status(int argc, char** argv);
int cmd_repl(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_help(int argc, char** argv);
int cmd_version(int argc, char** argv);
int cmd_cluster(int argc, char** argv);  // mq cluster VERB ... (cmd_cluster.cc)
int cmd_demo(int argc, char** argv);     // mq demo failover ... (cmd_demo.cc)
int cluster_watch(int argc, char** argv);  // mq cluster watch (cmd_cluster_watch.cc)

// The verbs of `mq cluster`, in the order of its help (REPL completion).
std::vector<std::string> cluster_verb_names();

// Runs `mq cluster WORDS...` (command "cluster") or `mq demo WORDS...`
// (command "demo") in this process: the REPL's \cluster and \demo lines.
int run_cluster_words(const std::string& command, const std::vector<std::string>& words);

}  // namespace mq::cli
