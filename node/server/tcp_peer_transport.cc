#include "node/server/tcp_peer_transport.h"

#include <deque>
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <google/protobuf/arena.h>

#include <algorithm>

#include "node/server/address.h"
#include "node/server/log.h"
#include "node/server/peer_batch_merge.h"
#include "node/server/peer_frame.h"
#include "node/server/peer_stream.h"
#include "node/tls/tls_files.h"

namespace mq::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A read asks for at least this much room.
constexpr size_t kReadChunkBytes = 64 << 10;
// A connection up this long was accepted: its loss redials at once.
constexpr auto kLastingConnection = std::chrono::seconds(1);
// Merged batches stay well below a receiver's frame limit.
constexpr size_t kMergedBatchBytesMax = 16 << 20;

// Batches are parsed into an arena whose first block belongs to the
// connection and is reused after every read: a batch of the usual size
// costs no heap allocation, however many messages it holds.
constexpr size_t kArenaBlockBytes = 64 << 10;

google::protobuf::ArenaOptions arena_options(std::vector<char>* block) {
  google::protobuf::ArenaOptions o;
  o.initial_block = block->data();
  o.initial_block_size = block->size();
  return o;
}

// The host part of host:port ("" when it does not parse).
std::string host_of(const std::string& address) {
  std::string error;
  const auto hp = parse_dial_address(address, &error);
  return hp ? hp->host : "";
}

bool names_any(const std::vector<std::string>& names, const std::string& name) {
  return !name.empty() && std::find(names.begin(), names.end(), name) != names.end();
}

// Whether a peer's certificate is the claimed member's: it names the
// member's id, or else its address's host, unless it names another
// member's id (nodes that share a host, whose certificates all name it,
// must not pass for each other).
bool vouches_for(const std::vector<std::string>& names, const std::string& member,
                 const std::vector<std::string>& members, std::initializer_list<std::string> hosts) {
  if (names_any(names, member)) return true;
  for (const auto& m : members) {
    if (m != member && names_any(names, m)) return false;
  }
  return std::any_of(hosts.begin(), hosts.end(), [&](const std::string& h) { return names_any(names, h); });
}

// A TLS handshake that has not finished in this long is abandoned: a
// stalled peer must not hold a connection (or a link) for ever.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "nothing" : out;
}

// The peers' TLS context: TLS 1.2 or later, this node's certificate for
// both roles, and a peer certificate of the peers' CA required both ways.
std::unique_ptr<asio::ssl::context> peer_tls_context(const tls::TlsMaterial& m) {
  if (!m.enabled()) return nullptr;
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ctx->use_certificate_chain(asio::buffer(m.cert_pem));
  ctx->use_private_key(asio::buffer(m.key_pem), asio::ssl::context::pem);
  ctx->add_certificate_authority(asio::buffer(m.ca_pem));
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

}  // namespace

struct TcpPeerTransport::Io {
  Io(EventLoop* loop, const tls::TlsMaterial& tls)
      : owned(loop ? nullptr : std::make_unique<asio::io_context>(1)),
        context(loop ? loop->context() : *owned),
        work(context.get_executor()),
        tls_context(peer_tls_context(tls)) {}
  std::unique_ptr<asio::io_context> owned;  // without a loop
  asio::io_context& context;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<asio::ssl::context> tls_context;  // null: plaintext
  tcp::acceptor acceptor{context};
  asio::steady_timer accept_retry{context};
  std::set<std::shared_ptr<Inbound>> inbound;  // IO thread only
};

// One destination. The queue is shared with senders; the rest belongs to
// the IO thread.
struct TcpPeerTransport::Link {
  Link(asio::io_context& io, std::string name) : name(std::move(name)), resolver(io), retry(io) {}
  const std::string name;  // the member's name, for good
  std::mutex mutex;
  PeerInfo peer;  // its address may change (set_members)
  // Each batch with its size when queued, for the bounds and the merge.
  struct Queued {
    peer::PeerBatch batch;
    size_t bytes;
  };
  std::deque<Queued> queue;
  size_t queued_bytes = 0;
  bool flush_posted = false;

  // A fresh one per connection (a TLS session is not reused); handlers of
  // an old one hold it until they have run.
  std::shared_ptr<PeerStream> stream;
  tcp::resolver resolver;
  asio::steady_timer retry;
  enum class State { kIdle, kConnecting, kUp, kWaiting } state = State::kIdle;
  uint64_t generation = 0;  // bumped per connection: late callbacks of an old one are ignored
  std::chrono::milliseconds backoff{0};
  std::chrono::steady_clock::time_point up_since;  // of the current connection
  std::vector<char> out;  // frames being written, reused
  bool writing = false;
  bool logged_failure = false;
  FrameDecoder refusals{64 << 10};
};

struct TcpPeerTransport::Inbound {
  Inbound(asio::io_context& io, asio::ssl::context* tls, size_t frame_bytes_max)
      : stream(io, tls), decoder(frame_bytes_max), arena_block(kArenaBlockBytes), arena(arena_options(&arena_block)) {}
  PeerStream stream;
  FrameDecoder decoder;
  std::string remote;
  std::optional<raft::NodeId> from;  // set by the hello
  std::string from_name;
  std::vector<char> arena_block;  // before the arena, which uses it
  google::protobuf::Arena arena;
};

TcpPeerTransport::TcpPeerTransport(const Topology& topology, Receiver receiver, Options options, EventLoop* loop)
    : cluster_id_(topology.cluster_id),
      self_(topology.self),
      self_name_(topology.self_info().id),
      receiver_(std::move(receiver)),
      options_(std::move(options)),
      io_(std::make_unique<Io>(loop, options_.tls)),
      loop_(loop),
      directory_(topology.self) {
  if (!options_.address_of) options_.address_of = [](const PeerInfo& p) { return PeerAddress{p.address, ""}; };
  set_members(topology.nodes);
}

TcpPeerTransport::~TcpPeerTransport() { stop(); }

std::string TcpPeerTransport::start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return "not an IP address: " + host;
  const tcp::endpoint at(address, port);
  io_->acceptor.open(at.protocol(), ec);
  if (!ec) io_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) io_->acceptor.bind(at, ec);
  if (!ec) io_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec.message();
  port_ = io_->acceptor.local_endpoint().port();
  accept();
  if (!loop_) thread_ = std::thread([this] { io_->context.run(); });
  return "";
}

void TcpPeerTransport::stop() {
  if (stopping_.exchange(true)) return;
  auto close_all = [this] {
    boost::system::error_code ignored;
    io_->acceptor.close(ignored);
    io_->accept_retry.cancel();
    for (const auto& in : io_->inbound) in->stream.socket().close(ignored);
    std::lock_guard lock(links_mutex_);
    for (auto& [id, link] : links_) {
      if (link->stream) link->stream->socket().close(ignored);
      link->retry.cancel();
      link->resolver.cancel();
    }
    io_->work.reset();
  };
  if (loop_) {
    // On the loop's thread, or after it ended: nothing else touches the
    // sockets. The handlers this aborts never run (the loop is done).
    close_all();
  } else if (thread_.joinable()) {
    asio::post(io_->context, [this, close_all] {
      close_all();
      io_->context.stop();
    });
    thread_.join();
  }
}

void TcpPeerTransport::set_members(const std::vector<PeerInfo>& nodes) {
  directory_.learn(nodes);
  std::lock_guard lock(links_mutex_);
  for (const PeerInfo& p : nodes) {
    if (p.id.empty() || p.raft_id == self_) continue;
    auto it = links_.find(p.raft_id);
    if (it == links_.end()) {
      add_link(p);
    } else {
      std::lock_guard link_lock(it->second->mutex);
      it->second->peer = p;
    }
  }
}

void TcpPeerTransport::add_link(const PeerInfo& peer) {
  auto link = std::make_unique<Link>(io_->context, peer.id);
  link->peer = peer;
  link->backoff = options_.backoff_min;
  links_[peer.raft_id] = std::move(link);
}

std::vector<std::string> TcpPeerTransport::member_names() const {
  std::vector<std::string> names{self_name_};
  std::lock_guard lock(links_mutex_);
  for (const auto& [id, link] : links_) names.push_back(link->name);
  return names;
}

std::string TcpPeerTransport::member_address(raft::NodeId id) const {
  Link* link = link_of(id);
  if (!link) return "";
  std::lock_guard lock(link->mutex);
  return link->peer.address;
}

TcpPeerTransport::Link* TcpPeerTransport::link_of(raft::NodeId id) const {
  std::lock_guard lock(links_mutex_);
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second.get();
}

void TcpPeerTransport::send(raft::NodeId to, peer::PeerBatch&& batch) {
  Link* link = link_of(to);
  if (!link || stopping_) return;
  std::lock_guard lock(link->mutex);
  if (directory_.outbound_blocked(link->name)) return;
  const size_t bytes = batch.ByteSizeLong();
  uint64_t dropped = 0;
  while (!link->queue.empty() && (link->queue.size() >= options_.queue_batches_max ||
                                  link->queued_bytes + bytes > options_.queue_bytes_max)) {
    link->queued_bytes -= link->queue.front().bytes;
    link->queue.pop_front();
    ++dropped;
  }
  if (dropped > 0) {
    std::lock_guard stats_lock(stats_mutex_);
    stats_.dropped += dropped;
  }
  link->queue.push_back({std::move(batch), bytes});
  link->queued_bytes += bytes;
  if (!link->flush_posted) {
    link->flush_posted = true;
    if (loop_) {
      dirty_.push_back(link);
    } else {
      asio::post(io_->context, [this, link] { flush(link); });
    }
  }
}

void TcpPeerTransport::flush() {
  if (!loop_) return;
  std::vector<Link*> links;
  links.swap(dirty_);
  for (Link* link : links) flush(link);
}

void TcpPeerTransport::dial_now(const std::string& name) {
  if (stopping_) return;
  asio::post(io_->context, [this, name] {
    Link* link = nullptr;
    {
      std::lock_guard lock(links_mutex_);
      for (auto& [id, l] : links_) {
        if (l->name == name) link = l.get();
      }
    }
    if (!link || link->state != Link::State::kWaiting) return;
    link->retry.cancel();  // its handler sees the newer generation and does nothing
    ++link->generation;
    link->state = Link::State::kIdle;
    bool waiting = false;
    {
      std::lock_guard lock(link->mutex);
      waiting = !link->queue.empty();
    }
    if (waiting) connect(link);
  });
}

// IO thread: everything queued leaves in one write, after the hello on a
// fresh connection.
void TcpPeerTransport::flush(Link* link) {
  std::deque<Link::Queued> batches;
  {
    std::lock_guard lock(link->mutex);
    link->flush_posted = false;
    if (link->state == Link::State::kIdle && !link->queue.empty()) {
      // Connecting takes a while; this flush runs again once it is up.
    } else if (link->state != Link::State::kUp || link->writing) {
      return;
    } else {
      batches.swap(link->queue);
      link->queued_bytes = 0;
    }
  }
  if (link->state == Link::State::kIdle) {
    connect(link);
    return;
  }
  if (batches.empty() && link->out.empty()) return;
  // Merge what merges (peer_batch_merge.h), then serialize in place.
  struct Frame {
    peer::PeerBatch* batch;
    size_t bytes;  // the queued sizes, summed: bounds the merge
  };
  std::vector<Frame> frames;
  for (auto& q : batches) {
    if (!frames.empty() && frames.back().bytes + q.bytes <= kMergedBatchBytesMax &&
        merge_batch(*frames.back().batch, q.batch)) {
      frames.back().bytes += q.bytes;
    } else {
      frames.push_back({&q.batch, q.bytes});
    }
  }
  for (const Frame& f : frames) {
    peer::PeerBatch* b = f.batch;
    // Computed once more, here: it also fills the sizes protobuf caches
    // for the serialization that follows (moving a batch does not keep them).
    const size_t bytes = b->ByteSizeLong();
    if (bytes > options_.frame_bytes_max) {
      log_error("dropped a peer batch of " + std::to_string(bytes) + " bytes for " + link->name +
                ": above the frame limit");
      continue;
    }
    const size_t at = reserve_frame(&link->out);
    link->out.resize(at + kFrameHeaderBytes + bytes);
    b->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(link->out.data() + at + kFrameHeaderBytes));
    seal_frame(&link->out, at, FrameKind::kBatch);
  }
  if (link->out.empty()) return;
  link->writing = true;
  const uint64_t generation = link->generation;
  asio::async_write(*link->stream, asio::buffer(link->out),
                    [this, link, generation, stream = link->stream](const boost::system::error_code& ec, size_t) {
                      if (generation != link->generation) return;
                      link->writing = false;
                      link->out.clear();
                      if (ec) {
                        disconnect(link, ec.message());
                        return;
                      }
                      flush(link);
                    });
}

void TcpPeerTransport::connect(Link* link) {
  if (stopping_) return;
  PeerAddress where;
  {
    std::lock_guard lock(link->mutex);
    where = options_.address_of(link->peer);
  }
  if (!where.unreachable.empty()) {
    // As a refused dial: what is queued goes, since it would arrive late.
    disconnect(link, where.unreachable);
    return;
  }
  const std::string address = where.address;
  if (address.empty()) {
    // Being looked up (peer_locator.h): what is queued waits for the
    // answer, which comes with dial_now; the retry is the backstop.
    retry_later(link);
    return;
  }
  std::string error;
  const std::optional<HostPort> target = parse_dial_address(address, &error);
  if (!target) {
    log_error("peer address " + address + ": " + error);
    return;
  }
  link->state = Link::State::kConnecting;
  const uint64_t generation = ++link->generation;
  link->stream = std::make_shared<PeerStream>(io_->context, io_->tls_context.get());
  // Resolved at every dial: a peer that comes back under a new IP is found.
  link->resolver.async_resolve(
      target->host, std::to_string(target->port), [this, link, generation, address](const boost::system::error_code& ec,
                                                    tcp::resolver::results_type results) {
        if (generation != link->generation) return;
        if (ec) {
          disconnect(link, "cannot resolve " + address + ": " + ec.message());
          return;
        }
        asio::async_connect(
            link->stream->socket(), results,
            [this, link, generation, address](const boost::system::error_code& ec, const tcp::endpoint&) {
              if (generation != link->generation) return;
              if (ec) {
                disconnect(link, ec.message());
                return;
              }
              boost::system::error_code ignored;
              link->stream->socket().set_option(tcp::no_delay(true), ignored);
              auto timer = std::make_shared<asio::steady_timer>(io_->context, kHandshakeTimeout);
              timer->async_wait([stream = link->stream](const boost::system::error_code& e) {
                boost::system::error_code ignored;
                if (!e) stream->socket().close(ignored);
              });
              link->stream->async_handshake(
                  asio::ssl::stream_base::client,
                  [this, link, generation, address, stream = link->stream, timer](const boost::system::error_code& ec) {
                    timer->cancel();
                    if (generation != link->generation) return;
                    if (ec) {
                      disconnect(link, "TLS handshake: " + ec.message());
                      return;
                    }
                    if (stream->tls()) {
                      // The CA vouches for the certificate; it must also be
                      // this member's, not another node's of the same CA.
                      const auto names = stream->peer_certificate_names();
                      std::string member_address;
                      {
                        std::lock_guard lock(link->mutex);
                        member_address = link->peer.address;
                      }
                      if (!vouches_for(names, link->name, member_names(),
                                       {host_of(member_address), host_of(address)})) {
                        disconnect(link, "its certificate names " + joined(names) + ", not " + link->name +
                                             " or its address");
                        return;
                      }
                    }
                    connected(link, generation, address);
                  });
            });
      });
}

// A dialed connection is up (its TLS handshake done): the hello goes first.
void TcpPeerTransport::connected(Link* link, uint64_t generation, const std::string& address) {
  link->state = Link::State::kUp;
  link->up_since = std::chrono::steady_clock::now();
  if (link->logged_failure) log_info("reconnected to peer " + link->name + " at " + address);
  link->logged_failure = false;
  {
    std::lock_guard stats_lock(stats_mutex_);
    ++stats_.connected;
  }
  peer::PeerHello hello;
  hello.set_cluster_id(cluster_id_);
  hello.set_from_node(self_name_);
  link->out.clear();
  append_frame(&link->out, FrameKind::kHello, hello.SerializeAsString());
  link->refusals.reset();
  read_refusals(link, generation);
  flush(link);
}

// The peer only ever answers a refusal, then closes; a close is noticed here
// too, sooner than by the next write.
void TcpPeerTransport::read_refusals(Link* link, uint64_t generation) {
  size_t room = 0;
  char* space = link->refusals.space(4096, &room);
  link->stream->async_read_some(
      asio::buffer(space, room),
      [this, link, generation, stream = link->stream](const boost::system::error_code& ec, size_t n) {
        if (generation != link->generation) return;
        if (ec) {
          disconnect(link, ec == asio::error::eof ? "closed by the peer" : ec.message());
          return;
        }
        link->refusals.commit(n);
        FrameDecoder::Frame f;
        std::string error;
        while (link->refusals.next(&f, &error) == FrameDecoder::Result::kFrame) {
          if (f.kind == FrameKind::kRefusal) log_error("peer " + link->name + " refused this node: " + std::string(f.payload));
        }
        read_refusals(link, generation);
      });
}

void TcpPeerTransport::disconnect(Link* link, const std::string& why) {
  if (stopping_) return;
  const bool was_up = link->state == Link::State::kUp;
  // Only a connection that lasted starts the backoff over: one the peer
  // refuses right after the handshake (a certificate for another node,
  // another cluster) must not be redialed every few milliseconds.
  if (was_up && std::chrono::steady_clock::now() - link->up_since >= kLastingConnection) {
    link->backoff = options_.backoff_min;
  }
  ++link->generation;
  boost::system::error_code ignored;
  if (link->stream) link->stream->socket().close(ignored);
  link->writing = false;
  link->out.clear();
  {
    // What was queued for the broken connection is stale by the time a new
    // one is up; Raft resends what is still needed.
    std::lock_guard lock(link->mutex);
    link->queue.clear();
    link->queued_bytes = 0;
  }
  if (was_up || !link->logged_failure) {
    log_info((was_up ? "lost the connection to peer " : "cannot reach peer ") + link->name + ": " + why);
    link->logged_failure = true;
  }
  if (options_.on_disconnect) options_.on_disconnect(link->name);
  retry_later(link);
}

void TcpPeerTransport::retry_later(Link* link) {
  link->state = Link::State::kWaiting;
  link->retry.expires_after(link->backoff);
  link->backoff = std::min(link->backoff * 2, options_.backoff_max);
  const uint64_t generation = link->generation;
  link->retry.async_wait([this, link, generation](const boost::system::error_code& ec) {
    if (ec || generation != link->generation) return;
    link->state = Link::State::kIdle;
    bool waiting = false;
    {
      std::lock_guard lock(link->mutex);
      waiting = !link->queue.empty();
    }
    if (waiting) connect(link);
  });
}

void TcpPeerTransport::accept() {
  auto in = std::make_shared<Inbound>(io_->context, io_->tls_context.get(), options_.frame_bytes_max);
  io_->acceptor.async_accept(in->stream.socket(), [this, in](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopping_) return;
    if (ec) {
      // Out of descriptors, most likely: try again in a moment, not at once.
      log_warn("cannot accept a peer connection: " + ec.message());
      io_->accept_retry.expires_after(std::chrono::milliseconds(100));
      io_->accept_retry.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopping_) accept();
      });
      return;
    }
    {
      boost::system::error_code ignored;
      in->stream.socket().set_option(tcp::no_delay(true), ignored);
      const auto remote = in->stream.socket().remote_endpoint(ignored);
      in->remote = remote.address().to_string() + ":" + std::to_string(remote.port());
      io_->inbound.insert(in);
      {
        std::lock_guard lock(stats_mutex_);
        ++stats_.accepted;
      }
      auto timer = std::make_shared<asio::steady_timer>(io_->context, kHandshakeTimeout);
      timer->async_wait([in](const boost::system::error_code& e) {
        boost::system::error_code ignored;
        if (!e) in->stream.socket().close(ignored);
      });
      in->stream.async_handshake(asio::ssl::stream_base::server, [this, in, timer](const boost::system::error_code& ec) {
        timer->cancel();
        if (!ec) {
          read_inbound(in);
          return;
        }
        // A plaintext dialer, or a certificate the peers' CA does not
        // vouch for: nothing it sent is read.
        log_warn("refused the peer connection from " + in->remote + ": TLS handshake: " + ec.message());
        {
          std::lock_guard lock(stats_mutex_);
          ++stats_.refused;
        }
        boost::system::error_code ignored;
        in->stream.socket().close(ignored);
        io_->inbound.erase(in);
      });
    }
    accept();
  });
}

void TcpPeerTransport::read_inbound(const std::shared_ptr<Inbound>& in) {
  size_t room = 0;
  char* space = in->decoder.space(kReadChunkBytes, &room);
  in->stream.async_read_some(asio::buffer(space, room), [this, in](const boost::system::error_code& ec, size_t n) {
    if (ec) {
      boost::system::error_code ignored;
      in->stream.socket().close(ignored);
      io_->inbound.erase(in);
      return;
    }
    in->decoder.commit(n);
    if (take_frames(in)) read_inbound(in);
  });
}

// Every whole frame read so far; false once the connection is closed.
bool TcpPeerTransport::take_frames(const std::shared_ptr<Inbound>& in) {
  auto close_bad = [&](const std::string& why) {
    log_warn("closed the peer connection from " + (in->from_name.empty() ? in->remote : in->from_name) + ": " + why);
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.bad_streams;
    }
    boost::system::error_code ignored;
    in->stream.socket().close(ignored);
    io_->inbound.erase(in);
    return false;
  };
  FrameDecoder::Frame f;
  std::string error;
  // The batches of the last read are gone (the receiver keeps none).
  in->arena.Reset();
  while (true) {
    const FrameDecoder::Result r = in->decoder.next(&f, &error);
    if (r == FrameDecoder::Result::kNeedMore) return true;
    if (r == FrameDecoder::Result::kError) return close_bad(error);
    if (!in->from) {
      peer::PeerHello hello;
      if (f.kind != FrameKind::kHello || !hello.ParseFromArray(f.payload.data(), static_cast<int>(f.payload.size()))) {
        return close_bad("the first frame is not a hello");
      }
      if (hello.cluster_id() != cluster_id_) {
        refuse(in, "cluster id mismatch: this node belongs to cluster " + cluster_id_ + ", not " + hello.cluster_id());
        return false;
      }
      // A member this node's map does not list yet (admitted a moment ago)
      // is refused until the map arrives; it redials.
      in->from = directory_.id_of(hello.from_node());
      if (!in->from) {
        refuse(in, "node " + hello.from_node() + " is not a member this node knows");
        return false;
      }
      if (in->stream.tls()) {
        // Any node of the peers' CA could claim any name: the certificate
        // must be the claimed member's own.
        const auto names = in->stream.peer_certificate_names();
        if (!vouches_for(names, hello.from_node(), member_names(), {host_of(member_address(*in->from))})) {
          refuse(in, "its certificate names " + joined(names) + ", not " + hello.from_node() +
                         " or its address");
          return false;
        }
      }
      in->from_name = hello.from_node();
      continue;
    }
    if (f.kind != FrameKind::kBatch) return close_bad("a frame that is not a batch after the hello");
    peer::PeerBatch& batch = *google::protobuf::Arena::CreateMessage<peer::PeerBatch>(&in->arena);
    if (!batch.ParseFromArray(f.payload.data(), static_cast<int>(f.payload.size()))) {
      return close_bad("a batch that does not parse");
    }
    if (directory_.inbound_blocked(in->from_name) || stopping_) continue;
    directory_.note_heard(*in->from);
    batch.set_from_node(in->from_name);
    batch.set_cluster_id(cluster_id_);
    receiver_(*in->from, std::move(batch));
  }
}

void TcpPeerTransport::refuse(const std::shared_ptr<Inbound>& in, const std::string& why) {
  log_warn("refused the peer connection from " + in->remote + ": " + why);
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.refused;
  }
  auto frame = std::make_shared<std::vector<char>>();
  append_frame(frame.get(), FrameKind::kRefusal, why);
  asio::async_write(in->stream, asio::buffer(*frame), [this, in, frame](const boost::system::error_code&, size_t) {
    boost::system::error_code ignored;
    in->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    in->stream.socket().close(ignored);
    io_->inbound.erase(in);
  });
}

void TcpPeerTransport::set_blocked(std::set<std::string> outbound, std::set<std::string> inbound) {
  directory_.set_blocked(std::move(outbound), std::move(inbound));
}

std::set<std::string> TcpPeerTransport::blocked_outbound() const { return directory_.blocked_outbound(); }

std::set<std::string> TcpPeerTransport::blocked_inbound() const { return directory_.blocked_inbound(); }

bool TcpPeerTransport::recently_heard(raft::NodeId peer, int64_t within_ms) const {
  return directory_.recently_heard(peer, within_ms);
}

TcpPeerTransport::Stats TcpPeerTransport::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

size_t TcpPeerTransport::queued(raft::NodeId to) const {
  Link* link = link_of(to);
  if (!link) return 0;
  std::lock_guard lock(link->mutex);
  return link->queue.size();
}

}  // namespace mq::server
