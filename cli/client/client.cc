#include "cli/client/client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cli/client/channel_connect.h"
#include "cli/client/leader_routes.h"
#include "cli/client/request_outcome.h"
#include "cli/client/tls_probe.h"
#include "mq/v1/cluster.grpc.pb.h"
#include "mq/v1/kv.grpc.pb.h"
#include "node/kv/shard_hash.h"
#include "node/tls/grpc_tls.h"

namespace mq::cli {

namespace {

using Clock = std::chrono::system_clock;

constexpr int kNoLeaderRetriesMax = 50;
constexpr auto kNoLeaderBackoff = std::chrono::milliseconds(50);
constexpr int kReceiveBytesMax = 80 << 20;  // above the node's largest value limit
// A node that stops answering with its connection open (SIGSTOP, a stalled
// VM, a host cut off without a reset) is noticed by HTTP/2 pings while a
// call is in flight: one every kPingEvery, and the connection is closed when
// one goes unanswered for kPingAnswerWithin. The sum is below the shortest
// election timeout of the default timing (200 ms), so a client moves on at
// about the time the cluster elects a new leader. The answer comes from the
// node's transport threads, not from its Raft loop, so a node that is busy
// but alive still answers in time.
constexpr int kPingEveryMs = 100;
constexpr int kPingAnswerWithinMs = 100;
// An endpoint whose connection died under a request is skipped by the
// requests that follow for this long (unless nothing else is left), so they
// do not dial it again and wait out the dial timeout on a silent node.
constexpr auto kSilentEndpointSkip = std::chrono::seconds(2);

Header to_header(const v1::ResponseHeader& h) {
  return {h.shard(), h.node(), h.leader(), h.term(), h.index()};
}

v1::Consistency to_proto(Consistency c) {
  return c == Consistency::kStale ? v1::STALE : v1::LINEARIZABLE;
}

}  // namespace

int exit_code_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return 0;
    case ErrorKind::kNotFound: return 1;
    case ErrorKind::kInvalid: return 2;
    case ErrorKind::kUnavailable: return 3;
    case ErrorKind::kUnknownOutcome: return 4;
    case ErrorKind::kInternal: return 3;
    case ErrorKind::kMemoryFull: return 2;
    case ErrorKind::kUnauthenticated:
    case ErrorKind::kForbidden: return 6;
  }
  return 3;
}

const char* error_code_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kInvalid: return "invalid_argument";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kUnknownOutcome: return "unknown_outcome";
    case ErrorKind::kInternal: return "internal";
    case ErrorKind::kMemoryFull: return "memory_full";
    case ErrorKind::kUnauthenticated: return "unauthenticated";
    case ErrorKind::kForbidden: return "permission_denied";
  }
  return "internal";
}

struct Client::Impl {
  ClientOptions options;
  size_t current = 0;  // index into options.endpoints of the endpoint in use
  bool connected = false;
  // cancel() from another thread: the flag ends the request's loop, the
  // context (when a call is in flight) ends the call.
  std::mutex cancel_mutex;
  bool cancelled = false;
  grpc::ClientContext* in_flight = nullptr;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  // Shard -> leader address, learned from response headers and NotLeader
  // hints, so a REPL session or a long-lived client goes straight to the
  // leader. A stale entry costs one redirect.
  uint32_t shard_count = 16;
  std::map<uint32_t, std::string> leaders;
  std::string answered_by;  // the endpoint that answered the last request
  // Endpoints whose connection died under a request, until when to skip them.
  std::map<std::string, Clock::time_point> silent;

  void learn(const v1::ResponseHeader& h) {
    if (h.shard_count() > 0) shard_count = h.shard_count();
    leaders[h.shard()] = leader_named_by(h, answered_by);
  }

  std::string cached_leader(const std::string* user) const {
    if (!user) return "";
    auto it = leaders.find(kv::shard_of(*user, shard_count));
    return it == leaders.end() ? "" : it->second;
  }

  std::shared_ptr<grpc::Channel> channel(const std::string& endpoint) {
    auto& ch = channels[endpoint];
    if (!ch) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(kReceiveBytesMax);
      // A node that comes back should be dialled promptly, not after
      // gRPC's default back-off of up to two minutes.
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      // And a node known by a DNS name that came back at another address
      // is looked up again, not after gRPC's default 30 s.
      args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 1000);
      args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kPingEveryMs);
      args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kPingAnswerWithinMs);
      // While a call waits for its answer no data flows; pings must go on.
      args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
      args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, kPingEveryMs);
      ch = grpc::CreateCustomChannel(endpoint, tls::grpc_channel_credentials(options.tls), args);
    }
    return ch;
  }

  // Every endpoint failed to connect; when TLS is why (a handshake gRPC
  // reports as silence), the error says so and what to pass.
  Error no_answer(const std::set<std::string>& unreachable) const {
    std::string message = "cannot reach the cluster: no answer from " + join_endpoints(unreachable);
    if (!unreachable.empty()) {
      const std::string why = explain_tls_failure(*unreachable.begin(), options.tls, options.dial_timeout_ms);
      if (!why.empty()) message = "cannot reach the cluster: " + why;
    }
    return {ErrorKind::kUnavailable, message};
  }

  // One logical request: dial, send, follow leader hints, retry where safe.
  // `send` performs one RPC on a channel with a context.
  template <typename Send>
  Error invoke(RequestKind kind, const std::string* user, Send&& send) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
    // Where to send: a leader hint (or the cached leader) when there is one,
    // else the endpoint list in order. Endpoints that refused a connection
    // during this request are skipped; a hint naming one of them means the
    // leader is gone and a new one is not yet elected, so the request waits
    // briefly and asks again instead of giving up.
    std::string target = cached_leader(user);
    std::set<std::string> unreachable = recently_silent();
    if (unreachable.count(target)) target.clear();
    bool silent_retried = false;
    int hops = 0, waits = 0;
    {
      std::lock_guard<std::mutex> lock(cancel_mutex);
      cancelled = false;
    }
    auto forget = [&](const std::string& endpoint) {
      channels.erase(endpoint);
      for (auto it = leaders.begin(); it != leaders.end();) {
        it = it->second == endpoint ? leaders.erase(it) : std::next(it);
      }
    };
    auto next_endpoint = [&]() -> bool {
      for (size_t i = 0; i < options.endpoints.size(); ++i) {
        if (!unreachable.count(options.endpoints[current])) return true;
        current = (current + 1) % options.endpoints.size();
      }
      return false;
    };
    auto wait_for_leader = [&]() -> bool {
      if (++waits > kNoLeaderRetriesMax || Clock::now() + kNoLeaderBackoff >= deadline) return false;
      std::this_thread::sleep_for(kNoLeaderBackoff);
      if (is_cancelled()) return false;
      target.clear();
      return true;
    };
    while (true) {
      if (target.empty() && !next_endpoint() && !silent_retried) {
        // Every endpoint is skipped or failed: give the ones skipped only for
        // an earlier silence one more try before declaring the cluster gone.
        silent_retried = true;
        for (const auto& [endpoint, until] : silent) unreachable.erase(endpoint);
        silent.clear();
      }
      if (target.empty() && !next_endpoint()) {
        connected = false;
        return no_answer(unreachable);
      }
      const std::string endpoint = target.empty() ? options.endpoints[current] : target;
      auto ch = channel(endpoint);
      const auto dial_deadline =
          std::min(deadline, Clock::now() + std::chrono::milliseconds(options.dial_timeout_ms));
      if (!connect_channel(*ch, dial_deadline)) {
        // Never sent: safe to try elsewhere, for writes too.
        forget(endpoint);
        unreachable.insert(endpoint);
        target.clear();
        if (is_cancelled()) return {ErrorKind::kUnavailable, "cancelled before it was sent"};
        if (Clock::now() >= deadline) {
          connected = false;
          return no_answer(unreachable);
        }
        continue;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(deadline);
      if (!options.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options.token);
      {
        std::lock_guard<std::mutex> lock(cancel_mutex);
        if (cancelled) return {ErrorKind::kUnavailable, "cancelled before it was sent"};
        in_flight = &ctx;
      }
      const grpc::Status s = send(ch, ctx);
      {
        std::lock_guard<std::mutex> lock(cancel_mutex);
        in_flight = nullptr;
      }
      if (s.error_code() == grpc::StatusCode::CANCELLED && is_cancelled()) {
        return kind == RequestKind::kWrite
                   ? Error{ErrorKind::kUnknownOutcome,
                           "cancelled after it was sent; the write may or may not have happened"}
                   : Error{ErrorKind::kUnavailable, "cancelled"};
      }
      connected = true;
      answered_by = endpoint;
      if (s.ok()) return {};
      const grpc::StatusCode code = s.error_code();
      // The connection broke, went silent or the node is going away: dial
      // afresh, and not at once.
      if (code == grpc::StatusCode::UNAVAILABLE) {
        forget(endpoint);
        silent[endpoint] = Clock::now() + kSilentEndpointSkip;
      }
      if (kind == RequestKind::kWrite && !write_outcome_is_definite(code, s.error_details())) {
        // The write was sent and may have been proposed. It is not sent
        // again, here or elsewhere: a second attempt could apply it twice,
        // and its answer would hide that this one's fate is unknown.
        return {ErrorKind::kUnknownOutcome, unknown_write_message(s, endpoint)};
      }
      // From here on the request certainly did not take effect (or is a
      // read, which changes nothing): sending it again is safe.
      switch (code) {
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
          // Refused before proposing. A full queue passes: try again. A
          // replica over its memory limit stays so until keys are deleted.
          if (details_hold_memory_full(s.error_details())) break;
          if (wait_for_leader()) continue;
          break;
        case grpc::StatusCode::FAILED_PRECONDITION: {
          v1::NotLeader hint;
          if (!hint.ParseFromString(s.error_details())) break;
          // Refused by a non-leader: send it to the leader when one is known.
          const std::string to = hint_target(hint, endpoint, hops);
          if (!to.empty() && !unreachable.count(to)) {
            ++hops;
            if (!hint.leader().empty()) leaders[hint.shard()] = to;
            if (options.verbose) {
              std::fprintf(stderr, "mq: shard %u is led by %s at %s; following\n", hint.shard(),
                           hint.leader().empty() ? "?" : hint.leader().c_str(), to.c_str());
            }
            target = to;
            continue;
          }
          leaders.erase(hint.shard());
          hops = 0;
          if (wait_for_leader()) continue;
          break;
        }
        case grpc::StatusCode::ABORTED:
          // A read whose node lost leadership: ask again once there is a leader.
          if (wait_for_leader()) continue;
          break;
        case grpc::StatusCode::UNAVAILABLE:
          // A read: another endpoint may answer.
          unreachable.insert(endpoint);
          target.clear();
          continue;
        default:
          break;
      }
      const std::string message =
          code == grpc::StatusCode::DEADLINE_EXCEEDED
              ? "timed out after " + std::to_string(options.timeout_ms) + " ms"
              : s.error_message();
      return {error_kind_of_status(kind, code, s.error_details()), message};
    }
  }

  bool is_cancelled() {
    std::lock_guard<std::mutex> lock(cancel_mutex);
    return cancelled;
  }

  void cancel() {
    std::lock_guard<std::mutex> lock(cancel_mutex);
    cancelled = true;
    if (in_flight) in_flight->TryCancel();
  }

  // The endpoints to skip for now; forgets the ones whose time is up.
  std::set<std::string> recently_silent() {
    std::set<std::string> out;
    const auto now = Clock::now();
    for (auto it = silent.begin(); it != silent.end();) {
      if (it->second <= now) {
        it = silent.erase(it);
      } else {
        out.insert(it->first);
        ++it;
      }
    }
    return out;
  }

  // One line saying why the write's outcome is unknown and that it is.
  std::string unknown_write_message(const grpc::Status& s, const std::string& endpoint) const {
    std::string why;
    switch (s.error_code()) {
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        why = "timed out after " + std::to_string(options.timeout_ms) + " ms";
        break;
      case grpc::StatusCode::UNAVAILABLE:
        why = "connection to " + endpoint + " lost after sending (" + s.error_message() + ")";
        break;
      default:
        why = endpoint + " answered " + status_code_name(static_cast<int>(s.error_code())) +
              (s.error_message().empty() ? "" : " (" + s.error_message() + ")");
        break;
    }
    for (char& c : why) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return why + "; the write may or may not have happened";
  }

  static std::string join_endpoints(const std::set<std::string>& endpoints) {
    std::string out;
    for (const auto& e : endpoints) out += (out.empty() ? "" : ", ") + e;
    return out;
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.endpoints.empty()) options.endpoints.push_back("127.0.0.1:7001");
  impl_->options = std::move(options);
}

Client::~Client() = default;

std::string Client::current_endpoint() const { return impl_->options.endpoints[impl_->current]; }
bool Client::connected() const { return impl_->connected; }
void Client::cancel() { impl_->cancel(); }

Error Client::set(const std::string& user, const std::string& key, const std::string& value,
                  SetResult* out) {
  v1::SetRequest req;
  req.set_user(user);
  req.set_key(key);
  req.set_value(value);
  v1::SetResponse resp;
  Error e = impl_->invoke(RequestKind::kWrite, &user, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::KV::NewStub(ch)->Set(&ctx, req, &resp);
  });
  if (!e.ok()) return e;
  impl_->learn(resp.header());
  out->header = to_header(resp.header());
  return e;
}

Error Client::get(const std::string& user, const std::string& key, Consistency consistency,
                  GetResult* out) {
  v1::GetRequest req;
  req.set_user(user);
  req.set_key(key);
  req.set_consistency(to_proto(consistency));
  v1::GetResponse resp;
  Error e = impl_->invoke(RequestKind::kRead, &user, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::KV::NewStub(ch)->Get(&ctx, req, &resp);
  });
  if (!e.ok()) return e;
  impl_->learn(resp.header());
  out->header = to_header(resp.header());
  out->found = resp.found();
  out->value = std::move(*resp.mutable_value());
  return e;
}

Error Client::del(const std::string& user, const std::string& key, DeleteResult* out) {
  v1::DeleteRequest req;
  req.set_user(user);
  req.set_key(key);
  v1::DeleteResponse resp;
  Error e = impl_->invoke(RequestKind::kWrite, &user, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::KV::NewStub(ch)->Delete(&ctx, req, &resp);
  });
  if (!e.ok()) return e;
  impl_->learn(resp.header());
  out->header = to_header(resp.header());
  out->deleted = resp.deleted();
  return e;
}

Error Client::list(const std::string& user, const std::string& glob, uint32_t limit,
                   Consistency consistency, ListResult* out) {
  constexpr uint32_t kPageKeys = 1000;
  std::string token;
  out->keys.clear();
  out->truncated = false;
  // Bounded: each page makes progress (the token moves forward) or ends.
  while (true) {
    v1::ListRequest req;
    req.set_user(user);
    req.set_glob(glob);
    const uint32_t remaining = limit == 0 ? kPageKeys : limit - static_cast<uint32_t>(out->keys.size());
    req.set_limit(std::min(kPageKeys, remaining));
    req.set_page_token(token);
    req.set_consistency(to_proto(consistency));
    v1::ListResponse resp;
    Error e = impl_->invoke(RequestKind::kRead, &user, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
      return v1::KV::NewStub(ch)->List(&ctx, req, &resp);
    });
    if (!e.ok()) return e;
    impl_->learn(resp.header());
    out->header = to_header(resp.header());
    for (auto& k : *resp.mutable_keys()) out->keys.push_back(std::move(k));
    token = resp.next_page_token();
    if (token.empty()) return {};
    if (limit != 0 && out->keys.size() >= limit) {
      out->truncated = true;
      return {};
    }
  }
}

Error Client::status(ClusterStatus* out) {
  v1::StatusResponse resp;
  Error e = impl_->invoke(RequestKind::kRead, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)
        ->Status(&ctx, v1::StatusRequest(), &resp);
  });
  if (!e.ok()) return e;
  out->node = resp.node();
  out->cluster_id = resp.cluster_id();
  out->version = resp.version();
  out->shard_count = resp.shard_count();
  out->replication = resp.replication();
  out->uptime_ms = resp.uptime_ms();
  out->memory_used_bytes = resp.memory_used_bytes();
  out->memory_limit_bytes = resp.memory_limit_bytes();
  out->memory_full = resp.memory_full();
  out->map_version = resp.map_version();
  out->moves_in_flight = resp.moves_in_flight();
  for (const auto& n : resp.nodes()) out->nodes.push_back({n.id(), n.address(), n.reachable()});
  for (const auto& s : resp.shards()) {
    ShardStatus sh{s.id(), s.leader(), s.role(), s.term(), s.commit(), s.applied(), s.keys(), {}};
    for (const auto& r : s.replicas()) sh.replicas.push_back({r.node(), r.role(), r.match(), r.lag()});
    out->shards.push_back(std::move(sh));
  }
  out->clock_ms = resp.clock_ms();
  for (const auto& c : resp.role_changes()) {
    out->role_changes.push_back({c.seq(), c.at_ms(), c.shard(), c.term(), c.role(), c.leader()});
  }
  return e;
}

Error Client::set_faults(const FaultSet& faults, FaultSet* applied) {
  v1::SetFaultsRequest req;
  for (const auto& id : faults.drop_to) req.add_drop_to(id);
  for (const auto& id : faults.drop_from) req.add_drop_from(id);
  req.set_fsync_delay_ms(faults.fsync_delay_ms);
  v1::SetFaultsResponse resp;
  // Faults belong to one node: never retried on another endpoint.
  Error e = impl_->invoke(RequestKind::kWrite, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)->SetFaults(&ctx, req, &resp);
  });
  if (!e.ok()) return e;
  applied->drop_to.assign(resp.drop_to().begin(), resp.drop_to().end());
  applied->drop_from.assign(resp.drop_from().begin(), resp.drop_from().end());
  applied->fsync_delay_ms = resp.fsync_delay_ms();
  return e;
}

Error Client::transfer_leader(uint32_t shard, const std::string& to_node) {
  v1::TransferLeaderRequest req;
  req.set_shard(shard);
  req.set_to_node(to_node);
  v1::TransferLeaderResponse resp;
  return impl_->invoke(RequestKind::kRead, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)->TransferLeader(&ctx, req, &resp);
  });
}

}  // namespace mq::cli

namespace mq::cli {

namespace {

MemberInfo member_of(const v1::Member& m) {
  MemberInfo out;
  out.id = m.id();
  out.name = m.name();
  out.address = m.address();
  out.state = m.state();
  out.replicas = m.replicas();
  out.preferred_leader_of = m.preferred_leader_of();
  return out;
}

}  // namespace

Error Client::list_members(MemberList* out) {
  v1::ListMembersRequest req;
  v1::ListMembersResponse resp;
  Error e = impl_->invoke(RequestKind::kRead, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)->ListMembers(&ctx, req, &resp);
  });
  if (!e.ok()) return e;
  out->cluster_id = resp.cluster_id();
  out->node = resp.node();
  out->version = resp.version();
  out->shard_count = resp.shard_count();
  out->replication = resp.replication();
  out->members.clear();
  for (const auto& m : resp.members()) out->members.push_back(member_of(m));
  return e;
}

Error Client::add_member(const std::string& name, const std::string& address, MemberInfo* added) {
  v1::AddMemberRequest req;
  req.set_name(name);
  req.set_address(address);
  v1::AddMemberResponse resp;
  Error e = impl_->invoke(RequestKind::kWrite, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)->AddMember(&ctx, req, &resp);
  });
  if (e.ok() && added) *added = member_of(resp.member());
  return e;
}

Error Client::remove_member(const std::string& member, bool force, MemberInfo* removed) {
  v1::RemoveMemberRequest req;
  req.set_member(member);
  req.set_force(force);
  v1::RemoveMemberResponse resp;
  Error e = impl_->invoke(RequestKind::kWrite, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)->RemoveMember(&ctx, req, &resp);
  });
  if (e.ok() && removed) *removed = member_of(resp.member());
  return e;
}

Error Client::replace_member(const std::string& member, const std::string& name,
                             const std::string& address, MemberInfo* removed, MemberInfo* added) {
  v1::ReplaceMemberRequest req;
  req.set_member(member);
  req.set_name(name);
  req.set_address(address);
  v1::ReplaceMemberResponse resp;
  Error e = impl_->invoke(RequestKind::kWrite, nullptr, [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
    return v1::Cluster::NewStub(ch)->ReplaceMember(&ctx, req, &resp);
  });
  if (e.ok()) {
    if (removed) *removed = member_of(resp.removed());
    if (added) *added = member_of(resp.added());
  }
  return e;
}

}  // namespace mq::cli
