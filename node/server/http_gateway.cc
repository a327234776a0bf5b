#include "node/server/http_gateway.h"

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "mq/v1/kv.grpc.pb.h"
#include "node/tls/grpc_tls.h"
#include "node/kv/shard_hash.h"
#include "node/server/request_checks.h"

namespace mq::server {

namespace {

using Code = http::GatewayStatus::Code;
using Clock = std::chrono::system_clock;

// Hints followed for one request: one is the usual case (this node is not
// the leader, the leader it names is); more means leadership is moving.
constexpr int kForwardsMax = 3;

http::GatewayStatus refusal(Code code, std::string message) { return {code, std::move(message)}; }

bool parse_not_leader(const grpc::Status& s, v1::NotLeader* out) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         out->ParseFromString(s.error_details());
}

// Any answer but OK and a leader hint. For a write, only answers that
// prove the node refused it before proposing are failures; the rest leave
// the outcome unknown (see the header).
http::GatewayStatus classify(const grpc::Status& s, bool write) {
  switch (s.error_code()) {
    case grpc::StatusCode::OK: return {};
    case grpc::StatusCode::INVALID_ARGUMENT: return refusal(Code::kInvalid, s.error_message());
    case grpc::StatusCode::RESOURCE_EXHAUSTED: {
      v1::MemoryFull full;
      const bool memory = !s.error_details().empty() && full.ParseFromString(s.error_details()) &&
                          !full.node().empty();
      return refusal(memory ? Code::kMemoryFull : Code::kOverloaded, s.error_message());
    }
    case grpc::StatusCode::PERMISSION_DENIED:
      return refusal(Code::kPermissionDenied, s.error_message());
    case grpc::StatusCode::UNAUTHENTICATED:
      return refusal(Code::kUnauthenticated, s.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION: return refusal(Code::kNoLeader, s.error_message());
    default: break;
  }
  if (write) {
    return refusal(Code::kUnknownOutcome,
                  "the write may or may not have happened: " + s.error_message());
  }
  if (s.error_code() == grpc::StatusCode::INTERNAL || s.error_code() == grpc::StatusCode::UNKNOWN) {
    return refusal(Code::kInternal, s.error_message());
  }
  return refusal(Code::kUnavailable, s.error_message());
}

}  // namespace

struct HttpGateway::Impl : std::enable_shared_from_this<HttpGateway::Impl> {
  KvBackend* backend;
  HttpGatewayOptions options;

  std::mutex mu;
  std::condition_variable drained;
  bool stopping = false;
  std::set<grpc::ClientContext*> in_flight;  // forwarded calls, to cancel at shutdown
  int active = 0;  // forwarded calls whose callbacks have not yet returned
  std::map<std::string, std::unique_ptr<v1::KV::Stub>> clients;     // by leader address
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;  // by leader address
  // Each shard's leader address as last hinted; "" = ask this node first.
  std::mutex leaders_mu;
  std::vector<std::string> leader_by_shard;

  std::string cached_leader(uint32_t shard) {
    std::lock_guard lock(leaders_mu);
    return shard < leader_by_shard.size() ? leader_by_shard[shard] : std::string();
  }
  void remember_leader(uint32_t shard, const std::string& address) {
    std::lock_guard lock(leaders_mu);
    if (shard < leader_by_shard.size()) leader_by_shard[shard] = address;
  }

  // Whether a connection to address is up now: only then is a request
  // sent there on a remembered hint (a connection that must first be made
  // may find the node gone, and a write sent into that is left unknown).
  bool connected_to(const std::string& address) {
    std::lock_guard lock(mu);
    auto it = channels.find(address);
    return it != channels.end() && it->second->GetState(false) == GRPC_CHANNEL_READY;
  }

  // The KV client of address, or null (with the reason) when the gateway is
  // stopping or the address is known to be unreachable right now: a call
  // that is never issued certainly did not happen.
  v1::KV::Stub* client_for(const std::string& address, std::string* why) {
    std::lock_guard lock(mu);
    if (stopping) {
      *why = "node is shutting down";
      return nullptr;
    }
    auto& channel = channels[address];
    if (!channel) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(-1);
      // A leader known by a DNS name is looked up again within a second of
      // its connection failing (see peer_locator.cc).
      args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 1000);
      channel = grpc::CreateCustomChannel(address, tls::grpc_channel_credentials(options.dial), args);
      clients[address] = v1::KV::NewStub(channel);
    }
    if (channel->GetState(true) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      *why = "the shard's leader at " + address + " cannot be reached";
      return nullptr;
    }
    return clients[address].get();
  }
};

namespace {

// One request through the gateway: local first, then forwards.
template <typename Req, typename Resp>
struct Attempt : std::enable_shared_from_this<Attempt<Req, Resp>> {
  using Local = std::function<void(KvBackend*, Resp*, KvBackend::Done)>;
  using Remote = void (v1::KV::Stub::async_interface::*)(grpc::ClientContext*, const Req*, Resp*,
                                                         std::function<void(grpc::Status)>);
  std::shared_ptr<HttpGateway::Impl> gw;
  const Req* req;
  Resp* resp;
  http::KvGateway::Done done;
  std::string bearer_token;  // forwarded, for the leader to check again
  bool certificate_only = false;  // see http::Caller
  bool write;
  Local local;
  Remote remote;
  Clock::time_point deadline;
  uint32_t shard = 0;
  int forwards = 0;
  std::unique_ptr<grpc::ClientContext> ctx;

  // Straight to the leader this gateway last heard of, when that is
  // another node: a node that does not lead the shard would only answer
  // with the same hint one loop round later.
  void start() {
    const std::string leader = gw->cached_leader(shard);
    if (!leader.empty() && gw->connected_to(leader)) return forward(leader);
    local(gw->backend, resp, [self = this->shared_from_this()](const grpc::Status& s) {
      self->answered(s, false);
    });
  }

  void answered(const grpc::Status& s, bool from_forward) {
    if (s.ok()) return done({});
    v1::NotLeader hint;
    if (!parse_not_leader(s, &hint)) {
      if (from_forward) gw->remember_leader(shard, "");
      // This node's own backend says UNAVAILABLE only when it refused the
      // request before proposing it (it is stopping); from a forward, the
      // same code may mean the connection broke after the write left.
      const bool refused_here = !from_forward && s.error_code() == grpc::StatusCode::UNAVAILABLE;
      return done(classify(s, write && !refused_here));
    }
    gw->remember_leader(shard, hint.leader_address());
    const std::string name = "shard " + std::to_string(hint.shard());
    if (hint.leader_address().empty()) {
      return done(refusal(Code::kNoLeader, name + " has no leader now (an election is under way)"));
    }
    if (forwards >= kForwardsMax) {
      return done(refusal(Code::kNoLeader, "leadership of " + name + " kept moving (" +
                                               std::to_string(forwards) + " forwards)"));
    }
    forward(hint.leader_address());
  }

  void forward(const std::string& address) {
    if (address == gw->options.self_address) {
      // A hint that names this node (leadership came back here): ask the
      // backend again rather than call itself over the network.
      gw->remember_leader(shard, "");
      ++forwards;
      return local(gw->backend, resp, [self = this->shared_from_this()](const grpc::Status& s) {
        self->answered(s, false);
      });
    }
    if (certificate_only) {
      return done(refusal(Code::kPermissionDenied,
                          "a request known by its client certificate is served by the shard's leader "
                          "only (forwarded, it would carry this node's certificate): send it to the "
                          "node at " + address + " (its HTTP listener), or use a token"));
    }
    std::string why;
    v1::KV::Stub* leader = gw->client_for(address, &why);
    if (!leader) {
      gw->remember_leader(shard, "");
      return done(refusal(Code::kUnavailable, why));
    }
    ++forwards;
    ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(deadline);
    if (!bearer_token.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer_token);
    {
      std::lock_guard lock(gw->mu);
      if (gw->stopping) return done(refusal(Code::kUnavailable, "node is shutting down"));
      gw->in_flight.insert(ctx.get());
      ++gw->active;
    }
    resp->Clear();
    (leader->async()->*remote)(ctx.get(), req, resp,
                             [self = this->shared_from_this()](grpc::Status s) {
                               auto gw = self->gw;
                               {
                                 std::lock_guard lock(gw->mu);
                                 gw->in_flight.erase(self->ctx.get());
                               }
                               self->answered(s, true);  // may forward again
                               std::lock_guard lock(gw->mu);
                               if (--gw->active == 0) gw->drained.notify_all();
                             });
  }
};

template <typename Req, typename Resp>
void run(const std::shared_ptr<HttpGateway::Impl>& gw, const Req& req, Resp* resp, const http::Caller& caller,
         http::KvGateway::Done done, bool write,
         typename Attempt<Req, Resp>::Local local, typename Attempt<Req, Resp>::Remote remote) {
  auto a = std::make_shared<Attempt<Req, Resp>>();
  a->gw = gw;
  a->req = &req;
  a->resp = resp;
  a->done = std::move(done);
  a->bearer_token = caller.bearer_token;
  a->certificate_only = caller.certificate_only;
  a->write = write;
  a->local = std::move(local);
  a->remote = remote;
  a->deadline = Clock::now() + gw->options.deadline;
  a->shard = kv::shard_of(req.user(), gw->options.shard_count);
  a->start();
}

}  // namespace

HttpGateway::HttpGateway(KvBackend* backend, HttpGatewayOptions options)
    : impl_(std::make_shared<Impl>()) {
  impl_->backend = backend;
  impl_->options = std::move(options);
  impl_->leader_by_shard.resize(impl_->options.shard_count);
}

HttpGateway::~HttpGateway() { shutdown(); }

void HttpGateway::set(const v1::SetRequest& req, v1::SetResponse* resp, const http::Caller& caller, Done done) {
  if (auto e = check_set(req, impl_->options.value_bytes_max)) {
    return done(refusal(Code::kInvalid, *e));
  }
  run(impl_, req, resp, caller, std::move(done), true,
      [&req](KvBackend* b, v1::SetResponse* r, KvBackend::Done d) { b->set(req, r, std::move(d)); },
      &v1::KV::Stub::async_interface::Set);
}

void HttpGateway::get(const v1::GetRequest& req, v1::GetResponse* resp, const http::Caller& caller, Done done) {
  if (auto e = check_get(req)) return done(refusal(Code::kInvalid, *e));
  run(impl_, req, resp, caller, std::move(done), false,
      [&req](KvBackend* b, v1::GetResponse* r, KvBackend::Done d) { b->get(req, r, std::move(d)); },
      &v1::KV::Stub::async_interface::Get);
}

void HttpGateway::del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, const http::Caller& caller, Done done) {
  if (auto e = check_delete(req)) return done(refusal(Code::kInvalid, *e));
  run(impl_, req, resp, caller, std::move(done), true,
      [&req](KvBackend* b, v1::DeleteResponse* r, KvBackend::Done d) {
        b->del(req, r, std::move(d));
      },
      &v1::KV::Stub::async_interface::Delete);
}

void HttpGateway::list(const v1::ListRequest& req, v1::ListResponse* resp, const http::Caller& caller, Done done) {
  std::string error;
  auto plan = plan_list(req, &error);
  if (!plan) return done(refusal(Code::kInvalid, error));
  auto shared_plan = std::make_shared<ListPlan>(std::move(*plan));
  run(impl_, req, resp, caller, std::move(done), false,
      [&req, shared_plan](KvBackend* b, v1::ListResponse* r, KvBackend::Done d) {
        b->list(req, shared_plan->glob, shared_plan->after, shared_plan->limit, r, std::move(d));
      },
      &v1::KV::Stub::async_interface::List);
}

void HttpGateway::status(v1::StatusResponse* resp, Done done) {
  impl_->backend->status(resp, [done = std::move(done)](const grpc::Status& s) {
    done(s.ok() ? http::GatewayStatus{} : classify(s, false));
  });
}

void HttpGateway::metrics(std::function<void(std::string)> done) {
  impl_->options.metrics(std::move(done));
}

void HttpGateway::shutdown() {
  std::unique_lock lock(impl_->mu);
  impl_->stopping = true;
  for (auto* ctx : impl_->in_flight) ctx->TryCancel();
  impl_->drained.wait(lock, [&] { return impl_->active == 0; });
}

}  // namespace mq::server
