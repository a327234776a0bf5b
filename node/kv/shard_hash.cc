#include "node/kv/shard_hash.h"

namespace mq::kv {

namespace {

// Decodes one code point starting at s[i]; advances i. Returns -1 on a
// malformed sequence (overlong forms, surrogates and values past U+10FFFF
// included), so validation and hashing share one decoder.
int32_t decode_utf8(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    i += 1;
    return b0;
  }
  int length = 0;
  int32_t cp = 0;
  int32_t min_cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, min_cp = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, min_cp = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, min_cp = 0x10000;
  } else {
    return -1;
  }
  if (i + length > s.size()) return -1;
  for (int k = 1; k < length; ++k) {
    const uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += length;
  return cp;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (decode_utf8(s, i) < 0) return false;
  }
  return true;
}

int32_t java_string_hash(std::string_view utf8) {
  // Unsigned arithmetic wraps exactly like Java's int overflow.
  uint32_t h = 0;
  size_t i = 0;
  while (i < utf8.size()) {
    int32_t cp = decode_utf8(utf8, i);
    if (cp < 0) {
      // Invalid input is rejected at the edge; hash the byte so the function
      // stays total and deterministic.
      cp = static_cast<uint8_t>(utf8[i]);
      ++i;
    }
    if (cp >= 0x10000) {
      const uint32_t v = static_cast<uint32_t>(cp) - 0x10000;
      h = 31 * h + (0xD800 + (v >> 10));
      h = 31 * h + (0xDC00 + (v & 0x3FF));
    } else {
      h = 31 * h + static_cast<uint32_t>(cp);
    }
  }
  return static_cast<int32_t>(h);
}

uint32_t shard_of(std::string_view user, uint32_t shard_count) {
  const int64_t h = java_string_hash(user);
  const int64_t n = shard_count;
  return static_cast<uint32_t>(((h % n) + n) % n);
}

}  // namespace mq::kv
