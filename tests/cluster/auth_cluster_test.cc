// Authorization with real processes: a node started by `mq cluster up
// --auth` checks every gRPC and REST request against its --auth-file; the
// rules are reloaded on SIGHUP (a file that does not parse keeps the old
// ones); a refusal is exit 6 with one line, 401 or 403 over HTTP, and
// nothing is stored. A node with a malformed --auth-file does not start.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.h"
#include "node/auth/access_rules.h"
#include "tests/process/http_client.h"

using Catch::Matchers::Contains;
using namespace mq::test;
using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

size_t lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

HttpAnswer http(uint16_t port, const std::string& method, const std::string& path, const std::string& token,
                const std::string& body = "") {
  HttpConnection c(port);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  c.send(req);
  auto answer = c.receive();
  return answer ? *answer : HttpAnswer{};
}

}  // namespace

TEST_CASE("a node with --auth-file lets each principal do what its rules grant, and nothing else",
          "[cluster][auth]") {
  TestCluster c(1, 2);
  const Run up = c.cluster("up", {"-n", "1", "--shards", "2", "--auth", "--base-port", std::to_string(c.base_port())});
  INFO("stderr: " << up.err);
  REQUIRE(up.exit_code == 0);
  const std::string auth_dir = c.dir() + "/auth";
  std::string admin = read_file(auth_dir + "/admin.token");
  admin.erase(admin.find_last_not_of('\n') + 1);
  REQUIRE(admin.size() == 64);
  // The file keeps the token's hash, never the token.
  const std::string rules_path = auth_dir + "/auth.json";
  CHECK(read_file(rules_path).find(admin) == std::string::npos);

  // Two more principals, given to the running node by SIGHUP.
  json rules = json::parse(read_file(rules_path));
  rules["principals"].push_back({{"name", "alice"},
                                 {"token_sha256", mq::auth::sha256_hex("alice-token")},
                                 {"rules", {{{"users", "alice*"}, {"access", "rw"}}, {{"users", "shared"}, {"access", "r"}}}}});
  rules["principals"].push_back({{"name", "reporter"},
                                 {"token_sha256", mq::auth::sha256_hex("reporter-token")},
                                 {"rules", {{{"users", "*"}, {"access", "r"}}}}});
  write_file(rules_path, rules.dump());
  const std::vector<int> pids = c.recorded_pids();
  REQUIRE(pids.size() == 1);
  REQUIRE(::kill(pids[0], SIGHUP) == 0);
  const std::string endpoint = "127.0.0.1:" + std::to_string(c.base_port());
  auto as = [&](const std::string& token, std::vector<std::string> args) {
    args.insert(args.end(), {"--endpoints", endpoint, "--timeout", "3s"});
    if (!token.empty()) args.insert(args.end(), {"--token", token});
    return mq::test::mq(args);
  };
  REQUIRE(wait_ms_until([&] { return as("alice-token", {"set", "alice1", "k", "v1"}).exit_code == 0; }, 10'000));

  struct Refusal {
    std::string token;
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Refusal> refusals = {
      {"alice-token", {"set", "bob", "k", "v"}, "principal alice may not write user bob"},
      {"alice-token", {"get", "bob", "k"}, "principal alice may not read user bob"},
      {"alice-token", {"set", "shared", "k", "v"}, "principal alice may not write user shared"},
      {"reporter-token", {"del", "alice1", "k"}, "principal reporter may not write user alice1"},
      {"alice-token", {"member", "add", "n9", "127.0.0.1:1", "--no-probe"}, "principal alice is not an admin"},
      {"", {"get", "alice1", "k"}, "no credentials: pass a token"},
      {"wrong-token", {"get", "alice1", "k"}, "the token is not valid here"},
  };
  for (const auto& r : refusals) {
    const Run run = as(r.token, r.args);
    INFO("mq " << r.args[0] << " " << r.args[1] << " as '" << r.token << "': " << run.err);
    CHECK(run.exit_code == 6);
    CHECK(run.out.empty());
    CHECK(lines(run.err) == 1);
    CHECK_THAT(run.err, Contains(r.message));
  }
  // Refused writes stored nothing; allowed reads read.
  const Run bob = as(admin, {"get", "bob", "k"});
  CHECK(bob.exit_code == 1);
  const Run read = as("reporter-token", {"get", "alice1", "k"});
  CHECK(read.exit_code == 0);
  CHECK(read.out == "v1");
  const Run denied_json = as("alice-token", {"set", "bob", "k", "v", "-o", "json"});
  CHECK(denied_json.exit_code == 6);
  CHECK(json::parse(denied_json.out)["error"]["code"] == "permission_denied");
  const Run anonymous_json = as("", {"set", "bob", "k", "v", "-o", "json"});
  CHECK(json::parse(anonymous_json.out)["error"]["code"] == "unauthenticated");

  // The REST API: 401 without credentials, 403 without rights; probes pass.
  const uint16_t http_port = static_cast<uint16_t>(c.base_port() + 1000);
  const std::string keys = "/api/v1/memory/users/";
  CHECK(http(http_port, "PUT", keys + "alice2/keys/k", "alice-token", R"({"value":"v2"})").status == 200);
  const HttpAnswer forbidden = http(http_port, "PUT", keys + "bob/keys/k", "alice-token", R"({"value":"x"})");
  CHECK(forbidden.status == 403);
  CHECK_THAT(forbidden.body, Contains("principal alice may not write user bob"));
  const HttpAnswer anonymous = http(http_port, "GET", keys + "alice2/keys/k", "");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.header("www-authenticate") == "Bearer");
  CHECK(http(http_port, "GET", keys + "alice2/keys/k", "reporter-token").status == 200);
  CHECK(http(http_port, "GET", "/livez", "").status == 200);
  CHECK(as(admin, {"get", "bob", "k"}).exit_code == 1);

  // A reload of a file that does not parse keeps the rules in force.
  write_file(rules_path, "{\"principals\": [{\"name\": \"alice\"");
  REQUIRE(::kill(pids[0], SIGHUP) == 0);
  const std::string log = c.dir() + "/n1.log";
  REQUIRE(wait_ms_until([&] { return read_file(log).find("kept the previous authorization rules") != std::string::npos; },
                        10'000));
  CHECK(as("alice-token", {"set", "alice3", "k", "v3"}).exit_code == 0);
  CHECK(as("alice-token", {"set", "bob", "k", "v"}).exit_code == 6);
}

TEST_CASE("a node whose --auth-file is malformed says why in one line and does not start", "[cluster][auth]") {
  char tmpl[] = "/tmp/mq-auth-file-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const uint16_t port = free_port_run(1);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"not json", "not a JSON object"},
      {R"({"principals": [{"name": "a", "token_sha256": "ABC", "rules": []}]})", "must be 64 lower-case hex digits"},
      {R"({"principals": [{"name": "a", "certificate": "c", "rules": [{"users": "*", "access": "x"}]}]})",
       "access \"x\" must be r, w or rw"},
      {R"({"principals": [], "extra": 1})", "unknown field \"extra\""},
  };
  for (const auto& [text, message] : files) {
    write_file(dir + "/auth.json", text);
    const Run r = mq::test::mq({"node", "--id", "n1", "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                                dir + "/data", "--auth-file", dir + "/auth.json"},
                               10'000);
    INFO("file: " << text << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Contains("--auth-file " + dir + "/auth.json: "));
    CHECK_THAT(r.err, Contains(message));
    CHECK_FALSE(std::filesystem::exists(dir + "/data"));
  }
  std::filesystem::remove_all(dir);
}
