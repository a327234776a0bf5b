// The identity file <data-dir>/IDENTITY ties a data dir to one node of one
// cluster, so that a mistyped --data-dir cannot make a node adopt another
// node's log. Text, so an operator can read it:
//   mq-data-dir 1
//   node_id <id>
//   cluster_id <id>
//   member_id <n>     (the node's Raft id; absent in data dirs written before)
//   shards <n>        (the cluster's shard count; likewise)
//   crc32c <8 hex digits of the crc32c of the lines above>
// Created with the write-temp, fsync, rename, fsync-dir sequence.
#pragma once

#include <cstdint>
#include <string>

#include "node/storage/file_system.h"

namespace mq::storage {

constexpr const char* kIdentityFileName = "IDENTITY";

// Creates the identity in a fresh data dir, or checks an existing one:
// kForeignDataDir when it names another node or cluster, kCorrupt when it is
// damaged or missing from a dir that already holds data.
// member_id 0: not recorded (when creating) or not checked.
Status check_or_create_identity(FileSystem* fs, const std::string& data_dir, const std::string& node_id,
                                const std::string& cluster_id, bool dir_has_data,
                                uint64_t member_id = 0, uint32_t shard_count = 0);

struct Identity {
  std::string node_id;
  std::string cluster_id;
  uint64_t member_id = 0;  // 0: not recorded
  uint32_t shard_count = 0;  // 0: not recorded
};
// kNotFound when the data dir has no identity yet.
Status read_identity(FileSystem* fs, const std::string& data_dir, Identity* out);

}  // namespace mq::storage
