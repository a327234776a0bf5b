// The byte stream of one peer connection: a TCP socket, or TLS over it
// when the node runs with --peer-cert-file (mutual: both ends present a
// certificate of the peers' CA). The transport reads and writes through
// it alike either way; only the handshake and the certificate check differ.
// Included by tcp_peer_transport.cc alone (Asio's SSL headers are heavy).
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <vector>

#include "node/tls/tls_files.h"

namespace mq::server {

class PeerStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  // tls: null for plaintext; else the peers' context (outlives the stream).
  PeerStream(boost::asio::io_context& io, boost::asio::ssl::context* tls) : socket_(io) {
    if (tls) tls_.emplace(socket_, *tls);
  }
  PeerStream(const PeerStream&) = delete;
  PeerStream& operator=(const PeerStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  bool tls() const { return tls_.has_value(); }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      socket_.async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // The TLS handshake in the given role; completes at once in plaintext.
  template <typename Handler>
  void async_handshake(boost::asio::ssl::stream_base::handshake_type role, Handler&& handler) {
    if (tls_) {
      tls_->async_handshake(role, std::forward<Handler>(handler));
    } else {
      boost::asio::post(socket_.get_executor(),
                        [h = std::forward<Handler>(handler)]() mutable { h(boost::system::error_code()); });
    }
  }

  // The names the other end's certificate vouches for, after a handshake;
  // none in plaintext.
  std::vector<std::string> peer_certificate_names() {
    if (!tls_) return {};
    return tls::certificate_names(SSL_get0_peer_certificate(tls_->native_handle()));
  }

 private:
  tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace mq::server
