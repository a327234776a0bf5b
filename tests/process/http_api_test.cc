// The REST API of a real node (mq node --http-listen): the seeds' paths and
// bodies, binary-safe values, percent-encoded user ids and keys, the shapes
// of its answers, and bad input of every kind, each with its status code
// and nothing stored, while the node keeps serving gRPC and HTTP.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "http_client.h"
#include "json_schema_check.h"
#include "node_process.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace mq::test;

namespace {

// A single-node cluster with its HTTP listener.
struct RestNode {
  TempDir dir;
  uint16_t http_port = free_loopback_port();
  NodeProcess node;

  explicit RestNode(std::vector<std::string> extra = {})
      : node(dir / "n1", free_loopback_port(), with_http(std::move(extra), http_port)) {
    REQUIRE(node.wait_ready());
  }
  static std::vector<std::string> with_http(std::vector<std::string> flags, uint16_t port) {
    flags.push_back("--http-listen");
    flags.push_back("127.0.0.1:" + std::to_string(port));
    return flags;
  }

  HttpAnswer call(const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& content_type = "",
                  const std::string& accept = "") const {
    auto answer = http_call(http_port, method, target, body, content_type, accept);
    INFO(method << " " << target);
    REQUIRE(answer);
    return *answer;
  }
};

json body_json(const HttpAnswer& a) {
  INFO("body: " << a.body);
  return json::parse(a.body);
}

std::string error_code(const HttpAnswer& a) { return body_json(a)["error"]["code"]; }

constexpr const char* kKey = "/api/v1/memory/users/user123/keys/mykey";

}  // namespace

TEST_CASE("REST: the seed's set, get, list and delete", "[process][http]") {
  RestNode n;
  HttpAnswer a = n.call("POST", kKey, R"({"value": "myvalue"})", "application/json");
  CHECK(a.status == 201);
  json j = body_json(a);
  CHECK(j["user"] == "user123");
  CHECK(j["key"] == "mykey");
  CHECK(j["index"].get<uint64_t>() > 0);

  a = n.call("GET", kKey);
  CHECK(a.status == 200);
  CHECK(a.header("content-type") == "application/json");
  j = body_json(a);
  CHECK(j["value"] == "myvalue");
  CHECK(j["value_base64"] == "bXl2YWx1ZQ==");
  CHECK(j["found"] == true);
  CHECK(j["leader"] == "n1");
  CHECK(j["shard"].is_number());
  CHECK(j["term"].get<uint64_t>() > 0);

  // The CLI over gRPC sees what REST wrote.
  RunResult r = n.node.client({"get", "user123", "mykey"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "myvalue");

  // PUT replaces (200), stale reads are allowed.
  a = n.call("PUT", kKey, R"({"value": "second"})", "application/json; charset=utf-8");
  CHECK(a.status == 200);
  a = n.call("GET", std::string(kKey) + "?consistency=stale");
  CHECK(a.status == 200);
  CHECK(body_json(a)["value"] == "second");

  REQUIRE(n.call("POST", "/api/v1/memory/users/user123/keys/myother", R"({"value":"o"})",
                 "application/json").status == 201);
  REQUIRE(n.call("POST", "/api/v1/memory/users/user123/keys/zz", R"({"value":"z"})",
                 "application/json").status == 201);
  a = n.call("GET", "/api/v1/memory/users/user123/keys?pattern=my*");
  CHECK(a.status == 200);
  j = body_json(a);
  CHECK(j["keys"] == json::array({"mykey", "myother"}));
  CHECK(j["truncated"] == false);

  // Paging: one key per page, following next_page_token.
  a = n.call("GET", "/api/v1/memory/users/user123/keys?limit=1");
  j = body_json(a);
  CHECK(j["keys"] == json::array({"mykey"}));
  CHECK(j["truncated"] == true);
  const std::string token = j["next_page_token"];
  a = n.call("GET", "/api/v1/memory/users/user123/keys?limit=2&page_token=" + token);
  CHECK(body_json(a)["keys"] == json::array({"myother", "zz"}));

  a = n.call("DELETE", kKey);
  CHECK(a.status == 204);
  CHECK(a.body.empty());
  a = n.call("GET", kKey);
  CHECK(a.status == 404);
  CHECK(error_code(a) == "not_found");
  a = n.call("DELETE", kKey);
  CHECK(a.status == 404);
}

TEST_CASE("REST: values are binary-safe and keys may hold any byte, percent-encoded",
          "[process][http]") {
  RestNode n;
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  const std::string target = "/api/v1/memory/users/alice%20b/keys/dir%2Ffile%00%FF";
  HttpAnswer a = n.call("PUT", target, bytes, "application/octet-stream");
  CHECK(a.status == 200);
  json j = body_json(a);
  CHECK(j["user"] == "alice b");
  CHECK(j["key"].is_null());  // not UTF-8
  CHECK(j["key_base64"] == "ZGlyL2ZpbGUA/w==");

  a = n.call("GET", target, "", "", "application/octet-stream");
  CHECK(a.status == 200);
  CHECK(a.header("content-type") == "application/octet-stream");
  CHECK(a.body == bytes);
  CHECK(a.header("x-mq-leader") == "n1");

  a = n.call("GET", target);
  j = body_json(a);
  CHECK(j["value"].is_null());
  CHECK(j["value_base64"].get<std::string>().size() == 344);

  // A key with '/' written over REST is the same key for the CLI.
  REQUIRE(n.call("POST", "/api/v1/memory/users/alice%20b/keys/a%2Fb", R"({"value":"slash"})",
                 "application/json").status == 201);
  RunResult r = n.node.client({"get", "alice b", "a/b"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "slash");

  // value_base64 in, exact bytes out.
  REQUIRE(n.call("POST", "/api/v1/memory/users/u/keys/b64", R"({"value_base64":"AAEC/w=="})",
                 "application/json").status == 201);
  a = n.call("GET", "/api/v1/memory/users/u/keys/b64", "", "", "application/octet-stream");
  CHECK(a.body == std::string("\x00\x01\x02\xff", 4));
}

TEST_CASE("REST: bad input gets its status code and stores nothing", "[process][http]") {
  RestNode n({"--max-value-bytes", "1000"});
  const std::string victim = "/api/v1/memory/users/victim/keys/";
  struct Case {
    const char* what;
    std::string method, target, body, content_type;
    int status;
    std::string code;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"bad percent-encoding in a key", "POST", victim + "bad%zz", R"({"value":"x"})",
       "application/json", 400, "invalid_argument", "percent-encoding"},
      {"truncated percent-escape", "POST", victim + "bad%4", R"({"value":"x"})",
       "application/json", 400, "invalid_argument", "percent-encoding"},
      {"invalid UTF-8 in a user id", "POST", "/api/v1/memory/users/vic%FFtim/keys/k",
       R"({"value":"x"})", "application/json", 400, "invalid_argument", "UTF-8"},
      {"empty key", "POST", victim, R"({"value":"x"})", "application/json", 400,
       "invalid_argument", "key"},
      {"not JSON", "POST", victim + "k", "{value: x", "application/json", 400,
       "invalid_argument", "not valid JSON"},
      {"JSON without a value", "POST", victim + "k", R"({"val":"x"})", "application/json", 400,
       "invalid_argument", "'val'"},
      {"a value that is not a string", "POST", victim + "k", R"({"value":5})",
       "application/json", 400, "invalid_argument", "JSON string"},
      {"both value and value_base64", "POST", victim + "k", R"({"value":"a","value_base64":"YQ=="})",
       "application/json", 400, "invalid_argument", "exactly one"},
      {"bad base64", "POST", victim + "k", R"({"value_base64":"!!!"})", "application/json", 400,
       "invalid_argument", "base64"},
      {"a JSON array", "POST", victim + "k", R"(["x"])", "application/json", 400,
       "invalid_argument", "object"},
      {"form data", "POST", victim + "k", "value=x", "application/x-www-form-urlencoded", 415,
       "unsupported_media_type", "application/json"},
      {"no content type", "PUT", victim + "k", "x", "", 415, "unsupported_media_type",
       "no Content-Type"},
      {"a value over --max-value-bytes", "PUT", victim + "k", std::string(1001, 'v'),
       "application/octet-stream", 400, "invalid_argument", "1000"},
      {"a body over the listener's cap", "PUT", victim + "k", std::string(200'000, 'v'),
       "application/octet-stream", 413, "body_too_large", "bytes"},
      {"a wrong method", "PATCH", victim + "k", "x", "application/json", 405,
       "method_not_allowed", "GET, POST, PUT, DELETE"},
      {"an unknown query parameter", "POST", victim + "k?consistancy=stale", R"({"value":"x"})",
       "application/json", 400, "invalid_argument", "consistancy"},
      {"a bad consistency", "GET", victim + "k?consistency=strong", "", "", 400,
       "invalid_argument", "linearizable or stale"},
      {"limit zero", "GET", "/api/v1/memory/users/victim/keys?limit=0", "", "", 400,
       "invalid_argument", "limit"},
      {"limit not a number", "GET", "/api/v1/memory/users/victim/keys?limit=ten", "", "", 400,
       "invalid_argument", "limit"},
      {"limit too large", "GET", "/api/v1/memory/users/victim/keys?limit=10001", "", "", 400,
       "invalid_argument", "10000"},
      {"a bad glob", "GET", "/api/v1/memory/users/victim/keys?pattern=%5B", "", "", 400,
       "invalid_argument", ""},
      {"a page token never issued", "GET", "/api/v1/memory/users/victim/keys?page_token=zzz", "",
       "", 400, "invalid_argument", "page_token"},
      {"an unknown path", "GET", "/api/v2/memory", "", "", 404, "not_found", "/api/v2/memory"},
      {"a POST to the key list", "POST", "/api/v1/memory/users/victim/keys", "x",
       "application/json", 405, "method_not_allowed", "GET"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    HttpAnswer a = n.call(c.method, c.target, c.body, c.content_type);
    CHECK(a.status == c.status);
    CHECK(error_code(a) == c.code);
    CHECK_THAT(body_json(a)["error"]["message"].get<std::string>(), Contains(c.message_part));
    if (c.status == 405) CHECK(!a.header("allow").empty());
  }

  // A truncated body: the client promises 100 bytes, sends 10 and leaves.
  {
    HttpConnection c(n.http_port);
    REQUIRE(c.send("PUT " + victim + "trunc HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   "application/octet-stream\r\nContent-Length: 100\r\n\r\n0123456789"));
  }
  // Malformed request lines and oversized headers, on raw connections.
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"),
        "GET " + victim + "k HTTP/1.1\r\nX-Big: " + std::string(64 << 10, 'h') + "\r\n\r\n",
        "POST " + victim + "k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n"}) {
    HttpConnection c(n.http_port);
    REQUIRE(c.send(raw));
    auto answer = c.receive();
    REQUIRE(answer);
    CHECK((answer->status == 400 || answer->status == 431 || answer->status == 411));
  }

  // Nothing of any of it was stored, and both faces still serve.
  RunResult r = n.node.client({"keys", "victim"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(n.node.client({"set", "after", "k", "v"}).exit_code == 0);
  CHECK(n.call("GET", "/api/v1/memory/users/after/keys/k").status == 200);
}

TEST_CASE("REST: health, readiness, liveness and the cluster status", "[process][http]") {
  RestNode n;
  HttpAnswer a = n.call("GET", "/livez");
  CHECK(a.status == 200);
  CHECK(a.body == "ok\n");
  a = n.call("GET", "/readyz");
  CHECK(a.status == 200);
  a = n.call("GET", "/api/v1/memory/health");
  CHECK(a.status == 200);
  CHECK(body_json(a)["status"] == "UP");
  a = n.call("POST", "/readyz", "x", "text/plain");
  CHECK(a.status == 405);
  CHECK(a.header("allow") == "GET");

  a = n.call("GET", "/api/v1/memory/cluster/status");
  CHECK(a.status == 200);
  const json status = body_json(a);
  CHECK(schema_violations(load_output_schema("status"), status).empty());
  // The same data as `mq status -o json` (uptime and memory in use aside:
  // they move between the two calls).
  RunResult r = n.node.client({"status", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  json cli = json::parse(r.out);
  json rest = status;
  CHECK(rest["memory"]["limit_bytes"] == cli["memory"]["limit_bytes"]);
  CHECK(rest["memory"]["used_bytes"] > 0);
  for (auto* j : {&cli, &rest}) {
    j->erase("uptime_ms");
    (*j)["memory"].erase("used_bytes");
  }
  for (auto* j : {&cli, &rest}) {
    for (auto& sh : (*j)["shards"]) sh.erase("keys");
  }
  CHECK(cli == rest);
}

TEST_CASE("REST: a flood of idle connections leaves both faces serving", "[process][http]") {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 1200 && limit.rlim_max >= 1200) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 1200) {
    WARN("skipped: the file descriptor limit (" << limit.rlim_cur << ") is below 1200");
    return;
  }
  RestNode n;
  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(std::make_unique<HttpConnection>(n.http_port));
    REQUIRE(idle.back()->connected());
    // Half of them also start a request and stop mid-header.
    if (i % 2 == 0) REQUIRE(idle.back()->send("GET /livez HTTP/1.1\r\nHost:"));
  }
  CHECK(n.node.client({"set", "flood", "k", "v"}).exit_code == 0);
  HttpAnswer a = n.call("GET", "/api/v1/memory/users/flood/keys/k");
  CHECK(a.status == 200);
  CHECK(body_json(a)["value"] == "v");
  a = n.call("POST", "/api/v1/memory/users/flood/keys/k2", R"({"value":"w"})", "application/json");
  CHECK(a.status == 201);
}
