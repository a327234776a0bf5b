// A log entry of a group: the proposing node's request id (so the proposer
// can complete the waiting call when the entry applies) and the KV command.
// The metadata group's entries are KV commands too: each writes the whole
// cluster map under one key (meta_group.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "node/kv/command.h"

namespace mq::server {

inline std::string wrap(uint64_t request_id, const kv::CommandView& command) {
  std::string out;
  kv::put_varint(out, request_id);
  kv::append_command(out, command);
  return out;
}

inline bool unwrap(std::string_view data, uint64_t* request_id, std::string_view* command) {
  if (!kv::get_varint(data, request_id)) return false;
  *command = data;
  return true;
}

}  // namespace mq::server
