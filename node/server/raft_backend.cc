#include "node/server/raft_backend.h"

#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "node/kv/command.h"
#include "node/kv/page_token.h"
#include "node/kv/shard_hash.h"
#include "node/server/event_loop.h"
#include "node/server/exit_codes.h"
#include "node/server/log.h"
#include "node/server/memory_gauge.h"
#include "node/server/peer_locator.h"
#include "node/server/tcp_peer_transport.h"

namespace mq::server {

namespace {

// Client requests waiting for the loop. Beyond this the node answers
// RESOURCE_EXHAUSTED at once rather than queue without bound (peer traffic
// is never refused here: its own queues are bounded in the transport).
constexpr size_t kInboxRequestsMax = 200'000;

grpc::Status to_grpc(const Outcome& o) {
  switch (o.code) {
    case Outcome::Code::kOk: return grpc::Status::OK;
    case Outcome::Code::kNotLeader: {
      v1::NotLeader nl;
      nl.set_shard(o.hint.shard);
      nl.set_leader(o.hint.leader);
      nl.set_leader_address(o.hint.leader_address);
      nl.set_term(o.hint.term);
      return {grpc::StatusCode::FAILED_PRECONDITION, o.message, nl.SerializeAsString()};
    }
    case Outcome::Code::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, o.message};
    case Outcome::Code::kOutcomeUnknown: return {grpc::StatusCode::ABORTED, o.message};
    case Outcome::Code::kOverloaded: return {grpc::StatusCode::RESOURCE_EXHAUSTED, o.message};
    case Outcome::Code::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, o.message};
    case Outcome::Code::kInternal: return {grpc::StatusCode::INTERNAL, o.message};
    case Outcome::Code::kMemoryFull: {
      v1::MemoryFull full;
      full.set_node(o.memory.node);
      full.set_used_bytes(o.memory.used_bytes);
      full.set_limit_bytes(o.memory.limit_bytes);
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, o.message, full.SerializeAsString()};
    }
  }
  return {grpc::StatusCode::INTERNAL, o.message};
}

grpc::Status stopped_status() { return {grpc::StatusCode::UNAVAILABLE, "node is shutting down"}; }

}  // namespace

// The loop thread, what wakes it, and the host it owns.
struct RaftBackend::Loop {
  // First: the transport's sockets and timers belong to its io_context.
  EventLoop events;
  std::unique_ptr<TcpPeerTransport> transport;
  // After the transport, so destroyed before it: the locator's callbacks
  // (waited for by its destructor) call into the transport.
  std::unique_ptr<PeerLocator> locator;
  std::unique_ptr<NodeHost> host;
  // Fixed for the cluster's life, read by gRPC threads without the loop.
  uint32_t shard_count = 0;
  std::string self_name;

  // Serializes posts with the stop: what was posted before it runs, and
  // nothing is posted after it.
  std::mutex post_mutex;
  bool stopped = false;                    // guarded by post_mutex
  std::atomic<bool> stopping{false};       // read by the loop without the mutex
  std::atomic<size_t> requests_queued{0};  // client requests posted, not yet run
  std::thread thread;

  enum class Post { kPosted, kStopped, kFull };

  Post post(std::function<void()> fn, bool client_request) {
    std::lock_guard lock(post_mutex);
    if (stopped) return Post::kStopped;
    if (client_request) {
      if (requests_queued.load(std::memory_order_relaxed) >= kInboxRequestsMax) return Post::kFull;
      requests_queued.fetch_add(1, std::memory_order_relaxed);
      events.post([this, fn = std::move(fn)] {
        requests_queued.fetch_sub(1, std::memory_order_relaxed);
        fn();
      });
    } else {
      events.post(std::move(fn));
    }
    return Post::kPosted;
  }

  // Posts a client request; when the loop cannot take it, answers it here.
  void post_request(std::function<void()> fn, const KvBackend::Done& done) {
    switch (post(std::move(fn), true)) {
      case Post::kPosted: return;
      case Post::kStopped: done(stopped_status()); return;
      case Post::kFull:
        done({grpc::StatusCode::RESOURCE_EXHAUSTED,
              "node " + self_name + " has " +
                  std::to_string(kInboxRequestsMax) + " requests queued (the limit); retry later"});
        return;
    }
  }

  void run() {
    host->start();
    while (!stopping.load()) {
      // Requests, peer traffic, write completions and timers run here;
      // when none is ready, the wait ends at the host's next tick.
      const auto wake = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            host->next_tick() - BootClock::now());
      events.run_once(wake);
      if (stopping.load()) break;
      host->run_iteration();
      transport->flush();
    }
    finish();
  }

  // Work posted before the stop runs first, so every call it carries is
  // accounted for; then everything pending is answered. Peer connections
  // close first: their reads would keep the drain busy for as long as the
  // peers send.
  void finish() {
    transport->stop();
    events.drain();
    host->fail_everything("node " + host->topology().self_info().id + " is shutting down");
  }

  // On the loop, or on a gRPC thread under the group's shared state (a
  // lease read): the members come from the host's published view.
  void fill_header(const ShardGroup& g, v1::ResponseHeader* h) const {
    const std::shared_ptr<const Topology> shared = host->shared_topology();
    const Topology& t = *shared;
    h->set_shard(g.shard);
    h->set_node(self_name);
    if (const PeerInfo* p = t.find(g.lead)) {
      h->set_leader(p->id);
      h->set_leader_address(p->address);
    }
    h->set_term(g.term);
    h->set_index(g.sm.applied_index());
    h->set_shard_count(t.shard_count);
  }
};

RaftBackend::RaftBackend(std::unique_ptr<Loop> loop) : loop_(std::move(loop)) {}

RaftBackend::~RaftBackend() { stop(); }

std::unique_ptr<RaftBackend> RaftBackend::open(const NodeHostOptions& options, const HostPort& peer_listen,
                                               const NodeTls& tls, std::string* error, int* exit_code) {
  auto loop = std::make_unique<Loop>();
  Loop* raw = loop.get();
  const Topology& topology = options.topology;
  loop->locator = std::make_unique<PeerLocator>(topology.cluster_id, topology.self_info().id, tls.dial);
  TcpPeerTransport::Options transport_options;
  PeerLocator* locator = loop->locator.get();
  transport_options.address_of = [locator](const PeerInfo& p) { return locator->peer_address(p); };
  transport_options.on_disconnect = [locator](const std::string& name) { locator->forget(name); };
  transport_options.tls = tls.peer;
  // The receiver runs on the loop's thread: a batch is handled where it
  // was read, with no handoff.
  loop->transport = std::make_unique<TcpPeerTransport>(
      topology, [raw](raft::NodeId from, peer::PeerBatch&& b) { raw->host->on_peer_batch(from, b); },
      std::move(transport_options), &loop->events);
  // Listening before the host opens: peers may dial as soon as it runs.
  const std::string peer_host = peer_listen.host == "localhost" ? "127.0.0.1" : peer_listen.host;
  if (auto why = loop->transport->start(peer_host, peer_listen.port); !why.empty()) {
    *error = "cannot listen for peers on " + peer_listen.to_string() + " (--listen-peer): " + why;
    *exit_code = kNodeExitCannotStart;
    return nullptr;
  }
  loop->locator->set_own_listener(peer_listen.host, loop->transport->port());
  TcpPeerTransport* transport = loop->transport.get();
  loop->locator->on_located([transport](const std::string& name) { transport->dial_now(name); });
  NodeEnv env;
  env.peers = loop->transport.get();
  env.halt = [](int code, const std::string& why) {
    log_error(why);
    std::fflush(stderr);
    std::_Exit(code);
  };
  env.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  env.memory_in_use = memory_in_use_bytes;
  std::random_device entropy;
  env.seed = (static_cast<uint64_t>(entropy()) << 32) | entropy();
  loop->host = NodeHost::open(options, std::move(env), error, exit_code);
  if (!loop->host) return nullptr;
  loop->shard_count = options.topology.shard_count;
  loop->self_name = options.topology.self_info().id;
  return std::unique_ptr<RaftBackend>(new RaftBackend(std::move(loop)));
}

void RaftBackend::start() {
  Loop* raw = loop_.get();
  loop_->thread = std::thread([raw] { raw->run(); });
}

void RaftBackend::stop() {
  {
    std::lock_guard lock(loop_->post_mutex);
    if (loop_->stopped) return;
    loop_->stopped = true;
    loop_->stopping = true;
    loop_->events.stop();
  }
  if (loop_->thread.joinable()) {
    loop_->thread.join();
  } else {
    loop_->finish();  // never started: what was posted is answered all the same
  }
  loop_->transport->stop();
  loop_->locator->stop();
}

grpc::Service* RaftBackend::peer_service() { return loop_->locator->service(); }

uint16_t RaftBackend::peer_port() const { return loop_->transport->port(); }

void RaftBackend::set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) {
  Loop* lp = loop_.get();
  const uint32_t shard = kv::shard_of(req.user(), lp->shard_count);
  auto shared_done = std::make_shared<Done>(std::move(done));
  lp->post_request(
      [lp, &req, resp, shard, shared_done] {
        lp->host->propose_write(
            shard, kv::CommandView{kv::Op::kSet, req.user(), req.key(), req.value()},
            [lp, resp, shard, shared_done](const Outcome& o, const kv::ApplyResult&) {
              if (o.ok()) lp->fill_header(*lp->host->group(shard), resp->mutable_header());
              (*shared_done)(to_grpc(o));
            });
      },
      *shared_done);
}

void RaftBackend::del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) {
  Loop* lp = loop_.get();
  const uint32_t shard = kv::shard_of(req.user(), lp->shard_count);
  auto shared_done = std::make_shared<Done>(std::move(done));
  lp->post_request(
      [lp, &req, resp, shard, shared_done] {
        lp->host->propose_write(
            shard, kv::CommandView{kv::Op::kDelete, req.user(), req.key(), {}},
            [lp, resp, shard, shared_done](const Outcome& o, const kv::ApplyResult& r) {
              if (o.ok()) {
                resp->set_deleted(r.existed);
                lp->fill_header(*lp->host->group(shard), resp->mutable_header());
              }
              (*shared_done)(to_grpc(o));
            });
      },
      *shared_done);
}

void RaftBackend::get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) {
  Loop* lp = loop_.get();
  const uint32_t shard = kv::shard_of(req.user(), lp->shard_count);
  auto answer = [lp, &req, resp](const ShardGroup& g) {
    if (auto v = g.sm.get(req.user(), req.key())) {
      resp->set_found(true);
      resp->set_value(std::move(*v));
    }
    lp->fill_header(g, resp->mutable_header());
  };
  if (req.consistency() != v1::STALE && lp->host->try_lease_read(shard, answer)) {
    done(grpc::Status::OK);
    return;
  }
  auto shared_done = std::make_shared<Done>(std::move(done));
  lp->post_request(
      [lp, &req, shard, shared_done, answer] {
        lp->host->read(shard, req.consistency() == v1::STALE,
                       [lp, shard, shared_done, answer](const Outcome& o) {
                         if (o.ok()) answer(*lp->host->group(shard));
                         (*shared_done)(to_grpc(o));
                       });
      },
      *shared_done);
}

void RaftBackend::list(const v1::ListRequest& req, const kv::Glob& glob, const std::string& after,
                       uint32_t limit, v1::ListResponse* resp, Done done) {
  Loop* lp = loop_.get();
  const uint32_t shard = kv::shard_of(req.user(), lp->shard_count);
  auto shared_done = std::make_shared<Done>(std::move(done));
  // The glob and the page start live only during this call: the read runs later.
  auto glob_copy = std::make_shared<kv::Glob>(glob);
  auto after_copy = std::make_shared<std::string>(after);
  lp->post_request(
      [=, &req] {
        lp->host->read(shard, req.consistency() == v1::STALE, [=, &req](const Outcome& o) {
          if (o.ok()) {
            const ShardGroup& g = *lp->host->group(shard);
            auto page = g.sm.list(req.user(), *glob_copy, *after_copy, limit);
            for (auto& k : page.keys) resp->add_keys(std::move(k));
            if (page.more) {
              resp->set_next_page_token(kv::encode_page_token(resp->keys(resp->keys_size() - 1)));
            }
            lp->fill_header(g, resp->mutable_header());
          }
          (*shared_done)(to_grpc(o));
        });
      },
      *shared_done);
}

void RaftBackend::status(v1::StatusResponse* resp, Done done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  lp->post_request(
      [lp, resp, shared_done] {
        lp->host->fill_status(resp);
        (*shared_done)(grpc::Status::OK);
      },
      *shared_done);
}

void RaftBackend::report_metrics(std::function<void(const HostMetricsReport*)> done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<std::function<void(const HostMetricsReport*)>>(std::move(done));
  // Not a client request: a scrape is never refused for a full inbox, and
  // one per scrape cannot fill it.
  const Loop::Post posted = lp->post(
      [lp, shared_done] {
        HostMetricsReport report;
        lp->host->report_metrics(&report);
        const TcpPeerTransport::Stats t = lp->transport->stats();
        report.transport = {t.accepted, t.refused, t.bad_streams, t.connected, t.dropped};
        (*shared_done)(&report);
      },
      false);
  if (posted != Loop::Post::kPosted) (*shared_done)(nullptr);
}

void RaftBackend::set_faults(const v1::SetFaultsRequest& req, v1::SetFaultsResponse* resp) {
  loop_->transport->set_blocked({req.drop_to().begin(), req.drop_to().end()},
                                {req.drop_from().begin(), req.drop_from().end()});
  loop_->host->set_fsync_delay(std::chrono::milliseconds(req.fsync_delay_ms()));
  for (const auto& id : loop_->transport->blocked_outbound()) resp->add_drop_to(id);
  for (const auto& id : loop_->transport->blocked_inbound()) resp->add_drop_from(id);
  resp->set_fsync_delay_ms(static_cast<uint32_t>(loop_->host->fsync_delay().count()));
  log_info("faults set: drop_to [" + std::to_string(req.drop_to_size()) + " nodes], drop_from [" +
           std::to_string(req.drop_from_size()) + " nodes], fsync delay " +
           std::to_string(req.fsync_delay_ms()) + " ms");
}

void RaftBackend::transfer_leader(uint32_t shard, const std::string& to_node, Done done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  lp->post_request(
      [lp, shard, to_node, shared_done] {
        lp->host->transfer_leader(shard, to_node,
                                  [shared_done](const Outcome& o) { (*shared_done)(to_grpc(o)); });
      },
      *shared_done);
}

}  // namespace mq::server

namespace mq::server {

namespace {

void fill_member(const ClusterMap& map, const Member& m, v1::Member* out) {
  out->set_id(m.id);
  out->set_name(m.name);
  out->set_address(m.address);
  out->set_state(member_state_name(m.state));
  uint32_t replicas = 0, leads = 0;
  for (uint32_t s = 0; s < map.shard_count(); ++s) {
    if (map.hosts(m.id, s)) ++replicas;
    if (map.placement(s).preferred_leader == m.id) ++leads;
  }
  out->set_replicas(replicas);
  out->set_preferred_leader_of(leads);
}

void fill_members(const NodeHost& host, const ClusterMap& map, v1::ListMembersResponse* resp) {
  resp->set_cluster_id(map.cluster_id());
  resp->set_version(map.version());
  resp->set_shard_count(map.shard_count());
  resp->set_replication(map.replication());
  resp->set_node(host.topology().self_info().id);
  for (const Member& m : map.members()) fill_member(map, m, resp->add_members());
}

// A member named by its name or its id, among those not removed.
const Member* find_member(const ClusterMap& map, const std::string& name_or_id) {
  if (const Member* m = map.find_name(name_or_id)) return m;
  if (!name_or_id.empty() && name_or_id.find_first_not_of("0123456789") == std::string::npos &&
      name_or_id.size() < 20) {
    const Member* m = map.find(std::stoull(name_or_id));
    if (m && m->state != MemberState::kRemoved) return m;
  }
  return nullptr;
}

}  // namespace

void RaftBackend::list_members(v1::ListMembersResponse* resp, Done done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  lp->post_request(
      [lp, resp, shared_done] {
        fill_members(*lp->host, lp->host->cluster_map(), resp);
        (*shared_done)(grpc::Status::OK);
      },
      *shared_done);
}

void RaftBackend::add_member(const v1::AddMemberRequest& req, v1::AddMemberResponse* resp,
                             Done done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  MapCommand command;
  command.type = req.join() ? MapCommand::Type::kJoin : MapCommand::Type::kAddMember;
  command.name = req.name();
  command.address = req.address();
  lp->post_request(
      [lp, resp, shared_done, command] {
        lp->host->change_members(command, [lp, resp, shared_done](const Outcome& o,
                                                                  const MapChange& change,
                                                                  const ClusterMap& map) {
          if (o.ok()) {
            if (const Member* m = map.find(change.added)) fill_member(map, *m, resp->mutable_member());
            fill_members(*lp->host, map, resp->mutable_cluster());
          }
          (*shared_done)(to_grpc(o));
        });
      },
      *shared_done);
}

void RaftBackend::remove_member(const v1::RemoveMemberRequest& req, v1::RemoveMemberResponse* resp,
                                Done done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  const std::string name = req.member();
  const bool force = req.force();
  lp->post_request(
      [lp, resp, shared_done, name, force] {
        // The leader's map decides which members exist: a follower's may be
        // behind.
        if (auto redirect = lp->host->meta_not_leader()) {
          (*shared_done)(to_grpc(*redirect));
          return;
        }
        const Member* m = find_member(lp->host->cluster_map(), name);
        if (!m) {
          (*shared_done)({grpc::StatusCode::INVALID_ARGUMENT,
                          "no member " + name + " (mq member list shows them)"});
          return;
        }
        MapCommand command;
        command.type = MapCommand::Type::kRemoveMember;
        command.id = m->id;
        command.force = force;
        const raft::NodeId id = m->id;
        lp->host->change_members(command, [resp, shared_done, id](const Outcome& o,
                                                                  const MapChange&,
                                                                  const ClusterMap& map) {
          if (o.ok()) {
            if (const Member* gone = map.find(id)) fill_member(map, *gone, resp->mutable_member());
          }
          (*shared_done)(to_grpc(o));
        });
      },
      *shared_done);
}

void RaftBackend::replace_member(const v1::ReplaceMemberRequest& req,
                                 v1::ReplaceMemberResponse* resp, Done done) {
  Loop* lp = loop_.get();
  auto shared_done = std::make_shared<Done>(std::move(done));
  const std::string old_name = req.member();
  MapCommand command;
  command.type = MapCommand::Type::kReplaceMember;
  command.name = req.name();
  command.address = req.address();
  lp->post_request(
      [lp, resp, shared_done, old_name, command]() mutable {
        if (auto redirect = lp->host->meta_not_leader()) {
          (*shared_done)(to_grpc(*redirect));
          return;
        }
        const Member* m = find_member(lp->host->cluster_map(), old_name);
        if (!m) {
          (*shared_done)({grpc::StatusCode::INVALID_ARGUMENT,
                          "no member " + old_name + " (mq member list shows them)"});
          return;
        }
        command.id = m->id;
        const raft::NodeId old_id = m->id;
        lp->host->change_members(command, [resp, shared_done, old_id](const Outcome& o,
                                                                      const MapChange& change,
                                                                      const ClusterMap& map) {
          if (o.ok()) {
            if (const Member* gone = map.find(old_id)) fill_member(map, *gone, resp->mutable_removed());
            if (const Member* added = map.find(change.added)) fill_member(map, *added, resp->mutable_added());
          }
          (*shared_done)(to_grpc(o));
        });
      },
      *shared_done);
}

}  // namespace mq::server
