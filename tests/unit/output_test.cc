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

  // One-shot plain output is the value itself; the REPL's line is escaped.
  CHECK(render_get(Format::kPlain, "u", "k", found, false) == "hello world\n");
  CHECK(render_get(Format::kPlain, "u", "k", found, true) == "\"hello world\"\n");
  CHECK(render_get(Format::kPlain, "u", "k", missing, true) == "(nil)\n");
  GetResult multi_line{kHeader, true, "a\nb"};
  CHECK(render_get(Format::kPlain, "u", "k", multi_line, true) == "\"a\\nb\"\n");

  json j = one_json_line(render_get(Format::kJson, "u", "k", found, true));
  CHECK(j["found"] == true);
  CHECK(j["value"] == "hello world");
  check_header(j);
  j = one_json_line(render_get(Format::kJson, "u", "k", missing, true));
  CHECK(j["found"] == false);
  CHECK_FALSE(j.contains("value"));

  const std::string table = render_get(Format::kTable, "u", "k", found, false);
  CHECK(table == "USER  KEY  VALUE\nu     k    \"hello world\"\n");
  CHECK_THAT(render_get(Format::kTable, "u", "k", missing, false), Contains("(nil)"));
}

TEST_CASE("bytes that are not UTF-8 travel as base64 in JSON", "[output]") {
  const std::string key("\xFF\x00", 2);
  const GetResult r{kHeader, true, std::string("\x00\x01\x02\xFE\xFF", 5)};
  const json j = one_json_line(render_get(Format::kJson, "u", key, r, true));
  CHECK_FALSE(j.contains("key"));
  CHECK(j["key_base64"] == "/wA=");
  CHECK_FALSE(j.contains("value"));
  CHECK(j["value_base64"] == "AAEC/v8=");

  // Base64 padding: 1, 2 and 3 trailing bytes.
  auto value_b64 = [](const std::string& v) {
    return one_json_line(render_get(Format::kJson, "u", "k", GetResult{kHeader, true, v}, true))
        ["value_base64"];
  };
  CHECK(value_b64("\xFF") == "/w==");
  CHECK(value_b64("\xFF\xFE") == "//4=");
  CHECK(value_b64("\xFF\xFE\xFD") == "//79");
  CHECK(value_b64("\xFFM" "an") == "/01hbg==");

  // UTF-8 stays a string, even with control characters.
  const json text = one_json_line(
      render_get(Format::kJson, "u", "k", GetResult{kHeader, true, "caf\xC3\xA9\n"}, true));
  CHECK(text["value"] == "caf\xC3\xA9\n");
}

TEST_CASE("del renders deleted and not found", "[output]") {
  const DeleteResult yes{kHeader, true}, no{kHeader, false};
  CHECK(render_del(Format::kPlain, "u", "k", yes) == "OK\n");
  CHECK(render_del(Format::kPlain, "u", "k", no) == "(nil)\n");
  CHECK(one_json_line(render_del(Format::kJson, "u", "k", yes))["deleted"] == true);
  CHECK(one_json_line(render_del(Format::kJson, "u", "k", no))["deleted"] == false);
  CHECK_THAT(render_del(Format::kTable, "u", "k", yes), Contains("yes"));
  CHECK_THAT(render_del(Format::kTable, "u", "k", no), Contains("not found"));
}

TEST_CASE("keys render as lines, one line, JSON or a table", "[output]") {
  const ListResult r{kHeader, {"a", "b c", std::string("\xFF", 1)}, false};
  const ListResult none{kHeader, {}, false};
  CHECK(render_keys(Format::kPlain, "u", r, false) == "a\nb c\n\xFF\n");
  CHECK(render_keys(Format::kPlain, "u", r, true) == "a \"b c\" \"\\xff\"\n");
  CHECK(render_keys(Format::kPlain, "u", none, true) == "(empty)\n");
  CHECK(render_keys(Format::kPlain, "u", none, false).empty());

  const json j = one_json_line(render_keys(Format::kJson, "u", r, true));
  REQUIRE(j["keys"].size() == 3);
  CHECK(j["keys"][0] == "a");
  CHECK(j["keys"][1] == "b c");
  CHECK(j["keys"][2]["base64"] == "/w==");
  CHECK(j["truncated"] == false);
  check_header(j);
  CHECK(one_json_line(render_keys(Format::kJson, "u", none, true))["keys"].empty());

  const std::string table = render_keys(Format::kTable, "u", r, false);
  CHECK_THAT(table, StartsWith("KEY\n"));
  CHECK_THAT(table, EndsWith("(3 keys)\n"));
  CHECK(line_count(table) == 5);
  const ListResult one{kHeader, {"a"}, true};
  CHECK_THAT(render_keys(Format::kTable, "u", one, false), EndsWith("(1 key, more not shown)\n"));
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
  const json j = one_json_line(render_status(Format::kJson, s));
  CHECK(j["shard_count"] == 2);
  CHECK(j["nodes"][0]["reachable"] == true);
  CHECK(j["shards"][0]["keys"] == 3);
  CHECK(j["shards"][0]["replicas"][0]["match"] == 10);

  const std::string text = render_status(Format::kTable, s);
  CHECK_THAT(text, StartsWith("answered by n1, 2 shards, replication 1, up 5 s\n"));
  CHECK_THAT(text, Contains("127.0.0.1:7001") && Contains("up") && Contains("(none)"));
}
