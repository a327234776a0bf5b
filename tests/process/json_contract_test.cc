// The JSON every one-shot command prints, against the schemas of
// cli/json_schema/: real commands against a real node, with the data that
// used to change the shapes (bytes that are not UTF-8, missing keys, a
// shard the answering node does not lead) and with failures.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "json_schema_check.h"
#include "node_process.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace mq::test;

namespace {

// stdout of a -o json command: exactly one object on one line.
json one_object(const RunResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(!r.out.empty());
  REQUIRE(r.out.find('\n') == r.out.size() - 1);
  json j = json::parse(r.out);
  REQUIRE(j.is_object());
  return j;
}

// Runs the command and checks its stdout against the schema and its exit code.
// -o json goes right after the command's words (`mq member add -o json ...`).
json conforming(const NodeProcess& node, const std::string& schema, std::vector<std::string> args,
                int exit_code, std::string_view stdin_data = {}) {
  const long command_words = args.size() > 1 && args[0] == "member" ? 2 : 1;
  args.insert(args.begin() + command_words, {"-o", "json"});
  const RunResult r = node.client(args, stdin_data);
  INFO("mq " << args[0] << " " << args.back() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == exit_code);
  const json j = one_object(r);
  const auto violations = schema_violations(load_output_schema(schema), j);
  for (const auto& v : violations) UNSCOPED_INFO(v);
  CHECK(violations.empty());
  return j;
}

const std::string kNotUtf8("\xFF\xFE-key", 6);

}  // namespace

TEST_CASE("the schema check finds what breaks a schema", "[process][json]") {
  const json schema = load_output_schema("status");
  const json good = {{"node", "n1"},       {"cluster_id", "c"}, {"version", "v"}, {"shard_count", 1},
                     {"replication", 1},   {"uptime_ms", 5},
                     {"memory", {{"used_bytes", 1}, {"limit_bytes", 0}, {"full", false}}},
                     {"membership", {{"map_version", 1}, {"moves_in_flight", 0}}},
                     {"nodes", json::array()},
                     {"shards", json::array({{{"id", 0}, {"leader", ""}, {"role", "follower"},
                                              {"term", 1}, {"commit", 1}, {"applied", 1}, {"keys", 0},
                                              {"replicas", json::array({{{"node", "n1"},
                                                                         {"role", "unknown"},
                                                                         {"match", nullptr},
                                                                         {"lag", nullptr}}})}}})}};
  CHECK(schema_violations(schema, good).empty());

  json missing = good;
  missing.erase("uptime_ms");
  CHECK(schema_violations(schema, missing).size() == 1);
  json extra = good;
  extra["surprise"] = 1;
  CHECK(schema_violations(schema, extra).size() == 1);
  json wrong_role = good;
  wrong_role["shards"][0]["replicas"][0]["role"] = "-";
  CHECK(schema_violations(schema, wrong_role).size() == 1);
  json negative = good;
  negative["shards"][0]["term"] = -1;
  CHECK(schema_violations(schema, negative).size() == 1);
  json lag_dropped = good;
  lag_dropped["shards"][0]["replicas"][0].erase("lag");
  CHECK_THAT(schema_violations(schema, lag_dropped).at(0), Contains("/shards/0/replicas/0") && Contains("lag"));

  json unsupported = schema;
  unsupported["oneOf"] = json::array();
  CHECK(schema_violations(unsupported, good).size() == 1);
  const json base64 = load_output_schema("keys")["$defs"]["base64"];
  CHECK(schema_violations(base64, "YQ==").empty());
  CHECK(schema_violations(base64, "not base64!").size() == 1);
}

TEST_CASE("data commands print JSON of one shape whatever the data", "[process][json]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  json j = conforming(node, "set", {"set", "user123", "greeting", "hello world"}, 0);
  CHECK(j["key"] == "greeting");
  j = conforming(node, "set", {"set", "user123", kNotUtf8, "-"}, 0, std::string("\x00\xFF", 2));
  CHECK(j["key"].is_null());
  CHECK(j["key_base64"] == "//4ta2V5");

  j = conforming(node, "get", {"get", "user123", "greeting"}, 0);
  CHECK(j["value"] == "hello world");
  CHECK(j["value_base64"] == "aGVsbG8gd29ybGQ=");
  j = conforming(node, "get", {"get", "user123", kNotUtf8}, 0);
  CHECK(j["value"].is_null());
  CHECK(j["value_base64"] == "AP8=");
  j = conforming(node, "get", {"get", "user123", "missing"}, 1);
  CHECK(j["found"] == false);
  CHECK(j["value"].is_null());
  conforming(node, "get", {"get", "--consistency", "stale", "user123", "greeting"}, 0);

  j = conforming(node, "keys", {"keys", "user123"}, 0);
  CHECK(j["keys"] == json::array({"greeting", nullptr}));
  CHECK(j["keys_base64"] == json::array({"Z3JlZXRpbmc=", "//4ta2V5"}));
  j = conforming(node, "keys", {"keys", "--limit", "1", "user123"}, 0);
  CHECK(j["truncated"] == true);
  j = conforming(node, "keys", {"keys", "nobody"}, 0);
  CHECK(j["keys"].empty());

  conforming(node, "del", {"del", "user123", kNotUtf8}, 0);
  j = conforming(node, "del", {"del", "user123", kNotUtf8}, 1);
  CHECK(j["deleted"] == false);

  // A single node leads every shard: match and lag are known.
  j = conforming(node, "status", {"status"}, 0);
  CHECK(j["shards"][0]["replicas"][0]["lag"] == 0);
}

TEST_CASE("a failing one-shot command prints a JSON error with the same exit code", "[process][json]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  auto check_error = [](const RunResult& r, int exit_code, const std::string& code) {
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == exit_code);
    const json j = one_object(r);
    const auto violations = schema_violations(load_output_schema("error"), j);
    for (const auto& v : violations) UNSCOPED_INFO(v);
    CHECK(violations.empty());
    CHECK(j["error"]["code"] == code);
    // People still get their line on stderr.
    CHECK_THAT(r.err, Contains(j["error"]["message"].get<std::string>()));
  };

  check_error(node.client({"get", "-o", "json", "user123", std::string(1025, 'k')}), 2, "invalid_argument");
  check_error(node.client({"keys", "-o", "json", "user123", "[z-a]"}), 2, "invalid_argument");
  // Over the node's value limit: refused by the node, not the client.
  check_error(node.client({"set", "-o", "json", "user123", "k", "-"}, std::string(2 * 1024 * 1024, 'v')), 2,
              "invalid_argument");
  check_error(run_mq({"get", "-o", "json", "--endpoints", "nonsense", "u", "k"}), 2, "invalid_argument");

  const std::string dead = "127.0.0.1:" + std::to_string(free_loopback_port());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "u", "k"}, {"set", "u", "k", "v"}, {"del", "u", "k"},
        {"keys", "u"}, {"status"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"-o", "json", "--endpoints", dead, "--timeout", "2s"});
    INFO("mq " << args[0]);
    check_error(run_mq(full), 3, "unavailable");
  }
}

TEST_CASE("the piped REPL's JSON lines follow the same schemas", "[process][json][repl]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::vector<std::pair<std::string, std::string>> script = {
      {"set u k \"a b\"", "set"},        {"set u \"\\xff\" v", "set"}, {"get u k", "get"},
      {"get u \"\\xff\"", "get"},        {"get u missing", "get"},     {"keys u", "keys"},
      {"del u missing", "del"},          {"status", "status"},         {"get u", "error"},
      {"bogus", "error"}};
  std::string input;
  for (const auto& [line, _] : script) input += line + "\n";
  const RunResult r = node.client({"repl", "-o", "json"}, input);
  INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  size_t start = 0;
  for (const auto& [line, schema] : script) {
    const size_t end = r.out.find('\n', start);
    REQUIRE(end != std::string::npos);
    const json j = json::parse(r.out.substr(start, end - start));
    start = end + 1;
    INFO(line << " -> " << j.dump());
    const auto violations = schema_violations(load_output_schema(schema), j);
    for (const auto& v : violations) UNSCOPED_INFO(v);
    CHECK(violations.empty());
  }
}

TEST_CASE("member commands print JSON of one shape, failing or not", "[process][json][member]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port(), {"--enable-member-changes"});
  REQUIRE(node.wait_ready());
  // Addresses no node serves: members added here never run, and the one
  // node keeps every shard's leadership meanwhile.
  const std::string a2 = "127.0.0.1:" + std::to_string(free_loopback_port());
  const std::string a3 = "127.0.0.1:" + std::to_string(free_loopback_port());

  json j = conforming(node, "member_list", {"member", "list"}, 0);
  CHECK(j["members"].size() == 1);
  j = conforming(node, "member", {"member", "add", "n2", a2}, 0);
  CHECK(j["id"] == 2);
  CHECK(j["state"] == "joining");  // until a node claims it with --join
  j = conforming(node, "member_replace", {"member", "replace", "n2", "n3", a3}, 0);
  CHECK(j["removed"]["state"] == "removed");
  CHECK(j["added"]["name"] == "n3");
  j = conforming(node, "member", {"member", "remove", "n3"}, 0);
  CHECK(j["state"] == "removed");
  j = conforming(node, "member_list", {"member", "list"}, 0);
  CHECK(j["members"].size() == 3);  // removed members stay listed

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"member", "add", "n1", a2},  // a name in use
        {"member", "add", "n4", "no-port"},
        {"member", "remove", "n9"},
        {"member", "remove", "n1"},  // the last active member
        {"member", "replace", "n9", "n4", a2}}) {
    j = conforming(node, "error", args, 2);
    CHECK(j["error"]["code"] == "invalid_argument");
  }
  TempDir closed_dir;
  NodeProcess closed(closed_dir / "n1", free_loopback_port());
  REQUIRE(closed.wait_ready());
  j = conforming(closed, "error", {"member", "add", "n2", a2}, 2);
  CHECK_THAT(j["error"]["message"].get<std::string>(), Contains("--enable-member-changes"));
  const RunResult dead = run_mq({"member", "list", "-o", "json", "--timeout", "2s", "--endpoints",
                                 "127.0.0.1:" + std::to_string(free_loopback_port())});
  CHECK(dead.exit_code == 3);
  CHECK(schema_violations(load_output_schema("error"), one_object(dead)).empty());
}
