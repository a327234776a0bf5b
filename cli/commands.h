// The entry points of mq's commands. Each takes argv[0] = its full name
// ("mq get", "mq cluster up") and returns the process exit code; the
// tables that name them are in command_table.h.
#pragma once

#include <string>
#include <vector>

#include "cli/command_table.h"

namespace mq::cli {

std::string version_string();

int cmd_node(int argc, char** argv);
int cmd_set(int argc, char** argv);
int cmd_get(int argc, char** argv);
int cmd_del(int argc, char** argv);
int cmd_keys(int argc, char** argv);
int cmd_status(int argc, char** argv);
int cmd_repl(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_completion(int argc, char** argv);  // cmd_completion.cc
int cmd_help(int argc, char** argv);        // cmd_help.cc
int cmd_version(int argc, char** argv);     // cmd_help.cc
int cmd_cluster(int argc, char** argv);  // mq cluster VERB ... (cmd_cluster.cc)
int cmd_demo(int argc, char** argv);     // mq demo failover ... (cmd_demo.cc)
int demo_rebalance(int argc, char** argv);  // mq demo rebalance (cmd_demo_rebalance.cc)
int cmd_member(int argc, char** argv);   // mq member VERB ... (cmd_member.cc)
int cmd_auth(int argc, char** argv);     // mq auth VERB ... (cmd_auth.cc)
int cluster_watch(int argc, char** argv);  // mq cluster watch (cmd_cluster_watch.cc)

// The verbs of `mq cluster`, the demonstrations of `mq demo` and the verbs
// of `mq member`.
const CommandTable& cluster_verbs();
const CommandTable& demo_commands();
const CommandTable& member_verbs();
const CommandTable& auth_verbs();

// The usage of `mq` itself: its commands, conventions and exit codes.
void print_usage(FILE* out);

// Runs `mq cluster WORDS...` (command "cluster") or `mq demo WORDS...`
// (command "demo") in this process: the REPL's \cluster and \demo lines.
int run_cluster_words(const std::string& command, const std::vector<std::string>& words);

}  // namespace mq::cli
