#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli/output.h"

using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using namespace mq::cli;

namespace {

const Header kHeader{7, "n1", "n1", 3, 42};

// Every JSON result is one line: one object, then a newline.
json one_json_line(const std::string& text) {
  REQUIRE_THAT(text, EndsWith("\n"));
  REQUIRE(text.find('\n') == text.size() - 1);
  return json::parse(text);
}

size_t line_count(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

void check_header(const json& j) {
  CHECK(j["shard"] == 7);
  CHECK(j["node"] == "n1");
  CHECK(j["leader"] == "n1");
  CHECK(j["term"] == 3);
  CHECK(j["index"] == 42);
}

}  // namespace

TEST_CASE("parse_format knows the three formats", "[output]") {
  CHECK(parse_format("plain") == Format::kPlain);
  CHECK(parse_format("json") == Format::kJson);
  CHECK(parse_format("table") == Format::kTable);
  CHECK_FALSE(parse_format("yaml"));
  CHECK_FALSE(parse_format("JSON"));
  CHECK_FALSE(parse_format(""));
  CHECK_FALSE(parse_format("="));
}


TEST_CASE("without -o, rows are a table on a terminal and everything else is plain", "[output]") {
  CHECK(default_format(ResultShape::kSingle, true) == Format::kPlain);
  CHECK(default_format(ResultShape::kSingle, false) == Format::kPlain);
  CHECK(default_format(ResultShape::kRows, true) == Format::kTable);
  CHECK(default_format(ResultShape::kRows, false) == Format::kPlain);
  CHECK(plain_style_for(true).escaped);
  CHECK_FALSE(plain_style_for(false).escaped);
  CHECK_FALSE(plain_style_for(true).one_line);
}

TEST_CASE("roles come from a fixed set of names", "[output]") {
  for (const char* role : {"leader", "follower", "candidate", "pre-candidate"}) CHECK(role_name(role) == role);
  CHECK(role_name("") == "unknown");
  CHECK(role_name("?") == "unknown");
  CHECK(role_name("-") == "down");
  CHECK(role_name("learner") == "unknown");
}

TEST_CASE("set renders in each format", "[output]") {
  const SetResult r{kHeader};
  CHECK(render_set(Format::kPlain, "user123", "k", r) == "OK\n");

  const json j = one_json_line(render_set(Format::kJson, "user123", "k", r));
  CHECK(j["user"] == "user123");
  CHECK(j["key"] == "k");
  check_header(j);

  CHECK(render_set(Format::kTable, "user123", "k", r) ==
        "USER     KEY  SHARD  NODE  INDEX\n"
        "user123  k    7      n1    42\n");
}

TEST_CASE("get renders found and missing values", "[output]") {
  GetResult found{kHeader, true, "hello world"};
  GetResult missing{kHeader, false, ""};

  // To a pipe, plain is the exact bytes (no newline added); on a terminal
  // and in the REPL, the value is shown escaped on its line.
  const PlainStyle exact{false, false}, terminal{true, false}, repl_line{true, true};
  CHECK(render_get(Format::kPlain, "u", "k", found, exact) == "hello world");
  CHECK(render_get(Format::kPlain, "u", "k", found, terminal) == "\"hello world\"\n");
  CHECK(render_get(Format::kPlain, "u", "k", found, repl_line) == "\"hello world\"\n");
  CHECK(render_get(Format::kPlain, "u", "k", GetResult{kHeader, true, "hello"}, terminal) == "hello\n");
  CHECK(render_get(Format::kPlain, "u", "k", missing, repl_line) == "(nil)\n");
  GetResult multi_line{kHeader, true, "a\nb"};
  CHECK(render_get(Format::kPlain, "u", "k", multi_line, repl_line) == "\"a\\nb\"\n");
  CHECK(render_get(Format::kPlain, "u", "k", multi_line, exact) == "a\nb");

  json j = one_json_line(render_get(Format::kJson, "u", "k", found, repl_line));
  CHECK(j["found"] == true);
  CHECK(j["value"] == "hello world");
  CHECK(j["value_base64"] == "aGVsbG8gd29ybGQ=");
  check_header(j);
  // Missing: the same fields, null.
  j = one_json_line(render_get(Format::kJson, "u", "k", missing, repl_line));
  CHECK(j["found"] == false);
  CHECK(j["value"].is_null());
  CHECK(j["value_base64"].is_null());
  CHECK(j.size() == one_json_line(render_get(Format::kJson, "u", "k", found, exact)).size());

  const std::string table = render_get(Format::kTable, "u", "k", found, exact);
  CHECK(table == "USER  KEY  VALUE\nu     k    \"hello world\"\n");
  CHECK_THAT(render_get(Format::kTable, "u", "k", missing, exact), Contains("(nil)"));
}

TEST_CASE("bytes fields always come with base64; text is null when not UTF-8", "[output]") {
  const PlainStyle style{};
  const std::string key("\xFF\x00", 2);
  const GetResult r{kHeader, true, std::string("\x00\x01\x02\xFE\xFF", 5)};
  const json j = one_json_line(render_get(Format::kJson, "u", key, r, style));
  CHECK(j["key"].is_null());
  CHECK(j["key_base64"] == "/wA=");
  CHECK(j["value"].is_null());
  CHECK(j["value_base64"] == "AAEC/v8=");

  // Base64 padding: 1, 2 and 3 trailing bytes.
  auto value_b64 = [](const std::string& v) {
    return one_json_line(render_get(Format::kJson, "u", "k", GetResult{kHeader, true, v}, PlainStyle{}))
        ["value_base64"];
  };
  CHECK(value_b64("\xFF") == "/w==");
  CHECK(value_b64("\xFF\xFE") == "//4=");
  CHECK(value_b64("\xFF\xFE\xFD") == "//79");
  CHECK(value_b64("\xFFM" "an") == "/01hbg==");

  // UTF-8 stays a string, even with control characters.
  const json text = one_json_line(
      render_get(Format::kJson, "u", "k", GetResult{kHeader, true, "caf\xC3\xA9\n"}, style));
  CHECK(text["value"] == "caf\xC3\xA9\n");
  CHECK(text["value_base64"] == "Y2Fmw6kK");
}

TEST_CASE("del renders deleted and not found", "[output]") {
  const DeleteResult yes{kHeader, true}, no{kHeader, false};
  CHECK(render_del(Format::kPlain, "u", "k", yes) == "OK\n");
  CHECK(render_del(Format::kPlain, "u", "k", no) == "(nil)\n");
  CHECK(one_json_line(render_del(Format::kJson, "u", "k", yes))["deleted"] == true);
  CHECK(one_json_line(render_del(Format::kJson, "u", "k", yes))["key_base64"] == "aw==");
  CHECK(one_json_line(render_del(Format::kJson, "u", "k", no))["deleted"] == false);
  CHECK_THAT(render_del(Format::kTable, "u", "k", yes), Contains("yes"));
  CHECK_THAT(render_del(Format::kTable, "u", "k", no), Contains("not found"));
}

TEST_CASE("keys render as lines, one line, JSON or a table", "[output]") {
  const ListResult r{kHeader, {"a", "b c", std::string("\xFF", 1)}, false};
  const ListResult none{kHeader, {}, false};
  const PlainStyle exact{false, false}, terminal{true, false}, repl_line{true, true};
  CHECK(render_keys(Format::kPlain, "u", r, exact) == "a\nb c\n\xFF\n");
  CHECK(render_keys(Format::kPlain, "u", r, terminal) == "a\n\"b c\"\n\"\\xff\"\n");
  CHECK(render_keys(Format::kPlain, "u", r, repl_line) == "a \"b c\" \"\\xff\"\n");
  CHECK(render_keys(Format::kPlain, "u", none, repl_line) == "(empty)\n");
  CHECK(render_keys(Format::kPlain, "u", none, exact).empty());

  // A key that is not UTF-8 does not change the shape: two lists of strings
  // (text or null) in the same order.
  const json j = one_json_line(render_keys(Format::kJson, "u", r, exact));
  CHECK(j["keys"] == json::array({"a", "b c", nullptr}));
  CHECK(j["keys_base64"] == json::array({"YQ==", "YiBj", "/w=="}));
  CHECK(j["truncated"] == false);
  check_header(j);
  const json empty = one_json_line(render_keys(Format::kJson, "u", none, exact));
  CHECK(empty["keys"].empty());
  CHECK(empty["keys_base64"].empty());

  const std::string table = render_keys(Format::kTable, "u", r, exact);
  CHECK_THAT(table, StartsWith("KEY\n"));
  CHECK_THAT(table, EndsWith("(3 keys)\n"));
  CHECK(line_count(table) == 5);
  const ListResult one{kHeader, {"a"}, true};
  CHECK_THAT(render_keys(Format::kTable, "u", one, exact), EndsWith("(1 key, more not shown)\n"));
}

TEST_CASE("tables align columns by display width", "[output]") {
  const std::string t = render_table({"A", "B"}, {{"\xC3\xA9\xC3\xA9\xC3\xA9", "x"}, {"1", "y"}});
  CHECK(t == "A    B\n\xC3\xA9\xC3\xA9\xC3\xA9  x\n1    y\n");
  CHECK(render_table({"ONLY"}, {}) == "ONLY\n");
}

TEST_CASE("errors render on one line", "[output]") {
  const Error e{ErrorKind::kInvalid, "key is 1025 bytes;\nthe limit is 1024 bytes"};
  CHECK(render_error(Format::kPlain, e) == "(error) key is 1025 bytes; the limit is 1024 bytes\n");
  CHECK(render_error(Format::kTable, e) == render_error(Format::kPlain, e));
  const json j = one_json_line(render_error(Format::kJson, e));
  CHECK(j["error"]["code"] == "invalid_argument");
  CHECK(j["error"]["message"] == "key is 1025 bytes;\nthe limit is 1024 bytes");

  const json unavailable = one_json_line(render_error(Format::kJson, {ErrorKind::kUnavailable, "x"}));
  CHECK(unavailable["error"]["code"] == "unavailable");
  // A message with bytes that are not UTF-8 still yields valid JSON.
  one_json_line(render_error(Format::kJson, {ErrorKind::kInternal, "bad \xFF byte"}));
}

TEST_CASE("error kinds map to the documented exit codes", "[output]") {
  CHECK(exit_code_of(ErrorKind::kOk) == 0);
  CHECK(exit_code_of(ErrorKind::kNotFound) == 1);
  CHECK(exit_code_of(ErrorKind::kInvalid) == 2);
  CHECK(exit_code_of(ErrorKind::kUnavailable) == 3);
  CHECK(exit_code_of(ErrorKind::kUnknownOutcome) == 4);
  CHECK(exit_code_of(ErrorKind::kInternal) == 3);
  CHECK(std::string(error_code_name(ErrorKind::kNotFound)) == "not_found");
  CHECK(std::string(error_code_name(ErrorKind::kUnknownOutcome)) == "unknown_outcome");
}

TEST_CASE("status renders as JSON and as tables", "[output]") {
  ClusterStatus s;
  s.node = "n1";
  s.version = "mq 0.1.0";
  s.shard_count = 2;
  s.replication = 1;
  s.uptime_ms = 5500;
  s.nodes = {{"n1", "127.0.0.1:7001", true}};
  s.shards = {{0, "n1", "leader", 1, 10, 10, 3, {{"n1", "leader", 10, 0}}},
              {1, "", "follower", 1, 4, 4, 0, {}}};
  s.shards.push_back({2, "n2", "follower", 1, 4, 4, 0, {{"n2", "leader", 0, 0}, {"n1", "follower", 0, 0}, {"n3", "", 0, 0}}});
  const json j = one_json_line(render_status(Format::kJson, s));
  CHECK(j["shard_count"] == 2);
  CHECK(j["nodes"][0]["reachable"] == true);
  CHECK(j["shards"][0]["keys"] == 3);
  CHECK(j["shards"][0]["replicas"][0]["match"] == 10);
  CHECK(j["shards"][0]["replicas"][0]["lag"] == 0);
  // A shard the answering node follows: the leader's progress is unknown
  // there (null, not 0), and a replica it cannot tell about is "unknown".
  const json& followed = j["shards"][2]["replicas"];
  CHECK(followed[0]["match"].is_null());
  CHECK(followed[0]["lag"].is_null());
  CHECK(followed[2]["role"] == "unknown");

  const std::string text = render_status(Format::kTable, s);
  CHECK_THAT(text, StartsWith("answered by n1, 2 shards, replication 1, up 5 s, memory 0 B\n"));
  CHECK_THAT(text, Contains("127.0.0.1:7001") && Contains("up") && Contains("(none)"));

  // Plain is one summary line, as the piped REPL prints it.
  CHECK(render_status(Format::kPlain, s) == "node n1: 1/1 nodes up, 2/3 shards with a leader\n");
}

TEST_CASE("status says how much memory a node holds and when it refuses writes for it", "[output]") {
  ClusterStatus s;
  s.node = "n1";
  s.memory_used_bytes = 300u << 20;
  s.memory_limit_bytes = 256u << 20;
  s.memory_full = true;
  const json j = one_json_line(render_status(Format::kJson, s));
  CHECK(j["memory"]["used_bytes"] == 300u << 20);
  CHECK(j["memory"]["limit_bytes"] == 256u << 20);
  CHECK(j["memory"]["full"] == true);
  CHECK_THAT(render_status(Format::kTable, s),
             Contains("memory 300 MiB of 256 MiB (FULL: writes refused, reads and deletes served)"));
  CHECK_THAT(render_status(Format::kPlain, s), Contains("memory 300 MiB of 256 MiB (FULL"));
  s.memory_full = false;
  s.memory_used_bytes = 1536u << 20;
  s.memory_limit_bytes = 0;
  CHECK_THAT(render_status(Format::kTable, s), Contains("memory 1.5 GiB\n"));
  CHECK(render_status(Format::kPlain, s).find("memory") == std::string::npos);
}

TEST_CASE("a write refused for memory is its own error kind: exit 2, not retried", "[output]") {
  CHECK(exit_code_of(ErrorKind::kMemoryFull) == 2);
  CHECK(std::string(error_code_name(ErrorKind::kMemoryFull)) == "memory_full");
}
