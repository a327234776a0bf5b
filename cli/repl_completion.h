// What Tab offers in the REPL: the commands for the first word, the verbs
// after \cluster, \demo and \member, node ids where a verb takes a node,
// shard numbers where it takes a shard. A pure function of the line, so a
// test can check it without a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mq::cli {

struct CompletionWords {
  std::vector<std::string> commands;       // set, get, ..., \cluster, \demo, \member
  std::vector<std::string> cluster_verbs;  // up, status, kill, ...
  std::vector<std::string> demo_verbs;     // failover
  std::vector<std::string> member_verbs;   // list, add, remove, replace
  std::vector<std::string> node_ids;       // of the local cluster, when there is one
  uint32_t shard_count = 0;                // 0 when unknown
};

// The candidates for the word being typed. `before` is the line up to the
// start of that word; `prefix` is what is typed of it so far.
std::vector<std::string> complete_repl_word(const std::string& before, const std::string& prefix,
                                            const CompletionWords& words);

}  // namespace mq::cli
