// Base64 (RFC 4648, standard alphabet, padded): how JSON carries keys and
// values whose bytes are not UTF-8, at the CLI and at the HTTP API alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mq::kv {

std::string base64_encode(std::string_view bytes);
// nullopt unless text is canonical padded base64 (length a multiple of 4).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace mq::kv
