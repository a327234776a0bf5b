#include "tests/replication/node_rpc.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "mq/peer/raft.grpc.pb.h"
#include "mq/v1/cluster.grpc.pb.h"
#include "mq/v1/kv.grpc.pb.h"

namespace mq::test {

namespace {

void set_deadline(grpc::ClientContext& ctx, int timeout_ms) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

std::string describe(const grpc::Status& s) {
  return std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message();
}

}  // namespace

NodeRpc::NodeRpc(std::string endpoint) : endpoint_(std::move(endpoint)) {
  grpc::ChannelArguments args;
  // A restarted node must be dialled again within the tests' waits, not
  // after gRPC's default back-off of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  channel_ = grpc::CreateCustomChannel(endpoint_, grpc::InsecureChannelCredentials(), args);
}

NodeRpc::~NodeRpc() = default;

StaleRead NodeRpc::stale_get(const std::string& user, const std::string& key, int timeout_ms) {
  return get(user, key, false, timeout_ms);
}

StaleRead NodeRpc::linearizable_get(const std::string& user, const std::string& key, int timeout_ms) {
  return get(user, key, true, timeout_ms);
}

StaleRead NodeRpc::get(const std::string& user, const std::string& key, bool linearizable,
                       int timeout_ms) {
  v1::GetRequest req;
  req.set_user(user);
  req.set_key(key);
  req.set_consistency(linearizable ? v1::LINEARIZABLE : v1::STALE);
  v1::GetResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout_ms);
  const grpc::Status s = v1::KV::NewStub(channel_)->Get(&ctx, req, &resp);
  StaleRead out;
  if (!s.ok()) {
    out.error = describe(s);
    return out;
  }
  out.ok = true;
  out.found = resp.found();
  out.value = resp.value();
  out.node = resp.header().node();
  return out;
}

std::string NodeRpc::set_fsync_delay(uint32_t fsync_delay_ms, int timeout_ms) {
  v1::SetFaultsRequest req;
  req.set_fsync_delay_ms(fsync_delay_ms);
  v1::SetFaultsResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout_ms);
  const grpc::Status s = v1::Cluster::NewStub(channel_)->SetFaults(&ctx, req, &resp);
  if (!s.ok()) return describe(s);
  if (resp.fsync_delay_ms() != fsync_delay_ms) {
    return "the node reports fsync_delay_ms " + std::to_string(resp.fsync_delay_ms());
  }
  return "";
}

BatchSetResult NodeRpc::batch_set(const std::string& user,
                                  const std::vector<std::pair<std::string, std::string>>& key_values,
                                  int timeout_ms) {
  v1::BatchRequest req;
  for (const auto& [key, value] : key_values) {
    v1::SetRequest* set = req.add_ops()->mutable_set();
    set->set_user(user);
    set->set_key(key);
    set->set_value(value);
  }
  v1::BatchResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout_ms);
  const grpc::Status s = v1::KV::NewStub(channel_)->Batch(&ctx, req, &resp);
  BatchSetResult out;
  if (!s.ok()) {
    out.first_error = describe(s);
    return out;
  }
  for (const v1::OpResult& r : resp.results()) {
    if (r.code() == 0) {
      ++out.ok_count;
    } else if (out.first_error.empty()) {
      out.first_error = std::to_string(r.code()) + " " + r.message();
    }
  }
  if (resp.results_size() != static_cast<int>(key_values.size()) && out.first_error.empty()) {
    out.first_error = "expected " + std::to_string(key_values.size()) + " results, got " +
                      std::to_string(resp.results_size());
  }
  return out;
}

uint16_t NodeRpc::locate_peer_port(const std::string& cluster_id, int timeout_ms, std::string* error) {
  peer::LocateRequest req;
  req.set_cluster_id(cluster_id);
  req.set_from_node("test");
  peer::LocateResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx, timeout_ms);
  const grpc::Status s = peer::Peer::NewStub(channel_)->Locate(&ctx, req, &resp);
  if (!s.ok()) {
    *error = describe(s);
    return 0;
  }
  return static_cast<uint16_t>(resp.peer_port());
}

}  // namespace mq::test
