#include "node/kv/key_record.h"

#include <new>

namespace mq::kv {

namespace {

char* allocate(char* block, size_t bytes) {
  // realloc of nullptr is malloc; either way a failure is out of memory.
  char* p = static_cast<char*>(std::realloc(block, bytes));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void store32(char* at, size_t v) {
  const auto u = static_cast<uint32_t>(v);
  std::memcpy(at, &u, sizeof u);
}

void store16(char* at, size_t v) {
  const auto u = static_cast<uint16_t>(v);
  std::memcpy(at, &u, sizeof u);
}

}  // namespace

KeyRecord::KeyRecord(std::string_view user, std::string_view key, std::string_view value) {
  block_ = allocate(nullptr, kHeaderBytes + user.size() + key.size() + value.size());
  store16(block_, user.size());
  store16(block_ + 2, key.size());
  store32(block_ + 4, value.size());
  char* at = block_ + kHeaderBytes;
  std::memcpy(at, user.data(), user.size());
  std::memcpy(at + user.size(), key.data(), key.size());
  if (!value.empty()) std::memcpy(at + user.size() + key.size(), value.data(), value.size());
}

void KeyRecord::set_value(std::string_view value) {
  const size_t prefix = kHeaderBytes + user_size() + key_size();
  block_ = allocate(block_, prefix + value.size());
  store32(block_ + 4, value.size());
  if (!value.empty()) std::memcpy(block_ + prefix, value.data(), value.size());
}

}  // namespace mq::kv
