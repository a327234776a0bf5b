// The replicated map of one shard: (user, key) -> value, kept sorted by user
// then key so that listing by glob seeks to the user's keys at the pattern's
// literal prefix.
//
// Memory: one ordered set per shard of KeyRecords (key_record.h), each key a
// single heap block, rather than a map of users to maps of keys: a shard
// holds few keys of each of many users, so per-user maps were mostly empty
// nodes. About 130 bytes per key of 100-byte values, against about 200.
//
// Snapshot image (version 1): "MQKV" magic, format byte 1, varint applied
// index, varint record count, then per record user, key, value as
// length-prefixed bytes, in (user, key) byte order so that equal states give
// equal images. Integrity (checksums) is the storage layer's job.
#pragma once

#include <absl/container/btree_set.h>

#include <optional>
#include <string>
#include <vector>

#include "node/kv/glob.h"
#include "node/kv/key_record.h"
#include "node/kv/state_machine.h"

namespace mq::kv {

class KvStateMachine final : public StateMachine {
 public:
  ApplyResult apply(uint64_t index, std::string_view command) override;
  uint64_t applied_index() const override { return applied_index_; }
  std::string snapshot() const override;
  bool restore(std::string_view image, std::string* error) override;

  std::optional<std::string> get(const std::string& user, const std::string& key) const;

  struct ListPage {
    std::vector<std::string> keys;
    bool more = false;  // keys after the last one also match
  };
  // Keys of user matching glob, strictly after `after`, at most limit of them.
  ListPage list(const std::string& user, const Glob& glob, const std::string& after,
                size_t limit) const;

  uint64_t key_count() const { return key_count_; }
  // The bytes of every key and value held (users and the map's own
  // overhead not counted): what the shard's data weighs, for /metrics.
  uint64_t key_value_bytes() const { return key_value_bytes_; }

 private:
  // A B-tree rather than std::set: records (one pointer each) sit about thirty to a node
  // instead of one heap node each, so a lookup on a large, cold map misses
  // the cache a few times instead of once per tree level.
  absl::btree_set<KeyRecord, KeyRecordLess> records_;
  uint64_t applied_index_ = 0;
  uint64_t key_count_ = 0;
  uint64_t key_value_bytes_ = 0;
};

}  // namespace mq::kv
