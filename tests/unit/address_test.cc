#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/server/address.h"

using Catch::Matchers::Contains;
using mq::server::HostPort;
using mq::server::parse_host_port;
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
