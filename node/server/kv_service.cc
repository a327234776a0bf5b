#include "node/server/kv_service.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include "node/auth/refusal.h"
#include "node/http/request_metrics.h"
#include "node/server/address.h"
#include "node/server/log.h"
#include "node/server/request_checks.h"

namespace mq::server {

namespace {

// The outcome label of a finished RPC, in the vocabulary the REST API
// shares (request_metrics.h). A get of a missing key is OK with found
// unset, so it counts as ok.
std::string_view outcome_of(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "ok";
    case grpc::StatusCode::NOT_FOUND: return "not_found";
    case grpc::StatusCode::INVALID_ARGUMENT: return "invalid_argument";
    case grpc::StatusCode::FAILED_PRECONDITION: return "not_leader";
    case grpc::StatusCode::UNAVAILABLE: return "unavailable";
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "unknown_outcome";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "overloaded";
    case grpc::StatusCode::PERMISSION_DENIED: return "permission_denied";
    case grpc::StatusCode::UNAUTHENTICATED: return "unauthenticated";
    default: return "internal";
  }
}

// One RPC in progress: finishes it, recording its method, outcome and
// time since arrival first (so a scrape after the answer sees it).
class Rpc {
 public:
  Rpc(grpc::CallbackServerContext* ctx, http::RequestMetrics* metrics, std::string_view method)
      : reactor_(ctx->DefaultReactor()), metrics_(metrics), method_(method),
        arrived_(std::chrono::steady_clock::now()) {}

  grpc::ServerUnaryReactor* finish(const grpc::Status& s) const {
    if (metrics_) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - arrived_;
      metrics_->observe("grpc", method_, outcome_of(s.error_code()), took.count());
    }
    reactor_->Finish(s);
    return reactor_;
  }

  // Runs a backend call and finishes the RPC when the backend completes it.
  template <typename Call>
  grpc::ServerUnaryReactor* run(Call&& call) const {
    call([rpc = *this](const grpc::Status& s) { rpc.finish(s); });
    return reactor_;
  }

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

 private:
  grpc::ServerUnaryReactor* reactor_;
  http::RequestMetrics* metrics_;
  std::string_view method_;  // a literal
  std::chrono::steady_clock::time_point arrived_;
};

grpc::Status invalid(const std::string& message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, message};
}

// Who the call comes from: its bearer token and its verified client
// certificate's names.
auth::Credentials credentials_of(const grpc::CallbackServerContext* ctx) {
  auth::Credentials who;
  const auto& metadata = ctx->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    who.bearer_token = auth::bearer_token_of(std::string_view(it->second.data(), it->second.size()));
  }
  // A token names the principal by itself (a wrong one is refused whatever
  // certificate comes along): the certificate is read only without one.
  if (!who.bearer_token.empty()) return who;
  if (auto context = ctx->auth_context(); context && context->IsPeerAuthenticated()) {
    for (const char* property : {GRPC_X509_SAN_PROPERTY_NAME, GRPC_X509_CN_PROPERTY_NAME}) {
      for (const auto& v : context->FindPropertyValues(property)) who.certificate_names.emplace_back(v.data(), v.size());
    }
  }
  return who;
}

// UNAUTHENTICATED or PERMISSION_DENIED when the access rules refuse the
// call; nothing with no --auth-file.
std::optional<grpc::Status> refused(const auth::AccessControl* access, const grpc::CallbackServerContext* ctx,
                                    auth::Access what, std::string_view user) {
  if (!access || !access->enabled()) return std::nullopt;
  const auth::Decision d = access->check(credentials_of(ctx), what, user);
  if (d.allowed()) return std::nullopt;
  if (d.kind == auth::Decision::kUnauthenticated) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, d.reason);
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, d.reason, std::string(auth::kAccessRefusalDetails));
}

}  // namespace

grpc::ServerUnaryReactor* KvService::Set(grpc::CallbackServerContext* ctx,
                                         const v1::SetRequest* req, v1::SetResponse* resp) {
  const Rpc rpc(ctx, metrics_, "set");
  if (auto r = refused(access_, ctx, auth::Access::kWrite, req->user())) return rpc.finish(*r);
  if (auto e = check_set(*req, value_bytes_max_)) return rpc.finish(invalid(*e));
  return rpc.run([&](KvBackend::Done done) { backend_->set(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::Get(grpc::CallbackServerContext* ctx,
                                         const v1::GetRequest* req, v1::GetResponse* resp) {
  const Rpc rpc(ctx, metrics_, "get");
  if (auto r = refused(access_, ctx, auth::Access::kRead, req->user())) return rpc.finish(*r);
  if (auto e = check_get(*req)) return rpc.finish(invalid(*e));
  return rpc.run([&](KvBackend::Done done) { backend_->get(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteRequest* req,
                                            v1::DeleteResponse* resp) {
  const Rpc rpc(ctx, metrics_, "delete");
  if (auto r = refused(access_, ctx, auth::Access::kWrite, req->user())) return rpc.finish(*r);
  if (auto e = check_delete(*req)) return rpc.finish(invalid(*e));
  return rpc.run([&](KvBackend::Done done) { backend_->del(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::List(grpc::CallbackServerContext* ctx,
                                          const v1::ListRequest* req, v1::ListResponse* resp) {
  const Rpc rpc(ctx, metrics_, "list");
  if (auto r = refused(access_, ctx, auth::Access::kRead, req->user())) return rpc.finish(*r);
  std::string error;
  auto plan = plan_list(*req, &error);
  if (!plan) return rpc.finish(invalid(error));
  return rpc.run([&, p = std::move(*plan)](KvBackend::Done done) {
    backend_->list(*req, p.glob, p.after, p.limit, resp, std::move(done));
  });
}

grpc::ServerUnaryReactor* KvService::Batch(grpc::CallbackServerContext* ctx,
                                           const v1::BatchRequest* req, v1::BatchResponse* resp) {
  const Rpc rpc(ctx, metrics_, "batch");
  constexpr int kBatchOpsMax = 10000;
  if (req->ops_size() > kBatchOpsMax) {
    return rpc.finish(invalid("batch of " + std::to_string(req->ops_size()) +
                              " operations exceeds the maximum of " + std::to_string(kBatchOpsMax)));
  }
  if (req->ops_size() == 0) return rpc.finish(grpc::Status::OK);
  // Every operation is allowed, or the batch is refused whole.
  for (const v1::Op& op : req->ops()) {
    const bool read = op.op_case() == v1::Op::kGet;
    const std::string& user = op.op_case() == v1::Op::kSet   ? op.set().user()
                              : op.op_case() == v1::Op::kGet ? op.get().user()
                                                             : op.delete_().user();
    if (auto r = refused(access_, ctx, read ? auth::Access::kRead : auth::Access::kWrite, user)) {
      return rpc.finish(*r);
    }
  }
  // Results are added up front: their addresses stay fixed while the
  // backend completes operations in any order, on any thread.
  for (int i = 0; i < req->ops_size(); ++i) resp->add_results();
  auto remaining = std::make_shared<std::atomic<int>>(req->ops_size());
  auto complete = [rpc, remaining](v1::OpResult* r, const grpc::Status& s) {
    r->set_code(s.error_code());
    if (!s.ok()) {
      r->set_message(s.error_message());
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        r->mutable_not_leader()->ParseFromString(s.error_details());
      }
    }
    if (remaining->fetch_sub(1) == 1) rpc.finish(grpc::Status::OK);
  };
  for (int i = 0; i < req->ops_size(); ++i) {
    const v1::Op& op = req->ops(i);
    v1::OpResult* r = resp->mutable_results(i);
    auto done = [complete, r](const grpc::Status& s) { complete(r, s); };
    switch (op.op_case()) {
      case v1::Op::kSet:
        if (auto e = check_set(op.set(), value_bytes_max_)) {
          done(invalid(*e));
        } else {
          backend_->set(op.set(), r->mutable_set(), done);
        }
        break;
      case v1::Op::kGet:
        if (auto e = check_get(op.get())) {
          done(invalid(*e));
        } else {
          backend_->get(op.get(), r->mutable_get(), done);
        }
        break;
      case v1::Op::kDelete:
        if (auto e = check_delete(op.delete_())) {
          done(invalid(*e));
        } else {
          backend_->del(op.delete_(), r->mutable_delete_(), done);
        }
        break;
      case v1::Op::OP_NOT_SET:
        done(invalid("operation " + std::to_string(i) + " is empty"));
        break;
    }
  }
  return rpc.reactor();
}

grpc::ServerUnaryReactor* ClusterService::Status(grpc::CallbackServerContext* ctx,
                                                 const v1::StatusRequest*,
                                                 v1::StatusResponse* resp) {
  const Rpc rpc(ctx, metrics_, "status");
  if (auto r = refused(access_, ctx, auth::Access::kRead, "")) return rpc.finish(*r);
  return rpc.run([&](KvBackend::Done done) { backend_->status(resp, std::move(done)); });
}

void ClusterService::log_refused_faults(const std::string& peer) {
  constexpr int64_t kRefusalLogIntervalMs = 10'000;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  const uint64_t refusals = refusals_unlogged_.fetch_add(1) + 1;
  int64_t logged_at_ms = refusal_logged_at_ms_.load();
  if (logged_at_ms >= 0 && now_ms - logged_at_ms < kRefusalLogIntervalMs) return;
  // Only the caller that moves the timestamp writes the line.
  if (!refusal_logged_at_ms_.compare_exchange_strong(logged_at_ms, now_ms)) return;
  refusals_unlogged_.fetch_sub(refusals);
  log_warn("refused SetFaults from " + peer + ": fault injection is disabled (start with "
           "--enable-fault-injection)" +
           (refusals > 1 ? "; " + std::to_string(refusals) + " refusals since the last line" : ""));
}

grpc::ServerUnaryReactor* ClusterService::SetFaults(grpc::CallbackServerContext* ctx,
                                                    const v1::SetFaultsRequest* req,
                                                    v1::SetFaultsResponse* resp) {
  const Rpc rpc(ctx, metrics_, "set_faults");
  if (auto r = refused(access_, ctx, auth::Access::kAdmin, "")) return rpc.finish(*r);
  if (!fault_injection_enabled_) {
    log_refused_faults(ctx->peer());
    return rpc.finish({grpc::StatusCode::PERMISSION_DENIED,
                       "fault injection is disabled on this node; start it with "
                       "--enable-fault-injection"});
  }
  constexpr uint32_t kFsyncDelayMsMax = 60'000;
  if (req->fsync_delay_ms() > kFsyncDelayMsMax) {
    return rpc.finish(invalid("fsync_delay_ms must be at most " + std::to_string(kFsyncDelayMsMax)));
  }
  backend_->set_faults(*req, resp);
  return rpc.finish(grpc::Status::OK);
}

grpc::ServerUnaryReactor* ClusterService::TransferLeader(grpc::CallbackServerContext* ctx,
                                                         const v1::TransferLeaderRequest* req,
                                                         v1::TransferLeaderResponse*) {
  const Rpc rpc(ctx, metrics_, "transfer_leader");
  if (auto r = refused(access_, ctx, auth::Access::kAdmin, "")) return rpc.finish(*r);
  return rpc.run([&](KvBackend::Done done) {
    backend_->transfer_leader(req->shard(), req->to_node(), std::move(done));
  });
}

}  // namespace mq::server

namespace mq::server {

namespace {

// What a member command checks before the cluster map does: names and
// addresses a node could be started with.
std::optional<std::string> check_new_member(const std::string& name, const std::string& address) {
  if (!is_plain_name(name, 64)) {
    return "member name '" + name + "' must be 1..64 letters, digits, '-', '_' or '.'";
  }
  std::string error;
  if (!parse_dial_address(address, &error)) return "member address: " + error;
  return std::nullopt;
}

grpc::Status member_changes_disabled() {
  return {grpc::StatusCode::PERMISSION_DENIED,
          "membership changes are disabled on this node; start it with --enable-member-changes"};
}

}  // namespace

grpc::ServerUnaryReactor* ClusterService::ListMembers(grpc::CallbackServerContext* ctx,
                                                      const v1::ListMembersRequest*,
                                                      v1::ListMembersResponse* resp) {
  const Rpc rpc(ctx, metrics_, "list_members");
  if (auto r = refused(access_, ctx, auth::Access::kRead, "")) return rpc.finish(*r);
  return rpc.run([&](KvBackend::Done done) { backend_->list_members(resp, std::move(done)); });
}

grpc::ServerUnaryReactor* ClusterService::AddMember(grpc::CallbackServerContext* ctx,
                                                    const v1::AddMemberRequest* req,
                                                    v1::AddMemberResponse* resp) {
  const Rpc rpc(ctx, metrics_, "add_member");
  if (auto r = refused(access_, ctx, auth::Access::kAdmin, "")) return rpc.finish(*r);
  if (!member_changes_enabled_) return rpc.finish(member_changes_disabled());
  if (auto e = check_new_member(req->name(), req->address())) return rpc.finish(invalid(*e));
  return rpc.run([&](KvBackend::Done done) { backend_->add_member(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* ClusterService::RemoveMember(grpc::CallbackServerContext* ctx,
                                                       const v1::RemoveMemberRequest* req,
                                                       v1::RemoveMemberResponse* resp) {
  const Rpc rpc(ctx, metrics_, "remove_member");
  if (auto r = refused(access_, ctx, auth::Access::kAdmin, "")) return rpc.finish(*r);
  if (!member_changes_enabled_) return rpc.finish(member_changes_disabled());
  if (req->member().empty()) return rpc.finish(invalid("name the member to remove"));
  return rpc.run(
      [&](KvBackend::Done done) { backend_->remove_member(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* ClusterService::ReplaceMember(grpc::CallbackServerContext* ctx,
                                                        const v1::ReplaceMemberRequest* req,
                                                        v1::ReplaceMemberResponse* resp) {
  const Rpc rpc(ctx, metrics_, "replace_member");
  if (auto r = refused(access_, ctx, auth::Access::kAdmin, "")) return rpc.finish(*r);
  if (!member_changes_enabled_) return rpc.finish(member_changes_disabled());
  if (req->member().empty()) return rpc.finish(invalid("name the member to replace"));
  if (auto e = check_new_member(req->name(), req->address())) return rpc.finish(invalid(*e));
  return rpc.run(
      [&](KvBackend::Done done) { backend_->replace_member(*req, resp, std::move(done)); });
}

}  // namespace mq::server
