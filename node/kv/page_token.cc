#include "node/kv/page_token.h"

namespace mq::kv {

std::string encode_page_token(std::string_view last_key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(last_key.size() * 2);
  for (unsigned char c : last_key) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::optional<std::string> decode_page_token(std::string_view token) {
  if (token.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(token.size() / 2);
  for (size_t i = 0; i < token.size(); i += 2) {
    const int hi = nibble(token[i]), lo = nibble(token[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace mq::kv
