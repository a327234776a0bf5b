#include "node/kv/limits.h"

#include "node/kv/shard_hash.h"

namespace mq::kv {

std::optional<std::string> validate_user(std::string_view user) {
  if (user.empty()) return "user id is empty (must be 1.." + std::to_string(kUserBytesMax) + " bytes)";
  if (user.size() > kUserBytesMax) {
    return "user id is " + std::to_string(user.size()) + " bytes; the limit is " +
           std::to_string(kUserBytesMax) + " bytes";
  }
  if (!is_valid_utf8(user)) return "user id is not valid UTF-8";
  return std::nullopt;
}

std::optional<std::string> validate_key(std::string_view key) {
  if (key.empty()) return "key is empty (must be 1.." + std::to_string(kKeyBytesMax) + " bytes)";
  if (key.size() > kKeyBytesMax) {
    return "key is " + std::to_string(key.size()) + " bytes; the limit is " +
           std::to_string(kKeyBytesMax) + " bytes";
  }
  return std::nullopt;
}

std::optional<std::string> validate_value(std::string_view value, size_t value_bytes_max) {
  if (value.size() > value_bytes_max) {
    return "value is " + std::to_string(value.size()) + " bytes; the limit is " +
           std::to_string(value_bytes_max) + " bytes (node flag --max-value-bytes)";
  }
  return std::nullopt;
}

}  // namespace mq::kv
