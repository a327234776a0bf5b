#include "node/server/peer_transport.h"
#include "node/server/peer_batch_merge.h"

#include <grpcpp/grpcpp.h>

#include "mq/peer/raft.grpc.pb.h"
#include "node/server/log.h"

namespace mq::server {

namespace {

// Bounds of one destination's queue: past them the oldest batches go first,
// since a newer batch carries the newer state (commit index, terms).
constexpr size_t kQueueBatchesMax = 4096;
constexpr auto kReconnectBackoffMin = std::chrono::milliseconds(20);
constexpr auto kReconnectBackoffMax = std::chrono::milliseconds(500);
constexpr int kPeerMessageBytesMax = 256 << 20;
// Merged batches stay well below the receiving node's message limit.
constexpr size_t kMergedBatchBytesMax = 16 << 20;

}  // namespace

struct PeerTransport::Link {
  PeerInfo peer;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<peer::PeerBatch> queue;
  uint64_t dropped = 0;
  // The stream in progress, so stop() can cancel a blocked Write.
  grpc::ClientContext* active = nullptr;
  std::thread thread;
};

class PeerTransport::Service final : public peer::Peer::CallbackService {
 public:
  explicit Service(PeerTransport* transport) : transport_(transport) {}

  grpc::ServerReadReactor<peer::PeerBatch>* Stream(grpc::CallbackServerContext* ctx,
                                                   peer::PeerAck*) override {
    class Reader final : public grpc::ServerReadReactor<peer::PeerBatch> {
     public:
      explicit Reader(PeerTransport* t) : t_(t) { StartRead(&batch_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        if (batch_.cluster_id() != t_->cluster_id_) {
          log_warn("refused Raft traffic from " + batch_.from_node() + ": cluster id " +
                   batch_.cluster_id() + " is not this cluster's " + t_->cluster_id_);
          Finish({grpc::StatusCode::FAILED_PRECONDITION,
                  "cluster id mismatch: this node belongs to cluster " + t_->cluster_id_});
          return;
        }
        // A member this node's map does not list yet (it was admitted a
        // moment ago) is not heard until the map arrives; Raft resends.
        const std::optional<raft::NodeId> from = t_->directory_.id_of(batch_.from_node());
        if (from && !t_->directory_.inbound_blocked(batch_.from_node()) && !t_->stopping_) {
          t_->directory_.note_heard(*from);
          t_->receiver_(*from, std::move(batch_));
        }
        batch_.Clear();
        StartRead(&batch_);
      }
      void OnDone() override { delete this; }

     private:
      PeerTransport* t_;
      peer::PeerBatch batch_;
    };
    (void)ctx;
    return new Reader(transport_);
  }

 private:
  PeerTransport* transport_;
};

PeerTransport::PeerTransport(const Topology& topology, Receiver receiver)
    : cluster_id_(topology.cluster_id),
      self_(topology.self),
      self_name_(topology.self_info().id),
      receiver_(std::move(receiver)),
      service_(std::make_unique<Service>(this)),
      directory_(topology.self) {
  set_members(topology.nodes);
}

void PeerTransport::set_members(const std::vector<PeerInfo>& nodes) {
  directory_.learn(nodes);
  std::lock_guard lock(links_mutex_);
  if (stopping_) return;
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

void PeerTransport::add_link(const PeerInfo& peer) {
  auto link = std::make_unique<Link>();
  link->peer = peer;
  Link* raw = link.get();
  links_[peer.raft_id] = std::move(link);
  raw->thread = std::thread([this, raw] { run_link(raw); });
}

PeerTransport::~PeerTransport() { stop(); }

grpc::Service* PeerTransport::service() { return service_.get(); }

void PeerTransport::stop() {
  std::lock_guard links_lock(links_mutex_);
  if (stopping_.exchange(true)) return;
  for (auto& [id, link] : links_) {
    std::lock_guard lock(link->mutex);
    if (link->active) link->active->TryCancel();
    link->wake.notify_all();
  }
  for (auto& [id, link] : links_) {
    if (link->thread.joinable()) link->thread.join();
  }
}

void PeerTransport::send(raft::NodeId to, peer::PeerBatch&& batch) {
  Link* found = nullptr;
  {
    std::lock_guard links_lock(links_mutex_);
    auto it = links_.find(to);
    if (it == links_.end()) return;
    found = it->second.get();
  }
  Link& link = *found;
  batch.set_cluster_id(cluster_id_);
  batch.set_from_node(self_name_);
  std::lock_guard lock(link.mutex);
  if (directory_.outbound_blocked(link.peer.id)) return;
  if (link.queue.size() >= kQueueBatchesMax) {
    link.queue.pop_front();
    ++link.dropped;
  }
  link.queue.push_back(std::move(batch));
  link.wake.notify_one();
}

void PeerTransport::run_link(Link* link) {
  auto backoff = kReconnectBackoffMin;
  bool was_connected = false;
  while (!stopping_) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(kPeerMessageBytesMax);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    PeerInfo peer;
    {
      std::lock_guard lock(link->mutex);
      peer = link->peer;
    }
    auto channel = grpc::CreateCustomChannel(peer.address, grpc::InsecureChannelCredentials(), args);
    auto stub = peer::Peer::NewStub(channel);
    grpc::ClientContext ctx;
    peer::PeerAck ack;
    {
      std::lock_guard lock(link->mutex);
      if (stopping_) break;
      link->active = &ctx;
    }
    auto writer = stub->Stream(&ctx, &ack);
    bool healthy = true;
    while (healthy && !stopping_) {
      std::vector<peer::PeerBatch> out;
      {
        std::unique_lock lock(link->mutex);
        link->wake.wait_for(lock, std::chrono::milliseconds(200),
                            [&] { return stopping_ || !link->queue.empty(); });
        // Batches queued while the previous write was in flight travel as
        // one: one stream write, one wake-up of the peer's loop.
        size_t merged_bytes = 0;
        while (!link->queue.empty()) {
          peer::PeerBatch& next = link->queue.front();
          const size_t bytes = next.ByteSizeLong();
          if (out.empty() || merged_bytes + bytes > kMergedBatchBytesMax || !merge_batch(out.back(), next)) {
            out.push_back(std::move(next));
            merged_bytes = bytes;
          } else {
            merged_bytes += bytes;
          }
          link->queue.pop_front();
        }
      }
      for (auto& b : out) {
        if (!writer->Write(b)) {
          healthy = false;
          break;
        }
        if (!was_connected) {
          was_connected = true;
          backoff = kReconnectBackoffMin;
        }
      }
    }
    writer->WritesDone();
    const grpc::Status s = writer->Finish();
    {
      std::lock_guard lock(link->mutex);
      link->active = nullptr;
      // What was queued while the stream was broken is stale by the time a
      // new one is up; Raft resends what is still needed.
      link->queue.clear();
    }
    if (stopping_) break;
    if (was_connected) {
      log_info("lost the stream to " + peer.id + " at " + peer.address +
               (s.ok() ? "" : ": " + s.error_message()));
      was_connected = false;
    }
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      log_error("peer " + peer.id + " refused this node: " + s.error_message());
    }
    std::unique_lock lock(link->mutex);
    link->wake.wait_for(lock, backoff, [&] { return stopping_.load(); });
    backoff = std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kReconnectBackoffMax));
  }
}

void PeerTransport::set_blocked(std::set<std::string> outbound, std::set<std::string> inbound) {
  directory_.set_blocked(std::move(outbound), std::move(inbound));
}

std::set<std::string> PeerTransport::blocked_outbound() const { return directory_.blocked_outbound(); }

std::set<std::string> PeerTransport::blocked_inbound() const { return directory_.blocked_inbound(); }

bool PeerTransport::recently_heard(raft::NodeId peer, int64_t within_ms) const {
  return directory_.recently_heard(peer, within_ms);
}

}  // namespace mq::server
