// A single node serving every shard from memory, with no replication: each
// shard's state machine is driven directly, one command at a time, exactly as
// Raft will drive it once entries commit (apply in index order).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "node/kv/kv_state_machine.h"
#include "node/server/kv_backend.h"

namespace mq::server {

class LocalBackend final : public KvBackend {
 public:
  LocalBackend(std::string node_id, std::string address, uint32_t shard_count);

  void set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) override;
  void get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) override;
  void del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) override;
  void list(const v1::ListRequest& req, const kv::Glob& glob, const std::string& after,
            uint32_t limit, v1::ListResponse* resp, Done done) override;
  void status(v1::StatusResponse* resp) override;

 private:
  void fill_header(uint32_t shard, v1::ResponseHeader* h) const;

  const std::string node_id_;
  const std::string address_;
  const std::chrono::steady_clock::time_point started_;
  mutable std::mutex mutex_;  // guards shards_
  std::vector<kv::KvStateMachine> shards_;
};

}  // namespace mq::server
