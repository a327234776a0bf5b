// The messages Raft peers exchange. One plain struct for every type, as the
// wire codec (codec.h) encodes it; fields a type does not use stay zero.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/raft/types.h"

namespace mq::raft {

enum class MessageType : uint8_t {
  kPreVote = 1,      // index/log_term: candidate's last entry; term: the term it would take
  kPreVoteResp = 2,  // reject
  kVote = 3,         // as kPreVote; context kTransferContext when forced by a transfer
  kVoteResp = 4,
  kApp = 5,          // index/log_term: entry preceding `entries`; commit: leader's commit
  kAppResp = 6,      // index: last matching index; on reject, reject_hint/log_term: conflict hint
  kHeartbeat = 7,    // commit: min(follower match, leader commit); context: ReadIndex round
  kHeartbeatResp = 8,
  kSnap = 9,         // snapshot_meta + one chunk at snapshot_offset
  kSnapResp = 10,    // index: snapshot index; reject_hint: next offset the follower expects
  kTimeoutNow = 11,  // leadership transfer: campaign now
};

constexpr uint8_t kMessageTypeMax = 11;

std::string_view to_string(MessageType type);

// A vote forced by leadership transfer must pass followers' leader lease.
inline constexpr std::string_view kTransferContext = "transfer";

struct Message {
  MessageType type = MessageType::kApp;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t reject_hint = 0;
  std::string context;
  // kSnap only: the snapshot travels in chunks bounded by snapshot_chunk_bytes.
  SnapshotMeta snapshot_meta;
  uint64_t snapshot_offset = 0;
  std::string snapshot_chunk;
  bool snapshot_done = false;
};

// One line, stable across runs: golden traces and simulator traces print it.
std::string describe(const Message& m);

}  // namespace mq::raft
