#include "node/server/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace mq::server {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string* error) {
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *error = "address '" + std::string(text) + "' is not [IPv6]:port";
      return std::nullopt;
    }
    hp.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, hp.host.c_str(), &a6) != 1) {
      *error = "address '" + std::string(text) + "' has an invalid IPv6 host";
      return std::nullopt;
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = "address '" + std::string(text) + "' is not host:port";
      return std::nullopt;
    }
    hp.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    in_addr a4;
    if (hp.host != "localhost" && inet_pton(AF_INET, hp.host.c_str(), &a4) != 1) {
      *error = "address '" + std::string(text) + "': host must be an IPv4 address, localhost or [IPv6]";
      return std::nullopt;
    }
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    *error = "address '" + std::string(text) + "': port must be 1..65535";
    return std::nullopt;
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

std::string probe_bind(const HostPort& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  // gRPC sets SO_REUSEADDR too, so a port in TIME_WAIT is not "in use".
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(address.port);
    inet_pton(AF_INET6, address.host.c_str(), &sa.sin6_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(address.port);
    inet_pton(AF_INET, address.host == "localhost" ? "127.0.0.1" : address.host.c_str(),
              &sa.sin_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  const int saved = errno;
  close(fd);
  return rc == 0 ? "" : std::strerror(saved);
}

}  // namespace mq::server
