// The identity file <data-dir>/IDENTITY ties a data dir to one node of one
// cluster, so that a mistyped --data-dir cannot make a node adopt another
// node's log. Text, so an operator can read it:
//   mq-data-dir 1
//   node_id <id>
//   cluster_id <id>
//   crc32c <8 hex digits of the crc32c of the lines above>
// Created with the write-temp, fsync, rename, fsync-dir sequence.
#pragma once

#include <string>

#include "node/storage/file_system.h"

namespace mq::storage {

constexpr const char* kIdentityFileName = "IDENTITY";

// Creates the identity in a fresh data dir, or checks an existing one:
// kForeignDataDir when it names another node or cluster, kCorrupt when it is
// damaged or missing from a dir that already holds data.
Status check_or_create_identity(FileSystem* fs, const std::string& data_dir, const std::string& node_id,
                                const std::string& cluster_id, bool dir_has_data);

}  // namespace mq::storage
