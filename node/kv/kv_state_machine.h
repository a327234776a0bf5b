// The replicated map of one shard: user -> (key -> value), keys kept sorted
// per user so listing by glob seeks to the pattern's literal prefix.
//
// Snapshot image (version 1): "MQKV" magic, format byte 1, varint applied
// index, varint record count, then per record user, key, value as
// length-prefixed bytes, in (user, key) byte order so that equal states give
// equal images. Integrity (checksums) is the storage layer's job.
#pragma once

#include <absl/container/btree_map.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "node/kv/glob.h"
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
  // Transparent hashing: a write looks its user up by the string_view it
  // decoded, with no std::string built unless the user is new.
  struct UserHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // A B-tree rather than std::map: one user's keys sit in a few nodes
  // instead of one heap node per key, so a lookup on a large, cold map
  // misses the cache two or three times instead of once per tree level
  // (std::map's lookups were 6% of a loaded node's CPU).
  struct KeyLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a < b; }
  };
  using Keys = absl::btree_map<std::string, std::string, KeyLess>;
  std::unordered_map<std::string, Keys, UserHash, std::equal_to<>> users_;
  uint64_t applied_index_ = 0;
  uint64_t key_count_ = 0;
  uint64_t key_value_bytes_ = 0;
};

}  // namespace mq::kv
