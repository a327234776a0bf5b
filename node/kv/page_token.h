// List pagination tokens: the hex of the last key returned. Keys are bytes
// but the token travels as a proto string (UTF-8 only), hence hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mq::kv {

std::string encode_page_token(std::string_view last_key);
// nullopt when the token is not one encode_page_token made.
std::optional<std::string> decode_page_token(std::string_view token);

}  // namespace mq::kv
