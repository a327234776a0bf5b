#include "node/server/join.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "mq/v1/cluster.grpc.pb.h"
#include "mq/v1/kv.pb.h"
#include "node/server/address.h"
#include "node/server/exit_codes.h"
#include "node/server/log.h"
#include "node/storage/file_system.h"
#include "node/storage/identity.h"
#include "node/tls/grpc_tls.h"

namespace mq::server {

namespace {

// How long a joining node keeps asking before it gives up: long enough for
// a cluster that is itself starting, or electing the metadata group's
// leader, to answer.
constexpr auto kJoinPatience = std::chrono::seconds(30);
constexpr auto kJoinCallDeadline = std::chrono::seconds(3);
constexpr auto kJoinRetryPause = std::chrono::milliseconds(200);

Topology topology_of(const v1::ListMembersResponse& cluster, raft::NodeId self,
                     const PeerInfo& self_info) {
  Topology t;
  t.cluster_id = cluster.cluster_id();
  t.shard_count = cluster.shard_count();
  t.replication = cluster.replication();
  t.self = self;
  std::vector<Member> members;
  for (const v1::Member& m : cluster.members()) {
    members.push_back({m.id(), m.name(), m.address(),
                       m.state() == "removed" ? MemberState::kRemoved : MemberState::kActive});
  }
  t.nodes = nodes_by_id(members, self, self_info);
  return t;
}

}  // namespace

bool join_topology(const JoinFlags& config, Topology* topology, std::string* error,
                   int* exit_code) {
  const PeerInfo self_info{config.id, config.address, raft::kNoNode, false};
  // Joined before: the data dir knows who this node is.
  auto fs = storage::make_posix_file_system();
  storage::Identity identity;
  if (storage::read_identity(fs.get(), config.data_dir, &identity).is_ok() &&
      identity.member_id != 0 && identity.shard_count != 0) {
    Topology t;
    t.cluster_id = identity.cluster_id;
    t.shard_count = identity.shard_count;
    t.replication = config.replication;
    t.self = identity.member_id;
    // The others come with the cluster map the node recovers or is sent.
    t.nodes = nodes_by_id({}, t.self, self_info);
    *topology = std::move(t);
    return true;
  }
  std::vector<std::string> endpoints = split_commas(config.join);
  const auto give_up = std::chrono::steady_clock::now() + kJoinPatience;
  std::string last_error = "no endpoint answered";
  bool ambiguous = false;  // an attempt may have been admitted without answering
  while (std::chrono::steady_clock::now() < give_up) {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      auto channel = grpc::CreateChannel(endpoints[i], tls::grpc_channel_credentials(config.dial));
      auto cluster_api = v1::Cluster::NewStub(channel);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + kJoinCallDeadline);
      v1::AddMemberRequest req;
      req.set_name(config.id);
      req.set_address(config.address);
      req.set_join(true);
      v1::AddMemberResponse resp;
      const grpc::Status s = cluster_api->AddMember(&ctx, req, &resp);
      if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
          s.error_code() == grpc::StatusCode::ABORTED) {
        ambiguous = true;
      }
      if (s.ok() && (resp.member().id() == 0 || resp.cluster().cluster_id().empty())) {
        *error = "cannot join the cluster: " + endpoints[i] + " admitted this node without saying "
                 "its member id or the cluster's";
        *exit_code = kNodeExitCannotStart;
        return false;
      }
      if (s.ok()) {
        PeerInfo me = self_info;
        me.raft_id = resp.member().id();
        *topology = topology_of(resp.cluster(), me.raft_id, me);
        log_info("admitted to cluster " + topology->cluster_id + " as member " +
                 std::to_string(me.raft_id) + " by " + endpoints[i]);
        return true;
      }
      last_error = endpoints[i] + ": " + s.error_message();
      if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        // Joining is an admin request: with --auth-file on the members, the
        // node's client certificate (--cert-file) must be an admin principal.
        *error = "cannot join the cluster: " + last_error +
                 " (the members run with --auth-file: name this node's certificate in it as an admin)";
        *exit_code = kNodeExitUsage;
        return false;
      }
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
          s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        // Never admitted twice under one name: a node whose data dir was
        // lost must not come back as the member it was (it forgot its
        // votes and its log). An earlier attempt whose answer was lost
        // looks the same, and is resolved the same way.
        *error = "cannot join the cluster: " + last_error +
                 (ambiguous ? " (an earlier attempt of this start may have been admitted without "
                              "its answer arriving: remove member " + config.id + " and join again)"
                            : "");
        *exit_code = kNodeExitUsage;
        return false;
      }
      // Redirected to the metadata group's leader: ask it next.
      v1::NotLeader hint;
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
          hint.ParseFromString(s.error_details()) && !hint.leader_address().empty() &&
          std::find(endpoints.begin(), endpoints.end(), hint.leader_address()) == endpoints.end()) {
        endpoints.insert(endpoints.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                         hint.leader_address());
      }
    }
    std::this_thread::sleep_for(kJoinRetryPause);
  }
  *error = "cannot join the cluster within " + std::to_string(kJoinPatience.count()) +
           " s: " + last_error;
  *exit_code = kNodeExitCannotStart;
  return false;
}

}  // namespace mq::server
