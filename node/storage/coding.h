// Fixed-width little-endian integers, the only integer encoding on disk: every
// field sits at a known offset, so a hex dump of a record reads directly.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mq::storage {

inline void put_u8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

inline void put_u32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}

inline void put_u64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

inline uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

inline uint64_t load_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Consumes fields front to back; any read past the end marks the whole
// decode as failed instead of reading garbage.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  bool u8(uint8_t* v) {
    if (!need(1)) return false;
    *v = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return true;
  }
  bool u32(uint32_t* v) {
    if (!need(4)) return false;
    *v = load_u32(data_.data());
    data_.remove_prefix(4);
    return true;
  }
  bool u64(uint64_t* v) {
    if (!need(8)) return false;
    *v = load_u64(data_.data());
    data_.remove_prefix(8);
    return true;
  }
  bool bytes(size_t n, std::string_view* v) {
    if (!need(n)) return false;
    *v = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  std::string_view rest() const { return data_; }
  bool ok() const { return ok_; }

 private:
  bool need(size_t n) {
    if (data_.size() < n) ok_ = false;
    return ok_;
  }
  std::string_view data_;
  bool ok_ = true;
};

}  // namespace mq::storage
