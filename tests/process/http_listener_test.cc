// The node's HTTP listener on its own (node/http/http_server.h), with small
// limits so that each rule shows quickly: idle, header and body timeouts
// (a timed-out connection is closed without an answer),
// size caps decided before a body is read, 411, malformed requests, 100
// Continue, the connection cap, and a thousand idle keep-alive connections
// held by one thread.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "http_client.h"
#include "node/http/http_server.h"

using namespace mq::test;
using mq::http::HttpLimits;
using mq::http::HttpRequest;
using mq::http::HttpResponse;
using mq::http::HttpServer;
using mq::http::Respond;
using namespace std::chrono_literals;

namespace {

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// A server whose handler echoes the method and body, counting requests.
struct EchoServer {
  std::atomic<int> handled{0};
  std::unique_ptr<HttpServer> server;

  explicit EchoServer(HttpLimits limits) {
    std::string error;
    server = HttpServer::start(
        "127.0.0.1", 0, limits, mq::tls::TlsMaterial{},
        [this](HttpRequest&& req, Respond respond) {
          handled.fetch_add(1);
          HttpResponse r;
          r.content_type = "text/plain";
          r.body = req.method + " " + req.target + " " + req.body;
          respond(std::move(r));
        },
        nullptr, &error);
    REQUIRE(server);
  }
  uint16_t port() const { return server->port(); }
};

std::string get_request(const std::string& target = "/") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

}  // namespace

TEST_CASE("a thousand idle keep-alive connections are held by the listener's one thread",
          "[http]") {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 2200 && limit.rlim_max >= 2200) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 2200) {
    WARN("skipped: the file descriptor limit (" << limit.rlim_cur << ") is below 2200");
    return;
  }
  HttpLimits limits;
  limits.threads = 1;
  EchoServer echo(limits);
  const int threads_before = thread_count();

  constexpr int kConnections = 1000;
  std::vector<std::unique_ptr<HttpConnection>> connections;
  for (int i = 0; i < kConnections; ++i) {
    auto c = std::make_unique<HttpConnection>(echo.port());
    REQUIRE(c->connected());
    REQUIRE(c->send(get_request("/first/" + std::to_string(i))));
    auto answer = c->receive();
    REQUIRE(answer);
    REQUIRE(answer->status == 200);
    connections.push_back(std::move(c));
  }
  CHECK(echo.server->open_connections() == kConnections);
  // No thread per connection: the count is what it was with none open.
  CHECK(thread_count() == threads_before);

  // Every tenth idle connection still serves a second request, and a new
  // connection is served beside them all.
  for (int i = 0; i < kConnections; i += 10) {
    REQUIRE(connections[i]->send(get_request("/second")));
    auto answer = connections[i]->receive();
    REQUIRE(answer);
    CHECK(answer->body == "GET /second ");
  }
  auto fresh = http_call(echo.port(), "GET", "/fresh");
  REQUIRE(fresh);
  CHECK(fresh->status == 200);
  CHECK(echo.handled.load() == kConnections + kConnections / 10 + 1);
}

TEST_CASE("the listener closes idle connections and times out slow headers and bodies",
          "[http]") {
  HttpLimits limits;
  limits.idle_timeout = 300ms;
  limits.header_timeout = 300ms;
  limits.body_timeout = 300ms;
  EchoServer echo(limits);

  SECTION("an idle connection is closed after the idle timeout") {
    HttpConnection c(echo.port());
    REQUIRE(c.connected());
    CHECK(c.closed_by_peer(5s));
  }
  SECTION("headers that stop arriving: the connection is closed") {
    HttpConnection c(echo.port());
    REQUIRE(c.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    CHECK(c.closed_by_peer(5s));
  }
  SECTION("headers sent a byte at a time cannot outlast the header timeout") {
    HttpConnection c(echo.port());
    const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
                                std::string(40, 's') + "\r\n\r\n";
    bool closed = false;
    for (size_t i = 0; i < request.size() && !closed; ++i) {
      closed = !c.send(request.substr(i, 1)) || c.closed_by_peer(50ms);
    }
    CHECK((closed || c.closed_by_peer(5s)));
  }
  SECTION("a body that stops arriving: closed, and no handler ran") {
    HttpConnection c(echo.port());
    REQUIRE(c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly ten.."));
    CHECK(c.closed_by_peer(5s));
  }
  CHECK(echo.handled.load() == 0);
}

TEST_CASE("the listener caps header and body sizes before reading them whole", "[http]") {
  HttpLimits limits;
  limits.header_bytes_max = 1024;
  limits.body_bytes_max = 1000;
  EchoServer echo(limits);

  SECTION("oversized headers: 431") {
    HttpConnection c(echo.port());
    REQUIRE(c.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(2000, 'x') +
                   "\r\n\r\n"));
    auto answer = c.receive();
    REQUIRE(answer);
    CHECK(answer->status == 431);
  }
  SECTION("a declared body over the cap: 413 before a byte of it is sent") {
    HttpConnection c(echo.port());
    REQUIRE(c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000000\r\n\r\n"));
    auto answer = c.receive();
    REQUIRE(answer);
    CHECK(answer->status == 413);
    CHECK(answer->body.find("1000 bytes") != std::string::npos);
    CHECK(c.closed_by_peer(5s));
  }
  SECTION("a chunked body that grows over the cap: 413") {
    HttpConnection c(echo.port());
    std::string chunk(600, 'y');
    REQUIRE(c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
    auto answer = c.receive();
    REQUIRE(answer);
    CHECK(answer->status == 413);
  }
  SECTION("a body at the cap is served") {
    auto answer = http_call(echo.port(), "POST", "/", std::string(1000, 'z'), "text/plain");
    REQUIRE(answer);
    CHECK(answer->status == 200);
  }
  CHECK(echo.handled.load() <= 1);
}

TEST_CASE("the listener refuses requests it cannot read with a status and closes", "[http]") {
  EchoServer echo(HttpLimits{});
  auto refused = [&](const std::string& bytes) {
    HttpConnection c(echo.port());
    REQUIRE(c.send(bytes));
    auto answer = c.receive();
    REQUIRE(answer);
    CHECK(answer->body.find("\"error\"") != std::string::npos);
    CHECK(c.closed_by_peer(5s));
    return answer->status;
  };
  CHECK(refused("BLAH BLAH BLAH\r\n\r\n") == 400);
  CHECK(refused("GET /\r\n\r\n") == 400);
  CHECK(refused("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n") == 400);
  CHECK(refused("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 411);
  CHECK(refused("PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 411);
  CHECK(refused("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n") == 400);
  CHECK(echo.handled.load() == 0);
  // The listener still serves after all that.
  auto ok = http_call(echo.port(), "GET", "/after");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("the listener answers 100 Continue before a body the client holds back", "[http]") {
  EchoServer echo(HttpLimits{});
  HttpConnection c(echo.port());
  REQUIRE(c.send("POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                 "Expect: 100-continue\r\n\r\n"));
  auto interim = c.receive();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(c.send("hello"));
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(answer->status == 200);
  CHECK(answer->body == "POST /x hello");
}

TEST_CASE("the listener closes connections over its cap and keeps serving the others",
          "[http]") {
  HttpLimits limits;
  limits.connections_max = 5;
  EchoServer echo(limits);
  std::vector<std::unique_ptr<HttpConnection>> open;
  for (int i = 0; i < 5; ++i) {
    open.push_back(std::make_unique<HttpConnection>(echo.port()));
    REQUIRE(open.back()->send(get_request()));
    REQUIRE(open.back()->receive());
  }
  HttpConnection extra(echo.port());
  CHECK(extra.closed_by_peer(5s));
  REQUIRE(open[0]->send(get_request("/still")));
  auto answer = open[0]->receive();
  REQUIRE(answer);
  CHECK(answer->status == 200);
}

TEST_CASE("a handler may answer later, from another thread", "[http]") {
  std::mutex mu;
  std::vector<Respond> waiting;
  std::string error;
  auto server = HttpServer::start(
      "127.0.0.1", 0, HttpLimits{}, mq::tls::TlsMaterial{},
      [&](HttpRequest&&, Respond respond) {
        std::lock_guard lock(mu);
        waiting.push_back(std::move(respond));
      },
      nullptr, &error);
  REQUIRE(server);
  HttpConnection c(server->port());
  REQUIRE(c.send(get_request()));
  for (int i = 0; i < 500; ++i) {
    std::lock_guard lock(mu);
    if (!waiting.empty()) break;
    std::this_thread::sleep_for(10ms);
  }
  std::thread answerer([&] {
    std::lock_guard lock(mu);
    REQUIRE(waiting.size() == 1);
    HttpResponse r;
    r.status = 202;
    waiting[0](std::move(r));
  });
  answerer.join();
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(answer->status == 202);
}
