// Direct gRPC calls to ONE node, for what the client library deliberately
// does not do: a read pinned to a given replica (the client would follow
// its cached leader and retry elsewhere), fault injection, and a Batch of
// writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace grpc {
class Channel;
}

namespace mq::test {

struct StaleRead {
  bool ok = false;     // the node answered
  bool found = false;
  std::string value;
  std::string node;    // id of the answering node
  std::string error;   // when !ok
};

struct BatchSetResult {
  size_t ok_count = 0;      // operations acknowledged
  std::string first_error;  // "" when every operation succeeded
};

class NodeRpc {
 public:
  explicit NodeRpc(std::string endpoint);
  ~NodeRpc();

  const std::string& endpoint() const { return endpoint_; }

  // Get with STALE consistency, answered by this node from its own replica.
  StaleRead stale_get(const std::string& user, const std::string& key, int timeout_ms);
  // Get with LINEARIZABLE consistency, answered by this node or refused
  // (then ok is false and error says why, e.g. not the leader).
  StaleRead linearizable_get(const std::string& user, const std::string& key, int timeout_ms);

  // Replaces the node's fault set with a slow disk of fsync_delay_ms
  // (0 heals). "" on success, else the error.
  std::string set_fsync_delay(uint32_t fsync_delay_ms, int timeout_ms);

  // Asks the node where its Raft listener is (Peer.Locate) as a peer of
  // cluster_id would: its port, or 0 with the error in *error.
  uint16_t locate_peer_port(const std::string& cluster_id, int timeout_ms, std::string* error);

  // Sets every (key, value) of user in one Batch call.
  BatchSetResult batch_set(const std::string& user,
                           const std::vector<std::pair<std::string, std::string>>& key_values,
                           int timeout_ms);

 private:
  StaleRead get(const std::string& user, const std::string& key, bool linearizable, int timeout_ms);

  std::string endpoint_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace mq::test
