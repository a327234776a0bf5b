// The values the Raft core exchanges with storage and the transport.
// Plain structs: no protobuf, no I/O. Storage persists them; the transport
// encodes them; the core never touches either.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mq::raft {

// Node ids are small positive integers; 0 means "nobody" (no vote, no leader).
using NodeId = uint64_t;
constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // application command (or an empty no-op on election)
  kConfChange = 1,  // membership change; data encodes it
};

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;
};

// Must be on disk before any vote or append is acknowledged.
struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;
};

struct SnapshotMeta {
  uint64_t index = 0;  // last log index the snapshot covers
  uint64_t term = 0;   // term of that entry
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // the state machine's serialized state
};

}  // namespace mq::raft
