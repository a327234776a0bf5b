// `mq member` without a cluster: what its verbs print for given answers of
// the client library, and where the command tree, shell completion and the
// REPL's Tab find its verbs.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli/command_table.h"
#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/member_render.h"
#include "cli/repl_completion.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using namespace mq::cli;

namespace {

MemberInfo member(uint64_t id, const std::string& name, const std::string& state, uint32_t replicas,
                  uint32_t leads) {
  return {id, name, "127.0.0.1:700" + std::to_string(id), state, replicas, leads};
}

// A cluster of 16 shards, replication 3, whose n2 was removed and n4 added
// (its node has not claimed it yet).
MemberList sample_list() {
  MemberList l;
  l.cluster_id = "c0ffee";
  l.node = "n1";
  l.version = 3;
  l.shard_count = 16;
  l.replication = 3;
  l.members = {member(1, "n1", "active", 16, 6), member(2, "n2", "removed", 0, 0),
               member(3, "n3", "active", 16, 5), member(4, "n4", "joining", 16, 5)};
  return l;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("members are listed by id, the removed ones last", "[member]") {
  const auto ordered = members_in_display_order(sample_list().members);
  REQUIRE(ordered.size() == 4);
  CHECK(ordered[0].name == "n1");
  CHECK(ordered[1].name == "n3");
  CHECK(ordered[2].name == "n4");
  CHECK(ordered[3].name == "n2");
}

TEST_CASE("member list: plain lines, a table under a cluster line, one JSON object", "[member]") {
  const MemberList l = sample_list();
  CHECK(render_member_list(Format::kPlain, l) ==
        "1 n1 127.0.0.1:7001 active\n3 n3 127.0.0.1:7003 active\n4 n4 127.0.0.1:7004 joining\n"
        "2 n2 127.0.0.1:7002 removed\n");

  const auto table = lines_of(render_member_list(Format::kTable, l));
  REQUIRE(table.size() == 7);
  CHECK(table[0] == "cluster c0ffee, map version 3, 16 shards, replication 3, answered by n1");
  CHECK(table[1].empty());
  CHECK(table[2] == "ID  NAME  ADDRESS         STATE    REPLICAS  LEADS");
  CHECK(table[5] == "4   n4    127.0.0.1:7004  joining  16        5");
  CHECK(table[3] == "1   n1    127.0.0.1:7001  active   16        6");
  CHECK(table[6] == "2   n2    127.0.0.1:7002  removed  0         0");

  const std::string text = render_member_list(Format::kJson, l);
  REQUIRE(text.find('\n') == text.size() - 1);
  const json j = json::parse(text);
  CHECK(j["cluster_id"] == "c0ffee");
  CHECK(j["version"] == 3);
  CHECK(j["shard_count"] == 16);
  CHECK(j["replication"] == 3);
  CHECK(j["node"] == "n1");
  REQUIRE(j["members"].size() == 4);
  CHECK(j["members"][0] == json{{"id", 1},           {"name", "n1"},    {"address", "127.0.0.1:7001"},
                                {"state", "active"}, {"replicas", 16}, {"preferred_leader_of", 6}});
  CHECK(j["members"][3]["state"] == "removed");
}

TEST_CASE("member add says how to start the new member's node", "[member]") {
  const MemberInfo added = member(4, "n4", "active", 12, 4);
  CHECK(render_member_added(Format::kPlain, added, "127.0.0.1:7001") ==
        "added n4 (id 4) at 127.0.0.1:7004; start it with: mq node --id n4 --listen 127.0.0.1:7004 "
        "--data-dir DIR --join 127.0.0.1:7001\n");
  CHECK(json::parse(render_member_added(Format::kJson, added, "x:1"))["id"] == 4);
  CHECK_THAT(render_member_added(Format::kTable, added, "x:1"), StartsWith("ID  NAME"));
}

TEST_CASE("member remove says where the replicas go, or that there is nowhere", "[member]") {
  const MemberInfo removed = member(3, "n3", "removed", 0, 0);
  CHECK(render_member_removed(Format::kPlain, removed, {3, 3}) ==
        "removed n3 (id 3): its replicas move to the other members\n");
  // Unknown (the map could not be read after the change): the usual sentence.
  CHECK(render_member_removed(Format::kPlain, removed, {0, 0}) ==
        "removed n3 (id 3): its replicas move to the other members\n");
  CHECK(render_member_removed(Format::kPlain, removed, {2, 3}) ==
        "removed n3 (id 3): 2 member(s) remain for replication 3, so each shard keeps 2 "
        "replica(s) until a member is added\n");
  CHECK(json::parse(render_member_removed(Format::kJson, removed, {2, 3}))["state"] == "removed");
}

TEST_CASE("member replace names both members", "[member]") {
  const std::string plain = render_member_replaced(Format::kPlain, member(3, "n3", "removed", 0, 0),
                                                   member(5, "n5", "active", 16, 5), "127.0.0.1:7001");
  CHECK_THAT(plain, StartsWith("replaced n3 (id 3) with n5 (id 5) at 127.0.0.1:7005"));
  CHECK_THAT(plain, Contains("start it with: mq node --id n5 --listen 127.0.0.1:7005"));
  const json j = json::parse(render_member_replaced(Format::kJson, member(3, "n3", "removed", 0, 0),
                                                    member(5, "n5", "active", 16, 5), "x:1"));
  CHECK(j["removed"]["id"] == 3);
  CHECK(j["added"]["id"] == 5);
}

TEST_CASE("the member verbs are in the command tree, completion and the REPL's Tab", "[member][command_tree]") {
  std::vector<std::string> described;
  for (const auto& c : describe_tree()) {
    if (c.words.front() != "member") continue;
    described.push_back(c.words.back());
    INFO("mq member " << c.words.back());
    CHECK(c.spec.path == "mq member " + c.words.back());
    CHECK(c.spec.find_flag("--endpoints") != nullptr);
    CHECK(c.spec.find_flag("-o") != nullptr);
  }
  CHECK(described == std::vector<std::string>{"list", "add", "remove", "transfer-leadership", "replace"});

  CommandLookup remove = lookup_command({"member", "remove", "n3", "--force"});
  REQUIRE(remove.is_leaf);
  CHECK(remove.spec.positionals == std::vector<std::string>{"MEMBER"});
  CHECK(remove.spec.find_flag("--force")->envname == "MQ_FORCE");
  CHECK(lookup_command({"member", "replace"}).spec.positionals ==
        std::vector<std::string>{"OLD", "NAME", "ADDRESS"});
  CHECK_THAT(unknown_name_message("mq member", "verb", member_verbs(), "lst"),
             Contains("did you mean 'mq member list'?"));

  bool completed = false;
  for (const auto& node : completion_nodes()) {
    if (node.path != "member") continue;
    completed = true;
    CHECK(node.words == std::vector<std::string>{"list", "add", "remove", "transfer-leadership", "replace"});
  }
  CHECK(completed);

  CompletionWords w;
  w.commands = {"status", "\\cluster", "\\member"};
  w.member_verbs = {"list", "add", "remove", "replace"};
  CHECK(complete_repl_word("", "\\m", w) == std::vector<std::string>{"\\member"});
  CHECK(complete_repl_word("\\member ", "re", w) == std::vector<std::string>{"remove", "replace"});
  CHECK(complete_repl_word("\\member remove ", "", w).empty());
}
