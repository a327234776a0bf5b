#include "node/server/kv_service.h"

#include <atomic>
#include <chrono>
#include <memory>

#include "node/server/log.h"
#include "node/server/request_checks.h"

namespace mq::server {

namespace {

grpc::ServerUnaryReactor* finish_now(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

grpc::Status invalid(const std::string& message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, message};
}

// Runs a backend call and finishes the RPC when the backend completes it.
template <typename Call>
grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* ctx, Call&& call) {
  auto* reactor = ctx->DefaultReactor();
  call([reactor](const grpc::Status& s) { reactor->Finish(s); });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* KvService::Set(grpc::CallbackServerContext* ctx,
                                         const v1::SetRequest* req, v1::SetResponse* resp) {
  if (auto e = check_set(*req, value_bytes_max_)) return finish_now(ctx, invalid(*e));
  return run(ctx, [&](KvBackend::Done done) { backend_->set(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::Get(grpc::CallbackServerContext* ctx,
                                         const v1::GetRequest* req, v1::GetResponse* resp) {
  if (auto e = check_get(*req)) return finish_now(ctx, invalid(*e));
  return run(ctx, [&](KvBackend::Done done) { backend_->get(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteRequest* req,
                                            v1::DeleteResponse* resp) {
  if (auto e = check_delete(*req)) return finish_now(ctx, invalid(*e));
  return run(ctx, [&](KvBackend::Done done) { backend_->del(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::List(grpc::CallbackServerContext* ctx,
                                          const v1::ListRequest* req, v1::ListResponse* resp) {
  std::string error;
  auto plan = plan_list(*req, &error);
  if (!plan) return finish_now(ctx, invalid(error));
  return run(ctx, [&, p = std::move(*plan)](KvBackend::Done done) {
    backend_->list(*req, p.glob, p.after, p.limit, resp, std::move(done));
  });
}

grpc::ServerUnaryReactor* KvService::Batch(grpc::CallbackServerContext* ctx,
                                           const v1::BatchRequest* req, v1::BatchResponse* resp) {
  constexpr int kBatchOpsMax = 10000;
  if (req->ops_size() > kBatchOpsMax) {
    return finish_now(ctx, invalid("batch of " + std::to_string(req->ops_size()) +
                                   " operations exceeds the maximum of " +
                                   std::to_string(kBatchOpsMax)));
  }
  if (req->ops_size() == 0) return finish_now(ctx, grpc::Status::OK);
  // Results are added up front: their addresses stay fixed while the
  // backend completes operations in any order, on any thread.
  for (int i = 0; i < req->ops_size(); ++i) resp->add_results();
  auto* reactor = ctx->DefaultReactor();
  auto remaining = std::make_shared<std::atomic<int>>(req->ops_size());
  auto complete = [reactor, remaining](v1::OpResult* r, const grpc::Status& s) {
    r->set_code(s.error_code());
    if (!s.ok()) {
      r->set_message(s.error_message());
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        r->mutable_not_leader()->ParseFromString(s.error_details());
      }
    }
    if (remaining->fetch_sub(1) == 1) reactor->Finish(grpc::Status::OK);
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
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::Status(grpc::CallbackServerContext* ctx,
                                                 const v1::StatusRequest*,
                                                 v1::StatusResponse* resp) {
  return run(ctx, [&](KvBackend::Done done) { backend_->status(resp, std::move(done)); });
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
  if (!fault_injection_enabled_) {
    log_refused_faults(ctx->peer());
    return finish_now(ctx, {grpc::StatusCode::PERMISSION_DENIED,
                            "fault injection is disabled on this node; start it with "
                            "--enable-fault-injection"});
  }
  constexpr uint32_t kFsyncDelayMsMax = 60'000;
  if (req->fsync_delay_ms() > kFsyncDelayMsMax) {
    return finish_now(ctx, invalid("fsync_delay_ms must be at most " + std::to_string(kFsyncDelayMsMax)));
  }
  backend_->set_faults(*req, resp);
  return finish_now(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ClusterService::TransferLeader(grpc::CallbackServerContext* ctx,
                                                         const v1::TransferLeaderRequest* req,
                                                         v1::TransferLeaderResponse*) {
  return run(ctx, [&](KvBackend::Done done) {
    backend_->transfer_leader(req->shard(), req->to_node(), std::move(done));
  });
}

}  // namespace mq::server
