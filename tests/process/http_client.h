// A plain HTTP/1.1 client for tests, over blocking loopback sockets: it
// sends whatever bytes a test writes (well-formed or not) and parses the
// answer with Boost.Beast, so a test checks the node's status codes without
// parsing HTTP by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mq::test {

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// One connection to 127.0.0.1:port.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const;
  // Writes raw bytes; false when the peer has closed.
  bool send(const std::string& bytes);
  // Reads one response; nullopt when the connection closes first or
  // nothing complete arrives within timeout.
  std::optional<HttpAnswer> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the server closes the connection within timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A well-formed request on a fresh connection: METHOD target, the given
// Content-Type (none when empty) and body (Content-Length always sent).
std::optional<HttpAnswer> http_call(uint16_t port, const std::string& method,
                                    const std::string& target, const std::string& body = "",
                                    const std::string& content_type = "",
                                    const std::string& accept = "");

}  // namespace mq::test
