// Size limits of the data model, checked at every edge (client and node) so
// bad input is refused before anything is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mq::kv {

constexpr size_t kUserBytesMax = 256;
constexpr size_t kKeyBytesMax = 1024;
constexpr size_t kValueBytesMaxDefault = 1 << 20;  // 1 MiB; node flag --max-value-bytes
constexpr size_t kValueBytesMaxCeiling = 64 << 20;  // the flag cannot exceed this
constexpr uint32_t kListLimitDefault = 1000;
constexpr uint32_t kListLimitMax = 10000;
constexpr uint32_t kShardCountDefault = 16;
constexpr uint32_t kShardCountMax = 1024;

// Each returns an error message naming the limit, or nullopt when valid.
std::optional<std::string> validate_user(std::string_view user);
std::optional<std::string> validate_key(std::string_view key);
std::optional<std::string> validate_value(std::string_view value, size_t value_bytes_max);

}  // namespace mq::kv
