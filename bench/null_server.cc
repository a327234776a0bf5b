// mq-null-server: the ceiling for `mq bench`. It speaks mq's public KV API
// (Set, Get, Delete, Batch) with the same callback gRPC server the node uses,
// and does nothing else: one mutex-protected hash map, no Raft, no disk, no
// validation beyond what the bench needs. Whatever a client gets from it is
// the most any mq node can give that client on this machine, so the ratio
// of the two measures the store's own cost.
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>

#include "mq/v1/kv.grpc.pb.h"
#include "node/kv/shard_hash.h"
#include "node/server/lock_order_checks.h"

namespace {

constexpr uint32_t kShardCount = 16;  // what the header reports, as a default node would
constexpr int kReceiveBytesMax = 80 << 20;

class NullKv final : public mq::v1::KV::CallbackService {
 public:
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* ctx, const mq::v1::SetRequest* req,
                                mq::v1::SetResponse* resp) override {
    set(*req, resp);
    return finish(ctx);
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const mq::v1::GetRequest* req,
                                mq::v1::GetResponse* resp) override {
    get(*req, resp);
    return finish(ctx);
  }

  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const mq::v1::DeleteRequest* req,
                                   mq::v1::DeleteResponse* resp) override {
    del(*req, resp);
    return finish(ctx);
  }

  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext* ctx,
                                  const mq::v1::BatchRequest* req,
                                  mq::v1::BatchResponse* resp) override {
    for (const auto& op : req->ops()) {
      mq::v1::OpResult* r = resp->add_results();
      switch (op.op_case()) {
        case mq::v1::Op::kSet: set(op.set(), r->mutable_set()); break;
        case mq::v1::Op::kGet: get(op.get(), r->mutable_get()); break;
        case mq::v1::Op::kDelete: del(op.delete_(), r->mutable_delete_()); break;
        case mq::v1::Op::OP_NOT_SET:
          r->set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
          r->set_message("empty operation");
          break;
      }
    }
    return finish(ctx);
  }

 private:
  static grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* ctx) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // A record's map key: the user, a NUL (users are UTF-8 without NUL in
  // practice), the key.
  static std::string record_key(const std::string& user, const std::string& key) {
    std::string k;
    k.reserve(user.size() + 1 + key.size());
    k.append(user).push_back('\0');
    k.append(key);
    return k;
  }

  void fill_header(const std::string& user, uint64_t index, mq::v1::ResponseHeader* h) const {
    h->set_shard(mq::kv::shard_of(user, kShardCount));
    h->set_node("null");
    h->set_index(index);
  }

  void set(const mq::v1::SetRequest& req, mq::v1::SetResponse* resp) {
    std::string k = record_key(req.user(), req.key());
    uint64_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      map_[std::move(k)] = req.value();
      index = ++index_;
    }
    fill_header(req.user(), index, resp->mutable_header());
  }

  void get(const mq::v1::GetRequest& req, mq::v1::GetResponse* resp) {
    const std::string k = record_key(req.user(), req.key());
    uint64_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(k);
      if (it != map_.end()) {
        resp->set_found(true);
        resp->set_value(it->second);
      }
      index = index_;
    }
    fill_header(req.user(), index, resp->mutable_header());
  }

  void del(const mq::v1::DeleteRequest& req, mq::v1::DeleteResponse* resp) {
    const std::string k = record_key(req.user(), req.key());
    uint64_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      resp->set_deleted(map_.erase(k) > 0);
      index = ++index_;
    }
    fill_header(req.user(), index, resp->mutable_header());
  }

  std::mutex mutex_;
  std::unordered_map<std::string, std::string> map_;  // guarded by mutex_
  uint64_t index_ = 0;                                 // guarded by mutex_; counts writes
};

}  // namespace

int main(int argc, char** argv) {
  mq::server::disable_lock_order_checks();
  std::string listen = "127.0.0.1:7400";
  CLI::App app{"A trivial in-memory server of mq's KV API (no Raft, no disk): the ceiling "
               "that `mq bench` results are compared with.",
               "mq-null-server"};
  app.add_option("--listen", listen, "host:port to serve on (default 127.0.0.1:7400)");
  app.footer(R"(Example:
  mq-null-server --listen 127.0.0.1:7400 &
  mq bench --endpoints 127.0.0.1:7400

Stops on SIGTERM or SIGINT. Exit codes: 0 stopped, 2 bad flags, 5 cannot listen.)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Blocked before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  NullKv service;
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.SetMaxReceiveMessageSize(kReceiveBytesMax);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "mq-null-server: cannot listen on %s\n", listen.c_str());
    return 5;
  }
  std::fprintf(stderr, "mq-null-server: serving mq.v1.KV on %s (pid %d)\n", listen.c_str(),
               static_cast<int>(getpid()));
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
