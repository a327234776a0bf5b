// The client library: talks to an mq cluster on behalf of the one-shot
// commands, the REPL and (later) the launcher. No gRPC in this header, so
// the code that renders and parses stays cheap to compile.
//
// Routing: requests go to the first reachable endpoint; a "not the leader"
// answer carrying the leader's address is followed (a bounded number of
// hops). Retries: reads retry on another endpoint; a write is sent again
// only when it certainly did not happen: the connection could not be
// established, or the node refused it before proposing (NotLeader,
// overloaded). Any other answer to a write that was sent (deadline passed,
// connection lost, a server error, an unexpected code) is kUnknownOutcome,
// never a failure and never retried: see cli/request_outcome.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "node/tls/tls_files.h"

namespace mq::cli {

enum class ErrorKind {
  kOk,
  kNotFound,        // exit 1
  kInvalid,         // exit 2: the server (or the client's own check) refused the input, or
                    // refused the call (PERMISSION_DENIED: an admin call the node disables)
  kUnavailable,     // exit 3: cannot reach the cluster, no quorum / no leader, a read timed out
  kUnknownOutcome,  // exit 4: a write was sent, but whether it happened is unknown
  kInternal,        // exit 3: a read, or a write refused before it was proposed, failed in a
                    // way that is not the client's fault
  kMemoryFull,      // exit 2: a write refused because a replica is over its --max-memory;
                    // asking again will not help until keys are deleted
  kUnauthenticated, // exit 6: no credentials, or a token the node's --auth-file does not know
  kForbidden,       // exit 6: the credentials' principal has no right to this request
};

int exit_code_of(ErrorKind kind);
const char* error_code_name(ErrorKind kind);  // "not_found", "invalid_argument", ...

struct Error {
  ErrorKind kind = ErrorKind::kOk;
  std::string message;
  bool ok() const { return kind == ErrorKind::kOk; }
};

struct Header {
  uint32_t shard = 0;
  std::string node;
  std::string leader;
  uint64_t term = 0;
  uint64_t index = 0;
};

struct SetResult { Header header; };
struct GetResult { Header header; bool found = false; std::string value; };
struct DeleteResult { Header header; bool deleted = false; };
struct ListResult { Header header; std::vector<std::string> keys; bool truncated = false; };

struct ReplicaStatus { std::string node, role; uint64_t match = 0, lag = 0; };
struct ShardStatus {
  uint32_t id = 0;
  std::string leader, role;
  uint64_t term = 0, commit = 0, applied = 0, keys = 0;
  std::vector<ReplicaStatus> replicas;
};
struct NodeStatus { std::string id, address; bool reachable = false; };
// A change of the answering node's role, term or known leader in a shard;
// at_ms is on the node's clock (see ClusterStatus::clock_ms).
struct RoleChangeStatus {
  uint64_t seq = 0, at_ms = 0;
  uint32_t shard = 0;
  uint64_t term = 0;
  std::string role, leader;  // leader "" when the node knew none
};
struct ClusterStatus {
  std::string node, cluster_id, version;
  uint32_t shard_count = 0, replication = 0;
  uint64_t uptime_ms = 0;
  // The node's memory as --max-memory counts it, its limit (0: none), and
  // whether it refuses writes for it.
  uint64_t memory_used_bytes = 0, memory_limit_bytes = 0;
  bool memory_full = false;
  // The cluster map the node acts on, and groups it leads whose replicas
  // still move toward the map's placement.
  uint64_t map_version = 0;
  uint32_t moves_in_flight = 0;
  std::vector<NodeStatus> nodes;
  std::vector<ShardStatus> shards;
  uint64_t clock_ms = 0;  // the node's clock when it answered
  std::vector<RoleChangeStatus> role_changes;  // its newest few, oldest first
};

// Injected network and disk faults of one node (admin RPC SetFaults).
struct FaultSet {
  std::vector<std::string> drop_to;    // node ids the node stops sending to
  std::vector<std::string> drop_from;  // node ids whose traffic it ignores
  uint32_t fsync_delay_ms = 0;         // added before every WAL append
};

// A member of the cluster (mq member list): state "active" or "removed";
// replicas and preferred_leader_of count shards of the current placement.
struct MemberInfo {
  uint64_t id = 0;
  std::string name, address, state;
  uint32_t replicas = 0, preferred_leader_of = 0;
};
struct MemberList {
  std::string cluster_id, node;  // node: the one that answered
  uint64_t version = 0;          // of the cluster map
  uint32_t shard_count = 0, replication = 0;
  std::vector<MemberInfo> members;  // removed ones included
};

enum class Consistency { kLinearizable, kStale };

struct ClientOptions {
  std::vector<std::string> endpoints;  // host:port, tried in order
  int timeout_ms = 5000;               // per request, all hops and retries included
  int dial_timeout_ms = 1000;          // to establish a connection to one endpoint
  bool verbose = false;                // say on stderr when a leader hint is followed
  tls::TlsMaterial tls;                // empty: plaintext (--cacert, --cert, --key)
  std::string token;                   // bearer token for nodes with --auth-file (--token)
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Error set(const std::string& user, const std::string& key, const std::string& value,
            SetResult* out);
  Error get(const std::string& user, const std::string& key, Consistency consistency,
            GetResult* out);
  Error del(const std::string& user, const std::string& key, DeleteResult* out);
  // Fetches pages until limit keys (0 = all) or the end.
  Error list(const std::string& user, const std::string& glob, uint32_t limit,
             Consistency consistency, ListResult* out);
  Error status(ClusterStatus* out);
  // Replaces the fault set of the node at the first endpoint (an empty set
  // heals it); applied is what the node now has.
  Error set_faults(const FaultSet& faults, FaultSet* applied);
  // Asks the shard's leader (found by following hints) to hand leadership
  // to to_node; returns once the leader has started the transfer.
  Error transfer_leader(uint32_t shard, const std::string& to_node);
  // Membership: the cluster map as a node has it, and changes made by the
  // metadata group's leader (found by following hints). member: a name or
  // an id. A change whose answer is lost is kUnknownOutcome.
  Error list_members(MemberList* out);
  Error add_member(const std::string& name, const std::string& address, MemberInfo* added);
  Error remove_member(const std::string& member, bool force, MemberInfo* removed);
  Error replace_member(const std::string& member, const std::string& name,
                       const std::string& address, MemberInfo* removed, MemberInfo* added);

  // Ends the request in flight on another thread (the REPL's Ctrl-C) as soon
  // as it can: at once when waiting for an answer, after at most the dial
  // timeout when connecting. A cancelled read fails with kUnavailable; a
  // cancelled write that was sent is kUnknownOutcome (it may still commit).
  // The only method that may be called while another one runs.
  void cancel();

  // The endpoint the last request used (or will use first).
  std::string current_endpoint() const;
  // True once a request got an answer from a node, false again after a
  // request failed to reach any endpoint (the next one dials from scratch).
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::cli
