#include <catch2/catch.hpp>

#include "cli/repl_completion.h"

using mq::cli::complete_repl_word;
using mq::cli::CompletionWords;
using Words = std::vector<std::string>;

namespace {

CompletionWords sample() {
  CompletionWords w;
  w.commands = {"set", "get", "del", "keys", "status", "help", "quit", "exit", "\\cluster", "\\demo"};
  w.cluster_verbs = {"up", "status", "kill", "partition", "transfer-leader", "down"};
  w.demo_verbs = {"failover"};
  w.node_ids = {"n1", "n2", "n3"};
  w.shard_count = 3;
  return w;
}

}  // namespace

TEST_CASE("Tab offers commands first, then the verbs of \\cluster and \\demo", "[repl][completion]") {
  const auto w = sample();
  CHECK(complete_repl_word("", "s", w) == Words{"set", "status"});
  CHECK(complete_repl_word("", "\\c", w) == Words{"\\cluster"});
  CHECK(complete_repl_word("\\cluster ", "", w) == w.cluster_verbs);
  CHECK(complete_repl_word("\\cluster ", "st", w) == Words{"status"});
  CHECK(complete_repl_word("\\demo ", "f", w) == Words{"failover"});
  // Data commands take user ids and keys: nothing to offer.
  CHECK(complete_repl_word("get ", "", w).empty());
}

TEST_CASE("Tab offers node ids and shard numbers where a verb takes them", "[repl][completion]") {
  const auto w = sample();
  CHECK(complete_repl_word("\\cluster kill ", "n", w) == Words{"n1", "n2", "n3"});
  CHECK(complete_repl_word("\\cluster kill ", "", w) == Words{"n1", "n2", "n3", "leader"});
  CHECK(complete_repl_word("\\cluster kill leader --shard ", "", w) == Words{"0", "1", "2"});
  // partition n1 n2,n3: each id of a comma list is a word of its own.
  CHECK(complete_repl_word("\\cluster partition n1 n2,", "n", w) == Words{"n1", "n2", "n3"});
  CHECK(complete_repl_word("\\cluster transfer-leader ", "", w) == Words{"0", "1", "2"});
  CHECK(complete_repl_word("\\cluster transfer-leader 2 ", "n", w) == Words{"n1", "n2", "n3"});
  CHECK(complete_repl_word("\\cluster up ", "", w).empty());
  CHECK(complete_repl_word("\\cluster status ", "", w).empty());
}
