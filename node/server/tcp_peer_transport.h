// Raft traffic between nodes over framed TCP (peer_frame.h) on Boost.Asio,
// off the client RPC stack, as etcd's rafthttp, Dragonboat and braft keep
// theirs: one connection per node pair and direction, dialed by the sender
// and opened with a hello (cluster id, node name). One IO thread serves
// every connection. A destination's batches wait in a bounded queue (the
// oldest go first when it is full: a newer batch carries newer state), and
// everything queued while the previous write was in flight leaves in one
// write of back-to-back frames, serialized straight into a buffer that is
// reused from write to write. A broken connection is redialed with
// backoff; what was queued for it is dropped (Raft resends what matters).
// A peer that sends anything but well-formed frames is disconnected; the
// node carries on. With --peer-* files every connection is mutual TLS
// (peer_stream.h), and each end checks that the other's certificate is
// the member's it claims to be.
//
// Fault injection: traffic to or from chosen peers is dropped here, so
// partitions need no root.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mq/peer/raft.pb.h"
#include "node/server/event_loop.h"
#include "node/server/peer_directory.h"
#include "node/server/peer_sender.h"
#include "node/server/topology.h"
#include "node/tls/tls_files.h"

namespace mq::server {

class TcpPeerTransport final : public PeerSender {
 public:
  // Called with every batch a peer of this cluster sent (on the loop's
  // thread, or the transport's own). The batch lives in the connection's
  // arena until the receiver returns: one it keeps must be copied (moving
  // it out copies).
  using Receiver = std::function<void(raft::NodeId from, peer::PeerBatch&& batch)>;

  struct Options {
    size_t queue_batches_max = 4096;
    size_t queue_bytes_max = size_t{64} << 20;
    size_t frame_bytes_max = size_t{256} << 20;
    std::chrono::milliseconds backoff_min{20};
    std::chrono::milliseconds backoff_max{500};
    // Where a member's peer listener is (host:port); the member's address
    // if unset. Called on the IO thread: must not block.
    std::function<PeerAddress(const PeerInfo&)> address_of;
    // A connection to this member failed or broke (IO thread).
    std::function<void(const std::string& name)> on_disconnect;
    // Mutual TLS with the peers' CA (--peer-*); empty: plaintext. A peer's
    // certificate must name the member it is (its id or address host).
    tls::TlsMaterial tls;
  };

  struct Stats {
    uint64_t accepted = 0;     // inbound connections
    uint64_t refused = 0;      // inbound hellos refused (another cluster, an unknown node)
    uint64_t bad_streams = 0;  // inbound connections closed for a malformed frame
    uint64_t connected = 0;    // outbound connections established
    uint64_t dropped = 0;      // batches dropped from full queues
  };

  // With a loop, everything runs on the loop's thread (event_loop.h): the
  // receiver is called there, send() must be called there, and what it
  // queued leaves at flush(). Without one, the transport runs an IO thread
  // of its own and send() may be called from any thread.
  TcpPeerTransport(const Topology& topology, Receiver receiver, Options options, EventLoop* loop = nullptr);
  ~TcpPeerTransport() override;
  TcpPeerTransport(const TcpPeerTransport&) = delete;
  TcpPeerTransport& operator=(const TcpPeerTransport&) = delete;

  // Listens on host:port (0: a port the kernel picks) and starts the IO
  // thread; "" or why it cannot.
  std::string start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  void stop();

  // Non-blocking.
  void send(raft::NodeId to, peer::PeerBatch&& batch) override;
  // With a loop: starts the writes of what send() queued since the last
  // flush (one write per connection, usually completed at once).
  void flush() override;
  // The member's listener was just located: a link waiting to redial it
  // dials now instead of at the end of its backoff. Any thread.
  void dial_now(const std::string& name);
  void set_members(const std::vector<PeerInfo>& nodes) override;
  bool recently_heard(raft::NodeId peer, int64_t within_ms) const override;

  void set_blocked(std::set<std::string> outbound, std::set<std::string> inbound);
  std::set<std::string> blocked_outbound() const;
  std::set<std::string> blocked_inbound() const;

  Stats stats() const;
  // Batches waiting for a destination (for tests of the bounds).
  size_t queued(raft::NodeId to) const;

 private:
  struct Io;
  struct Link;
  struct Inbound;
  void add_link(const PeerInfo& peer);  // links_mutex_ held
  Link* link_of(raft::NodeId id) const;
  void flush(Link* link);
  void connect(Link* link);
  void connected(Link* link, uint64_t generation, const std::string& address);
  std::string member_address(raft::NodeId id) const;
  std::vector<std::string> member_names() const;  // this node's and every link's
  void disconnect(Link* link, const std::string& why);
  void retry_later(Link* link);
  void read_refusals(Link* link, uint64_t generation);
  void accept();
  void read_inbound(const std::shared_ptr<Inbound>& in);
  bool take_frames(const std::shared_ptr<Inbound>& in);
  void refuse(const std::shared_ptr<Inbound>& in, const std::string& why);

  const std::string cluster_id_;
  const raft::NodeId self_;
  const std::string self_name_;
  Receiver receiver_;
  Options options_;
  std::unique_ptr<Io> io_;
  EventLoop* const loop_;  // or nullptr: thread_ runs io_
  std::thread thread_;
  std::vector<Link*> dirty_;  // with a loop: links send() queued to since the last flush
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  PeerDirectory directory_;
  mutable std::mutex links_mutex_;  // links_
  std::map<raft::NodeId, std::unique_ptr<Link>> links_;
  mutable std::mutex stats_mutex_;
  Stats stats_;
};

}  // namespace mq::server
