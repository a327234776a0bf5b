// The node host (node_host.h) behind gRPC: one event-loop thread owns the
// host; gRPC threads post work to its bounded inbox and are answered from
// the loop, except for linearizable gets under a read lease, which are
// answered on the gRPC thread that received them.
//
// Routing: a request for a shard this node does not lead is answered with
// FAILED_PRECONDITION carrying NotLeader {leader, leader_address}; clients
// follow it (redirect, not forward). A write whose leader loses leadership
// before it commits is answered ABORTED ("outcome unknown"): it may still
// commit under the next leader.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "node/server/address.h"
#include "node/server/kv_backend.h"
#include "node/server/node_host.h"
#include "node/server/node_tls.h"

namespace grpc {
class Service;
}

namespace mq::server {

class RaftBackend final : public KvBackend {
 public:
  // Recovers the data dir (or bootstraps a fresh one); on failure returns
  // nullptr with a one-line error and the node's exit code.
  // Raft traffic is served on peer_listen (port 0: one the kernel picks;
  // peers ask where, peer_locator.h).
  static std::unique_ptr<RaftBackend> open(const NodeHostOptions& options, const HostPort& peer_listen,
                                           const NodeTls& tls,
                                           std::string* error, int* exit_code);
  ~RaftBackend() override;

  void start();
  // Fails whatever is still pending, stops the loop and the peer transport.
  // Idempotent.
  void stop();

  // Answers peers asking where this node's Raft listener is.
  grpc::Service* peer_service();
  uint16_t peer_port() const;

  // Copies the host's counters on the loop thread and calls done there
  // with the copy; with nullptr, at once, when the loop has stopped.
  void report_metrics(std::function<void(const HostMetricsReport*)> done);

  void set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) override;
  void get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) override;
  void del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) override;
  void list(const v1::ListRequest& req, const kv::Glob& glob, const std::string& after,
            uint32_t limit, v1::ListResponse* resp, Done done) override;
  void status(v1::StatusResponse* resp, Done done) override;

  void set_faults(const v1::SetFaultsRequest& req, v1::SetFaultsResponse* resp) override;
  void transfer_leader(uint32_t shard, const std::string& to_node, Done done) override;
  void list_members(v1::ListMembersResponse* resp, Done done) override;
  void add_member(const v1::AddMemberRequest& req, v1::AddMemberResponse* resp,
                  Done done) override;
  void remove_member(const v1::RemoveMemberRequest& req, v1::RemoveMemberResponse* resp,
                     Done done) override;
  void replace_member(const v1::ReplaceMemberRequest& req, v1::ReplaceMemberResponse* resp,
                      Done done) override;

  struct Loop;

 private:
  explicit RaftBackend(std::unique_ptr<Loop> loop);
  std::unique_ptr<Loop> loop_;
};

}  // namespace mq::server
