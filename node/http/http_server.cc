#include "node/http/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <optional>
#include <thread>

namespace mq::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Bytes asked of the socket while waiting for a request's first byte.
constexpr size_t kFirstReadBytes = 4096;
// A connection being refused or dropped gets its last answer within this,
// and what the client still sends after it is read and dropped up to this.
constexpr auto kLastWordTimeout = std::chrono::seconds(2);
constexpr size_t kLingerBytesMax = 64 << 20;

std::string error_body(const std::string& code, const std::string& message) {
  // Transport errors are rare and their messages are ours: escape only what
  // Beast's messages or our own could hold.
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return R"({"error":{"code":")" + code + R"(","message":")" + escaped + "\"}}";
}

}  // namespace

struct HttpServer::Impl {
  HttpLimits limits;
  HttpHandler handler;
  std::function<void(const std::string&)> warn;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopped{false};
  // Destroyed before the members above: destroying it destroys the pending
  // handlers, which end the sessions that count themselves out.
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<net::ssl::context> tls;  // null: plaintext
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::chrono::steady_clock::time_point last_refusal_log{};

  void accept();
};

namespace {

// One connection: plaintext (Stream = beast::tcp_stream) or TLS over it
// (beast::ssl_stream<beast::tcp_stream>), whose handshake comes first and
// must finish within the header timeout.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(tcp::socket&& socket, HttpServer::Impl* server) requires(!kTls)
      : stream_(std::move(socket)), server_(server) {
    server_->connections.fetch_add(1);
  }
  Session(tcp::socket&& socket, net::ssl::context& tls, HttpServer::Impl* server) requires(kTls)
      : stream_(std::move(socket), tls), server_(server) {
    server_->connections.fetch_add(1);
  }
  ~Session() { server_->connections.fetch_sub(1); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->lowest().expires_after(self->limits().header_timeout);
        self->stream_.async_handshake(net::ssl::stream_base::server,
                                      [self](beast::error_code ec) {
                                        if (ec) return self->close();
                                        self->certificate_names_ = self->peer_certificate_names();
                                        self->await_request();
                                      });
      } else {
        self->await_request();
      }
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // The names of the client's certificate (verified by the handshake when
  // client certificates are required); none without one.
  std::vector<std::string> peer_certificate_names() {
    if constexpr (kTls) return tls::certificate_names(SSL_get0_peer_certificate(stream_.native_handle()));
    return {};
  }

  const HttpLimits& limits() const { return server_->limits; }

  // A kept-alive connection may sit idle for long; once a request's first
  // byte is here, its headers must follow within the (shorter) header
  // timeout: a slow sender cannot hold the connection with a trickle.
  void await_request() {
    if (buffer_.size() > 0) return read_header();
    lowest().expires_after(limits().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->close();
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(limits().header_bytes_max));
    parser_->body_limit(limits().body_bytes_max);
    lowest().expires_after(limits().header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset) return close();
    // A timed-out stream is already closed (Beast closes it when the timer
    // fires), so a slow request ends without an answer, as in Go's server.
    if (ec == beast::error::timeout) return close();
    if (ec == bhttp::error::header_limit) {
      return refuse(431, "header_too_large",
                    "the request line and headers exceed " +
                        std::to_string(limits().header_bytes_max) + " bytes");
    }
    if (ec == bhttp::error::body_limit) return refuse_body_size();
    if (ec) return refuse(400, "bad_request", "malformed HTTP request: " + ec.message());

    const auto& req = parser_->get();
    const auto method = req.method();
    if ((method == bhttp::verb::post || method == bhttp::verb::put ||
         method == bhttp::verb::patch) &&
        !parser_->content_length() && !parser_->chunked()) {
      return refuse(411, "length_required",
                    "a " + std::string(req.method_string()) +
                        " needs Content-Length (or chunked transfer encoding)");
    }
    if (parser_->is_done()) return dispatch();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      // The client waits for this before it sends the body (curl does for
      // bodies over 1 KiB); the body's size was already accepted above.
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       11);
      lowest().expires_after(limits().write_timeout);
      return bhttp::async_write(stream_, *cont,
                                [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
                                  if (ec) return self->close();
                                  self->read_body();
                                });
    }
    read_body();
  }

  void read_body() {
    lowest().expires_after(limits().body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->on_body(ec);
                      });
  }

  void on_body(beast::error_code ec) {
    if (ec == beast::error::timeout) return close();
    if (ec == bhttp::error::body_limit) return refuse_body_size();
    if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      return close();  // the client went away mid-body: nobody to answer
    }
    if (ec) return refuse(400, "bad_request", "malformed HTTP request body: " + ec.message());
    dispatch();
  }

  void refuse_body_size() {
    refuse(413, "body_too_large",
           "the request body exceeds " + std::to_string(limits().body_bytes_max) + " bytes");
  }

  void dispatch() {
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.content_type = std::string(req[bhttp::field::content_type]);
    request.accept = std::string(req[bhttp::field::accept]);
    request.authorization = std::string(req[bhttp::field::authorization]);
    request.certificate_names = certificate_names_;
    request.body = std::move(req.body());
    parser_.reset();
    // No timer runs while the handler works: a slow answer is the node's
    // business (it has its own deadlines), not the client's fault.
    lowest().expires_never();
    Respond respond = [self = this->shared_from_this()](HttpResponse response) {
      net::post(self->stream_.get_executor(),
                [self, response = std::move(response)]() mutable {
                  self->write(std::move(response), self->keep_alive_);
                });
    };
    server_->handler(std::move(request), std::move(respond));
  }

  // Answers a request that cannot be served and closes the connection: its
  // remaining bytes, if any, cannot be trusted to start a next request.
  void refuse(int status, const std::string& code, const std::string& message) {
    parser_.reset();
    HttpResponse response;
    response.status = status;
    response.body = error_body(code, message);
    write(std::move(response), false);
  }

  void write(HttpResponse response, bool keep_alive) {
    if (server_->stopped.load()) return close();
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), 11);
    res->set(bhttp::field::server, "mq");
    if (!response.body.empty() || response.status != 204) {
      res->set(bhttp::field::content_type, response.content_type);
    }
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    lowest().expires_after(keep_alive ? limits().write_timeout
                                     : std::min<std::chrono::milliseconds>(
                                           limits().write_timeout, kLastWordTimeout));
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec) return self->close();
                         if (!keep_alive) return self->linger();
                         self->await_request();
                       });
  }

  // Closes after a last answer without resetting the connection: a client
  // still sending a body it was refused would otherwise get a reset instead
  // of the answer. What it sends meanwhile is read and dropped, for a
  // bounded time and amount.
  void linger() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lingered_bytes_ = 0;
    lowest().expires_after(kLastWordTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_bytes_ += n;
                              if (ec || self->lingered_bytes_ > kLingerBytesMax) {
                                return self->close();
                              }
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().close();
  }

  Stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::vector<std::string> certificate_names_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = false;
  std::array<char, 16 << 10> scratch_;
  size_t lingered_bytes_ = 0;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (connections.load() >= limits.connections_max) {
        // Over the cap: the connection is closed at once rather than left
        // to wait; a line at most once a second says why.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_refusal_log > std::chrono::seconds(1)) {
          last_refusal_log = now;
          if (warn) warn("http: " + std::to_string(limits.connections_max) +
                           " connections open; closing new ones");
        }
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        if (tls) {
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *tls, this)->start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(std::move(socket), this)->start();
        }
      }
    }
    accept();
  });
}

std::unique_ptr<HttpServer> HttpServer::start(const std::string& host, uint16_t port,
                                              const HttpLimits& limits, const tls::TlsMaterial& tls,
                                              HttpHandler handler,
                                              std::function<void(const std::string&)> warn,
                                              std::string* error) {
  auto impl = std::make_unique<Impl>();
  if (tls.enabled()) {
    impl->tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    impl->tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1);
    impl->tls->use_certificate_chain(net::buffer(tls.cert_pem));
    impl->tls->use_private_key(net::buffer(tls.key_pem), net::ssl::context::pem);
    if (!tls.ca_pem.empty()) impl->tls->add_certificate_authority(net::buffer(tls.ca_pem));
    if (tls.client_cert_auth) {
      impl->tls->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
    }
  }
  impl->limits = limits;
  impl->handler = std::move(handler);
  impl->warn = std::move(warn);
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) {
    *error = "'" + host + "' is not an IP address";
    return nullptr;
  }
  const tcp::endpoint endpoint(address, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = ec.message();
    return nullptr;
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept();
  for (int i = 0; i < std::max(1, limits.threads); ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

uint16_t HttpServer::port() const { return impl_->port; }

size_t HttpServer::open_connections() const { return impl_->connections.load(); }

}  // namespace mq::http
