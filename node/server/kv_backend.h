// What the gRPC services ask of the node: run a validated request against
// the shard that owns it and complete it, possibly later and on another
// thread. The services validate input; a backend decides where and how a
// request is served (in-memory on one node, or through a shard's Raft group).
#pragma once

#include <grpcpp/support/status.h>

#include <functional>

#include "mq/v1/cluster.pb.h"
#include "mq/v1/kv.pb.h"
#include "node/kv/glob.h"

namespace mq::server {

class KvBackend {
 public:
  using Done = std::function<void(const grpc::Status&)>;
  virtual ~KvBackend() = default;

  // The response's header is filled by the backend; done runs exactly once.
  virtual void set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) = 0;
  virtual void get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) = 0;
  virtual void del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) = 0;
  // glob and after (the decoded page token: list keys strictly after it)
  // are valid only during the call.
  virtual void list(const v1::ListRequest& req, const kv::Glob& glob, const std::string& after,
                    uint32_t limit, v1::ListResponse* resp, Done done) = 0;
  virtual void status(v1::StatusResponse* resp, Done done) = 0;
  virtual void set_faults(const v1::SetFaultsRequest& req, v1::SetFaultsResponse* resp) = 0;
  virtual void transfer_leader(uint32_t shard, const std::string& to_node, Done done) = 0;
  // Membership: the cluster map, and changes to it (validated here).
  virtual void list_members(v1::ListMembersResponse* resp, Done done) = 0;
  virtual void add_member(const v1::AddMemberRequest& req, v1::AddMemberResponse* resp,
                          Done done) = 0;
  virtual void remove_member(const v1::RemoveMemberRequest& req, v1::RemoveMemberResponse* resp,
                             Done done) = 0;
  virtual void replace_member(const v1::ReplaceMemberRequest& req,
                              v1::ReplaceMemberResponse* resp, Done done) = 0;
};

}  // namespace mq::server
