// Which shard a user's records live in.
//
// shard = floorMod(javaStringHashCode(user), shards): Java's String.hashCode
// over the UTF-16 code units of the user id. MemQuorum's documentation uses
// this formula ("user123" -> shard 7 of 16), so a Java client routes exactly
// as mq does.
#pragma once

#include <cstdint>
#include <string_view>

namespace mq::kv {

// Java's String.hashCode of the UTF-16 encoding of a UTF-8 string.
// Precondition: utf8 is valid UTF-8 (see is_valid_utf8).
int32_t java_string_hash(std::string_view utf8);

// floorMod(java_string_hash(user), shard_count); shard_count > 0.
uint32_t shard_of(std::string_view user, uint32_t shard_count);

bool is_valid_utf8(std::string_view s);

}  // namespace mq::kv
