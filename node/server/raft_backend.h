// The multi-Raft backend: one Raft group per shard hosted on this node, all
// owned by ONE event-loop thread. gRPC threads only post work to the loop;
// the loop ticks the groups, steps peer messages, proposes writes, persists
// every group's Ready in one storage append (group commit: one fsync for
// many proposals and many groups), sends the messages coalesced per
// destination node, applies committed entries and completes the waiting
// calls.
//
// Routing: a request for a shard this node does not lead is answered with
// FAILED_PRECONDITION carrying NotLeader {leader, leader_address}; clients
// follow it (redirect, not forward).
//
// Reads: linearizable reads use ReadIndex (a heartbeat round confirms
// leadership; reads arriving in one loop iteration share one round) and are
// served once the state machine has applied the read index. A confirmed
// round also gives the leader a read lease (read_lease.h): until it lapses,
// reads are answered at once from the applied state, with no round. Stale
// reads are served by any replica from its applied state.
//
// A write whose leader loses leadership before it commits is answered
// ABORTED ("outcome unknown"): it may still commit under the next leader.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/server/kv_backend.h"
#include "node/server/topology.h"
#include "node/storage/wal.h"

namespace grpc {
class Service;
}

namespace mq::server {

struct RaftBackendOptions {
  Topology topology;
  std::string data_dir;
  storage::FsyncMode fsync_mode = storage::FsyncMode::kBatch;
  int tick_ms = 10;
  int election_ticks = 20;   // election timeout drawn from [20, 40) ticks
  int heartbeat_ticks = 5;
  uint64_t snapshot_every_entries = 20000;  // applied entries between snapshots
  uint64_t log_tail_entries = 2000;          // kept after a snapshot for slow followers
  size_t value_bytes_max = 1 << 20;          // the largest value a command may carry
  bool read_lease = true;                    // false: every linearizable read takes a round
};

class RaftBackend final : public KvBackend {
 public:
  // Recovers the data dir (or bootstraps a fresh one); on failure returns
  // nullptr with a one-line error and the node's exit code.
  static std::unique_ptr<RaftBackend> open(const RaftBackendOptions& options, std::string* error,
                                           int* exit_code);
  ~RaftBackend() override;

  void start();
  // Fails whatever is still pending with UNAVAILABLE, stops the loop and
  // the peer streams. Idempotent.
  void stop();

  grpc::Service* peer_service();

  void set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) override;
  void get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) override;
  void del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) override;
  void list(const v1::ListRequest& req, const kv::Glob& glob, const std::string& after,
            uint32_t limit, v1::ListResponse* resp, Done done) override;
  void status(v1::StatusResponse* resp, Done done) override;

  void set_faults(const v1::SetFaultsRequest& req, v1::SetFaultsResponse* resp) override;
  void transfer_leader(uint32_t shard, const std::string& to_node, Done done) override;

  struct Impl;

 private:
  explicit RaftBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::server
