// The one-shot client against a real node: outputs in each format, exit
// codes, binary-safe values, and where the endpoints come from.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include "node_process.h"
#include "pty_process.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using namespace mq::test;

namespace {

json parse_json_line(const std::string& out) {
  INFO("stdout: " << out);
  REQUIRE(!out.empty());
  REQUIRE(out.find('\n') == out.size() - 1);
  return json::parse(out);
}

bool is_one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

}  // namespace

TEST_CASE("set, get, del and keys with plain output", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  RunResult r = node.client({"set", "user123", "greeting", "hello world"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "OK\n");
  CHECK(r.err.empty());

  // Plain get writes the value's exact bytes: no newline when not a terminal.
  r = node.client({"get", "user123", "greeting"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello world");

  r = node.client({"get", "user123", "missing"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("not found"));

  REQUIRE(node.client({"set", "user123", "gadget", "g"}).exit_code == 0);
  REQUIRE(node.client({"set", "user123", "other", "o"}).exit_code == 0);
  REQUIRE(node.client({"set", "someone-else", "gizmo", "x"}).exit_code == 0);

  r = node.client({"keys", "user123"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "gadget\ngreeting\nother\n");
  r = node.client({"keys", "user123", "g*"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "gadget\ngreeting\n");
  r = node.client({"keys", "user123", "z*"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  r = node.client({"keys", "--limit", "1", "user123"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "gadget\n");

  r = node.client({"del", "user123", "greeting"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "OK\n");
  r = node.client({"del", "user123", "greeting"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("not found"));
  CHECK(node.client({"get", "user123", "greeting"}).exit_code == 1);
  CHECK(node.client({"keys", "user123"}).out == "gadget\nother\n");
}

TEST_CASE("json output is one object per command", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  RunResult r = node.client({"set", "-o", "json", "user123", "greeting", "hello world"});
  CHECK(r.exit_code == 0);
  json j = parse_json_line(r.out);
  CHECK(j["user"] == "user123");
  CHECK(j["key"] == "greeting");
  CHECK(j["shard"] == 7);  // the documented example: user123 is shard 7 of 16
  CHECK(j["node"] == "n1");
  CHECK(j["index"].get<uint64_t>() > 0);

  r = node.client({"get", "-o", "json", "user123", "greeting"});
  CHECK(r.exit_code == 0);
  j = parse_json_line(r.out);
  CHECK(j["found"] == true);
  CHECK(j["value"] == "hello world");
  CHECK(j["shard"] == 7);

  // The attached form of the short option means the same.
  r = node.client({"get", "-o=json", "user123", "greeting"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(parse_json_line(r.out)["value"] == "hello world");

  // Not found still prints the object (for programs) and exits 1.
  r = node.client({"get", "-o", "json", "user123", "missing"});
  CHECK(r.exit_code == 1);
  j = parse_json_line(r.out);
  CHECK(j["found"] == false);

  r = node.client({"keys", "-o", "json", "user123"});
  CHECK(r.exit_code == 0);
  j = parse_json_line(r.out);
  CHECK(j["keys"] == json::array({"greeting"}));
  CHECK(j["truncated"] == false);

  r = node.client({"del", "-o", "json", "user123", "greeting"});
  CHECK(r.exit_code == 0);
  CHECK(parse_json_line(r.out)["deleted"] == true);
  r = node.client({"del", "-o", "json", "user123", "greeting"});
  CHECK(r.exit_code == 1);
  CHECK(parse_json_line(r.out)["deleted"] == false);
}

TEST_CASE("table output has headers and aligned rows", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  RunResult r = node.client({"set", "-o", "table", "user123", "greeting", "hello world"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, StartsWith("USER     KEY       SHARD  NODE  INDEX\nuser123  greeting  7      n1"));

  r = node.client({"get", "-o", "table", "user123", "greeting"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "USER     KEY       VALUE\nuser123  greeting  \"hello world\"\n");

  REQUIRE(node.client({"set", "user123", "gadget", "g"}).exit_code == 0);
  r = node.client({"keys", "-o", "table", "user123"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "KEY\ngadget\ngreeting\n(2 keys)\n");

  r = node.client({"del", "-o", "table", "user123", "gadget"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("DELETED") && Contains("yes"));
}

TEST_CASE("values are binary-safe through stdin and stdout", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());

  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  every_byte += every_byte;  // and a NUL in the middle, twice
  RunResult r = node.client({"set", "u", "bin", "-"}, every_byte);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "OK\n");
  r = node.client({"get", "u", "bin"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == every_byte);

  // JSON carries the bytes that are not UTF-8 as base64.
  r = node.client({"get", "-o", "json", "u", "bin"});
  CHECK(r.exit_code == 0);
  const json j = parse_json_line(r.out);
  CHECK(j["value"].is_null());
  CHECK(j["value_base64"].get<std::string>().size() == (every_byte.size() + 2) / 3 * 4);

  // A trailing newline is part of the value and survives.
  REQUIRE(node.client({"set", "u", "line", "-"}, "one line\n").exit_code == 0);
  CHECK(node.client({"get", "u", "line"}).out == "one line\n");

  // An empty value is a value, not a missing key.
  REQUIRE(node.client({"set", "u", "empty", "-"}, "").exit_code == 0);
  r = node.client({"get", "u", "empty"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

TEST_CASE("on a terminal, single results are plain and rows are tables", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  // What the command shows on a terminal, with the terminal's \r\n as \n.
  auto on_terminal = [&](std::vector<std::string> args) {
    args.insert(args.begin(), mq_binary());
    args.insert(args.end(), {"--endpoints", node.endpoint()});
    PtyProcess p(args, {{"TERM", "dumb"}});
    const auto status = p.wait_exit(10'000);
    p.wait_for(std::string_view("\x01", 1), 200);  // drain what is left
    std::string text = p.pending();
    for (size_t at = text.find("\r\n"); at != std::string::npos; at = text.find("\r\n", at)) {
      text.erase(at, 1);
    }
    INFO("mq " << args[1] << " printed:\n" << text);
    CHECK(status.has_value());
    return text;
  };

  CHECK(on_terminal({"set", "user123", "greeting", "hello world"}) == "OK\n");
  CHECK(on_terminal({"get", "user123", "greeting"}) == "\"hello world\"\n");
  CHECK(on_terminal({"set", "user123", "gadget", "g"}) == "OK\n");
  CHECK(on_terminal({"get", "user123", "gadget"}) == "g\n");
  CHECK(on_terminal({"del", "user123", "gadget"}) == "OK\n");
  CHECK(on_terminal({"keys", "user123"}) == "KEY\ngreeting\n(1 key)\n");
  CHECK(on_terminal({"keys", "-o", "plain", "user123"}) == "greeting\n");
  CHECK_THAT(on_terminal({"status"}), StartsWith("answered by n1, 16 shards, replication 1"));
}

TEST_CASE("plain status is one summary line, the default to a pipe", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::string summary = "node n1: 1/1 nodes up, 16/16 shards with a leader\n";
  // Every shard elects its leader on its own: wait (bounded) for the last.
  RunResult r;
  for (int attempt = 0; attempt < 50; ++attempt) {
    r = node.client({"status"});
    if (r.out == summary) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(r.exit_code == 0);
  CHECK(r.out == summary);
  CHECK(node.client({"status", "-o", "plain"}).out == summary);
  CHECK_THAT(node.client({"status", "-o", "table"}).out, StartsWith("answered by n1"));
  CHECK(parse_json_line(node.client({"status", "-o", "json"}).out)["node"] == "n1");
}

TEST_CASE("endpoints come from --endpoints or MQ_ENDPOINTS", "[process][cli]") {
  TempDir dir;
  NodeProcess node(dir / "n1", free_loopback_port());
  REQUIRE(node.wait_ready());
  const std::vector<std::pair<std::string, std::string>> env = {{"MQ_ENDPOINTS", node.endpoint()}};

  RunResult r = run_mq({"set", "u", "k", "from-env"}, {}, env);
  CHECK(r.exit_code == 0);
  r = run_mq({"get", "u", "k"}, {}, env);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "from-env");

  // An unreachable first endpoint is skipped for the next one.
  const std::string dead = "127.0.0.1:" + std::to_string(free_loopback_port());
  r = run_mq({"get", "--endpoints", dead + "," + node.endpoint(), "u", "k"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "from-env");

  // The flag wins over the environment.
  r = run_mq({"get", "--endpoints", dead, "u", "k"}, {}, env);
  CHECK(r.exit_code == 3);

  r = run_mq({"get", "-o", "json", "u", "k"}, {}, {{"MQ_ENDPOINTS", node.endpoint()}, {"MQ_OUTPUT", "json"}});
  CHECK(r.exit_code == 0);
  CHECK(parse_json_line(r.out)["value"] == "from-env");
}

TEST_CASE("an unreachable cluster exits 3 promptly with one line", "[process][cli]") {
  const std::string dead = "127.0.0.1:" + std::to_string(free_loopback_port());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "u", "k"}, {"set", "u", "k", "v"}, {"del", "u", "k"},
        {"keys", "u"}, {"status"}}) {
    std::vector<std::string> with_endpoint = args;
    with_endpoint.push_back("--endpoints");
    with_endpoint.push_back(dead);
    const auto started = std::chrono::steady_clock::now();
    const RunResult r = run_mq(with_endpoint);
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    INFO("mq " << args[0] << ": " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK(is_one_line(r.err));
    CHECK_THAT(r.err, Contains("cannot reach") && Contains(dead));
    CHECK(elapsed_ms < 3000);
  }
}

TEST_CASE("bad client flags exit 2 before connecting", "[process][cli]") {
  RunResult r = run_mq({"get", "--endpoints", "nonsense", "u", "k"});
  CHECK(r.exit_code == 2);
  CHECK(is_one_line(r.err));
  CHECK_THAT(r.err, Contains("--endpoints"));

  r = run_mq({"get", "-o", "yaml", "--endpoints", "127.0.0.1:1", "u", "k"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("plain, json or table"));

  r = run_mq({"get", "u"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("KEY") && Contains("--help"));

  r = run_mq({"set", "u", "k", "v", "extra"});
  CHECK(r.exit_code == 2);
}
