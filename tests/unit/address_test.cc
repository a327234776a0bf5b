#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/server/address.h"

using Catch::Matchers::Contains;
using mq::server::HostPort;
using mq::server::parse_host_port;
using mq::server::accepts_connections;
using mq::server::parse_dial_address;
using mq::server::probe_bind;

namespace {

HostPort parsed(std::string_view text) {
  std::string error;
  auto hp = parse_host_port(text, &error);
  INFO(text << ": " << error);
  REQUIRE(hp);
  return *hp;
}

std::string parse_error(std::string_view text) {
  std::string error;
  INFO(text);
  REQUIRE_FALSE(parse_host_port(text, &error));
  CHECK_THAT(error, Contains(std::string(text)));  // the message quotes the input
  return error;
}

}  // namespace

TEST_CASE("host:port forms that parse", "[address]") {
  HostPort hp = parsed("127.0.0.1:7001");
  CHECK(hp.host == "127.0.0.1");
  CHECK(hp.port == 7001);
  CHECK(hp.to_string() == "127.0.0.1:7001");

  hp = parsed("localhost:1");
  CHECK(hp.host == "localhost");
  CHECK(hp.port == 1);

  hp = parsed("[::1]:65535");
  CHECK(hp.host == "::1");
  CHECK(hp.port == 65535);
  CHECK(hp.to_string() == "[::1]:65535");

  CHECK(parsed("0.0.0.0:80").host == "0.0.0.0");
}

TEST_CASE("malformed addresses are refused with a reason", "[address]") {
  CHECK_THAT(parse_error("127.0.0.1"), Contains("not host:port"));
  CHECK_THAT(parse_error(":7001"), Contains("not host:port"));
  CHECK_THAT(parse_error(""), Contains("not host:port"));
  CHECK_THAT(parse_error("127.0.0.1:0"), Contains("1..65535"));
  CHECK_THAT(parse_error("127.0.0.1:65536"), Contains("1..65535"));
  CHECK_THAT(parse_error("127.0.0.1:"), Contains("1..65535"));
  CHECK_THAT(parse_error("127.0.0.1:70x"), Contains("1..65535"));
  CHECK_THAT(parse_error("127.0.0.1:-1"), Contains("1..65535"));
  CHECK_THAT(parse_error("example.com:7001"), Contains("IPv4"));
  CHECK_THAT(parse_error("999.0.0.1:7001"), Contains("IPv4"));
  CHECK_THAT(parse_error("::1:7001"), Contains("IPv4"));
  CHECK_THAT(parse_error("[::1]"), Contains("[IPv6]:port"));
  CHECK_THAT(parse_error("[::1]7001"), Contains("[IPv6]:port"));
  CHECK_THAT(parse_error("[nothex]:7001"), Contains("invalid IPv6"));
  CHECK_THAT(parse_error("[::1]:0"), Contains("1..65535"));
}

TEST_CASE("probe_bind reports a port in use", "[address]") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(listen(fd, 1) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  const HostPort busy{"127.0.0.1", ntohs(sa.sin_port)};

  CHECK_THAT(probe_bind(busy), Contains("in use"));
  close(fd);
  CHECK(probe_bind(busy).empty());  // free again once closed
}

TEST_CASE("a dial address may name a host; a listen address may not", "[address]") {
  std::string error;
  for (const char* text : {"db1:7001", "kv-2.example.com:80", "LOCALHOST:1", "a.b.c:65535"}) {
    INFO(text);
    CHECK(parse_dial_address(text, &error));
    CHECK_FALSE(parse_host_port(text, &error));
  }
  auto hp = parse_dial_address("kv.example.com:7002", &error);
  REQUIRE(hp);
  CHECK(hp->host == "kv.example.com");
  CHECK(hp->port == 7002);
  CHECK(parse_dial_address("[::1]:7001", &error)->host == "::1");
  for (const char* text : {"127.0.0:7001", "-db:1", "db-:1", "a..b:1", "db_1:1", "db1", "db1:", "db1:0"}) {
    INFO(text);
    CHECK_FALSE(parse_dial_address(text, &error));
    CHECK_THAT(error, Contains(text));
  }
}

TEST_CASE("accepts_connections tells a listener from a free port", "[address]") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const uint16_t port = ntohs(addr.sin_port);
  // Bound but not listening: refused.
  CHECK_FALSE(accepts_connections(HostPort{"127.0.0.1", port}, 300));
  REQUIRE(listen(fd, 4) == 0);
  CHECK(accepts_connections(HostPort{"127.0.0.1", port}, 300));
  close(fd);
}
