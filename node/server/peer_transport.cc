#include "node/server/peer_transport.h"

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

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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
        if (batch_.cluster_id() != t_->topology_.cluster_id) {
          log_warn("refused Raft traffic from " + batch_.from_node() + ": cluster id " +
                   batch_.cluster_id() + " is not this cluster's " + t_->topology_.cluster_id);
          Finish({grpc::StatusCode::FAILED_PRECONDITION,
                  "cluster id mismatch: this node belongs to cluster " + t_->topology_.cluster_id});
          return;
        }
        const PeerInfo* from = t_->topology_.find(batch_.from_node());
        if (!from) {
          Finish({grpc::StatusCode::FAILED_PRECONDITION, "unknown node " + batch_.from_node()});
          return;
        }
        if (!t_->inbound_blocked(from->raft_id) && !t_->stopping_) {
          t_->note_heard(from->raft_id);
          t_->receiver_(from->raft_id, std::move(batch_));
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
    : topology_(topology), receiver_(std::move(receiver)), service_(std::make_unique<Service>(this)) {
  for (const auto& p : topology_.nodes) {
    if (p.raft_id == topology_.self) continue;
    auto link = std::make_unique<Link>();
    link->peer = p;
    Link* raw = link.get();
    links_[p.raft_id] = std::move(link);
    raw->thread = std::thread([this, raw] { run_link(raw); });
  }
}

PeerTransport::~PeerTransport() { stop(); }

grpc::Service* PeerTransport::service() { return service_.get(); }

void PeerTransport::stop() {
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
  auto it = links_.find(to);
  if (it == links_.end()) return;
  {
    std::lock_guard lock(faults_mutex_);
    if (blocked_out_.count(it->second->peer.id)) return;
  }
  Link& link = *it->second;
  batch.set_cluster_id(topology_.cluster_id);
  batch.set_from_node(topology_.self_info().id);
  std::lock_guard lock(link.mutex);
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
    auto channel =
        grpc::CreateCustomChannel(link->peer.address, grpc::InsecureChannelCredentials(), args);
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
          if (out.empty() || merged_bytes + bytes > kMergedBatchBytesMax) {
            out.push_back(std::move(next));
            merged_bytes = bytes;
          } else {
            for (auto& m : *next.mutable_messages()) out.back().add_messages()->Swap(&m);
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
      log_info("lost the stream to " + link->peer.id + " at " + link->peer.address +
               (s.ok() ? "" : ": " + s.error_message()));
      was_connected = false;
    }
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      log_error("peer " + link->peer.id + " refused this node: " + s.error_message());
    }
    std::unique_lock lock(link->mutex);
    link->wake.wait_for(lock, backoff, [&] { return stopping_.load(); });
    backoff = std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kReconnectBackoffMax));
  }
}

void PeerTransport::set_blocked(std::set<std::string> outbound, std::set<std::string> inbound) {
  std::lock_guard lock(faults_mutex_);
  blocked_out_ = std::move(outbound);
  blocked_in_ = std::move(inbound);
}

std::set<std::string> PeerTransport::blocked_outbound() const {
  std::lock_guard lock(faults_mutex_);
  return blocked_out_;
}

std::set<std::string> PeerTransport::blocked_inbound() const {
  std::lock_guard lock(faults_mutex_);
  return blocked_in_;
}

bool PeerTransport::inbound_blocked(raft::NodeId from) const {
  const PeerInfo* p = topology_.find(from);
  std::lock_guard lock(faults_mutex_);
  return p && blocked_in_.count(p->id) > 0;
}

void PeerTransport::note_heard(raft::NodeId from) {
  std::lock_guard lock(heard_mutex_);
  last_heard_ms_[from] = now_ms();
}

bool PeerTransport::recently_heard(raft::NodeId peer, int64_t within_ms) const {
  if (peer == topology_.self) return true;
  std::lock_guard lock(heard_mutex_);
  auto it = last_heard_ms_.find(peer);
  return it != last_heard_ms_.end() && now_ms() - it->second <= within_ms;
}

}  // namespace mq::server
