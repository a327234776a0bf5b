// host:port parsing and the "is this port free" probe, shared by the node
// (--listen, --peers, --join) and the client (--endpoints).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mq::server {

struct HostPort {
  std::string host;  // IPv4 literal, "localhost", an IPv6 literal without brackets, or (from
                     // parse_dial_address) a DNS name
  uint16_t port = 0;
  std::string to_string() const;  // brackets IPv6 hosts
};

// Accepts "127.0.0.1:7001", "localhost:7001", "[::1]:7001". Port 1..65535.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* error);

// As parse_host_port, and the host may also be a DNS name ("db1",
// "kv.example.com": dot-separated labels of letters, digits and '-', the
// last one not all digits), resolved when it is dialled. What is dialled
// takes it: a client's --endpoints, a node's --advertise, --peers, --join
// and member addresses. What is bound (--listen and the other listeners)
// keeps parse_host_port.
std::optional<HostPort> parse_dial_address(std::string_view text, std::string* error);

// The items of a comma-separated list ("a:1,b:2"), empty ones dropped.
std::vector<std::string> split_commas(std::string_view list);

// Node ids, member names and cluster tokens: 1..max_length letters,
// digits, '-', '_' or '.'.
bool is_plain_name(std::string_view text, size_t max_length);

// What a TCP connection to `address` (resolved now when it is a name) met
// within timeout_ms. Refused means the host answered and nothing listens on
// the port; unreachable, that the host did not answer at all (no route, no
// such name, or silence until the timeout). The outcomes are ordered best
// first.
struct ConnectProbe {
  enum Outcome { kAccepted, kRefused, kUnreachable } outcome = kUnreachable;
  std::string why;  // for kRefused and kUnreachable
};
ConnectProbe probe_connect(const HostPort& address, int timeout_ms);

// Whether the host is a wildcard ("0.0.0.0", "::"): bound, it listens on
// every address; dialled, it names none other machines could reach.
bool is_wildcard_host(std::string_view host);

// Whether the host is this machine's loopback (127.0.0.0/8, ::1, localhost):
// only then is a listener out of other machines' reach.
bool is_loopback(const HostPort& address);

// Whether a TCP connection to `address` is accepted within timeout_ms.
bool accepts_connections(const HostPort& address, int timeout_ms);

// Tries to bind the address the way the server will; "" when it can be
// bound, else the reason ("address already in use", ...). Lets the node
// report a port in use before it starts anything.
std::string probe_bind(const HostPort& address);

}  // namespace mq::server
