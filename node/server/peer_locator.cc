#include "node/server/peer_locator.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "mq/peer/raft.grpc.pb.h"
#include "node/server/address.h"
#include "node/tls/grpc_tls.h"

namespace mq::server {

namespace {

// A peer that does not answer within this is asked again at the next dial.
constexpr auto kLocateDeadline = std::chrono::seconds(2);

bool is_wildcard(const std::string& host) { return host.empty() || is_wildcard_host(host); }

}  // namespace

struct PeerLocator::Target {
  Target(const std::string& address, const tls::TlsMaterial& dial) : client(channel(address, dial)) {}
  static std::shared_ptr<grpc::Channel> channel(const std::string& address, const tls::TlsMaterial& dial) {
    grpc::ChannelArguments args;
    // Nodes of a cluster start within moments of each other: a peer that
    // refused the first question is asked again within the transport's
    // backoff, not after gRPC's default second.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    // A member known by a DNS name that came back at another address (a
    // rescheduled pod) is looked up again when the connection fails; gRPC
    // waits 30 s between lookups unless told otherwise.
    args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 1000);
    return grpc::CreateCustomChannel(address, tls::grpc_channel_credentials(dial), args);
  }
  peer::Peer::Stub client;  // gRPC's generated client of the Peer service
};

struct PeerLocator::Call {
  std::string name;
  std::string asked_at;
  grpc::ClientContext context;
  peer::LocateRequest request;
  peer::LocateResponse response;
};

class PeerLocator::Service final : public peer::Peer::CallbackService {
 public:
  Service(const std::string& cluster_id, const std::string& node) : cluster_id_(cluster_id), node_(node) {}

  // Before the gRPC server serves Locate (it is not guarded).
  void set_listener(const std::string& host, uint16_t port) {
    host_ = is_wildcard(host) ? "" : host;
    port_ = port;
  }

  grpc::ServerUnaryReactor* Locate(grpc::CallbackServerContext* ctx, const peer::LocateRequest* req,
                                   peer::LocateResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (req->cluster_id() != cluster_id_) {
      reactor->Finish({grpc::StatusCode::FAILED_PRECONDITION,
                       "cluster id mismatch: this node belongs to cluster " + cluster_id_ + ", not " +
                           req->cluster_id()});
      return reactor;
    }
    resp->set_cluster_id(cluster_id_);
    resp->set_node(node_);
    resp->set_peer_port(port_);
    resp->set_peer_host(host_);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::string cluster_id_;
  const std::string node_;
  std::string host_;
  uint16_t port_ = 0;
};

PeerLocator::PeerLocator(std::string cluster_id, std::string self_name, const tls::TlsMaterial& dial)
    : cluster_id_(std::move(cluster_id)),
      self_name_(std::move(self_name)),
      dial_(dial),
      service_(std::make_unique<Service>(cluster_id_, self_name_)) {}

PeerLocator::~PeerLocator() { stop(); }

void PeerLocator::set_own_listener(const std::string& host, uint16_t port) { service_->set_listener(host, port); }

grpc::Service* PeerLocator::service() { return service_.get(); }

PeerAddress PeerLocator::peer_address(const PeerInfo& peer) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_[peer.id];
  // A member that moved (replace, or a new address in the map) is asked at
  // its new address.
  if (e.asked_at != peer.address) {
    e.answer.clear();
    e.failure.clear();
  }
  if (!e.answer.empty()) return {e.answer, ""};
  if (e.in_flight || stopping_) return {};
  const std::string failure = e.failure;
  ask(peer);
  return {"", failure};
}

void PeerLocator::forget(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end()) it->second.answer.clear();
}

void PeerLocator::ask(const PeerInfo& peer) {
  Entry& e = entries_[peer.id];
  e.in_flight = true;
  e.asked_at = peer.address;
  auto& target = targets_[peer.address];
  if (!target) target = std::make_unique<Target>(peer.address, dial_);
  auto owned = std::make_unique<Call>();
  Call* call = owned.get();
  call->name = peer.id;
  call->asked_at = peer.address;
  call->request.set_cluster_id(cluster_id_);
  call->request.set_from_node(self_name_);
  call->context.set_deadline(std::chrono::system_clock::now() + kLocateDeadline);
  calls_[call] = std::move(owned);
  target->client.async()->Locate(&call->context, &call->request, &call->response, [this, call](grpc::Status s) {
    if (!s.ok()) {
      answered(call, false, s.error_message().empty() ? "no answer" : s.error_message());
    } else if (call->response.cluster_id() != cluster_id_ || call->response.node() != call->name ||
               call->response.peer_port() == 0 || call->response.peer_port() > 65535) {
      answered(call, false,
               "it answered as node " + call->response.node() + " of cluster " + call->response.cluster_id() +
                   " with peer port " + std::to_string(call->response.peer_port()));
    } else {
      answered(call, true, "");
    }
  });
}

void PeerLocator::answered(Call* call, bool ok, const std::string& why) {
  std::unique_ptr<Call> owned;
  std::unique_lock lock(mutex_);
  owned = std::move(calls_.at(call));
  Entry& e = entries_[call->name];
  if (e.asked_at == call->asked_at) {
    e.in_flight = false;
    if (ok) {
      // The host the question reached, unless the answer names another.
      std::string error;
      HostPort at = parse_dial_address(call->asked_at, &error).value_or(HostPort{});
      if (!call->response.peer_host().empty()) at.host = call->response.peer_host();
      at.port = static_cast<uint16_t>(call->response.peer_port());
      e.answer = at.to_string();
      e.failure.clear();
    } else {
      // The transport logs it, once, as a peer it cannot reach.
      e.failure = "no answer from " + call->asked_at + " to where its peer listener is: " + why;
    }
  }
  const bool located = ok && !stopping_;
  const std::string name = call->name;
  if (located) {
    // Outside the lock; the call still counts as in flight, so stop()
    // waits for this to return.
    lock.unlock();
    if (on_located_) on_located_(name);
    lock.lock();
  }
  // Destroyed here, under the lock, so that stop() returns only once no
  // call (its context, its channel reference) is left.
  owned.reset();
  calls_.erase(call);
  if (calls_.empty()) idle_.notify_all();
}

void PeerLocator::stop() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  // Keys, not values: a call being answered has moved its value out.
  for (auto& [raw, owned] : calls_) raw->context.TryCancel();
  idle_.wait(lock, [this] { return calls_.empty(); });
}

}  // namespace mq::server
