#include "http_client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mq::test {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

struct HttpConnection::Impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;
  bool connected = false;

  void set_receive_timeout(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
};

HttpConnection::HttpConnection(uint16_t port) : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  impl_->socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  impl_->connected = !ec;
}

HttpConnection::~HttpConnection() = default;

bool HttpConnection::connected() const { return impl_->connected; }

bool HttpConnection::send(const std::string& bytes) {
  boost::system::error_code ec;
  net::write(impl_->socket, net::buffer(bytes), ec);
  return !ec;
}

std::optional<HttpAnswer> HttpConnection::receive(std::chrono::milliseconds timeout) {
  impl_->set_receive_timeout(timeout);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  boost::system::error_code ec;
  bhttp::read(impl_->socket, impl_->buffer, parser, ec);
  if (ec) return std::nullopt;
  const auto& res = parser.get();
  HttpAnswer answer;
  answer.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    answer.headers[name] = std::string(field.value());
  }
  answer.body = res.body();
  return answer;
}

bool HttpConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  impl_->set_receive_timeout(timeout);
  char byte;
  boost::system::error_code ec;
  // Whatever the server still sends (a last answer) is read past.
  for (int i = 0; i < 1 << 20; ++i) {
    impl_->socket.read_some(net::buffer(&byte, 1), ec);
    if (ec == net::error::eof || ec == net::error::connection_reset) return true;
    if (ec) return false;  // timed out: still open
  }
  return false;
}

std::optional<HttpAnswer> http_call(uint16_t port, const std::string& method,
                                    const std::string& target, const std::string& body,
                                    const std::string& content_type, const std::string& accept) {
  HttpConnection c(port);
  if (!c.connected()) return std::nullopt;
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!content_type.empty()) request += "Content-Type: " + content_type + "\r\n";
  if (!accept.empty()) request += "Accept: " + accept + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  request += body;
  if (!c.send(request)) return std::nullopt;
  return c.receive();
}

}  // namespace mq::test
