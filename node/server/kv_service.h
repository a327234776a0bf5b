// The public KV and Cluster gRPC services. They validate every request
// (limits, UTF-8, globs) and hand it to the backend; invalid input becomes
// INVALID_ARGUMENT naming the limit, and nothing is stored. Every call is
// recorded in the node's request metrics (when given) as it finishes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "mq/v1/cluster.grpc.pb.h"
#include "mq/v1/kv.grpc.pb.h"
#include "node/auth/access_control.h"
#include "node/server/kv_backend.h"

namespace mq::http {
class RequestMetrics;
}

namespace mq::server {

class KvService final : public v1::KV::CallbackService {
 public:
  // access: the --auth-file rules (null or disabled: everything allowed).
  KvService(KvBackend* backend, size_t value_bytes_max, http::RequestMetrics* metrics = nullptr,
            const auth::AccessControl* access = nullptr)
      : backend_(backend), value_bytes_max_(value_bytes_max), metrics_(metrics), access_(access) {}

  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* ctx, const v1::SetRequest* req,
                                v1::SetResponse* resp) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* req,
                                v1::GetResponse* resp) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const v1::DeleteRequest* req,
                                   v1::DeleteResponse* resp) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx, const v1::ListRequest* req,
                                 v1::ListResponse* resp) override;
  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext* ctx, const v1::BatchRequest* req,
                                  v1::BatchResponse* resp) override;

 private:
  KvBackend* backend_;
  size_t value_bytes_max_;
  http::RequestMetrics* metrics_;
  const auth::AccessControl* access_;
};

// SetFaults partitions the node or slows its disk: whoever reaches the port
// could take the cluster down with it, so it is refused (PERMISSION_DENIED)
// unless the node was started with --enable-fault-injection. Membership
// changes likewise need --enable-member-changes.
class ClusterService final : public v1::Cluster::CallbackService {
 public:
  ClusterService(KvBackend* backend, bool fault_injection_enabled,
                 http::RequestMetrics* metrics = nullptr, bool member_changes_enabled = false,
                 const auth::AccessControl* access = nullptr)
      : backend_(backend),
        fault_injection_enabled_(fault_injection_enabled),
        member_changes_enabled_(member_changes_enabled),
        metrics_(metrics),
        access_(access) {}
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const v1::StatusRequest* req,
                                   v1::StatusResponse* resp) override;
  grpc::ServerUnaryReactor* SetFaults(grpc::CallbackServerContext* ctx,
                                      const v1::SetFaultsRequest* req,
                                      v1::SetFaultsResponse* resp) override;
  grpc::ServerUnaryReactor* TransferLeader(grpc::CallbackServerContext* ctx,
                                           const v1::TransferLeaderRequest* req,
                                           v1::TransferLeaderResponse* resp) override;
  grpc::ServerUnaryReactor* ListMembers(grpc::CallbackServerContext* ctx,
                                        const v1::ListMembersRequest* req,
                                        v1::ListMembersResponse* resp) override;
  grpc::ServerUnaryReactor* AddMember(grpc::CallbackServerContext* ctx,
                                      const v1::AddMemberRequest* req,
                                      v1::AddMemberResponse* resp) override;
  grpc::ServerUnaryReactor* RemoveMember(grpc::CallbackServerContext* ctx,
                                         const v1::RemoveMemberRequest* req,
                                         v1::RemoveMemberResponse* resp) override;
  grpc::ServerUnaryReactor* ReplaceMember(grpc::CallbackServerContext* ctx,
                                          const v1::ReplaceMemberRequest* req,
                                          v1::ReplaceMemberResponse* resp) override;

 private:
  // One log line per refused SetFaults, but at most one per interval: a
  // script retrying in a loop must not flood the node's log. The line
  // says how many refusals it stands for.
  void log_refused_faults(const std::string& peer);

  KvBackend* backend_;
  const bool fault_injection_enabled_;
  const bool member_changes_enabled_;
  std::atomic<int64_t> refusal_logged_at_ms_{-1};
  std::atomic<uint64_t> refusals_unlogged_{0};
  http::RequestMetrics* metrics_;
  const auth::AccessControl* access_;
};

}  // namespace mq::server
