// host:port parsing and the "is this port free" probe, shared by the node
// (--listen, --peers) and the client (--endpoints).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mq::server {

struct HostPort {
  std::string host;  // IPv4 literal, "localhost", or an IPv6 literal without brackets
  uint16_t port = 0;
  std::string to_string() const;  // brackets IPv6 hosts
};

// Accepts "127.0.0.1:7001", "localhost:7001", "[::1]:7001". Port 1..65535.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* error);

// Tries to bind the address the way the server will; "" when it can be
// bound, else the reason ("address already in use", ...). Lets the node
// report a port in use before it starts anything.
std::string probe_bind(const HostPort& address);

}  // namespace mq::server
