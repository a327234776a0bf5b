// The node's HTTP/1.1 listener, on Boost.Beast and Asio: a few threads run
// every connection's state machine, so a thousand idle keep-alive
// connections cost a socket and a small buffer each, not a thread.
//
// It owns the transport rules and nothing of the API: sizes are capped
// before anything is read whole (431 for headers, 413 for a body, decided
// from Content-Length before the body is read), a request must arrive in
// time (idle, header and body timeouts close the connection), a POST or PUT
// must say its length (411), a malformed request is answered 400 and the
// connection closed. Everything else goes to the handler.
#pragma once

#include "node/tls/tls_files.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mq::http {

struct HttpLimits {
  size_t header_bytes_max = 16 << 10;                 // request line and headers
  size_t body_bytes_max = (1 << 20) + (64 << 10);     // a value at the default limit, as JSON
  std::chrono::milliseconds idle_timeout{120'000};    // a kept-alive connection between requests
  std::chrono::milliseconds header_timeout{10'000};   // first byte of a request to its last header
  std::chrono::milliseconds body_timeout{30'000};     // last header to the body's last byte
  std::chrono::milliseconds write_timeout{30'000};    // a response to a client that does not read
  size_t connections_max = 10'000;                    // more are closed as soon as accepted
  int threads = 1;
};

struct HttpRequest {
  std::string method;        // as sent: "GET", "POST", ...
  std::string target;        // path and query, still percent-encoded
  std::string content_type;  // "" when absent
  std::string accept;        // "" when absent
  std::string authorization;  // the Authorization header, "" when absent
  // Over TLS with a verified client certificate: the names it vouches for.
  std::vector<std::string> certificate_names;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones: Allow, Retry-After
  std::string body;
};

// Answers a request; call it exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;
// Runs on a listener thread: must not block (hand slow work elsewhere and
// respond from there).
using HttpHandler = std::function<void(HttpRequest&&, Respond)>;

class HttpServer {
 public:
  // Binds host:port (port 0: any free one) and starts serving; nullptr with
  // a one-line error when it cannot. warn (may be empty) hears what the
  // listener refuses on its own, such as connections over the cap.
  // TLS when `tls` holds a certificate (with client certificates required
  // when it says so); plaintext when it is empty.
  static std::unique_ptr<HttpServer> start(const std::string& host, uint16_t port,
                                           const HttpLimits& limits, const tls::TlsMaterial& tls,
                                           HttpHandler handler,
                                           std::function<void(const std::string&)> warn,
                                           std::string* error);
  // Stops (see stop). Every Respond handed out must have been called or
  // dropped before the server is destroyed.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Closes the listener and every connection and joins the threads; answers
  // that arrive afterwards are dropped. Idempotent.
  void stop();
  uint16_t port() const;
  size_t open_connections() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::http
