#include "node/server/kv_service.h"

#include "node/kv/limits.h"
#include "node/kv/page_token.h"

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

std::optional<std::string> check_user_key(const std::string& user, const std::string& key) {
  if (auto e = kv::validate_user(user)) return e;
  return kv::validate_key(key);
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
  if (auto e = check_user_key(req->user(), req->key())) return finish_now(ctx, invalid(*e));
  if (auto e = kv::validate_value(req->value(), value_bytes_max_)) {
    return finish_now(ctx, invalid(*e));
  }
  return run(ctx, [&](KvBackend::Done done) { backend_->set(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::Get(grpc::CallbackServerContext* ctx,
                                         const v1::GetRequest* req, v1::GetResponse* resp) {
  if (auto e = check_user_key(req->user(), req->key())) return finish_now(ctx, invalid(*e));
  return run(ctx, [&](KvBackend::Done done) { backend_->get(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteRequest* req,
                                            v1::DeleteResponse* resp) {
  if (auto e = check_user_key(req->user(), req->key())) return finish_now(ctx, invalid(*e));
  return run(ctx, [&](KvBackend::Done done) { backend_->del(*req, resp, std::move(done)); });
}

grpc::ServerUnaryReactor* KvService::List(grpc::CallbackServerContext* ctx,
                                          const v1::ListRequest* req, v1::ListResponse* resp) {
  if (auto e = kv::validate_user(req->user())) return finish_now(ctx, invalid(*e));
  if (req->limit() > kv::kListLimitMax) {
    return finish_now(ctx, invalid("limit " + std::to_string(req->limit()) + " exceeds the maximum of " +
                                   std::to_string(kv::kListLimitMax)));
  }
  std::string error;
  auto glob = kv::Glob::compile(req->glob().empty() ? "*" : req->glob(), &error);
  if (!glob) return finish_now(ctx, invalid(error));
  auto after = kv::decode_page_token(req->page_token());
  if (!after) return finish_now(ctx, invalid("page_token is not one this service issued"));
  const uint32_t limit = req->limit() == 0 ? kv::kListLimitDefault : req->limit();
  return run(ctx, [&, g = std::move(*glob), a = std::move(*after)](KvBackend::Done done) {
    backend_->list(*req, g, a, limit, resp, std::move(done));
  });
}

grpc::ServerUnaryReactor* ClusterService::Status(grpc::CallbackServerContext* ctx,
                                                 const v1::StatusRequest*,
                                                 v1::StatusResponse* resp) {
  backend_->status(resp);
  return finish_now(ctx, grpc::Status::OK);
}

}  // namespace mq::server
