// One stored key as a single heap block: a fixed header giving the lengths,
// then the user, key and value bytes back to back.
//
//   u16 user length | u16 key length | u32 value length | user | key | value
//
// Why one block: a key held as a std::pair<std::string, std::string> inside
// a map costs the pair (64 bytes), the value's own heap block and the map's
// node; with 100-byte values that was about 200 bytes per key against the
// 117 the block needs. The block is malloc'd so that a new value of a
// similar size is written in place by realloc (same allocator size class).
// The lengths fit the data model's limits (kv/limits.h): users up to 256
// bytes, keys up to 1024, values up to 64 MiB.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace mq::kv {

// What a record is ordered by: user first, then key, bytewise.
struct UserKey {
  std::string_view user;
  std::string_view key;
};

class KeyRecord {
 public:
  static constexpr size_t kHeaderBytes = 8;

  KeyRecord(std::string_view user, std::string_view key, std::string_view value);
  KeyRecord(KeyRecord&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  KeyRecord& operator=(KeyRecord&& other) noexcept {
    if (this != &other) {
      std::free(block_);
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  KeyRecord(const KeyRecord&) = delete;
  KeyRecord& operator=(const KeyRecord&) = delete;
  ~KeyRecord() { std::free(block_); }

  std::string_view user() const { return {block_ + kHeaderBytes, user_size()}; }
  std::string_view key() const { return {block_ + kHeaderBytes + user_size(), key_size()}; }
  std::string_view value() const {
    return {block_ + kHeaderBytes + user_size() + key_size(), value_size()};
  }
  UserKey user_key() const { return {user(), key()}; }

  // Replaces the value; user and key stay, so the record's place in an
  // ordered container does not change. `value` must not view this record
  // (the block may move).
  void set_value(std::string_view value);

 private:
  size_t user_size() const { return load16(0); }
  size_t key_size() const { return load16(2); }
  size_t value_size() const {
    uint32_t v;
    std::memcpy(&v, block_ + 4, sizeof v);
    return v;
  }
  uint16_t load16(size_t at) const {
    uint16_t v;
    std::memcpy(&v, block_ + at, sizeof v);
    return v;
  }

  char* block_ = nullptr;
};

// Orders records (and looks them up) by user, then key.
struct KeyRecordLess {
  using is_transparent = void;
  static bool less(const UserKey& a, const UserKey& b) {
    const int c = a.user.compare(b.user);
    return c < 0 || (c == 0 && a.key < b.key);
  }
  bool operator()(const KeyRecord& a, const KeyRecord& b) const {
    return less(a.user_key(), b.user_key());
  }
  bool operator()(const KeyRecord& a, const UserKey& b) const { return less(a.user_key(), b); }
  bool operator()(const UserKey& a, const KeyRecord& b) const { return less(a, b.user_key()); }
};

}  // namespace mq::kv
