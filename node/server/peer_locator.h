// Where each peer's Raft listener is. Members are known by their gRPC
// address (--listen, --peers, the cluster map); the framed peer transport
// listens on a port of its own, which needs no configuration: before it
// dials a peer, the transport asks the peer's gRPC service (Peer.Locate)
// and dials what it answers. A lost connection forgets the answer, so a
// peer that restarted on another port is asked again.
//
// Both sides live here: the question (asked asynchronously, at most one in
// flight per member, never blocking the caller) and the answer (a gRPC
// service the node registers).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "node/server/peer_directory.h"
#include "node/server/topology.h"
#include "node/tls/tls_files.h"

namespace grpc {
class Service;
}

namespace mq::server {

class PeerLocator {
 public:
  // `dial`: how the peers' gRPC listeners are dialed (node_tls.h).
  PeerLocator(std::string cluster_id, std::string self_name, const tls::TlsMaterial& dial);
  ~PeerLocator();
  PeerLocator(const PeerLocator&) = delete;
  PeerLocator& operator=(const PeerLocator&) = delete;

  // This node's own listener, as Locate answers it: the port, and the host
  // to dial unless it is a wildcard ("" then: the host the asker used).
  // Before the node's gRPC server starts.
  void set_own_listener(const std::string& host, uint16_t port);

  // The peer's listener once known. Until then the question is asked in
  // the background, and the answer says whether it is on its way or the
  // last one failed (and why). Any thread; never blocks.
  PeerAddress peer_address(const PeerInfo& peer);
  // The connection to it failed or broke: ask again before the next dial.
  void forget(const std::string& name);

  // Called (on a gRPC thread) when a member's listener was located.
  void on_located(std::function<void(const std::string& name)> fn) { on_located_ = std::move(fn); }

  // The service answering Locate; register it with the node's gRPC server.
  grpc::Service* service();

  // Cancels the questions in flight and waits for their callbacks. Idempotent.
  void stop();

 private:
  struct Entry {
    std::string asked_at;  // the gRPC address the answer came from
    std::string answer;    // host:port, "" while unknown
    std::string failure;   // why the last question failed
    bool in_flight = false;
  };
  struct Call;
  struct Target;
  class Service;
  void ask(const PeerInfo& peer);  // mutex_ held
  void answered(Call* call, bool ok, const std::string& why);

  const std::string cluster_id_;
  const std::string self_name_;
  const tls::TlsMaterial dial_;
  std::unique_ptr<Service> service_;
  std::function<void(const std::string& name)> on_located_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::map<std::string, Entry> entries_;                        // by member name
  std::map<std::string, std::unique_ptr<Target>> targets_;     // by gRPC address
  std::map<Call*, std::unique_ptr<Call>> calls_;                // in flight
  bool stopping_ = false;
};

}  // namespace mq::server
