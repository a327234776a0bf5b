// Binary encoding of Message and Entry for the peer transport.
//
// Layout (all integers are LEB128 varints unless noted):
//   message := version:u8(=1) type:u8 flags:u8 from to term log_term index
//              commit reject_hint bytes(context) count entry*
//              [kSnap only] meta snapshot_offset bytes(snapshot_chunk)
//   entry   := term index type:u8 bytes(data)
//   meta    := index term count voter* count learner*
//   bytes   := length payload
//   flags   := bit 0 reject, bit 1 snapshot_done
// A decoder meets bytes from the network: every length and count is checked
// against what remains, and malformed input is an error value, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "node/raft/message.h"
#include "node/raft/types.h"

namespace mq::raft {

constexpr uint8_t kCodecVersion = 1;

std::string encode(const Message& m);
std::string encode(const Entry& e);

// On failure returns false and says why in *error (when non-null); *out is
// then unspecified.
bool decode(std::string_view in, Message* out, std::string* error = nullptr);
bool decode(std::string_view in, Entry* out, std::string* error = nullptr);

}  // namespace mq::raft
