#include "node/server/address.h"

#include <cctype>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
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

namespace {

bool parse_port(std::string_view text, std::string_view port_text, uint16_t* out, std::string* error) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    *error = "address '" + std::string(text) + "': port must be 1..65535";
    return false;
  }
  *out = static_cast<uint16_t>(port);
  return true;
}

// RFC 1123 host names: labels of 1..63 letters, digits and '-', not
// starting or ending with '-', 253 bytes at most; the last label is not all
// digits, so a mistyped IPv4 address ("127.0.0:7001") is not taken for a name.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  bool last_all_digits = false;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    last_all_digits = true;
    for (char c : label) {
      const bool digit = c >= '0' && c <= '9';
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!digit && !letter && c != '-') return false;
      last_all_digits = last_all_digits && digit;
    }
    start = dot + 1;
  }
  return !last_all_digits;
}

}  // namespace

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
  if (!parse_port(text, port_text, &hp.port, error)) return std::nullopt;
  return hp;
}

std::optional<HostPort> parse_dial_address(std::string_view text, std::string* error) {
  std::string numeric_error;
  if (auto hp = parse_host_port(text, &numeric_error)) return hp;
  const size_t colon = text.rfind(':');
  if (text.empty() || text.front() == '[' || colon == std::string_view::npos || colon == 0 ||
      !is_host_name(text.substr(0, colon))) {
    *error = numeric_error.find("host must be") == std::string::npos
                 ? numeric_error
                 : "address '" + std::string(text) +
                       "': host must be an IPv4 address, [IPv6] or a host name";
    return std::nullopt;
  }
  HostPort hp;
  hp.host = std::string(text.substr(0, colon));
  if (!parse_port(text, text.substr(colon + 1), &hp.port, error)) return std::nullopt;
  return hp;
}

namespace {

// One non-blocking connect to one resolved address, bounded by timeout_ms.
ConnectProbe connect_once(const addrinfo& ai, int timeout_ms) {
  const int fd = socket(ai.ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return {ConnectProbe::kUnreachable, std::string("socket: ") + std::strerror(errno)};
  int err = connect(fd, ai.ai_addr, ai.ai_addrlen) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    const int ready = poll(&p, 1, timeout_ms);
    if (ready == 1) {
      socklen_t len = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    } else {
      err = ready == 0 ? ETIMEDOUT : errno;
    }
  }
  close(fd);
  if (err == 0) return {ConnectProbe::kAccepted, ""};
  if (err == ECONNREFUSED) return {ConnectProbe::kRefused, std::strerror(err)};
  if (err == ETIMEDOUT) {
    return {ConnectProbe::kUnreachable, "no answer within " + std::to_string(timeout_ms) + " ms"};
  }
  return {ConnectProbe::kUnreachable, std::strerror(err)};
}

}  // namespace

ConnectProbe probe_connect(const HostPort& address, int timeout_ms) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (const int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return {ConnectProbe::kUnreachable, "cannot resolve " + address.host + ": " + gai_strerror(rc)};
  }
  // The best outcome over the host's addresses: a name may resolve to an
  // IPv6 address nothing routes to and an IPv4 one that answers.
  ConnectProbe best{ConnectProbe::kUnreachable, "no address"};
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    ConnectProbe p = connect_once(*ai, timeout_ms);
    if (p.outcome < best.outcome || ai == found) best = std::move(p);
    if (best.outcome == ConnectProbe::kAccepted) break;
  }
  freeaddrinfo(found);
  return best;
}

bool is_wildcard_host(std::string_view host) { return host == "0.0.0.0" || host == "::"; }

bool is_loopback(const HostPort& address) {
  return address.host == "localhost" || address.host == "::1" || address.host.rfind("127.", 0) == 0;
}

bool accepts_connections(const HostPort& address, int timeout_ms) {
  return probe_connect(address, timeout_ms).outcome == ConnectProbe::kAccepted;
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

std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    if (comma > start) out.emplace_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool is_plain_name(std::string_view text, size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace mq::server
