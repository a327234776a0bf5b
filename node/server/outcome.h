// What the node host answers a request with, in its own terms: the host is
// run by the gRPC server and by the simulator, so it knows nothing of
// grpc::Status. The server maps each code to exactly one gRPC code
// (raft_backend.cc); clients map those back to exit codes.
#pragma once

#include <cstdint>
#include <string>

namespace mq::server {

// Where a request that reached the wrong node should go.
struct NotLeaderHint {
  uint32_t shard = 0;
  std::string leader;          // node id; empty when no leader is known
  std::string leader_address;  // where to send the request next; may be empty
  uint64_t term = 0;
};

// Why a write was refused for memory: a replica of its shard holds more than
// its --max-memory.
struct MemoryFullInfo {
  std::string node;
  uint64_t used_bytes = 0;
  uint64_t limit_bytes = 0;
};

struct Outcome {
  enum class Code {
    kOk,
    kNotLeader,       // refused before proposing: try hint.leader (FAILED_PRECONDITION)
    kUnavailable,     // refused before proposing: the node is stopping (UNAVAILABLE)
    kOutcomeUnknown,  // a write was proposed and may still commit (ABORTED)
    kOverloaded,      // refused before proposing: a bounded queue is full (RESOURCE_EXHAUSTED)
    kInvalidArgument, // refused: the request can never succeed (INVALID_ARGUMENT)
    kInternal,        // a bug: a committed entry that is not a command (INTERNAL)
    kMemoryFull,      // refused before proposing: a replica is over --max-memory (RESOURCE_EXHAUSTED)
  };

  Code code = Code::kOk;
  std::string message;
  NotLeaderHint hint;     // for kNotLeader
  MemoryFullInfo memory;  // for kMemoryFull

  bool ok() const { return code == Code::kOk; }
  static Outcome success() { return {}; }
  static Outcome with(Code code, std::string message) {
    Outcome o;
    o.code = code;
    o.message = std::move(message);
    return o;
  }
};

}  // namespace mq::server
