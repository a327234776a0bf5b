#include "cli/repl_completion.h"

#include <algorithm>
#include <sstream>

namespace mq::cli {

namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::vector<std::string> shard_numbers(uint32_t count) {
  std::vector<std::string> out;
  for (uint32_t s = 0; s < count; ++s) out.push_back(std::to_string(s));
  return out;
}

// Verbs whose operands are node ids (partition takes comma-separated lists
// of them: the word break at ',' makes each id a word of its own).
bool takes_nodes(const std::string& verb) {
  static const std::vector<std::string> verbs = {"kill",  "stop",    "start",     "restart",
                                                 "pause", "resume",  "partition", "isolate",
                                                 "logs"};
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

std::vector<std::string> cluster_operands(const std::vector<std::string>& typed,
                                          const CompletionWords& words) {
  // typed[0] is \cluster, typed[1] the verb; operands follow.
  const std::string& verb = typed[1];
  const std::string& previous = typed.back();
  if (previous == "--shard") return shard_numbers(words.shard_count);
  if (verb == "transfer-leader") {
    size_t operands = 0;
    for (size_t i = 2; i < typed.size(); ++i) operands += typed[i][0] != '-';
    return operands == 0 ? shard_numbers(words.shard_count) : words.node_ids;
  }
  if (takes_nodes(verb)) {
    std::vector<std::string> out = words.node_ids;
    if (verb == "kill" || verb == "stop" || verb == "start" || verb == "restart" ||
        verb == "pause" || verb == "resume") {
      out.push_back("leader");
    }
    return out;
  }
  return {};
}

}  // namespace

std::vector<std::string> complete_repl_word(const std::string& before, const std::string& prefix,
                                            const CompletionWords& words) {
  const std::vector<std::string> typed = split_words(before);
  std::vector<std::string> pool;
  if (typed.empty()) {
    pool = words.commands;
  } else if (typed[0] == "\\cluster") {
    pool = typed.size() == 1 ? words.cluster_verbs : cluster_operands(typed, words);
  } else if (typed[0] == "\\demo" && typed.size() == 1) {
    pool = words.demo_verbs;
  } else if (typed[0] == "\\member" && typed.size() == 1) {
    pool = words.member_verbs;
  }
  std::vector<std::string> out;
  for (const auto& candidate : pool) {
    if (candidate.compare(0, prefix.size(), prefix) == 0) out.push_back(candidate);
  }
  return out;
}

}  // namespace mq::cli
